"""One contract, run against every Storage implementation: SQLite, and PostgreSQL
when ``NSBOT_TEST_DATABASE_URL`` names a server (tests/pg_server.py; else it skips)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from bot.errors import StorageError
from bot.storage import SqliteStorage, Storage
from bot.storage.base import PollRow
from bot.storage.sqlite import MIGRATIONS
from tests.pg_server import ThrowawayPostgres

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

IMPLEMENTATIONS: dict[str, Callable[[Path], Storage]] = {
    "sqlite": lambda tmp: SqliteStorage(tmp / "contract.sqlite3"),
    "postgres": lambda tmp: ThrowawayPostgres(),
}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    async with IMPLEMENTATIONS[request.param](tmp_path) as s:
        yield s


class TestStorageContract:
    async def test_claim_event_is_true_once(self, store: Storage) -> None:
        assert await store.claim_event("telegram", "1001", NOW)
        assert not await store.claim_event("telegram", "1001", NOW)
        assert await store.claim_event("slack", "1001", NOW)  # ids are per platform

    async def test_concurrent_claims_of_one_event_succeed_once(self, store: Storage) -> None:
        results = await asyncio.gather(*(store.claim_event("slack", "Ev1", NOW) for _ in range(50)))
        assert results.count(True) == 1

    async def test_gaps_group_by_question_most_frequent_first(self, store: Storage) -> None:
        for i, q in enumerate(["weather?", "Weather", "budget 2025", "weather", "x"]):
            await store.log_gap(q, "fallback", "telegram", NOW + timedelta(minutes=i))
        rows = await store.gaps()
        assert [(r.question, r.count) for r in rows[:2]] == [("weather", 3), ("x", 1)] or rows[
            0
        ].count == 3
        assert rows[0].count == 3 and rows[0].last_asked == NOW + timedelta(minutes=3)
        assert sum(r.count for r in rows) == 5
        assert await store.gaps(limit=1) == rows[:1]

    async def test_logged_gaps_one_row_each_oldest_first_since(self, store: Storage) -> None:
        await store.log_gap("When is  the COD?", "suggest", "telegram", NOW + timedelta(hours=1))
        await store.log_gap("weather in nairobi", "fallback", "slack", NOW)
        rows = await store.logged_gaps()
        assert [(r.question, r.status, r.platform) for r in rows] == [
            ("weather in nairobi", "fallback", "slack"),
            ("When is the COD?", "suggest", "telegram"),
        ]
        assert rows[0].asked_at == NOW and rows[0].id != rows[1].id
        later = await store.logged_gaps(NOW + timedelta(minutes=30))
        assert [r.id for r in later] == [rows[1].id]

    async def test_clear_gaps_all_or_older(self, store: Storage) -> None:
        await store.log_gap("old one", "fallback", "slack", NOW - timedelta(days=200))
        await store.log_gap("new one", "fallback", "slack", NOW)
        assert await store.clear_gaps(NOW - timedelta(days=90)) == 1
        assert [r.question for r in await store.gaps()] == ["new one"]
        assert await store.clear_gaps() == 1
        assert await store.gaps() == []

    async def test_conversation_state_round_trip(self, store: Storage) -> None:
        assert await store.get_state("t:1", "c1") is None
        await store.set_state("t:1", "c1", "consult", {"q": 3, "text": "é ✓ مرحبا"}, NOW)
        assert await store.get_state("t:1", "c1") == ("consult", {"q": 3, "text": "é ✓ مرحبا"})
        await store.set_state("t:1", "c1", "forget", {}, NOW)
        assert await store.get_state("t:1", "c1") == ("forget", {})
        assert await store.get_state("t:1", "other-chat") is None
        await store.clear_state("t:1", "c1")
        assert await store.get_state("t:1", "c1") is None

    async def test_message_refs_upsert(self, store: Storage) -> None:
        assert await store.get_message_ref("telegram", "poll-1") is None
        await store.set_message_ref("telegram", "poll-1", "-100", "-100:5")
        await store.set_message_ref("telegram", "poll-1", "-100", "-100:9")
        assert await store.get_message_ref("telegram", "poll-1") == ("-100", "-100:9")
        assert await store.get_message_ref("slack", "poll-1") is None

    async def test_person_data_and_forget(self, store: Storage) -> None:
        await store.set_state("t:1", "c1", "consult", {"q": 1}, NOW)
        await store.set_state("t:2", "c2", "consult", {"q": 2}, NOW)
        data = await store.person_data("t:1")
        assert data["conversations"][0]["data"] == {"q": 1}
        deleted = await store.forget_person("t:1")
        assert deleted["conversations"] == 1
        assert not (await store.person_data("t:1"))["conversations"]
        assert await store.get_state("t:2", "c2") is not None

    async def test_a_poll_keeps_the_language_it_was_posted_in(self, store: Storage) -> None:
        async def create(question: str, language: str | None = None) -> PollRow:
            return await store.create_poll(
                platform="telegram",
                chat="-100",
                question=question,
                options=("a", "b"),
                multi=False,
                anonymous=True,
                created_by="telegram:1",
                closes_at=None,
                now=NOW,
                language=language,
            )

        french, unknown = await create("Q?", "fr"), await create("R?")
        assert french.language == "fr" and unknown.language is None
        again = await store.get_poll(french.id)
        assert again is not None and again.language == "fr"
        assert [p.language for p in await store.recent_polls()] == [None, "fr"]


async def test_polls_from_before_poll_languages_survive_the_upgrade(tmp_path: Path) -> None:
    """A database at schema 3 (polls without a language) upgrades in place."""
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as db:
        for number, migration in enumerate(MIGRATIONS[:3], 1):
            await db.executescript(f"{migration}\nPRAGMA user_version = {number};")
        await db.execute(
            """INSERT INTO polls (platform, chat, question, options, multi, anonymous,
               created_by, created_at) VALUES ('telegram', '-100', 'Old?', '["a", "b"]', 0, 1,
               'telegram:1', ?)""",
            (NOW.isoformat(),),
        )
        await db.commit()
    async with SqliteStorage(path) as s:
        assert await s.schema_version() == len(MIGRATIONS)
        old = await s.get_poll(1)
        assert old is not None and old.question == "Old?" and old.language is None


async def test_sqlite_persists_across_reopen_and_records_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "persist.sqlite3"
    async with SqliteStorage(path) as s:
        await s.set_state("t:1", "c", "k", {"a": 1}, NOW)
        assert await s.schema_version() == len(MIGRATIONS)
    async with SqliteStorage(path) as s:
        assert await s.get_state("t:1", "c") == ("k", {"a": 1})
    async with aiosqlite.connect(path) as db, db.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"


async def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    async with aiosqlite.connect(path) as db:
        await db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
        await db.commit()
    with pytest.raises(StorageError, match="newer than this bot knows"):
        async with SqliteStorage(path):
            pass


async def test_sqlite_reports_an_unopenable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises((StorageError, OSError)):
        async with SqliteStorage(blocker / "db.sqlite3"):
            pass


async def test_poll_counts_are_backfilled_from_the_votes_cast_before(tmp_path: Path) -> None:
    """Migration 17: a database with votes but no kept counts gets them from the votes."""
    path = tmp_path / "before-counts.sqlite3"
    async with aiosqlite.connect(path) as db:
        for number, migration in enumerate(MIGRATIONS[:16], 1):
            await db.executescript(f"{migration}\nPRAGMA user_version = {number};")
        for multi in (0, 1):
            await db.execute(
                """INSERT INTO polls (platform, chat, question, options, multi, anonymous,
                   created_by, created_at) VALUES ('telegram', '-100', 'Q?', '["a", "b", "c"]',
                   ?, 1, 'telegram:1', ?)""",
                (multi, NOW.isoformat()),
            )
        votes = [(1, "x", 0), (1, "y", 0), (1, "z", 2), (2, "x", 0), (2, "x", 1), (2, "y", 1)]
        await db.executemany(
            "INSERT INTO poll_votes (poll_id, voter, option, voted_at) VALUES (?, ?, ?, ?)",
            [(*v, NOW.isoformat()) for v in votes],
        )
        await db.commit()
    async with SqliteStorage(path) as s:
        single, multi = await s.poll_tally(1), await s.poll_tally(2)
        assert (single.counts, single.voters) == ({0: 2, 2: 1}, 3)
        assert (multi.counts, multi.voters) == ({0: 1, 1: 2}, 2)
        assert await s.cast_vote(2, "y", 1, name=None, now=NOW) == ()  # untick: from the backfill
        assert (await s.poll_tally(2)).counts == {0: 1, 1: 1}


async def test_the_tally_of_an_anonymous_poll_reads_no_vote_rows(tmp_path: Path) -> None:
    """The tally is shown after every vote: it reads the kept counts (one row per
    option), not the vote rows, whose number grows with every vote."""
    async with SqliteStorage(tmp_path / "reads.sqlite3") as s:
        p = await s.create_poll(
            platform="telegram",
            chat="-100",
            question="Q?",
            options=("a", "b"),
            multi=True,
            anonymous=True,
            created_by="t:coord",
            closes_at=None,
            now=NOW,
        )
        for i in range(5):
            await s.cast_vote(p.id, f"v{i}", i % 2, name=None, now=NOW)
        read: set[str] = set()

        def note(action: int, table: str | None, *_: object) -> int:
            if action == sqlite3.SQLITE_READ and table:
                read.add(table)
            return sqlite3.SQLITE_OK

        raw = s.db._conn  # the sqlite3 connection under the storage's wrapper
        raw.set_authorizer(note)
        try:
            tally = await s.poll_tally(p.id)
        finally:
            raw.set_authorizer(None)
        assert tally.counts == {0: 3, 1: 2} and tally.voters == 5
        assert "poll_votes" not in read and "poll_counts" in read


async def test_a_unit_waits_for_another_process_write_without_holding_the_loop(
    tmp_path: Path,
) -> None:
    """BEGIN IMMEDIATE runs on the loop only when the write lock is free: while another
    connection (a CLI command) holds it, the unit waits in the worker, the loop keeps
    turning, and the unit then commits; the busy timeout is the usual one after."""
    from bot.storage.sqlite import BUSY_TIMEOUT_MS

    path = tmp_path / "locked.sqlite3"
    async with SqliteStorage(path) as storage:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        ticks = 0
        turned = asyncio.Event()  # the loop turned five times while the unit waited
        waiting = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not waiting.is_set():
                ticks += 1
                if ticks >= 5:
                    turned.set()
                await asyncio.sleep(0.01)

        async def write() -> None:
            async with storage.unit():
                await storage.claim_event("test", "e1", NOW)

        tick = asyncio.create_task(ticker())
        unit = asyncio.create_task(write())
        await turned.wait()
        assert not unit.done()
        other.execute("COMMIT")
        await unit
        waiting.set()
        await tick
        other.close()
        assert not await storage.claim_event("test", "e1", NOW)  # committed
        async with storage.db.execute("PRAGMA busy_timeout") as cur:
            assert (await cur.fetchone())[0] == BUSY_TIMEOUT_MS
