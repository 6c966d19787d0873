"""What is particular to the PostgreSQL backend: its server, its schema beside SQLite's,
its migrations, and two replicas writing at once. The shared contract runs on it from
tests/test_storage_contract.py."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.errors import StorageConflict, StorageError
from bot.storage import SqliteStorage
from bot.storage.base import ABSENT
from bot.storage.postgres import MIGRATIONS, PostgresStorage
from bot.storage.postgres.schema import IMPLICIT_COLUMNS, POSTGRES_ONLY_TABLES, VERSION_TABLE
from tests.pg_server import URL_VARIABLE, configured_url, probe, throwaway_schema

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_configured_test_server_answers() -> None:
    """CI sets the variable: then the PostgreSQL tests must run, not skip quietly."""
    url = configured_url()
    if url is None:
        pytest.skip(f"{URL_VARIABLE} is not set: the PostgreSQL tests skip")
    problem = asyncio.run(probe(url))
    assert problem is None, f"{URL_VARIABLE} is set but no PostgreSQL answers there: {problem}"


async def test_the_schema_has_every_sqlite_table_and_column(tmp_path: Path) -> None:
    async with SqliteStorage(tmp_path / "s.sqlite3"):
        pass
    db = sqlite3.connect(tmp_path / "s.sqlite3")
    try:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        sqlite = {t: {r[1] for r in db.execute(f"PRAGMA table_info({t})")} for t in tables}
    finally:
        db.close()
    async with throwaway_schema() as url, PostgresStorage(url) as store, store.pool.acquire() as c:
        rows = await c.fetch(
            """SELECT table_name, column_name FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name <> $1""",
            VERSION_TABLE,
        )
    postgres: dict[str, set[str]] = {}
    for table, column in rows:
        if column not in IMPLICIT_COLUMNS and table not in POSTGRES_ONLY_TABLES:
            postgres.setdefault(table, set()).add(column)
    assert postgres == sqlite


async def test_migrations_record_their_version_and_run_once() -> None:
    async with throwaway_schema() as url:
        async with PostgresStorage(url) as store:
            assert store.applied_migrations == len(MIGRATIONS)
            assert await store.schema_version() == len(MIGRATIONS)
            await store.set_state("t:1", "c", "k", {"a": 1}, NOW)
        async with PostgresStorage(url) as store:
            assert store.applied_migrations == 0
            assert await store.get_state("t:1", "c") == ("k", {"a": 1})


async def test_replicas_starting_together_migrate_once() -> None:
    async with throwaway_schema() as url:
        stores = [PostgresStorage(url, pool_size=1) for _ in range(3)]
        await asyncio.gather(*(s.open() for s in stores))
        try:
            assert sorted(s.applied_migrations for s in stores) == [0, 0, len(MIGRATIONS)]
        finally:
            await asyncio.gather(*(s.close() for s in stores))


async def test_a_database_newer_than_the_bot_is_refused() -> None:
    async with throwaway_schema() as url:
        async with PostgresStorage(url) as store, store.pool.acquire() as conn:
            await conn.execute(f"UPDATE {VERSION_TABLE} SET version = version + 5")
        with pytest.raises(StorageError, match="newer than this bot knows"):
            async with PostgresStorage(url):
                pass


async def test_an_unreachable_server_is_named_without_its_password() -> None:
    # Port 1 on the loopback: nothing listens, the connection is refused at once.
    url = "postgresql://nsbot:s3cret-pw@127.0.0.1:1/nsbot"
    with pytest.raises(StorageError) as caught:
        async with PostgresStorage(url):
            pass
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert "postgresql://nsbot:***@127.0.0.1:1/nsbot" in message


async def test_text_with_nul_is_kept_readable() -> None:
    """PostgreSQL text cannot hold NUL; a message carrying one must still be stored."""
    async with throwaway_schema() as url, PostgresStorage(url) as store:
        await store.log_gap("what\x00is this", "fallback", "telegram", NOW)
        await store.set_state("t:1", "c", "k", {"text": "a\x00b"}, NOW)
        assert [g.question for g in await store.gaps()] == ["what\ufffdis this"]
        assert await store.get_state("t:1", "c") == ("k", {"text": "a\x00b"})  # JSON escapes it


# --------------------------------------------------------------------------- two replicas


async def test_two_replicas_claim_an_event_and_a_delivery_once() -> None:
    async with throwaway_schema() as url, PostgresStorage(url) as one, PostgresStorage(url) as two:
        claims = await asyncio.gather(
            *(store.claim_event("slack", "Ev1", NOW) for store in (one, two) * 10)
        )
        assert claims.count(True) == 1
        from bot.storage.base import Recipient

        job, _ = await one.ensure_job(
            "k", kind="reminder", now=NOW, recipients=[Recipient("t:0", "t", "0")]
        )
        again = await asyncio.gather(
            *(store.ensure_job("k", kind="reminder", now=NOW) for store in (one, two) * 5)
        )
        assert {j.id for j, _ in again} == {job.id} and not any(c for _, c in again)
        won = await asyncio.gather(
            *(store.claim_delivery(job.id, "t:0", NOW) for store in (one, two) * 10)
        )
        assert won.count(True) == 1


async def test_two_replicas_leave_one_draft_open_it_once_and_send_its_question_once() -> None:
    async with throwaway_schema() as url, PostgresStorage(url) as one, PostgresStorage(url) as two:
        offers = await asyncio.gather(
            *(
                store.save_draft(
                    person="t:1",
                    platform="t",
                    chat="1",
                    language=None,
                    question=f"q{i}",
                    tried=[],
                    now=NOW,
                )
                for i, store in enumerate((one, two) * 5)
            )
        )
        (draft,) = await one.handoffs_of("t:1")  # each offer replaced the one before
        assert draft.id in {o.id for o in offers}
        desk = dict(shared=False, name=None, society=None, desk_platform="s", desk_chat="D")
        opened = await asyncio.gather(
            *(
                store.open_handoff(draft.id, person="t:1", now=NOW, **desk)
                for store in (one, two) * 5
            )
        )
        assert opened.count(True) == 1
        queued = await asyncio.gather(
            *(
                store.queue_relay(
                    handoff_id=draft.id,
                    kind="question",
                    platform="s",
                    chat="D",
                    key="q",
                    text="Q",
                    now=NOW,
                )
                for store in (one, two) * 5
            )
        )
        assert queued.count(True) == 1
        (relay,) = await two.pending_relays(["s"], NOW)
        claims = await asyncio.gather(*(s.claim_relay(relay.id, NOW) for s in (one, two) * 5))
        assert claims.count(True) == 1
        await asyncio.gather(*(s.inbox_put("t", [("u1", "{}", None)], NOW) for s in (one, two) * 5))
        assert await one.inbox_pending("t") == [("u1", "{}")]


async def test_one_voter_on_two_replicas_keeps_one_vote_in_a_single_choice_poll() -> None:
    async with throwaway_schema() as url, PostgresStorage(url) as one, PostgresStorage(url) as two:
        poll = await one.create_poll(
            platform="telegram",
            chat="-100",
            question="Q?",
            options=("a", "b", "c"),
            multi=False,
            anonymous=True,
            created_by="t:coord",
            closes_at=None,
            now=NOW,
        )
        for _ in range(5):
            await asyncio.gather(
                *(
                    store.cast_vote(poll.id, "v", i % 3, name=None, now=NOW)
                    for i, store in enumerate((one, two) * 4)
                )
            )
            tally = await two.poll_tally(poll.id)
            assert tally.voters == 1 and sum(tally.counts.values()) == 1


async def test_a_compare_and_set_across_replicas_lets_one_win() -> None:
    async with throwaway_schema() as url, PostgresStorage(url) as one, PostgresStorage(url) as two:
        row = await one.start_response(
            "c1",
            "r1",
            anonymous=False,
            person="t:r1",
            display_name=None,
            position="q1",
            profile=(None, None),
            now=NOW,
        )
        results = await asyncio.gather(
            *(
                store.update_response(
                    row.id, now=NOW, answers={"q1": [str(i)]}, expect_answer=("q1", ABSENT)
                )
                for i, store in enumerate((one, two) * 5)
            )
        )
        assert results.count(True) == 1


async def test_a_unit_whose_statement_failed_stores_nothing() -> None:
    async with throwaway_schema() as url, PostgresStorage(url) as store:
        with pytest.raises(StorageError, match="rolled back"):
            async with store.unit():
                await store.set_state("t:1", "c", "k", {}, NOW)
                with pytest.raises(asyncpg.PostgresError):
                    await store._execute("SELECT no_such_column FROM conversations")
        assert await store.get_state("t:1", "c") is None


async def test_poll_counts_are_backfilled_from_the_votes_cast_before() -> None:
    """Migration 11: a database with votes but no kept counts gets them from the votes."""
    async with throwaway_schema() as url:
        conn = await asyncpg.connect(url)
        try:
            for migration in MIGRATIONS[:10]:
                await conn.execute(migration)
            await conn.execute(f"CREATE TABLE {VERSION_TABLE} (version INTEGER NOT NULL)")
            await conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (10)")
            for multi in (False, True):
                await conn.execute(
                    """INSERT INTO polls (platform, chat, question, options, multi, anonymous,
                       created_by, created_at) VALUES ('telegram', '-100', 'Q?',
                       '["a", "b", "c"]', $1, TRUE, 'telegram:1', $2)""",
                    multi,
                    NOW,
                )
            votes = [(1, "x", 0), (1, "y", 0), (1, "z", 2), (2, "x", 0), (2, "x", 1), (2, "y", 1)]
            await conn.executemany(
                "INSERT INTO poll_votes (poll_id, voter, option, voted_at) VALUES ($1, $2, $3, $4)",
                [(*v, NOW) for v in votes],
            )
        finally:
            await conn.close()
        async with PostgresStorage(url) as store:
            assert store.applied_migrations == len(MIGRATIONS) - 10
            single, multi = await store.poll_tally(1), await store.poll_tally(2)
            assert (single.counts, single.voters) == ({0: 2, 2: 1}, 3)
            assert (multi.counts, multi.voters) == ({0: 1, 1: 2}, 2)
            assert await store.cast_vote(2, "y", 1, name=None, now=NOW) == ()
            assert (await store.poll_tally(2)).counts == {0: 1, 1: 1}


async def test_votes_on_two_polls_in_opposite_orders_tell_one_unit_to_start_again() -> None:
    """Two replicas' batches, each voting on two polls in the other's order: PostgreSQL
    breaks the deadlock by undoing one statement, and that unit learns it must be done
    again (StorageConflict), not that its handler failed."""
    async with throwaway_schema() as url, PostgresStorage(url) as one, PostgresStorage(url) as two:
        polls = [
            await one.create_poll(
                platform="telegram",
                chat=f"-10{i}",
                question="Q?",
                options=("a", "b"),
                multi=True,
                anonymous=True,
                created_by="t:coord",
                closes_at=None,
                now=NOW,
            )
            for i in range(2)
        ]
        voted = [asyncio.Event(), asyncio.Event()]

        async def batch(store: PostgresStorage, me: int) -> None:
            first, second = polls[me], polls[1 - me]
            async with store.unit():
                async with store.savepoint():
                    await store.cast_vote(first.id, f"v{me}", 0, name=None, now=NOW)
                voted[me].set()
                await voted[1 - me].wait()
                async with store.savepoint():
                    await store.cast_vote(second.id, f"v{me}", 0, name=None, now=NOW)

        results = await asyncio.gather(batch(one, 0), batch(two, 1), return_exceptions=True)
        assert sorted(type(r).__name__ for r in results) == ["NoneType", "StorageConflict"]
        assert all(isinstance(r, StorageConflict | None) for r in results)
        # The winner's two votes are in; the undone unit stored nothing.
        tallies = [await one.poll_tally(p.id) for p in polls]
        assert [t.voters for t in tallies] == [1, 1]
