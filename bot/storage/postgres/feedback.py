"""PostgreSQL implementation of :class:`bot.storage.base.FeedbackStore`, mixed into
:class:`bot.storage.postgres.PostgresStorage` (same pool, same units of work); the
semantics are SQLite's (bot/storage/sqlite_feedback.py).

Its tables are created by migration 7 (:data:`SCHEMA`), listed in schema.py. Two
replicas counting one question at once both land (an upsert adds one each); two
presses of one vote at once leave one row (the second insert waits for the first and
then finds it).
"""

from __future__ import annotations

import secrets
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

from bot import feedback
from bot.feedback import AnswerRef, Feedback
from bot.storage.base import FeedbackStore, QuestionCount
from bot.storage.postgres.values import clean_args, count

SCHEMA = """
CREATE TABLE question_counts (
    day TIMESTAMPTZ NOT NULL,
    platform TEXT NOT NULL,
    language TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('answer', 'suggest', 'fallback')),
    count BIGINT NOT NULL,
    PRIMARY KEY (day, platform, language, outcome)
);
CREATE TABLE answer_refs (
    ref TEXT PRIMARY KEY,
    entry TEXT NOT NULL,
    question TEXT NOT NULL,
    language TEXT NOT NULL,
    platform TEXT NOT NULL,
    day TIMESTAMPTZ NOT NULL
);
CREATE INDEX answer_refs_day ON answer_refs (day);
CREATE TABLE feedback (
    voter TEXT PRIMARY KEY,            -- a keyed code of (answer reference, person)
    entry TEXT NOT NULL,
    question TEXT NOT NULL,
    language TEXT NOT NULL,
    platform TEXT NOT NULL,
    helpful BOOLEAN NOT NULL,
    comment TEXT,
    day TIMESTAMPTZ NOT NULL
);
CREATE INDEX feedback_day ON feedback (day);
"""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Db(Protocol):
    """What the mixin uses of :class:`bot.storage.postgres.PostgresStorage`."""

    async def _fetch(self, sql: str, *args: Any) -> list[Any]: ...
    async def _fetchrow(self, sql: str, *args: Any) -> Any | None: ...
    async def _execute(self, sql: str, *args: Any) -> int: ...
    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    _purged_on: datetime | None


def _day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _since(since: datetime | None) -> datetime:
    return _day(since) if since is not None else _EPOCH


class PostgresFeedback(FeedbackStore):
    _purged_on: datetime | None = None  # the day old answer references were last deleted

    async def count_question(
        self: _Db, *, outcome: str, platform: str, language: str, now: datetime
    ) -> None:
        await self._execute(
            """INSERT INTO question_counts (day, platform, language, outcome, count)
               VALUES ($1, $2, $3, $4, 1)
               ON CONFLICT (day, platform, language, outcome)
               DO UPDATE SET count = question_counts.count + 1""",
            _day(now),
            platform,
            language,
            outcome,
        )

    async def question_counts(self: _Db, since: datetime | None = None) -> list[QuestionCount]:
        rows = await self._fetch(
            """SELECT day, platform, language, outcome, count FROM question_counts
               WHERE day >= $1 ORDER BY day, platform, language, outcome""",
            _since(since),
        )
        return [QuestionCount(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]

    async def save_answer(
        self: _Db, *, entry_id: str, question: str, language: str, platform: str, now: datetime
    ) -> str:
        ref = secrets.token_urlsafe(9)
        today = _day(now)
        if self._purged_on != today:  # once a day per process: one statement per answer
            await self._execute(
                "DELETE FROM answer_refs WHERE day < $1", _day(now - feedback.WINDOW)
            )
            self._purged_on = today
        await self._execute(
            """INSERT INTO answer_refs (ref, entry, question, language, platform, day)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            ref,
            entry_id,
            question[: feedback.MAX_QUESTION],
            language,
            platform,
            today,
        )
        return ref

    async def get_answer(self: _Db, ref: str, now: datetime) -> AnswerRef | None:
        row = await self._fetchrow(
            """SELECT ref, entry, question, language, platform, day FROM answer_refs
               WHERE ref = $1 AND day >= $2""",
            ref,
            _day(now - feedback.WINDOW),
        )
        if row is None:
            return None
        return AnswerRef(row[0], row[1], row[2], row[3], row[4], row[5])

    async def cast_feedback(
        self: _Db, voter: str, answer: AnswerRef, helpful: bool, now: datetime
    ) -> bool | None:
        async with self.transaction() as db:
            status = await db.execute(
                """INSERT INTO feedback (voter, entry, question, language, platform, helpful, day)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (voter) DO NOTHING""",
                *clean_args(
                    (
                        voter,
                        answer.entry_id,
                        answer.question,
                        answer.language,
                        answer.platform,
                        helpful,
                        _day(now),
                    )
                ),
            )
            if count(status) == 1:
                return None
            before = await db.fetchval(
                "SELECT helpful FROM feedback WHERE voter = $1 FOR UPDATE", voter
            )
            if before is not None and bool(before) != helpful:
                await db.execute(
                    "UPDATE feedback SET helpful = $1, comment = NULL WHERE voter = $2",
                    helpful,
                    voter,
                )
            return None if before is None else bool(before)

    async def comment_feedback(self: _Db, voter: str, comment: str) -> bool:
        changed = await self._execute(
            "UPDATE feedback SET comment = $1 WHERE voter = $2 AND NOT helpful",
            comment[: feedback.MAX_COMMENT],
            voter,
        )
        return changed == 1

    async def feedback_since(self: _Db, since: datetime | None = None) -> list[Feedback]:
        rows = await self._fetch(
            """SELECT entry, question, language, platform, helpful, comment, day FROM feedback
               WHERE day >= $1 ORDER BY day, entry""",
            _since(since),
        )
        return [
            Feedback(
                entry_id=r[0],
                question=r[1],
                language=r[2],
                platform=r[3],
                helpful=bool(r[4]),
                comment=r[5],
                at=r[6],
            )
            for r in rows
        ]

    async def purge_feedback(self: _Db, before: datetime) -> int:
        return await self._execute("DELETE FROM feedback WHERE day < $1", _day(before))

    async def desk_reply_times(
        self: _Db, since: datetime | None = None
    ) -> list[tuple[datetime, datetime | None]]:
        rows = await self._fetch(
            """SELECT sent_at, first_reply_at FROM handoffs
               WHERE sent_at IS NOT NULL AND sent_at >= $1 ORDER BY sent_at""",
            since if since is not None else _EPOCH,
        )
        return [(r[0], r[1]) for r in rows]
