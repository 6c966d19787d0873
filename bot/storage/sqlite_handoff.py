"""SQLite implementation of :class:`bot.storage.handoff.HandoffStore`, mixed into
:class:`bot.storage.sqlite.SqliteStorage` (same connection, same units of work).

Its tables are created by migration 9 (:data:`SCHEMA`), listed in sqlite.py.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.storage.claims import CLAIM_LEASE
from bot.storage.connection import Connection
from bot.storage.handoff import CLOSED, DRAFT, OPEN, HandoffRow, HandoffStore, RelayRow

SCHEMA = """
CREATE TABLE handoffs (
    -- AUTOINCREMENT: an id is never reused, so an old button cannot act on a newer draft.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ref TEXT NOT NULL UNIQUE,          -- random: the reference both sides see
    person TEXT NOT NULL,
    platform TEXT NOT NULL,
    chat TEXT NOT NULL,                -- where the asker asked, and gets replies
    language TEXT,
    question TEXT NOT NULL,
    tried TEXT NOT NULL,               -- JSON list of entry ids the bot suggested
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed')),
    shared INTEGER NOT NULL DEFAULT 0,
    name TEXT,                         -- only when the asker agreed to share it
    society TEXT,                      -- idem
    desk_platform TEXT,
    desk_chat TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    first_reply_at TEXT,
    reminded_at TEXT,
    closed_at TEXT,
    closed_by TEXT,
    helpful INTEGER
);
CREATE INDEX handoffs_person ON handoffs (person, chat, status);
CREATE TABLE handoff_relays (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handoff_id INTEGER REFERENCES handoffs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    platform TEXT NOT NULL,
    chat TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    edits TEXT,                        -- the key of an earlier message it rewrites
    text TEXT NOT NULL,
    choices TEXT NOT NULL,             -- JSON list of [label, action]
    in_thread INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before TEXT NOT NULL,
    ref TEXT,                          -- "<chat>:<message>" once sent
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX handoff_relays_state ON handoff_relays (state, platform, not_before);
CREATE INDEX handoff_relays_ref ON handoff_relays (platform, ref);
"""


class _Db(Protocol):
    """What the mixin uses of :class:`bot.storage.sqlite.SqliteStorage`."""

    async def _fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]: ...
    async def _fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None: ...
    async def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> int: ...
    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...


def _ts(moment: datetime) -> str:
    """UTC, so text comparison in SQL orders moments correctly."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


_HANDOFF = """
    SELECT h.id, h.ref, h.person, h.platform, h.chat, h.language, h.question, h.tried,
           h.status, h.shared, h.name, h.society, h.desk_platform, h.desk_chat,
           (SELECT r.ref FROM handoff_relays r
             WHERE r.handoff_id = h.id AND r.kind = 'question' AND r.ref IS NOT NULL
             ORDER BY r.id LIMIT 1),
           h.created_at, h.sent_at, h.first_reply_at, h.reminded_at, h.closed_at,
           h.closed_by, h.helpful
    FROM handoffs h"""
_RELAY = """
    SELECT id, handoff_id, kind, platform, chat, key, text, choices, in_thread, state,
           attempts, ref, created_at, edits
    FROM handoff_relays"""


def _handoff(row: sqlite3.Row) -> HandoffRow:
    return HandoffRow(
        id=int(row[0]),
        ref=row[1],
        person=row[2],
        platform=row[3],
        chat=row[4],
        language=row[5],
        question=row[6],
        tried=tuple(json.loads(row[7])),
        status=row[8],
        shared=bool(row[9]),
        name=row[10],
        society=row[11],
        desk_platform=row[12],
        desk_chat=row[13],
        desk_ref=row[14],
        created_at=datetime.fromisoformat(row[15]),
        sent_at=_dt(row[16]),
        first_reply_at=_dt(row[17]),
        reminded_at=_dt(row[18]),
        closed_at=_dt(row[19]),
        closed_by=row[20],
        helpful=None if row[21] is None else bool(row[21]),
    )


def _relay(row: sqlite3.Row) -> RelayRow:
    return RelayRow(
        id=int(row[0]),
        handoff_id=None if row[1] is None else int(row[1]),
        kind=row[2],
        platform=row[3],
        chat=row[4],
        key=row[5],
        text=row[6],
        choices=tuple((str(label), str(action)) for label, action in json.loads(row[7])),
        in_thread=bool(row[8]),
        state=row[9],
        attempts=int(row[10]),
        ref=row[11],
        created_at=datetime.fromisoformat(row[12]),
        edits=row[13],
    )


class SqliteHandoffs(HandoffStore):
    async def save_draft(
        self: _Db,
        *,
        person: str,
        platform: str,
        chat: str,
        language: str | None,
        question: str,
        tried: Sequence[str],
        now: datetime,
    ) -> HandoffRow:
        async with self.transaction() as db:
            await db.execute(
                "DELETE FROM handoffs WHERE person = ? AND chat = ? AND status = ?",
                (person, chat, DRAFT),
            )
            while True:
                ref = secrets.token_hex(4).upper()
                async with db.execute("SELECT 1 FROM handoffs WHERE ref = ?", (ref,)) as cur:
                    if await cur.fetchone() is None:
                        break
            async with db.execute(
                """INSERT INTO handoffs (ref, person, platform, chat, language, question, tried,
                   status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    ref,
                    person,
                    platform,
                    chat,
                    language,
                    question,
                    json.dumps(list(tried)),
                    DRAFT,
                    _ts(now),
                ),
            ) as cur:
                new_id = cur.lastrowid
            async with db.execute(_HANDOFF + " WHERE h.id = ?", (new_id,)) as cur:
                row = await cur.fetchone()
        assert row is not None
        return _handoff(row)

    async def get_handoff(self: _Db, handoff_id: int) -> HandoffRow | None:
        row = await self._fetchone(_HANDOFF + " WHERE h.id = ?", (handoff_id,))
        return _handoff(row) if row else None

    async def open_handoff(
        self: _Db,
        handoff_id: int,
        *,
        person: str,
        shared: bool,
        name: str | None,
        society: str | None,
        desk_platform: str,
        desk_chat: str,
        now: datetime,
    ) -> bool:
        changed = await self._execute(
            """UPDATE handoffs SET status = ?, shared = ?, name = ?, society = ?,
               desk_platform = ?, desk_chat = ?, sent_at = ?
               WHERE id = ? AND person = ? AND status = ?""",
            (
                OPEN,
                int(shared),
                name if shared else None,
                society if shared else None,
                desk_platform,
                desk_chat,
                _ts(now),
                handoff_id,
                person,
                DRAFT,
            ),
        )
        return changed == 1

    async def close_handoff(self: _Db, handoff_id: int, by: str, now: datetime) -> bool:
        changed = await self._execute(
            "UPDATE handoffs SET status = ?, closed_at = ?, closed_by = ? WHERE id = ? AND status = ?",
            (CLOSED, _ts(now), by, handoff_id, OPEN),
        )
        return changed == 1

    async def current_handoff(self: _Db, person: str, chat: str) -> HandoffRow | None:
        row = await self._fetchone(
            _HANDOFF + " WHERE h.person = ? AND h.chat = ? AND h.status = ? ORDER BY h.id DESC",
            (person, chat, OPEN),
        )
        return _handoff(row) if row else None

    async def handoff_at(self: _Db, platform: str, ref: str) -> HandoffRow | None:
        row = await self._fetchone(
            _HANDOFF
            + """ WHERE h.id = (SELECT handoff_id FROM handoff_relays
                                 WHERE platform = ? AND ref = ? AND handoff_id IS NOT NULL
                                 LIMIT 1)""",
            (platform, ref),
        )
        return _handoff(row) if row else None

    async def handoffs_of(self: _Db, person: str) -> list[HandoffRow]:
        rows = await self._fetchall(_HANDOFF + " WHERE h.person = ? ORDER BY h.id DESC", (person,))
        return [_handoff(r) for r in rows]

    async def closed_handoffs(self: _Db, since: datetime | None = None) -> list[HandoffRow]:
        rows = await self._fetchall(
            _HANDOFF + " WHERE h.status = ? AND h.closed_at >= ? ORDER BY h.closed_at, h.id",
            (CLOSED, _ts(since) if since else ""),
        )
        return [_handoff(r) for r in rows]

    async def note_desk_reply(self: _Db, handoff_id: int, now: datetime) -> None:
        await self._execute(
            "UPDATE handoffs SET first_reply_at = ? WHERE id = ? AND first_reply_at IS NULL",
            (_ts(now), handoff_id),
        )

    async def set_helpful(self: _Db, handoff_id: int, helpful: bool) -> None:
        await self._execute(
            "UPDATE handoffs SET helpful = ? WHERE id = ?", (int(helpful), handoff_id)
        )

    async def handoffs_to_remind(self: _Db, sent_before: datetime) -> list[HandoffRow]:
        rows = await self._fetchall(
            _HANDOFF
            + """ WHERE h.status = ? AND h.sent_at < ? AND h.first_reply_at IS NULL
                  AND h.reminded_at IS NULL ORDER BY h.id""",
            (OPEN, _ts(sent_before)),
        )
        return [_handoff(r) for r in rows]

    async def mark_reminded(self: _Db, handoff_id: int, now: datetime) -> bool:
        changed = await self._execute(
            "UPDATE handoffs SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL",
            (_ts(now), handoff_id),
        )
        return changed == 1

    async def queue_relay(
        self: _Db,
        *,
        handoff_id: int | None,
        kind: str,
        platform: str,
        chat: str,
        key: str,
        text: str,
        now: datetime,
        choices: Sequence[tuple[str, str]] = (),
        in_thread: bool = False,
        edits: str | None = None,
    ) -> bool:
        inserted = await self._execute(
            """INSERT OR IGNORE INTO handoff_relays (handoff_id, kind, platform, chat, key, edits,
               text, choices, in_thread, state, not_before, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)""",
            (
                handoff_id,
                kind,
                platform,
                chat,
                key,
                edits,
                text,
                json.dumps([list(c) for c in choices], ensure_ascii=False),
                int(in_thread),
                _ts(now),
                _ts(now),
            ),
        )
        return inserted == 1

    async def pending_relays(
        self: _Db, platforms: Sequence[str], now: datetime, limit: int = 100
    ) -> list[RelayRow]:
        if not platforms:
            return []
        marks = ",".join("?" * len(platforms))
        rows = await self._fetchall(
            _RELAY
            + f" WHERE state = 'pending' AND platform IN ({marks}) AND not_before <= ?"
            + " ORDER BY id LIMIT ?",
            (*platforms, _ts(now), limit),
        )
        return [_relay(r) for r in rows]

    async def relays_of(self: _Db, handoff_id: int) -> list[RelayRow]:
        rows = await self._fetchall(_RELAY + " WHERE handoff_id = ? ORDER BY id", (handoff_id,))
        return [_relay(r) for r in rows]

    async def claim_relay(
        self: _Db, relay_id: int, now: datetime, *, owner: str = "", lease: timedelta = CLAIM_LEASE
    ) -> bool:
        changed = await self._execute(
            """UPDATE handoff_relays SET state = 'claimed', attempts = attempts + 1,
               claimed_by = ?, lease_until = ? WHERE id = ? AND state = 'pending'""",
            (owner or None, _ts(now + lease), relay_id),
        )
        return changed == 1

    async def renew_relays(
        self: _Db, owner: str, now: datetime, lease: timedelta = CLAIM_LEASE
    ) -> int:
        return await self._execute(
            "UPDATE handoff_relays SET lease_until = ? WHERE state = 'claimed' AND claimed_by = ?",
            (_ts(now + lease), owner),
        )

    async def finish_relay(
        self: _Db,
        relay_id: int,
        state: str,
        now: datetime,
        ref: str | None = None,
        *,
        owner: str = "",
    ) -> None:
        if state not in ("sent", "failed"):
            raise ValueError(f"a relayed message ends sent or failed, not {state!r}")
        await self._execute(
            """UPDATE handoff_relays SET state = ?, ref = COALESCE(?, ref), done_at = ?
               WHERE id = ? AND state = 'claimed' AND (? = '' OR claimed_by = ?)""",
            (state, ref, _ts(now), relay_id, owner, owner),
        )

    async def release_relay(
        self: _Db, relay_id: int, not_before: datetime, *, owner: str = ""
    ) -> None:
        await self._execute(
            """UPDATE handoff_relays SET state = 'pending', not_before = ?, claimed_by = NULL,
               lease_until = NULL
               WHERE id = ? AND state = 'claimed' AND (? = '' OR claimed_by = ?)""",
            (_ts(not_before), relay_id, owner, owner),
        )

    async def recover_relays(self: _Db, now: datetime | None = None) -> int:
        # Rows claimed before claims had leases have none: their process is long gone.
        at = None if now is None else _ts(now)
        return await self._execute(
            """UPDATE handoff_relays SET state = 'pending', claimed_by = NULL, lease_until = NULL
               WHERE state = 'claimed' AND (? IS NULL OR lease_until IS NULL OR lease_until <= ?)""",
            (at, at),
        )

    async def forget_handoffs(self: _Db, person: str) -> list[RelayRow]:
        async with self.transaction() as db:
            async with db.execute(
                _RELAY
                + """ WHERE state = 'sent' AND handoff_id IN
                             (SELECT id FROM handoffs WHERE person = ?) ORDER BY id""",
                (person,),
            ) as cur:
                sent = [_relay(r) for r in await cur.fetchall()]
            # The relays go with their handoffs (ON DELETE CASCADE).
            await db.execute("DELETE FROM handoffs WHERE person = ?", (person,))
        return sent

    async def purge_drafts(self: _Db, before: datetime) -> int:
        return await self._execute(
            "DELETE FROM handoffs WHERE status = ? AND created_at < ?", (DRAFT, _ts(before))
        )
