"""SQLite implementation of :class:`bot.storage.base.FeedbackStore`, mixed into
:class:`bot.storage.sqlite.SqliteStorage` (same connection, same units of work).

Its tables are created by migration 14 (:data:`SCHEMA`), listed in sqlite.py. No
column holds a person, a chat or an exact moment: days only, so a row cannot be
matched by time to an account's rows (a conversation, an answer context).
"""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

from bot import feedback
from bot.feedback import AnswerRef, Feedback
from bot.storage.base import FeedbackStore, QuestionCount
from bot.storage.connection import Connection

SCHEMA = """
-- How many questions ended how, per UTC day, platform and language: counters only.
CREATE TABLE question_counts (
    day TEXT NOT NULL,
    platform TEXT NOT NULL,
    language TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('answer', 'suggest', 'fallback')),
    count INTEGER NOT NULL,
    PRIMARY KEY (day, platform, language, outcome)
);
-- What an answer message's 👍 / 👎 buttons refer to, kept a week (bot.feedback.WINDOW).
CREATE TABLE answer_refs (
    ref TEXT PRIMARY KEY,              -- random, in the buttons
    entry TEXT NOT NULL,
    question TEXT NOT NULL,
    language TEXT NOT NULL,
    platform TEXT NOT NULL,
    day TEXT NOT NULL
);
CREATE INDEX answer_refs_day ON answer_refs (day);
-- Votes. ``voter`` is a keyed code of (answer reference, person) (bot.pseudonym): one
-- vote per answer message and person, though neither is stored.
CREATE TABLE feedback (
    voter TEXT PRIMARY KEY,
    entry TEXT NOT NULL,
    question TEXT NOT NULL,
    language TEXT NOT NULL,
    platform TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    comment TEXT,
    day TEXT NOT NULL
);
CREATE INDEX feedback_day ON feedback (day);
"""


class _Db(Protocol):
    """What the mixin uses of :class:`bot.storage.sqlite.SqliteStorage`."""

    async def _fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]: ...
    async def _fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None: ...
    async def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> int: ...
    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...

    _purged_on: str


def _day(moment: datetime) -> str:
    """The UTC day alone, as SQLite's other day-only columns store it."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day.isoformat(timespec="microseconds")


def _since(since: datetime | None) -> str:
    return _day(since) if since is not None else ""


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class SqliteFeedback(FeedbackStore):
    _purged_on = ""  # the day answer references past the window were last deleted

    async def count_question(
        self: _Db, *, outcome: str, platform: str, language: str, now: datetime
    ) -> None:
        await self._execute(
            """INSERT INTO question_counts (day, platform, language, outcome, count)
               VALUES (?, ?, ?, ?, 1)
               ON CONFLICT (day, platform, language, outcome) DO UPDATE SET count = count + 1""",
            (_day(now), platform, language, outcome),
        )

    async def question_counts(self: _Db, since: datetime | None = None) -> list[QuestionCount]:
        rows = await self._fetchall(
            """SELECT day, platform, language, outcome, count FROM question_counts
               WHERE day >= ? ORDER BY day, platform, language, outcome""",
            (_since(since),),
        )
        return [
            QuestionCount(datetime.fromisoformat(r[0]), r[1], r[2], r[3], int(r[4])) for r in rows
        ]

    async def save_answer(
        self: _Db, *, entry_id: str, question: str, language: str, platform: str, now: datetime
    ) -> str:
        ref = secrets.token_urlsafe(9)  # 12 characters: 72 random bits
        today = _day(now)
        if self._purged_on != today:  # once a day per process: one statement per answer
            await self._execute(
                "DELETE FROM answer_refs WHERE day < ?", (_day(now - feedback.WINDOW),)
            )
            self._purged_on = today
        await self._execute(
            """INSERT INTO answer_refs (ref, entry, question, language, platform, day)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (ref, entry_id, question[: feedback.MAX_QUESTION], language, platform, today),
        )
        return ref

    async def get_answer(self: _Db, ref: str, now: datetime) -> AnswerRef | None:
        row = await self._fetchone(
            """SELECT ref, entry, question, language, platform, day FROM answer_refs
               WHERE ref = ? AND day >= ?""",
            (ref, _day(now - feedback.WINDOW)),
        )
        if row is None:
            return None
        return AnswerRef(row[0], row[1], row[2], row[3], row[4], datetime.fromisoformat(row[5]))

    async def cast_feedback(
        self: _Db, voter: str, answer: AnswerRef, helpful: bool, now: datetime
    ) -> bool | None:
        async with self.transaction() as db:
            async with db.execute(
                """INSERT INTO feedback (voter, entry, question, language, platform, helpful, day)
                   VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (voter) DO NOTHING""",
                (
                    voter,
                    answer.entry_id,
                    answer.question,
                    answer.language,
                    answer.platform,
                    int(helpful),
                    _day(now),
                ),
            ) as cur:
                if cur.rowcount == 1:
                    return None
            async with db.execute("SELECT helpful FROM feedback WHERE voter = ?", (voter,)) as cur:
                row = await cur.fetchone()
            before = bool(row[0]) if row else None
            if before is not None and before != helpful:
                await db.execute(
                    "UPDATE feedback SET helpful = ?, comment = NULL WHERE voter = ?",
                    (int(helpful), voter),
                )
            return before

    async def comment_feedback(self: _Db, voter: str, comment: str) -> bool:
        changed = await self._execute(
            "UPDATE feedback SET comment = ? WHERE voter = ? AND helpful = 0",
            (comment[: feedback.MAX_COMMENT], voter),
        )
        return changed == 1

    async def feedback_since(self: _Db, since: datetime | None = None) -> list[Feedback]:
        rows = await self._fetchall(
            """SELECT entry, question, language, platform, helpful, comment, day FROM feedback
               WHERE day >= ? ORDER BY day, entry""",
            (_since(since),),
        )
        return [
            Feedback(
                entry_id=r[0],
                question=r[1],
                language=r[2],
                platform=r[3],
                helpful=bool(r[4]),
                comment=r[5],
                at=datetime.fromisoformat(r[6]),
            )
            for r in rows
        ]

    async def purge_feedback(self: _Db, before: datetime) -> int:
        return await self._execute("DELETE FROM feedback WHERE day < ?", (_day(before),))

    async def desk_reply_times(
        self: _Db, since: datetime | None = None
    ) -> list[tuple[datetime, datetime | None]]:
        rows = await self._fetchall(
            """SELECT sent_at, first_reply_at FROM handoffs
               WHERE sent_at IS NOT NULL AND sent_at >= ? ORDER BY sent_at""",
            (_ts(since) if since is not None else "",),
        )
        return [
            (datetime.fromisoformat(r[0]), datetime.fromisoformat(r[1]) if r[1] else None)
            for r in rows
        ]
