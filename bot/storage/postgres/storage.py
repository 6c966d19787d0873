"""PostgreSQL storage: several replicas of the bot on one database.

The semantics are SQLite's (bot/storage/sqlite.py is the reference); what differs is
how they are kept when several processes write at once:

- a compare-and-set locks its row (``FOR UPDATE``) and reads the answer after the lock
  is granted, so the second of two concurrent ticks sees the first;
- a vote takes a transaction-level advisory lock on (poll, voter): a single-choice
  vote deletes and inserts, and two at once must not both insert;
- every "insert unless it exists" is ``ON CONFLICT DO NOTHING`` on a unique key, which
  waits for a concurrent inserter to commit.

Within one process a unit of work is exclusive (:mod:`bot.storage.postgres.gate`).
Operations get a connection from an asyncpg pool, one per operation; a unit holds one
for its whole transaction.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg

from bot.errors import StorageConflict, StorageError
from bot.send_limits import SharedLimiter, chat_key
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
from bot.storage.poll_counts import count_changes, removed_votes, voted_after
from bot.storage.postgres.feedback import PostgresFeedback
from bot.storage.postgres.gate import Gate
from bot.storage.postgres.handoff import PostgresHandoffs
from bot.storage.postgres.schema import migrate, schema_version
from bot.storage.postgres.send_limits import PostgresLimiter
from bot.storage.postgres.url import redact, scrub
from bot.storage.postgres.values import clean as _clean
from bot.storage.postgres.values import clean_args as _args
from bot.storage.postgres.values import count as _count

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = PoolConnectionProxy[asyncpg.Record]
else:
    Connection = Any
Record = asyncpg.Record

_UNIT: ContextVar[object | None] = ContextVar("nsbot_postgres_unit", default=None)

EVENT_MEMORY = timedelta(days=7)  # as on SQLite
POOL_SIZE = 10  # connections per replica
CONNECT_TIMEOUT = 10.0  # seconds for one connection attempt

# Anonymous responses get random ids: sequential ones would record who started first.
_RANDOM_ID_BITS = 62

_RESPONSE_COLUMNS = (
    "id, consultation, respondent, anonymous, person, display_name, ref, status, position, "
    "region, national_society, started_at, updated_at, submitted_at"
)
_POLL_COLUMNS = (
    "id, platform, chat, question, options, multi, anonymous, created_by, created_at, "
    "closes_at, closed_at, final_shown, language"
)
_JOB_COLUMNS = "id, key, kind, subject, subject_at, lead_days, text, status, created_by, created_at"
_SUBSCRIPTION_SELECT = """
    SELECT s.person, s.platform, s.chat, s.days, s.language, s.tz_hint, ps.timezone,
           s.created_at, s.updated_at
    FROM subscriptions s LEFT JOIN person_settings ps ON ps.person = s.person"""
_SUBSCRIBER_KINDS = ["reminder", "opening", "announce"]
# What a wrong URL, a server down or a refused login raise (not bugs: a message).
_CANNOT_CONNECT = (OSError, TimeoutError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError)


def _uts(moment: datetime) -> str:
    """A moment as SQLite stores it, so /mydata reads the same on both backends."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _opt_uts(moment: datetime | None) -> str | None:
    return None if moment is None else _uts(moment)


def _day(moment: datetime) -> datetime:
    """The UTC day alone, for what must not be matched by time to an account's rows."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _job(row: Any) -> SendJob:
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
        created_at=row[9],
    )


def _subscription(row: Record) -> Subscription:
    return Subscription(
        person=row[0],
        platform=row[1],
        chat=row[2],
        days=tuple(int(d) for d in json.loads(row[3])),
        language=row[4],
        tz_hint=row[5],
        timezone=row[6],
        created_at=row[7],
        updated_at=row[8],
    )


def _response(row: Any, answers: dict[str, Any]) -> ResponseRow:
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
        started_at=row[11],
        updated_at=row[12],
        submitted_at=row[13],
        answers=answers,
    )


def _poll(row: Record) -> PollRow:
    return PollRow(
        id=int(row[0]),
        platform=row[1],
        chat=row[2],
        question=row[3],
        options=tuple(json.loads(row[4])),
        multi=bool(row[5]),
        anonymous=bool(row[6]),
        created_by=row[7],
        created_at=row[8],
        closes_at=row[9],
        closed_at=row[10],
        final_shown=bool(row[11]),
        language=row[12],
    )


# What PostgreSQL undoes to let another writer through: the unit is to be done again.
_CONFLICTS = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


async def _count_votes(
    db: Connection, poll_id: int, deltas: Sequence[tuple[int, int]], voters: int
) -> None:
    """Apply a change of votes to the poll's counts, inside its transaction. Rows are
    locked in one order everywhere (the poll, then its options in order), so changes
    on several replicas at once wait for each other instead of deadlocking."""
    if voters:
        await db.execute("UPDATE polls SET voters = voters + $1 WHERE id = $2", voters, poll_id)
    # A vote taken back leaves a row that exists already (an INSERT would be checked
    # against votes >= 0 before its conflict is seen); a new one may add it.
    for option, delta in deltas:
        if delta < 0:
            await db.execute(
                """UPDATE poll_counts SET votes = votes + $3
                   WHERE poll_id = $1 AND option = $2""",
                poll_id,
                option,
                delta,
            )
        else:
            await db.execute(
                """INSERT INTO poll_counts (poll_id, option, votes) VALUES ($1, $2, $3)
                   ON CONFLICT (poll_id, option) DO UPDATE SET votes = poll_counts.votes + $3""",
                poll_id,
                option,
                delta,
            )


async def _forget_votes(db: Connection, voter: str) -> int:
    """Delete a voter's votes and take them out of the counts (inside /forget's
    transaction); the number of votes deleted."""
    rows = await db.fetch(
        "DELETE FROM poll_votes WHERE voter = $1 RETURNING poll_id, option, voter", voter
    )
    counts, voters = removed_votes((int(p), int(o), str(v)) for p, o, v in rows)
    if voters:
        await db.execute(
            """UPDATE polls SET voters = polls.voters + c.n
               FROM unnest($1::bigint[], $2::int[]) AS c (id, n) WHERE polls.id = c.id""",
            [p for p, _ in voters],
            [n for _, n in voters],
        )
    if counts:
        await db.execute(
            """UPDATE poll_counts SET votes = poll_counts.votes + c.n
               FROM unnest($1::bigint[], $2::int[], $3::int[]) AS c (poll_id, option, n)
               WHERE poll_counts.poll_id = c.poll_id AND poll_counts.option = c.option""",
            [p for p, _, _ in counts],
            [o for _, o, _ in counts],
            [n for _, _, n in counts],
        )
    return len(rows)


class PostgresStorage(PostgresHandoffs, PostgresFeedback, Storage):
    def __init__(self, url: str, *, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        self.where = redact(url)  # how to name it in messages: never the password
        self.pool_size = pool_size
        self.applied_migrations = 0  # by the last open()
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self._gate = Gate()
        self._unit: object | None = None
        self._unit_conn: Connection | None = None
        self._savepoints = itertools.count()
        self._claims = 0
        self._limiter = PostgresLimiter(lambda: self.pool)

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        self._gate = Gate()
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=self.pool_size, timeout=CONNECT_TIMEOUT
            )
            async with self._pool.acquire() as conn:
                self.applied_migrations = await migrate(conn, self.where)
            log.info(
                "PostgreSQL %s: schema up to date (%d migration(s) applied now)",
                self.where,
                self.applied_migrations,
            )
        except BaseException as exc:
            await self.close()
            if isinstance(exc, StorageError):
                raise
            if isinstance(exc, _CANNOT_CONNECT):
                message = scrub(str(exc) or type(exc).__name__, self.url)
                raise StorageError(
                    f"cannot open the PostgreSQL database {self.where}: {message}"
                ) from None
            raise

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def pool(self) -> asyncpg.Pool[asyncpg.Record]:
        if self._pool is None:
            raise StorageError("storage is not open")
        return self._pool

    def send_limiter(self) -> SharedLimiter:
        return self._limiter

    async def schema_version(self) -> int:
        async with self._conn() as db:
            return await schema_version(db)

    # ------------------------------------------------------------------ connections

    def _inside(self) -> bool:
        return self._unit is not None and _UNIT.get() is self._unit

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[Connection]:
        if self._inside():
            assert self._unit_conn is not None
            yield self._unit_conn
            return
        async with self._gate.shared(), self.pool.acquire() as conn:
            yield conn

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[None]:
        if self._inside():
            yield
            return
        async with self._gate.exclusive(), self.pool.acquire() as conn:
            await conn.execute("BEGIN")
            marker = object()
            self._unit, self._unit_conn = marker, conn
            token = _UNIT.set(marker)
            try:
                yield
            except BaseException:
                self._unit, self._unit_conn = None, None
                _UNIT.reset(token)
                # A broken connection cannot roll back: the pool discards it, and the
                # server rolls back what it had. The original error is the one to see.
                with contextlib.suppress(Exception):
                    await conn.execute("ROLLBACK")
                raise
            self._unit, self._unit_conn = None, None
            _UNIT.reset(token)
            # A statement that failed outside a savepoint aborted the transaction:
            # PostgreSQL then answers COMMIT with ROLLBACK.
            if await conn.execute("COMMIT") != "COMMIT":
                raise StorageError("a statement of the unit of work failed: it was rolled back")

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        if self._inside():
            async with self.transaction():
                yield
        else:
            async with self.unit():
                yield

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """One connection, committed on success, rolled back on error. Inside a unit
        of work it is a savepoint: undone alone on error."""
        if self._inside():
            conn = self._unit_conn
            assert conn is not None
            name = f"sp{next(self._savepoints)}"
            await conn.execute(f"SAVEPOINT {name}")
            try:
                yield conn
            except BaseException as exc:
                await conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                await conn.execute(f"RELEASE SAVEPOINT {name}")
                if isinstance(exc, _CONFLICTS):
                    # Undoing this savepoint keeps the unit's earlier locks, which the
                    # other writer waits for: only redoing the whole unit gets through.
                    raise StorageConflict(f"{type(exc).__name__}: {exc}") from exc
                raise
            await conn.execute(f"RELEASE SAVEPOINT {name}")
            return
        async with self._gate.shared(), self.pool.acquire() as conn, conn.transaction():
            yield conn

    async def _fetch(self, sql: str, *args: Any) -> list[Record]:
        async with self._conn() as db:
            return list(await db.fetch(sql, *_args(args)))

    async def _fetchrow(self, sql: str, *args: Any) -> Record | None:
        async with self._conn() as db:
            return await db.fetchrow(sql, *_args(args))

    async def _execute(self, sql: str, *args: Any) -> int:
        async with self._conn() as db:
            return _count(await db.execute(sql, *_args(args)))

    # ------------------------------------------------------------------ events

    async def claim_event(self, platform: str, event_id: str, now: datetime) -> bool:
        inserted = await self._execute(
            """INSERT INTO seen_events (platform, event_id, seen_at) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING""",
            platform,
            event_id,
            now,
        )
        self._claims += 1
        if self._claims % 500 == 0:
            await self._execute("DELETE FROM seen_events WHERE seen_at < $1", now - EVENT_MEMORY)
        return inserted == 1

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
            """INSERT INTO owed_replies (platform, event_id, route, replies, created_at,
               person, chats, claimed_by, lease_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (platform, event_id) DO UPDATE SET route = excluded.route,
               replies = excluded.replies, created_at = excluded.created_at,
               person = excluded.person, chats = excluded.chats,
               claimed_by = excluded.claimed_by, lease_until = excluded.lease_until,
               seq = DEFAULT""",
            platform,
            event_id,
            route,
            replies,
            now,
            person,
            json.dumps(sorted(set(chats))),
            owner or None,
            now + lease if owner else None,
        )

    async def owed_replies(self, platform: str, since: datetime) -> list[tuple[str, str, str]]:
        async with self.transaction() as db:
            await db.execute(
                "DELETE FROM owed_replies WHERE platform = $1 AND created_at < $2", platform, since
            )
            rows = await db.fetch(
                """SELECT event_id, route, replies FROM owed_replies WHERE platform = $1
                   ORDER BY created_at, seq""",
                platform,
            )
        return [(r[0], r[1], r[2]) for r in rows]

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
        owner = _clean(owner)
        async with self.transaction() as db:
            await db.execute(
                "DELETE FROM owed_replies WHERE platform = $1 AND created_at < $2", platform, since
            )
            # Row locks decide between replicas claiming at once: the second waits, then
            # sees the first one's lease on the row and leaves it.
            rows = await db.fetch(
                """UPDATE owed_replies SET claimed_by = $2, lease_until = $3
                   WHERE platform = $1 AND (lease_until IS NULL OR lease_until <= $4
                                            OR ($5 AND claimed_by = $2))
                   RETURNING event_id, route, replies, created_at, seq""",
                platform,
                owner,
                now + lease,
                now,
                mine,
            )
        return [(r[0], r[1], r[2]) for r in sorted(rows, key=lambda r: (r[3], r[4]))]

    async def renew_owed(
        self, platform: str, owner: str, now: datetime, lease: timedelta = CLAIM_LEASE
    ) -> int:
        return await self._execute(
            "UPDATE owed_replies SET lease_until = $1 WHERE platform = $2 AND claimed_by = $3",
            now + lease,
            platform,
            owner,
        )

    async def release_owed(self, platform: str, owner: str) -> int:
        return await self._execute(
            """UPDATE owed_replies SET claimed_by = NULL, lease_until = NULL
               WHERE platform = $1 AND claimed_by = $2""",
            platform,
            owner,
        )

    async def paid_replies(
        self, platform: str, event_ids: Sequence[str], *, owner: str = ""
    ) -> None:
        if not event_ids:
            return
        await self._execute(
            """DELETE FROM owed_replies WHERE platform = $1 AND event_id = ANY($2::text[])
               AND ($3 = '' OR claimed_by = $3)""",
            platform,
            list(event_ids),
            owner,
        )

    # ------------------------------------------------------------------ inbox

    async def inbox_put(
        self, platform: str, items: Sequence[tuple[str, str, str | None]], now: datetime
    ) -> None:
        if not items:
            return
        async with self.transaction() as db:
            await db.executemany(
                """INSERT INTO inbox (platform, event_id, payload, received_at, person)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
                [_args((platform, e, payload, now, person)) for e, payload, person in items],
            )

    async def inbox_pending(self, platform: str) -> list[tuple[str, str]]:
        rows = await self._fetch(
            "SELECT event_id, payload FROM inbox WHERE platform = $1 ORDER BY seq", platform
        )
        return [(r[0], r[1]) for r in rows]

    async def inbox_done(self, platform: str, event_ids: Sequence[str]) -> None:
        if not event_ids:
            return
        await self._execute(
            "DELETE FROM inbox WHERE platform = $1 AND event_id = ANY($2::text[])",
            platform,
            list(event_ids),
        )

    # ------------------------------------------------------------------ gaps

    async def log_gap(self, question: str, status: str, platform: str, now: datetime) -> None:
        text = " ".join(question.split())[:500]
        await self._execute(
            """INSERT INTO gaps (question, normalised, status, platform, asked_at)
               VALUES ($1, $2, $3, $4, $5)""",
            text,
            text.lower().rstrip("?!. "),
            status,
            platform,
            now,
        )

    async def gaps(self, limit: int = 50, since: datetime | None = None) -> list[GapRow]:
        rows = await self._fetch(
            """
            SELECT g.question, c.n, c.last, g.status
            FROM (SELECT normalised, COUNT(*) AS n, MAX(asked_at) AS last, MAX(id) AS latest
                  FROM gaps WHERE $2::timestamptz IS NULL OR asked_at >= $2
                  GROUP BY normalised) AS c
            JOIN gaps AS g ON g.id = c.latest
            ORDER BY c.n DESC, c.last DESC
            LIMIT $1
            """,
            limit,
            since,
        )
        return [GapRow(r[0], int(r[1]), r[2], r[3]) for r in rows]

    async def logged_gaps(self, since: datetime | None = None) -> list[LoggedGap]:
        rows = await self._fetch(
            """SELECT id, question, status, platform, asked_at FROM gaps
               WHERE $1::timestamptz IS NULL OR asked_at >= $1 ORDER BY asked_at, id""",
            since,
        )
        return [LoggedGap(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    async def clear_gaps(self, before: datetime | None = None) -> int:
        if before is None:
            return await self._execute("DELETE FROM gaps")
        return await self._execute("DELETE FROM gaps WHERE asked_at < $1", before)

    async def get_state(self, person: str, chat: str) -> tuple[str, dict[str, Any]] | None:
        row = await self._fetchrow(
            "SELECT kind, data FROM conversations WHERE person = $1 AND chat = $2", person, chat
        )
        return (row[0], json.loads(row[1])) if row else None

    async def set_state(
        self, person: str, chat: str, kind: str, data: dict[str, Any], now: datetime
    ) -> None:
        await self._execute(
            """INSERT INTO conversations (person, chat, kind, data, updated_at)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (person, chat) DO UPDATE
               SET kind = excluded.kind, data = excluded.data, updated_at = excluded.updated_at""",
            person,
            chat,
            kind,
            json.dumps(data, ensure_ascii=False),
            _day(now),  # an exact moment would match the anonymous answer given with it
        )

    async def clear_state(self, person: str, chat: str) -> None:
        await self._execute(
            "DELETE FROM conversations WHERE person = $1 AND chat = $2", person, chat
        )

    async def set_message_ref(self, platform: str, key: str, chat: str, ref: str) -> None:
        await self._execute(
            """INSERT INTO message_refs (platform, key, chat, ref) VALUES ($1, $2, $3, $4)
               ON CONFLICT (platform, key) DO UPDATE SET chat = excluded.chat, ref = excluded.ref""",
            platform,
            key,
            chat,
            ref,
        )

    async def get_message_ref(self, platform: str, key: str) -> tuple[str, str] | None:
        row = await self._fetchrow(
            "SELECT chat, ref FROM message_refs WHERE platform = $1 AND key = $2", platform, key
        )
        return (row[0], row[1]) if row else None

    async def remember_answer(
        self, person: str, chat: str, entry: str, language: str | None, now: datetime
    ) -> None:
        await self._execute(
            """INSERT INTO answer_context (person, chat, entry, language, answered_at)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (person, chat) DO UPDATE
               SET entry = excluded.entry, language = excluded.language,
                   answered_at = excluded.answered_at""",
            person,
            chat,
            entry,
            language,
            now,
        )

    async def last_answer(
        self, person: str, chat: str, since: datetime
    ) -> tuple[str, str | None] | None:
        row = await self._fetchrow(
            """SELECT entry, language FROM answer_context
               WHERE person = $1 AND chat = $2 AND answered_at >= $3""",
            person,
            chat,
            since,
        )
        return (row[0], row[1]) if row else None

    # ------------------------------------------------------------------ leases

    async def take_lease(self, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        taken = await self._execute(
            """INSERT INTO leases (name, owner, until) VALUES ($1, $2, $3)
               ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
               WHERE leases.owner = excluded.owner OR leases.until <= $4""",
            name,
            owner,
            now + ttl,
            now,
        )
        return taken == 1

    async def drop_lease(self, name: str, owner: str) -> None:
        await self._execute("DELETE FROM leases WHERE name = $1 AND owner = $2", name, owner)

    # ------------------------------------------------------------------ people

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[Connection]:
        """One consistent view for a read of several statements."""
        if self._inside():
            async with self._conn() as db:
                yield db
            return
        async with (
            self._gate.shared(),
            self.pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield conn

    async def person_data(self, person: str, pseudonyms: Sequence[str] = ()) -> dict[str, Any]:
        keys = _clean(list(pseudonyms))
        person = _clean(person)
        async with self._snapshot() as db:
            rows = await db.fetch(
                "SELECT chat, kind, data, updated_at FROM conversations WHERE person = $1", person
            )
            profile = await db.fetchrow(
                "SELECT national_society, region, updated_at FROM profiles WHERE person = $1",
                person,
            )
            responses = await self._responses_where(
                db, "person = $1 OR respondent = ANY($2::text[])", person, keys
            )
            votes = await db.fetch(
                """SELECT v.poll_id, p.question, p.options, v.option, v.voted_at, p.anonymous
                   FROM poll_votes v JOIN polls p ON p.id = v.poll_id
                   WHERE v.voter = $1 OR v.voter = ANY($2::text[])
                   ORDER BY v.poll_id, v.option""",
                person,
                keys,
            )
            created = await db.fetch(
                "SELECT id, question, created_at FROM polls WHERE created_by = $1 ORDER BY id",
                person,
            )
            sub = await db.fetchrow(f"{_SUBSCRIPTION_SELECT} WHERE s.person = $1", person)
            zone = await db.fetchval(
                "SELECT timezone FROM person_settings WHERE person = $1", person
            )
            stopped = await db.fetchrow(
                "SELECT reason, stopped_at FROM reminder_stops WHERE person = $1", person
            )
            context = await db.fetch(
                """SELECT chat, entry, language, answered_at FROM answer_context
                   WHERE person = $1""",
                person,
            )
            sends = await db.fetch(
                """SELECT j.kind, j.subject, j.lead_days, d.state, d.done_at
                   FROM deliveries d JOIN send_jobs j ON j.id = d.job_id
                   WHERE d.person = $1 ORDER BY d.job_id""",
                person,
            )
            announced = await db.fetch(
                """SELECT id, status, created_at FROM send_jobs
                   WHERE kind = 'announce' AND created_by = $1 ORDER BY id""",
                person,
            )
            inbox = await db.fetch(
                """SELECT platform, event_id, received_at, payload FROM inbox
                   WHERE person = $1 ORDER BY seq""",
                person,
            )
        subscription = None if sub is None else _subscription(sub)
        return {
            "events_not_handled_yet": [
                {
                    "platform": r[0],
                    "event": r[1],
                    "received_at": _uts(r[2]),
                    "as_received": r[3],
                }
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
                {"chat": r[0], "entry": r[1], "language": r[2], "answered_at": _uts(r[3])}
                for r in context
            ],
            "reminders_stopped": None
            if stopped is None
            else {"reason": stopped[0], "stopped_at": _uts(stopped[1])},
            "timezone": zone,
            "messages_scheduled": [
                {
                    "kind": r[0],
                    "about": r[1],
                    "days_before": r[2],
                    "state": r[3],
                    "done_at": _opt_uts(r[4]),
                }
                for r in sends
            ],
            "announcements_created": [
                {"id": int(r[0]), "status": r[1], "created_at": _uts(r[2])} for r in announced
            ],
            "conversations": [
                {"chat": r[0], "kind": r[1], "data": json.loads(r[2]), "updated_at": _uts(r[3])}
                for r in rows
            ],
            "profile": None
            if profile is None
            else {
                "national_society": profile[0],
                "region": profile[1],
                "updated_at": profile[2].isoformat(),
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
                    "voted_at": _uts(v[4]),
                    "anonymous": bool(v[5]),
                }
                for v in votes
            ],
            "polls_created": [
                {"poll": int(p[0]), "question": p[1], "created_at": _uts(p[2])} for p in created
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
        keys = _clean(list(pseudonyms))
        chats = _clean(list(private_chats))
        person = _clean(person)
        closed = now or datetime.now(UTC)
        which = "person = $1 OR (respondent = ANY($2::text[]) AND status = 'draft')"
        async with self.transaction() as db:

            async def run(sql: str, *params: Any) -> int:
                return _count(await db.execute(sql, *params))

            answers = await db.fetchval(
                f"SELECT COUNT(*) FROM answers WHERE response_id IN "
                f"(SELECT id FROM responses WHERE {which})",
                person,
                keys,
            )
            # First, while created_by still names them: a poll posted in their private
            # chat keeps no chat id (on Telegram, the account id), and closes.
            polls_unlinked = await run(
                """UPDATE polls SET chat = '', closed_at = COALESCE(closed_at, $1),
                   final_shown = TRUE WHERE created_by = $2 AND chat = ANY($3::text[])""",
                closed,
                person,
                chats,
            )
            refs = await run("DELETE FROM message_refs WHERE chat = ANY($1::text[])", chats)
            # Replies a crash left unsent: their route names the person's account, and
            # replies to their private chat (a poll they posted there closing) its id.
            owed_rows = await run(
                """DELETE FROM owed_replies WHERE person = $1 OR EXISTS (
                   SELECT 1 FROM json_array_elements_text(owed_replies.chats::json) AS c (chat)
                   WHERE c.chat = ANY($2::text[]))""",
                person,
                chats,
            )
            deleted = {
                "private_polls_unlinked": polls_unlinked,
                "message_refs": refs,
                "owed_replies": owed_rows,
                "conversations": await run("DELETE FROM conversations WHERE person = $1", person),
                "profile": await run("DELETE FROM profiles WHERE person = $1", person),
                "answers": int(answers or 0),
                "responses": await run(f"DELETE FROM responses WHERE {which}", person, keys),
                "poll_votes": await _forget_votes(db, person),
                "polls_unlinked": await run(
                    "UPDATE polls SET created_by = '' WHERE created_by = $1", person
                ),
                "subscription": await run("DELETE FROM subscriptions WHERE person = $1", person),
                "settings": await run("DELETE FROM person_settings WHERE person = $1", person),
                "reminder_stops": await run("DELETE FROM reminder_stops WHERE person = $1", person),
                "answer_context": await run("DELETE FROM answer_context WHERE person = $1", person),
                "deliveries": await run("DELETE FROM deliveries WHERE person = $1", person),
                "inbox": await run("DELETE FROM inbox WHERE person = $1", person),
                # The shared send limiter's moment for their private chat: its key names
                # the chat (on Telegram, the account id). Not in /mydata: it holds no
                # content, only when the next message to that chat may go, and later
                # sends delete it about a second after that moment.
                "send_slots": await run(
                    "DELETE FROM send_slots WHERE key = ANY($1::text[])",
                    [chat_key(person.partition(":")[0], chat) for chat in chats],
                ),
                # An announcement already sent stays (its recipients got it); unconfirmed
                # ones are dropped; neither keeps the coordinator's identity.
                "announcements_unlinked": await run(
                    """UPDATE send_jobs SET created_by = '',
                       status = CASE WHEN status = 'draft' THEN 'cancelled' ELSE status END
                       WHERE created_by = $1""",
                    person,
                ),
            }
        return deleted

    # ------------------------------------------------------------------ profiles

    async def get_profile(self, person: str) -> Profile | None:
        row = await self._fetchrow(
            "SELECT person, national_society, region, updated_at FROM profiles WHERE person = $1",
            person,
        )
        return Profile(row[0], row[1], row[2], row[3]) if row else None

    async def set_profile(
        self, person: str, national_society: str | None, region: str | None, now: datetime
    ) -> None:
        await self._execute(
            """INSERT INTO profiles (person, national_society, region, updated_at)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (person) DO UPDATE SET national_society = excluded.national_society,
               region = excluded.region, updated_at = excluded.updated_at""",
            person,
            national_society,
            region,
            now,
        )

    # ------------------------------------------------------------------ responses

    @staticmethod
    async def _responses_where(db: Connection, where: str, *params: Any) -> list[ResponseRow]:
        """One statement, so the responses and their answers are one snapshot."""
        columns = ", ".join(f"r.{c.strip()}" for c in _RESPONSE_COLUMNS.split(","))
        rows = await db.fetch(
            f"""SELECT {columns}, a.question, a.value FROM responses r
                LEFT JOIN answers a ON a.response_id = r.id
                WHERE r.id IN (SELECT id FROM responses WHERE {where})
                ORDER BY r.started_at, r.id""",
            *_args(params),
        )
        found: dict[int, tuple[Record, dict[str, Any]]] = {}
        for row in rows:
            _, answers = found.setdefault(int(row[0]), (row, {}))
            if row[14] is not None:
                answers[row[14]] = json.loads(row[15])
        return [_response(row, answers) for row, answers in found.values()]

    async def get_response(self, consultation: str, respondent: str) -> ResponseRow | None:
        async with self._conn() as db:
            rows = await self._responses_where(
                db, "consultation = $1 AND respondent = $2", consultation, respondent
            )
        return rows[0] if rows else None

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
        stamp = _day(now) if anonymous else now
        values = [
            consultation,
            respondent,
            anonymous,
            None if anonymous else person,
            None if anonymous else display_name,
            secrets.token_hex(4).upper(),
            position,
            profile[0],
            profile[1],
            stamp,
            stamp,
        ]
        columns = _RESPONSE_COLUMNS.replace("id, ", "", 1)
        if anonymous:
            await self._execute(
                f"""INSERT INTO responses ({_RESPONSE_COLUMNS})
                    VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $9, $10, $11, $12, NULL)
                    ON CONFLICT DO NOTHING""",
                secrets.randbits(_RANDOM_ID_BITS) + 1,
                *values,
            )
        else:
            await self._execute(
                f"""INSERT INTO responses ({columns})
                    VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8, $9, $10, $11, NULL)
                    ON CONFLICT DO NOTHING""",
                *values,
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
            # The row lock first: a concurrent change commits before we read.
            row = await db.fetchrow(
                "SELECT position, anonymous FROM responses WHERE id = $1 FOR UPDATE", response_id
            )
            if row is None or (expect_position is not None and row[0] != expect_position):
                return False
            if expect_answer is not None:
                value = await db.fetchval(
                    "SELECT value FROM answers WHERE response_id = $1 AND question = $2",
                    response_id,
                    _clean(expect_answer[0]),
                )
                stored = ABSENT if value is None else json.loads(value)
                if stored != expect_answer[1]:
                    return False
            stamp = _day(now) if row[1] else now
            if answers:
                await db.execute(
                    """INSERT INTO answers (response_id, question, value, answered_at)
                       SELECT $1, q, v, $4 FROM unnest($2::text[], $3::text[]) AS a (q, v)
                       ON CONFLICT (response_id, question) DO UPDATE
                       SET value = excluded.value, answered_at = excluded.answered_at""",
                    response_id,
                    _clean(list(answers)),
                    [json.dumps(v, ensure_ascii=False) for v in answers.values()],
                    stamp,
                )
            if drop:
                await db.execute(
                    "DELETE FROM answers WHERE response_id = $1 AND question = ANY($2::text[])",
                    response_id,
                    _clean(list(drop)),
                )
            await db.execute(
                """UPDATE responses SET updated_at = $1, position = COALESCE($2, position),
                   status = CASE WHEN $3 THEN 'submitted' ELSE status END,
                   submitted_at = CASE WHEN $3 AND submitted_at IS NULL THEN $1
                                  ELSE submitted_at END,
                   region = CASE WHEN $4 THEN $5 ELSE region END,
                   national_society = CASE WHEN $4 THEN $6 ELSE national_society END
                   WHERE id = $7""",
                stamp,
                _clean(position),
                submit,
                profile is not None,
                _clean(profile[0]) if profile else None,
                _clean(profile[1]) if profile else None,
                response_id,
            )
        return True

    async def responses(
        self, consultation: str, since: datetime | None = None
    ) -> list[ResponseRow]:
        async with self._conn() as db:
            if since is None:
                return await self._responses_where(db, "consultation = $1", consultation)
            # Anonymous responses only know the day they changed.
            return await self._responses_where(
                db,
                "consultation = $1 AND updated_at >= CASE WHEN anonymous THEN $2::timestamptz ELSE $3::timestamptz END",
                consultation,
                _day(since),
                since,
            )

    async def delete_responses(self, consultation: str) -> int:
        return await self._execute("DELETE FROM responses WHERE consultation = $1", consultation)

    async def response_consultations(self) -> list[str]:
        rows = await self._fetch(
            "SELECT DISTINCT consultation FROM responses ORDER BY consultation"
        )
        return [r[0] for r in rows]

    async def close_consultation(self, consultation: str, by: str, now: datetime) -> None:
        await self._execute(
            """INSERT INTO consultation_closures (consultation, closed_at, closed_by)
               VALUES ($1, $2, $3) ON CONFLICT DO NOTHING""",
            consultation,
            now,
            by,
        )

    async def consultation_closures(self) -> dict[str, datetime]:
        rows = await self._fetch("SELECT consultation, closed_at FROM consultation_closures")
        return {r[0]: r[1] for r in rows}

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
        row = await self._fetchrow(
            f"""INSERT INTO polls (platform, chat, question, options, multi, anonymous,
                created_by, created_at, closes_at, language)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {_POLL_COLUMNS}""",
            platform,
            chat,
            question,
            json.dumps(list(options), ensure_ascii=False),
            multi,
            anonymous,
            created_by,
            now,
            closes_at,
            language,
        )
        assert row is not None
        return _poll(row)

    async def get_poll(self, poll_id: int) -> PollRow | None:
        row = await self._fetchrow(f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = $1", poll_id)
        return _poll(row) if row else None

    async def recent_polls(self, limit: int = 20) -> list[PollRow]:
        rows = await self._fetch(
            f"SELECT {_POLL_COLUMNS} FROM polls ORDER BY id DESC LIMIT $1", limit
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
        voter = _clean(voter)
        async with self.transaction() as db:
            row = await db.fetchrow(f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = $1", poll_id)
            if row is None:
                return None
            poll = _poll(row)
            if not poll.is_open(now) or not 0 <= option < len(poll.options):
                return None
            # One voter's votes change one at a time, on every replica.
            await db.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"vote:{poll_id}:{voter}"
            )
            mine = "SELECT option FROM poll_votes WHERE poll_id = $1 AND voter = $2 ORDER BY option"
            before = [int(r[0]) for r in await db.fetch(mine, poll_id, voter)]
            if poll.multi:
                removed = _count(
                    await db.execute(
                        """DELETE FROM poll_votes WHERE poll_id = $1 AND voter = $2
                           AND option = $3 AND voted_at <= $4""",
                        poll_id,
                        voter,
                        option,
                        now - debounce,
                    )
                )
            else:
                if before:  # a first vote (most of a burst) has nothing to replace
                    await db.execute(
                        "DELETE FROM poll_votes WHERE poll_id = $1 AND voter = $2", poll_id, voter
                    )
                removed = 0
            if not removed:  # a vote from a double tap's first press is kept as it is
                await db.execute(
                    """INSERT INTO poll_votes (poll_id, voter, option, name, voted_at)
                       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
                    poll_id,
                    voter,
                    option,
                    None if poll.anonymous else _clean(name),
                    now,
                )
            after = voted_after(before, option, multi=poll.multi, removed=bool(removed))
            await _count_votes(db, poll_id, *count_changes(before, after))
        return after

    async def poll_tally(self, poll_id: int) -> PollTally:
        # The counts cast_vote keeps (one row per option), not every vote; only a named
        # poll's names come from the votes. One statement, so the parts are one snapshot.
        rows = await self._fetch(
            """SELECT 0 AS part, NULL::int AS option, voters AS n, NULL::text AS name,
                      NULL::timestamptz AS at FROM polls WHERE id = $1
               UNION ALL SELECT 1, option, votes, NULL, NULL FROM poll_counts
                      WHERE poll_id = $1 AND votes > 0
               UNION ALL SELECT 2, v.option, NULL, v.name, v.voted_at
                      FROM poll_votes v JOIN polls p ON p.id = v.poll_id
                      WHERE v.poll_id = $1 AND NOT p.anonymous AND v.name IS NOT NULL
               ORDER BY part, at, name""",
            poll_id,
        )
        counts: dict[int, int] = {}
        names: dict[int, list[str]] = {}
        voters = 0
        for part, option, n, name, _ in rows:
            if part == 0:
                voters = int(n)
            elif part == 1:
                counts[int(option)] = int(n)
            else:
                names.setdefault(int(option), []).append(name)
        return PollTally(counts, voters, names)

    async def close_poll(self, poll_id: int, now: datetime) -> bool:
        changed = await self._execute(
            "UPDATE polls SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL", now, poll_id
        )
        return changed == 1

    async def polls_due(self, now: datetime) -> list[PollRow]:
        rows = await self._fetch(
            f"""SELECT {_POLL_COLUMNS} FROM polls WHERE NOT final_shown
                AND (closed_at IS NOT NULL OR (closes_at IS NOT NULL AND closes_at <= $1))
                ORDER BY id""",
            now,
        )
        return [_poll(r) for r in rows]

    async def mark_poll_final_shown(self, poll_id: int) -> None:
        await self._execute("UPDATE polls SET final_shown = TRUE WHERE id = $1", poll_id)

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
        wanted = None if days is None else json.dumps(sorted(set(days), reverse=True))
        async with self.transaction() as db:
            args = _args([person, platform, chat, wanted, language, tz_hint, now])
            await db.execute("DELETE FROM reminder_stops WHERE person = $1", args[0])
            # One statement: two replicas subscribing one person at once cannot both insert.
            await db.execute(
                """INSERT INTO subscriptions (person, platform, chat, days, language, tz_hint,
                   created_at, updated_at) VALUES ($1, $2, $3, COALESCE($4, '[]'), $5, $6, $7, $7)
                   ON CONFLICT (person) DO UPDATE SET chat = excluded.chat,
                   language = excluded.language, tz_hint = excluded.tz_hint,
                   days = COALESCE($4, subscriptions.days),
                   updated_at = CASE WHEN $4 IS NOT NULL AND $4 <> subscriptions.days
                                THEN $7 ELSE subscriptions.updated_at END""",
                *args,
            )
            row = await db.fetchrow(f"{_SUBSCRIPTION_SELECT} WHERE s.person = $1", args[0])
        assert row is not None
        return _subscription(row)

    async def unsubscribe(self, person: str, now: datetime, reason: str | None = None) -> bool:
        person = _clean(person)
        async with self.transaction() as db:
            removed = _count(
                await db.execute("DELETE FROM subscriptions WHERE person = $1", person)
            )
            if reason is not None and removed:
                await db.execute(
                    """INSERT INTO reminder_stops (person, reason, stopped_at) VALUES ($1, $2, $3)
                       ON CONFLICT (person) DO UPDATE
                       SET reason = excluded.reason, stopped_at = excluded.stopped_at""",
                    person,
                    _clean(reason),
                    now,
                )
            await db.execute(
                """UPDATE deliveries SET state = 'cancelled', done_at = $1
                   WHERE person = $2 AND state = 'pending' AND job_id IN
                   (SELECT id FROM send_jobs WHERE kind = ANY($3::text[]))""",
                now,
                person,
                _SUBSCRIBER_KINDS,
            )
        return removed == 1

    async def get_subscription(self, person: str) -> Subscription | None:
        row = await self._fetchrow(f"{_SUBSCRIPTION_SELECT} WHERE s.person = $1", person)
        return _subscription(row) if row else None

    async def subscriptions(self) -> list[Subscription]:
        rows = await self._fetch(f"{_SUBSCRIPTION_SELECT} ORDER BY s.created_at, s.person")
        return [_subscription(r) for r in rows]

    async def count_subscriptions(self) -> int:
        row = await self._fetchrow("SELECT COUNT(*) FROM subscriptions")
        return int(row[0]) if row else 0

    async def get_timezone(self, person: str) -> str | None:
        row = await self._fetchrow("SELECT timezone FROM person_settings WHERE person = $1", person)
        return row[0] if row else None

    async def set_timezone(self, person: str, zone: str | None, now: datetime) -> None:
        if zone is None:
            await self._execute("DELETE FROM person_settings WHERE person = $1", person)
            return
        await self._execute(
            """INSERT INTO person_settings (person, timezone, updated_at) VALUES ($1, $2, $3)
               ON CONFLICT (person) DO UPDATE
               SET timezone = excluded.timezone, updated_at = excluded.updated_at""",
            person,
            zone,
            now,
        )

    async def known_people(self) -> dict[str, str | None]:
        rows = await self._fetch(
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
            values = _args([key, kind, subject, subject_at, lead_days, text, status, created_by])
            row = await db.fetchrow(
                f"""INSERT INTO send_jobs (key, kind, subject, subject_at, lead_days, text,
                    status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    ON CONFLICT (key) DO NOTHING RETURNING {_JOB_COLUMNS}""",
                *values,
                now,
            )
            created = row is not None
            if row is None:
                row = await db.fetchrow(
                    f"SELECT {_JOB_COLUMNS} FROM send_jobs WHERE key = $1", values[0]
                )
            assert row is not None
            job = _job(row)
            if created and recipients:
                await self._insert_deliveries(db, job.id, recipients, now)
        return job, created

    @staticmethod
    async def _insert_deliveries(
        db: Connection, job_id: int, recipients: Sequence[Recipient], now: datetime
    ) -> int:
        return _count(
            await db.execute(
                """INSERT INTO deliveries (job_id, person, platform, chat, state, not_before)
                   SELECT $1, r.person, r.platform, r.chat, 'pending', $5
                   FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY
                        AS r (person, platform, chat, n)
                   ORDER BY r.n
                   ON CONFLICT DO NOTHING""",
                job_id,
                _clean([r.person for r in recipients]),
                _clean([r.platform for r in recipients]),
                _clean([r.chat for r in recipients]),
                now,
            )
        )

    async def get_job(self, job_id: int) -> SendJob | None:
        row = await self._fetchrow(f"SELECT {_JOB_COLUMNS} FROM send_jobs WHERE id = $1", job_id)
        return _job(row) if row else None

    async def get_job_by_key(self, key: str) -> SendJob | None:
        row = await self._fetchrow(f"SELECT {_JOB_COLUMNS} FROM send_jobs WHERE key = $1", key)
        return _job(row) if row else None

    async def job_people(self, job_id: int) -> set[str]:
        rows = await self._fetch("SELECT person FROM deliveries WHERE job_id = $1", job_id)
        return {r[0] for r in rows}

    async def add_deliveries(
        self, job_id: int, recipients: Sequence[Recipient], now: datetime
    ) -> int:
        if not recipients:
            return 0
        async with self._conn() as db:
            return await self._insert_deliveries(db, job_id, recipients, now)

    async def activate_announcement(self, job_id: int, by: str, now: datetime) -> int | None:
        async with self.transaction() as db:
            changed = await db.execute(
                """UPDATE send_jobs SET status = 'active'
                   WHERE id = $1 AND kind = 'announce' AND status = 'draft' AND created_by = $2""",
                job_id,
                _clean(by),
            )
            if _count(changed) != 1:
                return None
            return _count(
                await db.execute(
                    """INSERT INTO deliveries (job_id, person, platform, chat, state, not_before)
                       SELECT $1, person, platform, chat, 'pending', $2 FROM subscriptions
                       ORDER BY created_at, person
                       ON CONFLICT DO NOTHING""",
                    job_id,
                    now,
                )
            )

    async def cancel_announcement(self, job_id: int, by: str) -> bool:
        changed = await self._execute(
            """UPDATE send_jobs SET status = 'cancelled'
               WHERE id = $1 AND kind = 'announce' AND status = 'draft' AND created_by = $2""",
            job_id,
            by,
        )
        return changed == 1

    # ------------------------------------------------------------------ deliveries

    async def pending_deliveries(
        self, platforms: Sequence[str], now: datetime, limit: int = 100
    ) -> list[Delivery]:
        if not platforms:
            return []
        columns = ", ".join(f"j.{c.strip()}" for c in _JOB_COLUMNS.split(","))
        rows = await self._fetch(
            f"""SELECT {columns}, d.person, d.platform, d.chat, d.attempts, s.language,
                       COALESCE(ps.timezone, s.tz_hint)
                FROM deliveries d
                JOIN send_jobs j ON j.id = d.job_id
                LEFT JOIN subscriptions s ON s.person = d.person
                LEFT JOIN person_settings ps ON ps.person = d.person
                WHERE d.state = 'pending' AND j.status = 'active'
                  AND d.platform = ANY($1::text[]) AND d.not_before <= $2
                ORDER BY d.job_id, d.seq
                LIMIT $3""",
            list(platforms),
            now,
            limit,
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
            """UPDATE deliveries SET state = 'claimed', claimed_at = $1, attempts = attempts + 1,
               claimed_by = $2, lease_until = $3
               WHERE job_id = $4 AND person = $5 AND state = 'pending'""",
            now,
            owner,
            now + lease,
            job_id,
            person,
        )
        return changed == 1

    async def renew_claims(self, owner: str, now: datetime, lease: timedelta = CLAIM_LEASE) -> int:
        return await self._execute(
            "UPDATE deliveries SET lease_until = $1 WHERE state = 'claimed' AND claimed_by = $2",
            now + lease,
            owner,
        )

    async def finish_delivery(
        self, job_id: int, person: str, state: str, now: datetime, *, owner: str = ""
    ) -> None:
        if state not in {"sent", "skipped", "failed"}:
            raise ValueError(f"not a final delivery state: {state!r}")
        mine = "AND ($3 = '' OR claimed_by = $3)"
        async with self.transaction() as db:
            person, owner = _clean(person), _clean(owner)
            # A draft reminder's row, once done, would say whether that person had a
            # draft (sent) or not (skipped): it goes instead.
            deleted = await db.execute(
                f"""DELETE FROM deliveries WHERE job_id = $1 AND person = $2 AND state = 'claimed'
                    {mine} AND job_id IN (SELECT id FROM send_jobs WHERE kind = 'draft')""",
                job_id,
                person,
                owner,
            )
            if _count(deleted):
                return
            await db.execute(
                f"""UPDATE deliveries SET state = $4, done_at = $5, lease_until = NULL
                    WHERE job_id = $1 AND person = $2 AND state = 'claimed' {mine}""",
                job_id,
                person,
                owner,
                state,
                now,
            )

    async def release_delivery(
        self, job_id: int, person: str, not_before: datetime, *, owner: str = ""
    ) -> None:
        await self._execute(
            """UPDATE deliveries SET state = 'pending', not_before = $1, claimed_by = NULL,
               lease_until = NULL WHERE job_id = $2 AND person = $3 AND state = 'claimed'
               AND ($4 = '' OR claimed_by = $4)""",
            not_before,
            job_id,
            person,
            owner,
        )

    async def recover_claimed(self, now: datetime | None = None) -> int:
        # Rows claimed before claims had leases have none: their process is long gone.
        return await self._execute(
            """UPDATE deliveries SET state = 'pending', claimed_by = NULL, lease_until = NULL
               WHERE state = 'claimed'
               AND ($1::timestamptz IS NULL OR lease_until IS NULL OR lease_until <= $1)""",
            now,
        )

    async def purge_draft_deliveries(self, now: datetime) -> int:
        jobs = await self._fetch(
            """SELECT id, subject_at FROM send_jobs WHERE kind = 'draft'
               AND id IN (SELECT DISTINCT job_id FROM deliveries)"""
        )
        closed = [int(j[0]) for j in jobs if j[1] and datetime.fromisoformat(j[1]) <= now]
        if not closed:
            return 0
        return await self._execute(
            "DELETE FROM deliveries WHERE job_id = ANY($1::bigint[])", closed
        )

    async def delivery_states(self, job_id: int) -> dict[str, int]:
        rows = await self._fetch(
            "SELECT state, COUNT(*) FROM deliveries WHERE job_id = $1 GROUP BY state", job_id
        )
        return {r[0]: int(r[1]) for r in rows}
