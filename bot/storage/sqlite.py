"""SQLite storage with aiosqlite: one file, WAL, schema versioned by ``PRAGMA user_version``.

All SQL lives in this module. One connection serves the whole process; an asyncio lock
keeps one coroutine's transaction from interleaving with another's statements.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import StorageError
from bot.storage.base import GapRow, Storage

# Each migration moves the schema from version i to i+1. Append, never edit: a
# deployed database has already run the earlier ones.
MIGRATIONS: list[str] = [
    # 1: the foundation
    """
    CREATE TABLE seen_events (
        platform TEXT NOT NULL,
        event_id TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (platform, event_id)
    );
    CREATE INDEX seen_events_at ON seen_events (seen_at);
    CREATE TABLE gaps (
        id INTEGER PRIMARY KEY,
        question TEXT NOT NULL,
        normalised TEXT NOT NULL,
        status TEXT NOT NULL,
        platform TEXT NOT NULL,
        asked_at TEXT NOT NULL
    );
    CREATE INDEX gaps_normalised ON gaps (normalised);
    CREATE TABLE conversations (
        person TEXT NOT NULL,
        chat TEXT NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (person, chat)
    );
    CREATE TABLE message_refs (
        platform TEXT NOT NULL,
        key TEXT NOT NULL,
        chat TEXT NOT NULL,
        ref TEXT NOT NULL,
        PRIMARY KEY (platform, key)
    );
    """,
]

# Re-deliveries arrive within minutes (Slack) or hours (Telegram after downtime);
# a week of ids is plenty and keeps the table small.
EVENT_MEMORY = timedelta(days=7)


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


class SqliteStorage(Storage):
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else path
        self._db: aiosqlite.Connection | None = None
        self._lock: Any = None
        self._claims = 0

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        import asyncio

        self._lock = asyncio.Lock()
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = await aiosqlite.connect(str(self.path), isolation_level=None)
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=FULL")  # durability over speed
            await self._db.execute("PRAGMA foreign_keys=ON")
            await self._db.execute("PRAGMA busy_timeout=10000")
            await self._migrate()
        except aiosqlite.Error as exc:
            await self.close()
            raise StorageError(f"cannot open the database {self.path}: {exc}") from exc

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("storage is not open")
        return self._db

    async def schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        version = await self.schema_version()
        if version > len(MIGRATIONS):
            raise StorageError(
                f"the database {self.path} has schema version {version}, newer than this "
                f"bot knows ({len(MIGRATIONS)}): upgrade the bot"
            )
        for number in range(version, len(MIGRATIONS)):
            # executescript commits first; the version bump rides in the same script
            # so a crash leaves either the old or the new schema.
            await self.db.executescript(
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[number]}\nPRAGMA user_version = {number + 1};\nCOMMIT;"
            )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Exclusive use of the connection, committed on success, rolled back on error."""
        async with self._lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def _fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[aiosqlite.Row]:
        async with self._lock, self.db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def _fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> aiosqlite.Row | None:
        async with self._lock, self.db.execute(sql, params) as cur:
            row: aiosqlite.Row | None = await cur.fetchone()
            return row

    async def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        async with self._lock, self.db.execute(sql, params) as cur:
            return int(cur.rowcount)

    # ------------------------------------------------------------------ events

    async def claim_event(self, platform: str, event_id: str, now: datetime) -> bool:
        inserted = await self._execute(
            "INSERT OR IGNORE INTO seen_events (platform, event_id, seen_at) VALUES (?, ?, ?)",
            (platform, event_id, _ts(now)),
        )
        self._claims += 1
        if self._claims % 500 == 0:
            await self._execute("DELETE FROM seen_events WHERE seen_at < ?", (_ts(now - EVENT_MEMORY),))
        return inserted == 1

    # ------------------------------------------------------------------ gaps

    async def log_gap(self, question: str, status: str, platform: str, now: datetime) -> None:
        text = " ".join(question.split())[:500]
        await self._execute(
            "INSERT INTO gaps (question, normalised, status, platform, asked_at) VALUES (?, ?, ?, ?, ?)",
            (text, text.lower().rstrip("?!. "), status, platform, _ts(now)),
        )

    async def gaps(self, limit: int = 50) -> list[GapRow]:
        rows = await self._fetchall(
            """
            SELECT g.question, c.n, c.last, g.status
            FROM (SELECT normalised, COUNT(*) AS n, MAX(asked_at) AS last, MAX(id) AS latest
                  FROM gaps GROUP BY normalised) AS c
            JOIN gaps AS g ON g.id = c.latest
            ORDER BY c.n DESC, c.last DESC
            LIMIT ?
            """,
            (limit,),
        )
        return [GapRow(r[0], int(r[1]), datetime.fromisoformat(r[2]), r[3]) for r in rows]

    # ------------------------------------------------------------------ conversations

    async def get_state(self, person: str, chat: str) -> tuple[str, dict[str, Any]] | None:
        row = await self._fetchone(
            "SELECT kind, data FROM conversations WHERE person = ? AND chat = ?", (person, chat)
        )
        return (row[0], json.loads(row[1])) if row else None

    async def set_state(self, person: str, chat: str, kind: str, data: dict[str, Any], now: datetime) -> None:
        await self._execute(
            """INSERT INTO conversations (person, chat, kind, data, updated_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (person, chat) DO UPDATE
               SET kind = excluded.kind, data = excluded.data, updated_at = excluded.updated_at""",
            (person, chat, kind, json.dumps(data, ensure_ascii=False), _ts(now)),
        )

    async def clear_state(self, person: str, chat: str) -> None:
        await self._execute("DELETE FROM conversations WHERE person = ? AND chat = ?", (person, chat))

    # ------------------------------------------------------------------ message refs

    async def set_message_ref(self, platform: str, key: str, chat: str, ref: str) -> None:
        await self._execute(
            """INSERT INTO message_refs (platform, key, chat, ref) VALUES (?, ?, ?, ?)
               ON CONFLICT (platform, key) DO UPDATE SET chat = excluded.chat, ref = excluded.ref""",
            (platform, key, chat, ref),
        )

    async def get_message_ref(self, platform: str, key: str) -> tuple[str, str] | None:
        row = await self._fetchone(
            "SELECT chat, ref FROM message_refs WHERE platform = ? AND key = ?", (platform, key)
        )
        return (row[0], row[1]) if row else None

    # ------------------------------------------------------------------ people

    async def person_data(self, person: str) -> dict[str, Any]:
        rows = await self._fetchall(
            "SELECT chat, kind, data, updated_at FROM conversations WHERE person = ?", (person,)
        )
        return {
            "conversations": [
                {"chat": r[0], "kind": r[1], "data": json.loads(r[2]), "updated_at": r[3]} for r in rows
            ]
        }

    async def forget_person(self, person: str) -> dict[str, int]:
        async with self.transaction() as db, db.execute(
            "DELETE FROM conversations WHERE person = ?", (person,)
        ) as cur:
            return {"conversations": int(cur.rowcount)}
