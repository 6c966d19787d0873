"""SQLite storage: one file, WAL, schema versioned by ``PRAGMA user_version``.

All SQL lives in this module. One connection serves the whole process; an asyncio lock
keeps one coroutine's transaction from interleaving with another's statements.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.errors import StorageError
from bot.private_files import private_database
from bot.storage.base import (
    ABSENT,
    CLAIM_LEASE,
    Delivery,
    GapRow,
    LoggedGap,
    PollRow,
    PollTally,
    Profile,
    Recipient,
    ResponseRow,
    SendJob,
    Storage,
    Subscription,
)
from bot.storage.connection import Connection
from bot.storage.poll_counts import count_changes, removed_votes, voted_after
from bot.storage.sqlite_feedback import SCHEMA as FEEDBACK_SCHEMA
from bot.storage.sqlite_feedback import SqliteFeedback
from bot.storage.sqlite_handoff import SCHEMA as HANDOFF_SCHEMA
from bot.storage.sqlite_handoff import SqliteHandoffs

log = logging.getLogger(__name__)

# Which unit of work the running task is in (a task and those it starts inherit it).
_UNIT: ContextVar[object | None] = ContextVar("nsbot_sqlite_unit", default=None)

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
    # 2: consultations (one row per response, one row per answer), profiles, polls
    """
    CREATE TABLE profiles (
        person TEXT PRIMARY KEY,
        national_society TEXT,
        region TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE responses (
        id INTEGER PRIMARY KEY,
        consultation TEXT NOT NULL,
        respondent TEXT NOT NULL,          -- person key (named) or keyed hash (anonymous)
        anonymous INTEGER NOT NULL,
        person TEXT,                       -- named consultations only
        display_name TEXT,                 -- named consultations only
        ref TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('draft', 'submitted')),
        position TEXT NOT NULL,
        region TEXT,
        national_society TEXT,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        submitted_at TEXT,
        UNIQUE (consultation, respondent)
    );
    CREATE INDEX responses_person ON responses (person);
    CREATE TABLE answers (
        response_id INTEGER NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        question TEXT NOT NULL,
        value TEXT NOT NULL,               -- JSON; null = skipped
        answered_at TEXT NOT NULL,
        PRIMARY KEY (response_id, question)
    );
    CREATE TABLE consultation_closures (
        consultation TEXT PRIMARY KEY,
        closed_at TEXT NOT NULL,
        closed_by TEXT NOT NULL
    );
    CREATE TABLE polls (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        chat TEXT NOT NULL,
        question TEXT NOT NULL,
        options TEXT NOT NULL,             -- JSON list of labels
        multi INTEGER NOT NULL,
        anonymous INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        closes_at TEXT,
        closed_at TEXT,
        final_shown INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE poll_votes (
        poll_id INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
        voter TEXT NOT NULL,               -- keyed hash (anonymous) or person key (named)
        option INTEGER NOT NULL,
        name TEXT,                         -- named polls only
        voted_at TEXT NOT NULL,
        PRIMARY KEY (poll_id, voter, option)
    );
    """,
    # 3: reminders and announcements. Every scheduled send is a job; each (job,
    # recipient) is one delivery row whose state moves pending -> claimed (just before
    # the send) -> sent | skipped | failed, or pending -> cancelled (unsubscribed).
    """
    CREATE TABLE subscriptions (
        person TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        chat TEXT NOT NULL,                -- the private chat they subscribed from
        days TEXT NOT NULL,                -- JSON list: remind this many days before
        language TEXT,
        tz_hint TEXT,                      -- the platform's time zone hint
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL           -- when days last changed
    );
    CREATE TABLE person_settings (
        person TEXT PRIMARY KEY,
        timezone TEXT,                     -- IANA name chosen with /timezone
        updated_at TEXT NOT NULL
    );
    CREATE TABLE send_jobs (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        subject_at TEXT NOT NULL DEFAULT '',
        lead_days INTEGER,
        text TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'cancelled')),
        created_by TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE TABLE deliveries (
        job_id INTEGER NOT NULL REFERENCES send_jobs (id) ON DELETE CASCADE,
        person TEXT NOT NULL,
        platform TEXT NOT NULL,
        chat TEXT NOT NULL,
        state TEXT NOT NULL CHECK (
            state IN ('pending', 'claimed', 'sent', 'skipped', 'failed', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before TEXT NOT NULL,
        claimed_at TEXT,
        done_at TEXT,
        PRIMARY KEY (job_id, person)
    );
    CREATE INDEX deliveries_state ON deliveries (state, platform, not_before);
    CREATE INDEX deliveries_person ON deliveries (person);
    """,
    # 4: the language a poll's posted message is worded in (its creator's), so the
    # tally does not change language with whoever voted last. NULL (older polls): English.
    """
    ALTER TABLE polls ADD COLUMN language TEXT;
    """,
    # 5: why reminders stopped without the person asking (they blocked the bot), so
    # /mydata can say so; deleted when they subscribe again or /forget.
    """
    CREATE TABLE reminder_stops (
        person TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        stopped_at TEXT NOT NULL
    );
    """,
    # 6: the entry last answered in a chat, so a follow-up ("who chairs it?") can be
    # understood; short-lived (bot.followup.CONTEXT_TTL), one row per person and chat.
    """
    CREATE TABLE answer_context (
        person TEXT NOT NULL,
        chat TEXT NOT NULL,
        entry TEXT NOT NULL,
        language TEXT,
        answered_at TEXT NOT NULL,
        PRIMARY KEY (person, chat)
    );
    """,
    # 7: answers without a rowid, so the table keeps no record of the order in which
    # people answered (which, beside the order of account rows, could link anonymous
    # answers to accounts). Stored in (response, question) order instead.
    """
    CREATE TABLE answers_v7 (
        response_id INTEGER NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        question TEXT NOT NULL,
        value TEXT NOT NULL,
        answered_at TEXT NOT NULL,
        PRIMARY KEY (response_id, question)
    ) WITHOUT ROWID;
    INSERT INTO answers_v7 SELECT response_id, question, value, answered_at FROM answers;
    DROP TABLE answers;
    ALTER TABLE answers_v7 RENAME TO answers;
    """,
    # 8: replies the bot owes, written with the event's claim, deleted once delivered:
    # after a crash in between they are sent at the next start (bot.owed).
    """
    CREATE TABLE owed_replies (
        platform TEXT NOT NULL,
        event_id TEXT NOT NULL,
        route TEXT NOT NULL,
        replies TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (platform, event_id)
    );
    """,
    # 9: whose owed replies, and the chats they go to (a JSON list): /forget deletes
    # them, since a route names the person's account and a reply can name their chat.
    """
    ALTER TABLE owed_replies ADD COLUMN person TEXT NOT NULL DEFAULT '';
    ALTER TABLE owed_replies ADD COLUMN chats TEXT NOT NULL DEFAULT '[]';
    """,
    # 10: events stored before the platform is told they arrived (Telegram polling
    # confirms an update by asking for the next ones), deleted in the transaction that
    # handles them: a restart drains what a crash left.
    """
    CREATE TABLE inbox (
        platform TEXT NOT NULL,
        event_id TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (platform, event_id)
    );
    """,
    # 11: questions handed to the secretariat's desk and the messages relayed for them
    # (bot.storage.handoff; the SQL beside its implementation, bot.storage.sqlite_handoff).
    HANDOFF_SCHEMA,
    # 12: a delivery claim belongs to a process until its lease runs out, so another
    # process (a replica) takes over the rows of one that died while sending.
    """
    ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
    ALTER TABLE deliveries ADD COLUMN lease_until TEXT;
    """,
    # 13: roles only one process may hold at a time (Telegram polling: the Bot API
    # gives updates to one poller), each with its holder and until when.
    """
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        until TEXT NOT NULL
    );
    """,
    # 14: 👍 / 👎 on answers and the anonymous question counts behind /stats
    # (bot.storage.base.FeedbackStore; the SQL beside it, bot.storage.sqlite_feedback).
    FEEDBACK_SCHEMA,
    # 15: whose event an inbox row holds (the raw update names the account and carries
    # the text): /mydata lists them and /forget deletes them.
    """
    ALTER TABLE inbox ADD COLUMN person TEXT;
    CREATE INDEX inbox_person ON inbox (person) WHERE person IS NOT NULL;
    """,
    # 16: an owed reply and a relayed message belong to the process sending them until
    # their lease runs out, so another replica takes over those of one that died (and
    # a replica that starts leaves alone those a live one is sending).
    """
    ALTER TABLE owed_replies ADD COLUMN claimed_by TEXT;
    ALTER TABLE owed_replies ADD COLUMN lease_until TEXT;
    ALTER TABLE handoff_relays ADD COLUMN claimed_by TEXT;
    ALTER TABLE handoff_relays ADD COLUMN lease_until TEXT;
    """,
    # 17: a poll's counts kept as votes change (cast_vote, /forget, in the vote's own
    # transaction), so showing the tally reads one row per option instead of every
    # vote: 2,000 votes in a burst each showed a tally that aggregated all the rows
    # before it. Backfilled from the votes already cast.
    """
    CREATE TABLE poll_counts (
        poll_id INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
        option INTEGER NOT NULL,
        votes INTEGER NOT NULL CHECK (votes >= 0),
        PRIMARY KEY (poll_id, option)
    ) WITHOUT ROWID;
    ALTER TABLE polls ADD COLUMN voters INTEGER NOT NULL DEFAULT 0;
    INSERT INTO poll_counts (poll_id, option, votes)
        SELECT poll_id, option, COUNT(*) FROM poll_votes GROUP BY poll_id, option;
    UPDATE polls SET voters = (SELECT COUNT(DISTINCT voter) FROM poll_votes
                               WHERE poll_votes.poll_id = polls.id);
    """,
]

# Re-deliveries arrive within minutes (Slack) or hours (Telegram after downtime);
# a week of ids is plenty and keeps the table small.
EVENT_MEMORY = timedelta(days=7)
BUSY_TIMEOUT_MS = 10_000  # another process's write (a CLI command) waits this long
CHECKPOINT_WAIT_MS = 200
# A checkpoint a reader blocked is tried again in the background: first after this
# long, then twice as long each time, up to the longest wait.
WAL_RETRY_FIRST = 1.0
WAL_RETRY_LONGEST = 60.0


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _uts(moment: datetime) -> str:
    """UTC, so text comparison in SQL orders moments correctly."""
    return _ts(moment.astimezone(UTC))


def _day(moment: datetime) -> str:
    """The UTC day alone, for what must not be matched by time to an account's rows:
    the moments of anonymous answers and of conversations."""
    return _uts(moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0))


# Anonymous responses get random ids: sequential ones would record who started first.
_RANDOM_ID_BITS = 62


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


_RESPONSE_COLUMNS = (
    "id, consultation, respondent, anonymous, person, display_name, ref, status, position, "
    "region, national_society, started_at, updated_at, submitted_at"
)
_RESPONSE_COLUMNS_OF_R = ", ".join("r." + c.strip() for c in _RESPONSE_COLUMNS.split(","))
_POLL_COLUMNS = (
    "id, platform, chat, question, options, multi, anonymous, created_by, created_at, "
    "closes_at, closed_at, final_shown, language"
)


_JOB_COLUMNS = "id, key, kind, subject, subject_at, lead_days, text, status, created_by, created_at"
_SUBSCRIPTION_SELECT = """
    SELECT s.person, s.platform, s.chat, s.days, s.language, s.tz_hint, ps.timezone,
           s.created_at, s.updated_at
    FROM subscriptions s LEFT JOIN person_settings ps ON ps.person = s.person"""
# Kinds of job that only subscribers get: unsubscribing cancels what is still queued.
_SUBSCRIBER_KINDS = ("reminder", "opening", "announce")


def _job(row: Sequence[Any]) -> SendJob:
    return SendJob(
        id=int(row[0]),
        key=row[1],
        kind=row[2],
        subject=row[3],
        subject_at=row[4],
        lead_days=None if row[5] is None else int(row[5]),
        text=row[6],
        status=row[7],
        created_by=row[8],
        created_at=datetime.fromisoformat(row[9]),
    )


def _subscription(row: sqlite3.Row) -> Subscription:
    return Subscription(
        person=row[0],
        platform=row[1],
        chat=row[2],
        days=tuple(int(d) for d in json.loads(row[3])),
        language=row[4],
        tz_hint=row[5],
        timezone=row[6],
        created_at=datetime.fromisoformat(row[7]),
        updated_at=datetime.fromisoformat(row[8]),
    )


def _response(row: sqlite3.Row, answers: dict[str, Any]) -> ResponseRow:
    return ResponseRow(
        id=int(row[0]),
        consultation=row[1],
        respondent=row[2],
        anonymous=bool(row[3]),
        person=row[4],
        display_name=row[5],
        ref=row[6],
        status=row[7],
        position=row[8],
        region=row[9],
        national_society=row[10],
        started_at=datetime.fromisoformat(row[11]),
        updated_at=datetime.fromisoformat(row[12]),
        submitted_at=_dt(row[13]),
        answers=answers,
    )


def _poll(row: sqlite3.Row) -> PollRow:
    return PollRow(
        id=int(row[0]),
        platform=row[1],
        chat=row[2],
        question=row[3],
        options=tuple(json.loads(row[4])),
        multi=bool(row[5]),
        anonymous=bool(row[6]),
        created_by=row[7],
        created_at=datetime.fromisoformat(row[8]),
        closes_at=_dt(row[9]),
        closed_at=_dt(row[10]),
        final_shown=bool(row[11]),
        language=row[12],
    )


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values)) or "NULL"


class _Savepoint:
    """A savepoint inside the unit of work (every event has one, most updates another).

    One name for every level: SQLite undoes and releases the innermost savepoint of
    that name, which nesting makes this one. A new name per savepoint was a new
    statement to prepare each time, and a batch of them pushed every other prepared
    statement out of the connection's cache. A plain class, not a generator: this
    runs twice or more per event."""

    __slots__ = ("_db",)

    def __init__(self, db: Connection) -> None:
        self._db = db

    async def __aenter__(self) -> Connection:
        self._db.now("SAVEPOINT sp")
        return self._db

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._db.now("ROLLBACK TO sp")
        self._db.now("RELEASE sp")


class SqliteStorage(SqliteHandoffs, SqliteFeedback, Storage):
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else path
        self._db: Connection | None = None
        self._lock: Any = None
        self._claims = 0
        self._unit: object | None = None  # the unit of work in progress, if any
        self._after_commit: list[Callable[[], Awaitable[Any]]] = []
        self._wal_retry: asyncio.Task[None] | None = None  # a blocked checkpoint, again

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        self._lock = asyncio.Lock()
        try:
            if isinstance(self.path, Path):
                private_database(self.path)
            self._db = await Connection.open(str(self.path))
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=FULL")  # durability over speed
            await self._db.execute("PRAGMA foreign_keys=ON")
            await self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # What /forget deletes is overwritten, not left readable in free pages.
            await self._db.execute("PRAGMA secure_delete=ON")
            await self._migrate()
        except BaseException as exc:
            await self.close()  # an open connection's thread would keep the process alive
            if isinstance(exc, sqlite3.Error | OSError):
                raise StorageError(f"cannot open the database {self.path}: {exc}") from exc
            raise

    async def close(self) -> None:
        if self._wal_retry is not None:
            self._wal_retry.cancel()  # closing the last connection checkpoints anyway
            with suppress(asyncio.CancelledError):
                await self._wal_retry
            self._wal_retry = None
        if self._db is not None:
            await self._db.close()
            self._db = None

    def send_limiter(self) -> None:
        """None: a SQLite file serves one process, whose outboxes keep the platform
        limits in memory (a shared one would cost a write transaction per message)."""
        return None

    @property
    def db(self) -> Connection:
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

    # A unit of work is one transaction around many operations (the core puts a batch
    # of events in one: group commit). The coroutines of the task that opened it use
    # the connection directly; everyone else waits for the lock as usual.

    def _inside(self) -> bool:
        return self._unit is not None and _UNIT.get() is self._unit

    @asynccontextmanager
    async def _use(self) -> AsyncIterator[Connection]:
        if self._inside():
            yield self.db
        else:
            async with self._lock:
                yield self.db

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[None]:
        if self._inside():
            yield
            return
        async with self._lock:
            await self.db.begin_immediate(BUSY_TIMEOUT_MS)
            marker = object()
            self._unit = marker
            token = _UNIT.set(marker)
            try:
                yield
            except BaseException:
                self._unit = None
                _UNIT.reset(token)
                await self.db.execute("ROLLBACK")
                raise
            self._unit = None
            _UNIT.reset(token)
            try:
                await self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    await self.db.execute("ROLLBACK")
                raise
        after, self._after_commit = self._after_commit, []
        for work in after:
            await work()

    def savepoint(self) -> AbstractAsyncContextManager[Any]:
        return self.transaction()

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """Exclusive use of the connection, committed on success, rolled back on error.
        Inside a unit of work it is a savepoint: undone alone on error."""
        if self._inside():
            return _Savepoint(self.db)
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        async with self._lock:
            await self.db.begin_immediate(BUSY_TIMEOUT_MS)
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    # Inside a unit of work the write lock is held, so no statement can wait: it runs
    # here and now (the hot path of every event), without the lock or the worker.

    async def _fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        if self._inside():
            return self.db.now(sql, params).fetchall()
        async with self._use() as db, db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def _fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        if self._inside():
            row: sqlite3.Row | None = self.db.now(sql, params).fetchone()
            return row
        async with self._use() as db, db.execute(sql, params) as cur:
            row = await cur.fetchone()
            return row

    async def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        if self._inside():
            return int(self.db.now(sql, params).rowcount)
        async with self._use() as db, db.execute(sql, params) as cur:
            return int(cur.rowcount)

    # ------------------------------------------------------------------ events

    async def claim_event(self, platform: str, event_id: str, now: datetime) -> bool:
        inserted = await self._execute(
            "INSERT OR IGNORE INTO seen_events (platform, event_id, seen_at) VALUES (?, ?, ?)",
            (platform, event_id, _ts(now)),
        )
        self._claims += 1
        if self._claims % 500 == 0:
            await self._execute(
                "DELETE FROM seen_events WHERE seen_at < ?", (_ts(now - EVENT_MEMORY),)
            )
        return inserted == 1

    # ------------------------------------------------------------------ owed replies

    async def owe_replies(
        self,
        platform: str,
        event_id: str,
        route: str,
        replies: str,
        now: datetime,
        *,
        person: str = "",
        chats: Sequence[str] = (),
        owner: str = "",
        lease: timedelta = CLAIM_LEASE,
    ) -> None:
        await self._execute(
            """INSERT OR REPLACE INTO owed_replies (platform, event_id, route, replies,
               created_at, person, chats, claimed_by, lease_until)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                platform,
                event_id,
                route,
                replies,
                _uts(now),
                person,
                json.dumps(sorted(set(chats))),
                owner or None,
                _uts(now + lease) if owner else None,
            ),
        )

    async def owed_replies(self, platform: str, since: datetime) -> list[tuple[str, str, str]]:
        async with self.transaction() as db:
            await db.execute(
                "DELETE FROM owed_replies WHERE platform = ? AND created_at < ?",
                (platform, _uts(since)),
            )
            async with db.execute(
                """SELECT event_id, route, replies FROM owed_replies WHERE platform = ?
                   ORDER BY created_at, rowid""",
                (platform,),
            ) as cur:
                return [(r[0], r[1], r[2]) for r in await cur.fetchall()]

    async def claim_owed(
        self,
        platform: str,
        owner: str,
        now: datetime,
        since: datetime,
        *,
        mine: bool = False,
        lease: timedelta = CLAIM_LEASE,
    ) -> list[tuple[str, str, str]]:
        async with self.transaction() as db:
            await db.execute(
                "DELETE FROM owed_replies WHERE platform = ? AND created_at < ?",
                (platform, _uts(since)),
            )
            async with db.execute(
                """UPDATE owed_replies SET claimed_by = ?, lease_until = ?
                   WHERE platform = ? AND (lease_until IS NULL OR lease_until <= ?
                                           OR (? AND claimed_by = ?))
                   RETURNING event_id, route, replies, created_at, rowid""",
                (owner, _uts(now + lease), platform, _uts(now), int(mine), owner),
            ) as cur:
                rows = await cur.fetchall()
        return [(r[0], r[1], r[2]) for r in sorted(rows, key=lambda r: (r[3], r[4]))]

    async def renew_owed(
        self, platform: str, owner: str, now: datetime, lease: timedelta = CLAIM_LEASE
    ) -> int:
        return await self._execute(
            "UPDATE owed_replies SET lease_until = ? WHERE platform = ? AND claimed_by = ?",
            (_uts(now + lease), platform, owner),
        )

    async def release_owed(self, platform: str, owner: str) -> int:
        return await self._execute(
            """UPDATE owed_replies SET claimed_by = NULL, lease_until = NULL
               WHERE platform = ? AND claimed_by = ?""",
            (platform, owner),
        )

    async def paid_replies(
        self, platform: str, event_ids: Sequence[str], *, owner: str = ""
    ) -> None:
        if not event_ids:
            return
        async with self.transaction() as db:
            await db.executemany(
                """DELETE FROM owed_replies WHERE platform = ? AND event_id = ?
                   AND (? = '' OR claimed_by = ?)""",
                [(platform, e, owner, owner) for e in event_ids],
            )

    # ------------------------------------------------------------------ inbox

    async def inbox_put(
        self, platform: str, items: Sequence[tuple[str, str, str | None]], now: datetime
    ) -> None:
        if not items:
            return
        async with self.transaction() as db:
            await db.executemany(
                """INSERT OR IGNORE INTO inbox (platform, event_id, payload, received_at, person)
                   VALUES (?, ?, ?, ?, ?)""",
                [(platform, e, payload, _uts(now), person) for e, payload, person in items],
            )

    async def inbox_pending(self, platform: str) -> list[tuple[str, str]]:
        rows = await self._fetchall(
            "SELECT event_id, payload FROM inbox WHERE platform = ? ORDER BY rowid", (platform,)
        )
        return [(r[0], r[1]) for r in rows]

    async def inbox_done(self, platform: str, event_ids: Sequence[str]) -> None:
        if not event_ids:
            return
        async with self.transaction() as db:
            await db.executemany(
                "DELETE FROM inbox WHERE platform = ? AND event_id = ?",
                [(platform, e) for e in event_ids],
            )

    # ------------------------------------------------------------------ gaps

    async def log_gap(self, question: str, status: str, platform: str, now: datetime) -> None:
        text = " ".join(question.split())[:500]
        await self._execute(
            "INSERT INTO gaps (question, normalised, status, platform, asked_at) VALUES (?, ?, ?, ?, ?)",
            (text, text.lower().rstrip("?!. "), status, platform, _ts(now)),
        )

    async def gaps(self, limit: int = 50, since: datetime | None = None) -> list[GapRow]:
        rows = await self._fetchall(
            """
            SELECT g.question, c.n, c.last, g.status
            FROM (SELECT normalised, COUNT(*) AS n, MAX(asked_at) AS last, MAX(id) AS latest
                  FROM gaps WHERE asked_at >= ? GROUP BY normalised) AS c
            JOIN gaps AS g ON g.id = c.latest
            ORDER BY c.n DESC, c.last DESC
            LIMIT ?
            """,
            (_uts(since) if since else "", limit),
        )
        return [GapRow(r[0], int(r[1]), datetime.fromisoformat(r[2]), r[3]) for r in rows]

    async def logged_gaps(self, since: datetime | None = None) -> list[LoggedGap]:
        rows = await self._fetchall(
            "SELECT id, question, status, platform, asked_at FROM gaps WHERE asked_at >= ?"
            " ORDER BY asked_at, id",
            (_uts(since) if since else "",),
        )
        return [LoggedGap(int(r[0]), r[1], r[2], r[3], datetime.fromisoformat(r[4])) for r in rows]

    async def clear_gaps(self, before: datetime | None = None) -> int:
        if before is None:
            return await self._execute("DELETE FROM gaps")
        return await self._execute("DELETE FROM gaps WHERE asked_at < ?", (_ts(before),))

    # ------------------------------------------------------------------ conversations

    async def get_state(self, person: str, chat: str) -> tuple[str, dict[str, Any]] | None:
        row = await self._fetchone(
            "SELECT kind, data FROM conversations WHERE person = ? AND chat = ?", (person, chat)
        )
        return (row[0], json.loads(row[1])) if row else None

    async def set_state(
        self, person: str, chat: str, kind: str, data: dict[str, Any], now: datetime
    ) -> None:
        await self._execute(
            """INSERT INTO conversations (person, chat, kind, data, updated_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (person, chat) DO UPDATE
               SET kind = excluded.kind, data = excluded.data, updated_at = excluded.updated_at""",
            # The day only: an exact moment would match the anonymous answer given with it.
            (person, chat, kind, json.dumps(data, ensure_ascii=False), _day(now)),
        )

    async def clear_state(self, person: str, chat: str) -> None:
        await self._execute(
            "DELETE FROM conversations WHERE person = ? AND chat = ?", (person, chat)
        )

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

    # ------------------------------------------------------------------ leases

    async def take_lease(self, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        taken = await self._execute(
            """INSERT INTO leases (name, owner, until) VALUES (?, ?, ?)
               ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
               WHERE leases.owner = excluded.owner OR leases.until <= ?""",
            (name, owner, _uts(now + ttl), _uts(now)),
        )
        return taken == 1

    async def drop_lease(self, name: str, owner: str) -> None:
        await self._execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    # ------------------------------------------------------------------ people

    async def person_data(self, person: str, pseudonyms: Sequence[str] = ()) -> dict[str, Any]:
        keys = list(pseudonyms)
        rows = await self._fetchall(
            "SELECT chat, kind, data, updated_at FROM conversations WHERE person = ?", (person,)
        )
        profile = await self.get_profile(person)
        responses = await self._responses_where(
            f"person = ? OR respondent IN ({_marks(keys)})", (person, *keys)
        )
        votes = await self._fetchall(
            f"""SELECT v.poll_id, p.question, p.options, v.option, v.voted_at, p.anonymous
                FROM poll_votes v JOIN polls p ON p.id = v.poll_id
                WHERE v.voter = ? OR v.voter IN ({_marks(keys)})
                ORDER BY v.poll_id, v.option""",
            (person, *keys),
        )
        created = await self._fetchall(
            "SELECT id, question, created_at FROM polls WHERE created_by = ? ORDER BY id", (person,)
        )
        subscription = await self.get_subscription(person)
        zone = await self.get_timezone(person)
        stopped = await self._fetchone(
            "SELECT reason, stopped_at FROM reminder_stops WHERE person = ?", (person,)
        )
        context = await self._fetchall(
            "SELECT chat, entry, language, answered_at FROM answer_context WHERE person = ?",
            (person,),
        )
        sends = await self._fetchall(
            """SELECT j.kind, j.subject, j.lead_days, d.state, d.done_at
               FROM deliveries d JOIN send_jobs j ON j.id = d.job_id
               WHERE d.person = ? ORDER BY d.job_id""",
            (person,),
        )
        announced = await self._fetchall(
            """SELECT id, status, created_at FROM send_jobs
               WHERE kind = 'announce' AND created_by = ? ORDER BY id""",
            (person,),
        )
        inbox = await self._fetchall(
            """SELECT platform, event_id, received_at, payload FROM inbox
               WHERE person = ? ORDER BY rowid""",
            (person,),
        )
        return {
            "events_not_handled_yet": [
                {"platform": r[0], "event": r[1], "received_at": r[2], "as_received": r[3]}
                for r in inbox
            ],
            "subscription": None
            if subscription is None
            else {
                "chat": subscription.chat,
                "days_before": list(subscription.days),
                "language": subscription.language,
                "platform_timezone": subscription.tz_hint,
                "subscribed_at": subscription.created_at.isoformat(),
                "updated_at": subscription.updated_at.isoformat(),
            },
            "last_answers": [
                {"chat": r[0], "entry": r[1], "language": r[2], "answered_at": r[3]}
                for r in context
            ],
            "reminders_stopped": None
            if stopped is None
            else {"reason": stopped[0], "stopped_at": stopped[1]},
            "timezone": zone,
            "messages_scheduled": [
                {"kind": r[0], "about": r[1], "days_before": r[2], "state": r[3], "done_at": r[4]}
                for r in sends
            ],
            "announcements_created": [
                {"id": int(r[0]), "status": r[1], "created_at": r[2]} for r in announced
            ],
            "conversations": [
                {"chat": r[0], "kind": r[1], "data": json.loads(r[2]), "updated_at": r[3]}
                for r in rows
            ],
            "profile": None
            if profile is None
            else {
                "national_society": profile.national_society,
                "region": profile.region,
                "updated_at": profile.updated_at.isoformat(),
            },
            "responses": [
                {
                    "consultation": r.consultation,
                    "anonymous": r.anonymous,
                    "status": r.status,
                    "ref": r.ref,
                    "display_name": r.display_name,
                    "region": r.region,
                    "national_society": r.national_society,
                    "started_at": r.started_at.isoformat(),
                    "updated_at": r.updated_at.isoformat(),
                    "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
                    "answers": r.answers,
                }
                for r in responses
            ],
            "poll_votes": [
                {
                    "poll": int(v[0]),
                    "question": v[1],
                    "option": json.loads(v[2])[int(v[3])],
                    "voted_at": v[4],
                    "anonymous": bool(v[5]),
                }
                for v in votes
            ],
            "polls_created": [
                {"poll": int(p[0]), "question": p[1], "created_at": p[2]} for p in created
            ],
        }

    async def forget_person(
        self,
        person: str,
        pseudonyms: Sequence[str] = (),
        private_chats: Sequence[str] = (),
        *,
        now: datetime | None = None,
    ) -> dict[str, int]:
        keys = list(pseudonyms)
        chats = list(private_chats)
        closed = _uts(now or datetime.now(UTC))
        which = f"person = ? OR (respondent IN ({_marks(keys)}) AND status = 'draft')"
        async with self.transaction() as db:

            async def run(sql: str, params: tuple[Any, ...]) -> int:
                async with db.execute(sql, params) as cur:
                    return int(cur.rowcount)

            async with db.execute(
                "SELECT COUNT(*) FROM answers WHERE response_id IN "
                f"(SELECT id FROM responses WHERE {which})",
                (person, *keys),
            ) as cur:
                row = await cur.fetchone()
            # First, while created_by still names them: a poll posted in their private
            # chat keeps no chat id (on Telegram, the account id), and closes.
            polls_unlinked = await run(
                f"""UPDATE polls SET chat = '', closed_at = COALESCE(closed_at, ?), final_shown = 1
                    WHERE created_by = ? AND chat IN ({_marks(chats)})""",
                (closed, person, *chats),
            )
            refs = await run(
                f"DELETE FROM message_refs WHERE chat IN ({_marks(chats)})", tuple(chats)
            )
            # Replies a crash left unsent: their route names the person's account, and
            # replies to their private chat (a poll they posted there closing) its id.
            owed_rows = await run(
                f"""DELETE FROM owed_replies WHERE person = ? OR EXISTS (
                    SELECT 1 FROM json_each(owed_replies.chats)
                    WHERE value IN ({_marks(chats)}))""",
                (person, *chats),
            )
            deleted = {
                "private_polls_unlinked": polls_unlinked,
                "message_refs": refs,
                "owed_replies": owed_rows,
                "conversations": await run("DELETE FROM conversations WHERE person = ?", (person,)),
                "profile": await run("DELETE FROM profiles WHERE person = ?", (person,)),
                "answers": int(row[0]) if row else 0,
                "responses": await run(f"DELETE FROM responses WHERE {which}", (person, *keys)),
                "poll_votes": await self._forget_votes(db, person),
                "polls_unlinked": await run(
                    "UPDATE polls SET created_by = '' WHERE created_by = ?", (person,)
                ),
                "subscription": await run("DELETE FROM subscriptions WHERE person = ?", (person,)),
                "settings": await run("DELETE FROM person_settings WHERE person = ?", (person,)),
                "reminder_stops": await run(
                    "DELETE FROM reminder_stops WHERE person = ?", (person,)
                ),
                "answer_context": await run(
                    "DELETE FROM answer_context WHERE person = ?", (person,)
                ),
                "deliveries": await run("DELETE FROM deliveries WHERE person = ?", (person,)),
                "inbox": await run("DELETE FROM inbox WHERE person = ?", (person,)),
                # An announcement already sent stays (its recipients got it); unconfirmed
                # ones are dropped; neither keeps the coordinator's identity.
                "announcements_unlinked": await run(
                    """UPDATE send_jobs SET created_by = '',
                       status = CASE WHEN status = 'draft' THEN 'cancelled' ELSE status END
                       WHERE created_by = ?""",
                    (person,),
                ),
            }
        if self._inside():  # a checkpoint cannot run inside a transaction: after it
            self._after_commit.append(self._truncate_wal_soon)
        elif not await self._truncate_wal():
            deleted["log_pending"] = 1
        return deleted

    async def _truncate_wal_soon(self) -> None:
        """After a unit of work (the core's batch): one try, not five, so a reader does
        not hold up everyone's events; a blocked one is tried again in the background."""
        await self._truncate_wal(attempts=1)

    async def _truncate_wal(self, attempts: int = 5) -> bool:
        """Fold the write-ahead log into the (securely overwritten) database file and
        empty it: old copies of deleted rows live there too. A reader's snapshot blocks
        it (SQLite then answers busy): retry a few times, then say so."""
        for attempt in range(attempts):
            if await self._checkpoint():
                return True
            if attempt + 1 < attempts:
                await asyncio.sleep(0.05 * 2**attempt)
        log.error(
            "deleted data is still in the write-ahead log of %s (a reader holds it); "
            "the checkpoint is tried again in the background",
            self.path,
        )
        if self._wal_retry is None or self._wal_retry.done():
            self._wal_retry = asyncio.create_task(self._clear_wal(), name="sqlite-wal-retry")
        return False

    async def _checkpoint(self) -> bool:
        async with self._use():
            # Waiting out the readers holds the connection: a short wait, not 10 s.
            await self.db.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            try:
                async with self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
                    row = await cur.fetchone()
            finally:
                await self.db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return row is not None and int(row[0]) == 0

    async def _clear_wal(self) -> None:
        """Until the blocked checkpoint goes through: not left to whoever deletes next."""
        wait = WAL_RETRY_FIRST
        while True:
            await asyncio.sleep(wait)
            try:
                if await self._checkpoint():
                    log.info("the write-ahead log of %s is cleared", self.path)
                    return
            except sqlite3.Error:  # a locked or busy database: the next try
                log.warning("could not clear the write-ahead log of %s yet", self.path)
            wait = min(wait * 2, WAL_RETRY_LONGEST)

    # ------------------------------------------------------------------ profiles

    async def get_profile(self, person: str) -> Profile | None:
        row = await self._fetchone(
            "SELECT person, national_society, region, updated_at FROM profiles WHERE person = ?",
            (person,),
        )
        return Profile(row[0], row[1], row[2], datetime.fromisoformat(row[3])) if row else None

    async def set_profile(
        self, person: str, national_society: str | None, region: str | None, now: datetime
    ) -> None:
        await self._execute(
            """INSERT INTO profiles (person, national_society, region, updated_at)
               VALUES (?, ?, ?, ?)
               ON CONFLICT (person) DO UPDATE SET national_society = excluded.national_society,
               region = excluded.region, updated_at = excluded.updated_at""",
            (person, national_society, region, _uts(now)),
        )

    # ------------------------------------------------------------------ responses

    async def _responses_where(self, where: str, params: tuple[Any, ...]) -> list[ResponseRow]:
        async with self._use():
            async with self.db.execute(
                f"SELECT {_RESPONSE_COLUMNS} FROM responses WHERE {where} ORDER BY started_at, id",
                params,
            ) as cur:
                rows = list(await cur.fetchall())
            answers: dict[int, dict[str, Any]] = {int(r[0]): {} for r in rows}
            async with self.db.execute(
                f"""SELECT response_id, question, value FROM answers WHERE response_id IN
                    (SELECT id FROM responses WHERE {where})""",
                params,
            ) as cur:
                async for a in cur:
                    if int(a[0]) in answers:
                        answers[int(a[0])][a[1]] = json.loads(a[2])
        return [_response(r, answers[int(r[0])]) for r in rows]

    async def get_response(self, consultation: str, respondent: str) -> ResponseRow | None:
        # One statement (every press reads its response): the row once per answer.
        rows = await self._fetchall(
            f"""SELECT {_RESPONSE_COLUMNS_OF_R}, a.question, a.value FROM responses r
                LEFT JOIN answers a ON a.response_id = r.id
                WHERE r.consultation = ? AND r.respondent = ?""",
            (consultation, respondent),
        )
        if not rows:
            return None
        answers = {a[-2]: json.loads(a[-1]) for a in rows if a[-2] is not None}
        return _response(rows[0], answers)

    async def start_response(
        self,
        consultation: str,
        respondent: str,
        *,
        anonymous: bool,
        person: str | None,
        display_name: str | None,
        position: str,
        profile: tuple[str | None, str | None],
        now: datetime,
    ) -> ResponseRow:
        stamp = _day(now) if anonymous else _uts(now)
        await self._execute(
            f"""INSERT OR IGNORE INTO responses ({_RESPONSE_COLUMNS})
                VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, NULL)""",
            (
                secrets.randbits(_RANDOM_ID_BITS) + 1 if anonymous else None,
                consultation,
                respondent,
                int(anonymous),
                None if anonymous else person,
                None if anonymous else display_name,
                secrets.token_hex(4).upper(),
                position,
                profile[0],
                profile[1],
                stamp,
                stamp,
            ),
        )
        row = await self.get_response(consultation, respondent)
        if row is None:  # pragma: no cover - the insert or an earlier one made it
            raise StorageError(f"response for {consultation} vanished")
        return row

    async def update_response(
        self,
        response_id: int,
        *,
        now: datetime,
        answers: Mapping[str, Any] | None = None,
        drop: Sequence[str] = (),
        position: str | None = None,
        expect_position: str | None = None,
        submit: bool = False,
        profile: tuple[str | None, str | None] | None = None,
        expect_answer: tuple[str, Any] | None = None,
    ) -> bool:
        async with self.transaction() as db:
            async with db.execute(
                """SELECT r.position, r.anonymous, a.value FROM responses r
                   LEFT JOIN answers a ON a.response_id = r.id AND a.question = ?
                   WHERE r.id = ?""",
                (expect_answer[0] if expect_answer else "", response_id),
            ) as cur:
                row = await cur.fetchone()
            if row is None or (expect_position is not None and row[0] != expect_position):
                return False
            if expect_answer is not None:
                stored = ABSENT if row[2] is None else json.loads(row[2])
                if stored != expect_answer[1]:
                    return False
            stamp = _day(now) if row[1] else _uts(now)
            for question, value in (answers or {}).items():
                await db.execute(
                    """INSERT INTO answers (response_id, question, value, answered_at)
                       VALUES (?, ?, ?, ?)
                       ON CONFLICT (response_id, question) DO UPDATE
                       SET value = excluded.value, answered_at = excluded.answered_at""",
                    (response_id, question, json.dumps(value, ensure_ascii=False), stamp),
                )
            if drop:
                await db.execute(
                    f"DELETE FROM answers WHERE response_id = ? AND question IN ({_marks(drop)})",
                    (response_id, *drop),
                )
            await db.execute(
                """UPDATE responses SET updated_at = ?, position = COALESCE(?, position),
                   status = CASE WHEN ? THEN 'submitted' ELSE status END,
                   submitted_at = CASE WHEN ? AND submitted_at IS NULL THEN ? ELSE submitted_at END,
                   region = CASE WHEN ? THEN ? ELSE region END,
                   national_society = CASE WHEN ? THEN ? ELSE national_society END
                   WHERE id = ?""",
                (
                    stamp,
                    position,
                    int(submit),
                    int(submit),
                    stamp,
                    int(profile is not None),
                    profile[0] if profile else None,
                    int(profile is not None),
                    profile[1] if profile else None,
                    response_id,
                ),
            )
        return True

    async def responses(
        self, consultation: str, since: datetime | None = None
    ) -> list[ResponseRow]:
        if since is None:
            return await self._responses_where("consultation = ?", (consultation,))
        # Anonymous responses only know the day they changed.
        return await self._responses_where(
            "consultation = ? AND updated_at >= CASE WHEN anonymous THEN ? ELSE ? END",
            (consultation, _day(since), _uts(since)),
        )

    async def delete_responses(self, consultation: str) -> int:
        deleted = await self._execute(
            "DELETE FROM responses WHERE consultation = ?", (consultation,)
        )
        if self._inside():
            self._after_commit.append(self._truncate_wal_soon)
        else:
            await self._truncate_wal()
        return deleted

    async def response_consultations(self) -> list[str]:
        rows = await self._fetchall(
            "SELECT DISTINCT consultation FROM responses ORDER BY consultation"
        )
        return [r[0] for r in rows]

    async def close_consultation(self, consultation: str, by: str, now: datetime) -> None:
        await self._execute(
            """INSERT OR IGNORE INTO consultation_closures (consultation, closed_at, closed_by)
               VALUES (?, ?, ?)""",
            (consultation, _uts(now), by),
        )

    async def consultation_closures(self) -> dict[str, datetime]:
        rows = await self._fetchall("SELECT consultation, closed_at FROM consultation_closures")
        return {r[0]: datetime.fromisoformat(r[1]) for r in rows}

    # ------------------------------------------------------------------ polls

    async def create_poll(
        self,
        *,
        platform: str,
        chat: str,
        question: str,
        options: Sequence[str],
        multi: bool,
        anonymous: bool,
        created_by: str,
        closes_at: datetime | None,
        now: datetime,
        language: str | None = None,
    ) -> PollRow:
        async with self.transaction() as db:
            async with db.execute(
                """INSERT INTO polls (platform, chat, question, options, multi, anonymous,
                   created_by, created_at, closes_at, language)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    platform,
                    chat,
                    question,
                    json.dumps(list(options), ensure_ascii=False),
                    int(multi),
                    int(anonymous),
                    created_by,
                    _uts(now),
                    _uts(closes_at) if closes_at else None,
                    language,
                ),
            ) as cur:
                poll_id = cur.lastrowid
            async with db.execute(
                f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = ?", (poll_id,)
            ) as cur:
                row = await cur.fetchone()
        assert row is not None
        return _poll(row)

    async def get_poll(self, poll_id: int) -> PollRow | None:
        row = await self._fetchone(f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = ?", (poll_id,))
        return _poll(row) if row else None

    async def recent_polls(self, limit: int = 20) -> list[PollRow]:
        rows = await self._fetchall(
            f"SELECT {_POLL_COLUMNS} FROM polls ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [_poll(r) for r in rows]

    async def cast_vote(
        self,
        poll_id: int,
        voter: str,
        option: int,
        *,
        name: str | None,
        now: datetime,
        debounce: timedelta = timedelta(0),
    ) -> tuple[int, ...] | None:
        async with self.transaction() as db:
            async with db.execute(
                f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = ?", (poll_id,)
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            poll = _poll(row)
            if not poll.is_open(now) or not 0 <= option < len(poll.options):
                return None
            key = (poll_id, voter)
            mine = "SELECT option FROM poll_votes WHERE poll_id = ? AND voter = ? ORDER BY option"
            async with db.execute(mine, key) as cur:
                before = [int(r[0]) for r in await cur.fetchall()]
            if poll.multi:
                async with db.execute(
                    """DELETE FROM poll_votes
                       WHERE poll_id = ? AND voter = ? AND option = ? AND voted_at <= ?""",
                    (*key, option, _uts(now - debounce)),
                ) as cur:
                    removed = cur.rowcount
            else:
                if before:  # a first vote (most of a burst) has nothing to replace
                    await db.execute("DELETE FROM poll_votes WHERE poll_id = ? AND voter = ?", key)
                removed = 0
            if not removed:  # a vote from a double tap's first press is kept as it is
                await db.execute(
                    """INSERT OR IGNORE INTO poll_votes (poll_id, voter, option, name, voted_at)
                       VALUES (?, ?, ?, ?, ?)""",
                    (*key, option, None if poll.anonymous else name, _uts(now)),
                )
            after = voted_after(before, option, multi=poll.multi, removed=bool(removed))
            await self._count(db, poll_id, *count_changes(before, after))
            return after

    @staticmethod
    async def _count(
        db: Connection, poll_id: int, deltas: Sequence[tuple[int, int]], voters: int
    ) -> None:
        """Apply a change of votes to the poll's counts (inside its transaction)."""
        if voters:
            await db.execute("UPDATE polls SET voters = voters + ? WHERE id = ?", (voters, poll_id))
        # A vote taken back leaves a row that exists already; a new one may add it.
        for option, delta in deltas:
            if delta < 0:
                await db.execute(
                    "UPDATE poll_counts SET votes = votes + ? WHERE poll_id = ? AND option = ?",
                    (delta, poll_id, option),
                )
            else:
                await db.execute(
                    """INSERT INTO poll_counts (poll_id, option, votes) VALUES (?, ?, ?)
                       ON CONFLICT (poll_id, option) DO UPDATE SET votes = votes + ?""",
                    (poll_id, option, delta, delta),
                )

    async def _forget_votes(self, db: Connection, voter: str) -> int:
        """Delete a voter's votes and take them out of the counts (inside /forget's
        transaction); the number of votes deleted."""
        async with db.execute(
            "SELECT poll_id, option, voter FROM poll_votes WHERE voter = ?", (voter,)
        ) as cur:
            rows = [(int(p), int(o), str(v)) for p, o, v in await cur.fetchall()]
        counts, voters = removed_votes(rows)
        await db.executemany(
            "UPDATE polls SET voters = voters + ? WHERE id = ?", [(n, p) for p, n in voters]
        )
        await db.executemany(
            "UPDATE poll_counts SET votes = votes + ? WHERE poll_id = ? AND option = ?",
            [(n, p, o) for p, o, n in counts],
        )
        async with db.execute("DELETE FROM poll_votes WHERE voter = ?", (voter,)) as cur:
            return int(cur.rowcount)

    async def poll_tally(self, poll_id: int) -> PollTally:
        # Every vote shows the tally (2,000 times in a burst of 2,000 votes): the counts
        # kept by cast_vote are one row per option. Only a named poll's names are read
        # from the votes. Read in one unit, so the parts agree.
        async with self._use() as db:
            async with db.execute(
                """SELECT p.anonymous, p.voters, c.option, c.votes FROM polls p
                   LEFT JOIN poll_counts c ON c.poll_id = p.id AND c.votes > 0
                   WHERE p.id = ?""",
                (poll_id,),
            ) as cur:
                rows = await cur.fetchall()
            anonymous, voters = (bool(rows[0][0]), int(rows[0][1])) if rows else (True, 0)
            counts = {int(r[2]): int(r[3]) for r in rows if r[2] is not None}
            names: dict[int, list[str]] = {}
            if not anonymous:
                async with db.execute(
                    """SELECT option, name FROM poll_votes WHERE poll_id = ? AND name IS NOT NULL
                       ORDER BY voted_at, name""",
                    (poll_id,),
                ) as cur:
                    for option, name in await cur.fetchall():
                        names.setdefault(int(option), []).append(name)
        return PollTally(counts, voters, names)

    async def close_poll(self, poll_id: int, now: datetime) -> bool:
        changed = await self._execute(
            "UPDATE polls SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            (_uts(now), poll_id),
        )
        return changed == 1

    async def polls_due(self, now: datetime) -> list[PollRow]:
        rows = await self._fetchall(
            f"""SELECT {_POLL_COLUMNS} FROM polls WHERE final_shown = 0
                AND (closed_at IS NOT NULL OR (closes_at IS NOT NULL AND closes_at <= ?))
                ORDER BY id""",
            (_uts(now),),
        )
        return [_poll(r) for r in rows]

    async def mark_poll_final_shown(self, poll_id: int) -> None:
        await self._execute("UPDATE polls SET final_shown = 1 WHERE id = ?", (poll_id,))

    # ------------------------------------------------------------------ subscriptions

    async def subscribe(
        self,
        person: str,
        *,
        platform: str,
        chat: str,
        days: Sequence[int] | None,
        language: str | None,
        tz_hint: str | None,
        now: datetime,
    ) -> Subscription:
        stamp = _uts(now)
        wanted = None if days is None else json.dumps(sorted(set(days), reverse=True))
        async with self.transaction() as db:
            await db.execute("DELETE FROM reminder_stops WHERE person = ?", (person,))
            async with db.execute(
                "SELECT days FROM subscriptions WHERE person = ?", (person,)
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                await db.execute(
                    """INSERT INTO subscriptions (person, platform, chat, days, language,
                       tz_hint, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    (person, platform, chat, wanted or "[]", language, tz_hint, stamp, stamp),
                )
            else:
                changed = wanted is not None and wanted != row[0]
                await db.execute(
                    """UPDATE subscriptions SET chat = ?, language = ?, tz_hint = ?,
                       days = CASE WHEN ? THEN ? ELSE days END,
                       updated_at = CASE WHEN ? THEN ? ELSE updated_at END
                       WHERE person = ?""",
                    (chat, language, tz_hint, int(changed), wanted, int(changed), stamp, person),
                )
        found = await self.get_subscription(person)
        assert found is not None
        return found

    async def unsubscribe(self, person: str, now: datetime, reason: str | None = None) -> bool:
        async with self.transaction() as db:
            async with db.execute("DELETE FROM subscriptions WHERE person = ?", (person,)) as cur:
                removed = cur.rowcount
            if reason is not None and removed:
                await db.execute(
                    """INSERT INTO reminder_stops (person, reason, stopped_at) VALUES (?, ?, ?)
                       ON CONFLICT (person) DO UPDATE
                       SET reason = excluded.reason, stopped_at = excluded.stopped_at""",
                    (person, reason, _uts(now)),
                )
            await db.execute(
                f"""UPDATE deliveries SET state = 'cancelled', done_at = ?
                    WHERE person = ? AND state = 'pending' AND job_id IN
                    (SELECT id FROM send_jobs WHERE kind IN ({_marks(_SUBSCRIBER_KINDS)}))""",
                (_uts(now), person, *_SUBSCRIBER_KINDS),
            )
        return removed == 1

    async def get_subscription(self, person: str) -> Subscription | None:
        row = await self._fetchone(f"{_SUBSCRIPTION_SELECT} WHERE s.person = ?", (person,))
        return _subscription(row) if row else None

    async def subscriptions(self) -> list[Subscription]:
        rows = await self._fetchall(f"{_SUBSCRIPTION_SELECT} ORDER BY s.created_at, s.person")
        return [_subscription(r) for r in rows]

    async def count_subscriptions(self) -> int:
        row = await self._fetchone("SELECT COUNT(*) FROM subscriptions")
        return int(row[0]) if row else 0

    async def remember_answer(
        self, person: str, chat: str, entry: str, language: str | None, now: datetime
    ) -> None:
        await self._execute(
            """INSERT INTO answer_context (person, chat, entry, language, answered_at)
               VALUES (?, ?, ?, ?, ?) ON CONFLICT (person, chat) DO UPDATE
               SET entry = excluded.entry, language = excluded.language,
                   answered_at = excluded.answered_at""",
            (person, chat, entry, language, _uts(now)),
        )

    async def last_answer(
        self, person: str, chat: str, since: datetime
    ) -> tuple[str, str | None] | None:
        row = await self._fetchone(
            """SELECT entry, language FROM answer_context
               WHERE person = ? AND chat = ? AND answered_at >= ?""",
            (person, chat, _uts(since)),
        )
        return (row[0], row[1]) if row else None

    async def get_timezone(self, person: str) -> str | None:
        row = await self._fetchone(
            "SELECT timezone FROM person_settings WHERE person = ?", (person,)
        )
        return row[0] if row else None

    async def set_timezone(self, person: str, zone: str | None, now: datetime) -> None:
        if zone is None:
            await self._execute("DELETE FROM person_settings WHERE person = ?", (person,))
            return
        await self._execute(
            """INSERT INTO person_settings (person, timezone, updated_at) VALUES (?, ?, ?)
               ON CONFLICT (person) DO UPDATE
               SET timezone = excluded.timezone, updated_at = excluded.updated_at""",
            (person, zone, _uts(now)),
        )

    async def known_people(self) -> dict[str, str | None]:
        rows = await self._fetchall(
            """SELECT person, chat, 1 FROM subscriptions
               UNION ALL SELECT person, chat, 2 FROM conversations
               UNION ALL SELECT person, NULL, 3 FROM profiles
               ORDER BY 3 DESC"""
        )
        people: dict[str, str | None] = {}
        for person, chat, _ in rows:  # the best-known chat (a subscription's) comes last
            if chat is not None or person not in people:
                people[person] = chat
        return people

    # ------------------------------------------------------------------ send jobs

    async def ensure_job(
        self,
        key: str,
        *,
        kind: str,
        now: datetime,
        subject: str = "",
        subject_at: str = "",
        lead_days: int | None = None,
        text: str = "",
        status: str = "active",
        created_by: str = "",
        recipients: Sequence[Recipient] | None = None,
    ) -> tuple[SendJob, bool]:
        async with self.transaction() as db:
            async with db.execute(
                """INSERT OR IGNORE INTO send_jobs (key, kind, subject, subject_at, lead_days,
                   text, status, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (key, kind, subject, subject_at, lead_days, text, status, created_by, _uts(now)),
            ) as cur:
                created = cur.rowcount == 1
            async with db.execute(
                f"SELECT {_JOB_COLUMNS} FROM send_jobs WHERE key = ?", (key,)
            ) as cur:
                row = await cur.fetchone()
            assert row is not None
            job = _job(row)
            if created and recipients:
                await self._insert_deliveries(db, job.id, recipients, now)
        return job, created

    @staticmethod
    async def _insert_deliveries(
        db: Connection, job_id: int, recipients: Sequence[Recipient], now: datetime
    ) -> int:
        async with db.executemany(
            """INSERT OR IGNORE INTO deliveries (job_id, person, platform, chat, state, not_before)
               VALUES (?, ?, ?, ?, 'pending', ?)""",
            [(job_id, r.person, r.platform, r.chat, _uts(now)) for r in recipients],
        ) as cur:
            return int(cur.rowcount)  # summed over the rows, ignored ones count 0

    async def get_job(self, job_id: int) -> SendJob | None:
        row = await self._fetchone(f"SELECT {_JOB_COLUMNS} FROM send_jobs WHERE id = ?", (job_id,))
        return _job(row) if row else None

    async def get_job_by_key(self, key: str) -> SendJob | None:
        row = await self._fetchone(f"SELECT {_JOB_COLUMNS} FROM send_jobs WHERE key = ?", (key,))
        return _job(row) if row else None

    async def job_people(self, job_id: int) -> set[str]:
        rows = await self._fetchall("SELECT person FROM deliveries WHERE job_id = ?", (job_id,))
        return {r[0] for r in rows}

    async def add_deliveries(
        self, job_id: int, recipients: Sequence[Recipient], now: datetime
    ) -> int:
        if not recipients:
            return 0
        async with self.transaction() as db:
            return await self._insert_deliveries(db, job_id, recipients, now)

    async def activate_announcement(self, job_id: int, by: str, now: datetime) -> int | None:
        async with self.transaction() as db:
            async with db.execute(
                """UPDATE send_jobs SET status = 'active'
                   WHERE id = ? AND kind = 'announce' AND status = 'draft' AND created_by = ?""",
                (job_id, by),
            ) as cur:
                if cur.rowcount != 1:
                    return None
            async with db.execute(
                """INSERT OR IGNORE INTO deliveries (job_id, person, platform, chat, state,
                   not_before) SELECT ?, person, platform, chat, 'pending', ? FROM subscriptions""",
                (job_id, _uts(now)),
            ) as cur:
                return int(cur.rowcount)

    async def cancel_announcement(self, job_id: int, by: str) -> bool:
        changed = await self._execute(
            """UPDATE send_jobs SET status = 'cancelled'
               WHERE id = ? AND kind = 'announce' AND status = 'draft' AND created_by = ?""",
            (job_id, by),
        )
        return changed == 1

    # ------------------------------------------------------------------ deliveries

    async def pending_deliveries(
        self, platforms: Sequence[str], now: datetime, limit: int = 100
    ) -> list[Delivery]:
        if not platforms:
            return []
        columns = ", ".join(f"j.{c.strip()}" for c in _JOB_COLUMNS.split(","))
        rows = await self._fetchall(
            f"""SELECT {columns}, d.person, d.platform, d.chat, d.attempts, s.language,
                       COALESCE(ps.timezone, s.tz_hint)
                FROM deliveries d
                JOIN send_jobs j ON j.id = d.job_id
                LEFT JOIN subscriptions s ON s.person = d.person
                LEFT JOIN person_settings ps ON ps.person = d.person
                WHERE d.state = 'pending' AND j.status = 'active'
                  AND d.platform IN ({_marks(platforms)}) AND d.not_before <= ?
                ORDER BY d.job_id, d.rowid
                LIMIT ?""",
            (*platforms, _uts(now), limit),
        )
        width = len(_JOB_COLUMNS.split(","))
        return [
            Delivery(
                job=_job(r[:width]),
                person=r[width],
                platform=r[width + 1],
                chat=r[width + 2],
                attempts=int(r[width + 3]),
                language=r[width + 4],
                timezone=r[width + 5],
            )
            for r in rows
        ]

    async def claim_delivery(
        self,
        job_id: int,
        person: str,
        now: datetime,
        *,
        owner: str = "",
        lease: timedelta = CLAIM_LEASE,
    ) -> bool:
        changed = await self._execute(
            """UPDATE deliveries SET state = 'claimed', claimed_at = ?, attempts = attempts + 1,
               claimed_by = ?, lease_until = ?
               WHERE job_id = ? AND person = ? AND state = 'pending'""",
            (_uts(now), owner, _uts(now + lease), job_id, person),
        )
        return changed == 1

    async def renew_claims(self, owner: str, now: datetime, lease: timedelta = CLAIM_LEASE) -> int:
        return await self._execute(
            "UPDATE deliveries SET lease_until = ? WHERE state = 'claimed' AND claimed_by = ?",
            (_uts(now + lease), owner),
        )

    async def finish_delivery(
        self, job_id: int, person: str, state: str, now: datetime, *, owner: str = ""
    ) -> None:
        if state not in {"sent", "skipped", "failed"}:
            raise ValueError(f"not a final delivery state: {state!r}")
        mine = "AND (? = '' OR claimed_by = ?)"
        async with self.transaction() as db:
            # A draft reminder's row, once done, would say whether that person had a
            # draft (sent) or not (skipped): it goes instead.
            async with db.execute(
                f"""DELETE FROM deliveries WHERE job_id = ? AND person = ? AND state = 'claimed'
                    {mine} AND job_id IN (SELECT id FROM send_jobs WHERE kind = 'draft')""",
                (job_id, person, owner, owner),
            ) as cur:
                if cur.rowcount:
                    return
            await db.execute(
                f"""UPDATE deliveries SET state = ?, done_at = ?, lease_until = NULL
                    WHERE job_id = ? AND person = ? AND state = 'claimed' {mine}""",
                (state, _uts(now), job_id, person, owner, owner),
            )

    async def release_delivery(
        self, job_id: int, person: str, not_before: datetime, *, owner: str = ""
    ) -> None:
        await self._execute(
            """UPDATE deliveries SET state = 'pending', not_before = ?, claimed_by = NULL,
               lease_until = NULL WHERE job_id = ? AND person = ? AND state = 'claimed'
               AND (? = '' OR claimed_by = ?)""",
            (_uts(not_before), job_id, person, owner, owner),
        )

    async def recover_claimed(self, now: datetime | None = None) -> int:
        # Rows claimed before claims had leases have none: their process is long gone.
        return await self._execute(
            """UPDATE deliveries SET state = 'pending', claimed_by = NULL, lease_until = NULL
               WHERE state = 'claimed'
               AND (? IS NULL OR lease_until IS NULL OR lease_until <= ?)""",
            (None if now is None else _uts(now), None if now is None else _uts(now)),
        )

    async def purge_draft_deliveries(self, now: datetime) -> int:
        jobs = await self._fetchall(
            """SELECT id, subject_at FROM send_jobs WHERE kind = 'draft'
               AND id IN (SELECT DISTINCT job_id FROM deliveries)"""
        )
        closed = [int(j[0]) for j in jobs if j[1] and datetime.fromisoformat(j[1]) <= now]
        if not closed:
            return 0
        return await self._execute(
            f"DELETE FROM deliveries WHERE job_id IN ({_marks(closed)})", tuple(closed)
        )

    async def delivery_states(self, job_id: int) -> dict[str, int]:
        rows = await self._fetchall(
            "SELECT state, COUNT(*) FROM deliveries WHERE job_id = ? GROUP BY state", (job_id,)
        )
        return {r[0]: int(r[1]) for r in rows}
