"""``nsbot db migrate`` and ``nsbot db copy``: a deployment moves from its SQLite file to
PostgreSQL without losing or changing a row, and the bot goes on working on the copy."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.storage import SqliteStorage, Storage
from bot.storage.base import Recipient
from bot.storage.copy import copy_order
from bot.storage.postgres import PostgresStorage
from bot.storage.postgres.schema import IMPLICIT_COLUMNS, VERSION_TABLE
from bot.storage.sqlite import MIGRATIONS as SQLITE_MIGRATIONS
from tests.pg_server import throwaway_schema

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PEOPLE = ["telegram:1", "telegram:2", "slack:U3"]


async def fill(store: Storage) -> None:
    """Some of everything the bot keeps, through the storage API as the bot writes it."""
    for i, person in enumerate(PEOPLE):
        at = NOW + timedelta(minutes=i)
        await store.claim_event(person.split(":")[0], f"ev-{i}", at)
        await store.set_state(person, f"chat-{i}", "consult", {"q": i, "text": "é مرحبا"}, at)
        await store.set_profile(person, "Kenya Red Cross Society", "Africa", at)
        await store.subscribe(
            person,
            platform="telegram",
            chat=str(i),
            days=[7, 1],
            language="fr",
            tz_hint=None,
            now=at,
        )
        await store.remember_answer(person, str(i), "mrg-chair", "fr", at)
        await store.log_gap(f"question {i % 2}?", "fallback", "telegram", at)
    await store.set_timezone(PEOPLE[0], "Africa/Nairobi", NOW)
    await store.unsubscribe(PEOPLE[2], NOW, reason="blocked")
    await store.set_message_ref("telegram", "poll-1", "-100", "-100:5")
    await store.owe_replies("telegram", "ev-9", "route", '[{"text": "a"}]', NOW)
    await store.owe_replies("telegram", "ev-8", "route", "[]", NOW, person=PEOPLE[0], chats=["0"])
    await store.inbox_put(
        "telegram", [("u-2", '{"update_id": 2}', "telegram:2"), ("u-1", "{}", None)], NOW
    )
    await fill_handoffs(store)
    await fill_feedback(store)
    named = await store.start_response(
        "c1",
        PEOPLE[0],
        anonymous=False,
        person=PEOPLE[0],
        display_name="Amina",
        position="q1",
        profile=("Africa", "Kenya Red Cross Society"),
        now=NOW,
    )
    await store.update_response(named.id, now=NOW, answers={"q1": ["a", "b"], "q2": None})
    await store.update_response(named.id, now=NOW, submit=True, position="done")
    anonymous = await store.start_response(
        "c1",
        "hash-of-2",
        anonymous=True,
        person=None,
        display_name=None,
        position="q1",
        profile=(None, None),
        now=NOW,
    )
    await store.update_response(anonymous.id, now=NOW, answers={"q1": "free text ✓"})
    await store.close_consultation("c1", PEOPLE[0], NOW)
    for multi, anon in ((False, False), (True, True)):
        poll = await store.create_poll(
            platform="telegram",
            chat="-100",
            question="Q?",
            options=("a", "b", "c"),
            multi=multi,
            anonymous=anon,
            created_by=PEOPLE[1],
            closes_at=NOW + timedelta(days=1),
            now=NOW,
            language="es",
        )
        for i, person in enumerate(PEOPLE):
            await store.cast_vote(poll.id, person, i % 3, name=f"N{i}", now=NOW)
    await store.close_poll(poll.id, NOW)
    recipients = [Recipient(p, "telegram", str(i)) for i, p in enumerate(PEOPLE)]
    job, _ = await store.ensure_job(
        "reminder:e@2026-12-01:7",
        kind="reminder",
        now=NOW,
        subject="e",
        subject_at="2026-12-01",
        lead_days=7,
        recipients=list(reversed(recipients)),
    )
    assert await store.claim_delivery(job.id, PEOPLE[2], NOW)
    await store.finish_delivery(job.id, PEOPLE[2], "sent", NOW)
    assert await store.claim_delivery(job.id, PEOPLE[1], NOW)
    await store.release_delivery(job.id, PEOPLE[1], NOW + timedelta(minutes=5))
    draft, _ = await store.ensure_job(
        "announce:1", kind="announce", now=NOW, text="Hello", status="draft", created_by=PEOPLE[0]
    )
    await store.activate_announcement(draft.id, PEOPLE[0], NOW)
    sending, _ = await store.ensure_job(
        "reminder:f@2026-12-02:1", kind="reminder", now=NOW, recipients=recipients[:1]
    )
    assert await store.claim_delivery(sending.id, PEOPLE[0], NOW, owner="host:1:ab")
    assert await store.take_lease("telegram-polling:1", "host:1:ab", NOW, timedelta(seconds=30))


async def fill_handoffs(store: Storage) -> None:
    """Questions to the desk in every state, their relayed messages, an erasure."""
    for i, person in enumerate(PEOPLE):
        row = await store.save_draft(
            person=person,
            platform="telegram",
            chat=str(i),
            language="fr",
            question=f"où est le formulaire {i} ?",
            tried=["mrg-chair", "e2"],
            now=NOW + timedelta(minutes=i),
        )
        if i == 2:
            continue  # stays a draft
        assert await store.open_handoff(
            row.id,
            person=person,
            shared=i == 0,
            name="Amina",
            society="Kenya Red Cross Society",
            desk_platform="slack",
            desk_chat="CDESK",
            now=NOW,
        )
        assert await store.queue_relay(
            handoff_id=row.id,
            kind="question",
            platform="slack",
            chat="CDESK",
            key=f"q-{i}",
            text="Q",
            now=NOW,
            choices=[("Close", f"ho:close:{row.id}")],
        )
        (relay,) = await store.relays_of(row.id)
        assert await store.claim_relay(relay.id, NOW)
        await store.finish_relay(relay.id, "sent", NOW, f"CDESK:{i}.5")
        await store.note_desk_reply(row.id, NOW + timedelta(hours=1))
    await store.queue_relay(
        handoff_id=row.id, kind="reply", platform="telegram", chat="1", key="r-1", text="A",
        now=NOW, in_thread=True,
    )  # fmt: skip
    await store.close_handoff(row.id, "desk", NOW)
    await store.set_helpful(row.id, True)
    await store.queue_relay(
        handoff_id=None, kind="erase", platform="slack", chat="CDESK", key="e-0", text="[deleted]",
        now=NOW, edits="q-0",
    )  # fmt: skip
    # The newest handoff is gone: its id must not be given again after the copy.
    await store.save_draft(
        person="slack:U9", platform="slack", chat="D9", language=None, question="?", tried=[],
        now=NOW,
    )  # fmt: skip
    await store.forget_handoffs("slack:U9")


async def fill_feedback(store: Storage) -> None:
    """Question counts, an answer's reference and votes on it (one with a comment)."""
    for outcome in ("answer", "answer", "fallback"):
        await store.count_question(outcome=outcome, platform="telegram", language="fr", now=NOW)
    ref = await store.save_answer(
        entry_id="mrg-chair", question="qui préside ?", language="fr", platform="telegram", now=NOW
    )
    answer = await store.get_answer(ref, NOW)
    assert answer is not None
    await store.cast_feedback("code-1", answer, False, NOW)
    await store.comment_feedback("code-1", "pas à jour")
    await store.cast_feedback("code-2", answer, True, NOW)


async def cli(*args: str) -> int:
    """The command line from a test that runs an event loop already (it runs its own)."""
    return await asyncio.to_thread(main, list(args))


def sqlite_tables(path: Path) -> dict[str, list[str]]:
    db = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in names}
    finally:
        db.close()


async def every_row(path: Path, url: str) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Each table's rows on both sides, the SQLite ones read as PostgreSQL types them."""
    tables = sqlite_tables(path)
    db = sqlite3.connect(path)
    target = PostgresStorage(url)
    left: dict[str, list[Any]] = {}
    right: dict[str, list[Any]] = {}
    try:
        async with target, target.pool.acquire() as conn:
            for table, columns in tables.items():
                types = dict(
                    await conn.fetch(
                        """SELECT column_name, data_type FROM information_schema.columns
                           WHERE table_schema = current_schema() AND table_name = $1""",
                        table,
                    )
                )

                def typed(column: str, value: Any, types: dict[str, str] = types) -> Any:
                    if value is not None and types[column] == "timestamp with time zone":
                        return datetime.fromisoformat(value)
                    if value is not None and types[column] == "boolean":
                        return bool(value)
                    return value

                names = ", ".join(columns)
                left[table] = sorted(
                    (
                        tuple(typed(c, v) for c, v in zip(columns, row, strict=True))
                        for row in db.execute(f"SELECT {names} FROM {table}")
                    ),
                    key=repr,
                )
                right[table] = sorted(
                    (tuple(r) for r in await conn.fetch(f"SELECT {names} FROM {table}")), key=repr
                )
    finally:
        db.close()
    return left, right


def test_copy_order_puts_referenced_tables_first() -> None:
    order = copy_order(
        {"answers": {"responses"}, "responses": set(), "votes": {"polls"}, "polls": set()}
    )
    assert order.index("responses") < order.index("answers")
    assert order.index("polls") < order.index("votes")


async def test_every_row_arrives_identical_and_the_bot_goes_on_on_the_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.sqlite3"
    async with SqliteStorage(path) as old:
        await fill(old)
    async with throwaway_schema() as url:
        assert await cli("db", "copy", "--from", f"sqlite:{path}", "--to", url) == 0
        out = capsys.readouterr().out
        left, right = await every_row(path, url)
        assert set(left) == set(sqlite_tables(path)) and all(left.values())
        for table in left:
            assert right[table] == left[table], table
            assert f"{table} " in out and f"{len(left[table])} row(s)" in out
        async with SqliteStorage(path) as old:
            copy = PostgresStorage(url)
            async with copy:
                await same_through_the_api(old, copy)
                await goes_on(copy, last_handoff_id(path))


async def same_through_the_api(old: Storage, copy: Storage) -> None:
    for person in PEOPLE:
        assert await copy.person_data(person, ["hash-of-2"]) == await old.person_data(
            person, ["hash-of-2"]
        )
    assert await copy.responses("c1") == await old.responses("c1")
    assert await copy.consultation_closures() == await old.consultation_closures()
    assert await copy.recent_polls() == await old.recent_polls()
    for poll in await old.recent_polls():
        assert await copy.poll_tally(poll.id) == await old.poll_tally(poll.id)
    later = NOW + timedelta(hours=1)
    assert await copy.pending_deliveries(["telegram"], later) == await old.pending_deliveries(
        ["telegram"], later
    )
    assert await copy.subscriptions() == await old.subscriptions()
    assert await copy.known_people() == await old.known_people()
    assert await copy.gaps() == await old.gaps()
    assert await copy.owed_replies("telegram", NOW) == await old.owed_replies("telegram", NOW)
    assert await copy.inbox_pending("telegram") == await old.inbox_pending("telegram")
    for person in PEOPLE:
        handoffs = await old.handoffs_of(person)
        assert handoffs and await copy.handoffs_of(person) == handoffs
        for h in handoffs:
            assert await copy.relays_of(h.id) == await old.relays_of(h.id)
    assert await copy.pending_relays(["slack", "telegram"], later) == await old.pending_relays(
        ["slack", "telegram"], later
    )
    assert await copy.handoff_at("slack", "CDESK:0.5") == await old.handoff_at("slack", "CDESK:0.5")


def last_handoff_id(path: Path) -> int:
    """The largest handoff id SQLite gave, that row deleted or not."""
    db = sqlite3.connect(path)
    try:
        given = dict(db.execute("SELECT name, seq FROM sqlite_sequence"))
    finally:
        db.close()
    return int(given["handoffs"])


async def goes_on(copy: Storage, last_handoff: int) -> None:
    assert not await copy.claim_event("telegram", "ev-0", NOW)  # a re-delivery stays one
    polls = await copy.recent_polls()
    newer = await copy.create_poll(
        platform="telegram",
        chat="-100",
        question="New?",
        options=("x", "y"),
        multi=False,
        anonymous=False,
        created_by=PEOPLE[0],
        closes_at=None,
        now=NOW,
    )
    assert newer.id > max(p.id for p in polls)  # the ids go on after the copied ones
    assert await copy.cast_vote(newer.id, PEOPLE[1], 1, name="N1", now=NOW) == (1,)
    response = await copy.start_response(
        "c2",
        PEOPLE[1],
        anonymous=False,
        person=PEOPLE[1],
        display_name=None,
        position="q1",
        profile=(None, None),
        now=NOW,
    )
    assert response.id not in {r.id for r in await copy.responses("c1")}
    job = await copy.get_job_by_key("reminder:e@2026-12-01:7")
    assert job is not None
    _, created = await copy.ensure_job(job.key, kind="reminder", now=NOW)
    assert not created
    assert await copy.claim_delivery(job.id, PEOPLE[0], NOW)
    await copy.finish_delivery(job.id, PEOPLE[0], "sent", NOW)
    assert await copy.delivery_states(job.id) == {"sent": 2, "pending": 1}
    kept = [h.id for p in PEOPLE for h in await copy.handoffs_of(p)]
    assert last_handoff > max(kept)  # the newest row is gone: the copy's MAX is smaller
    newest = await copy.save_draft(
        person=PEOPLE[2], platform="telegram", chat="9", language=None, question="?", tried=[],
        now=NOW,
    )  # fmt: skip
    assert newest.id > last_handoff  # AUTOINCREMENT's: an id is never given twice
    assert await copy.forget_person(PEOPLE[0], (), ["0"], now=NOW)
    assert await copy.owed_replies("telegram", NOW) == [("ev-9", "route", '[{"text": "a"}]')]


async def test_a_target_holding_data_is_refused_unless_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.sqlite3"
    async with SqliteStorage(path) as old:
        await fill(old)
    async with throwaway_schema() as url:
        async with PostgresStorage(url) as other:
            await other.set_state("telegram:99", "c", "k", {}, NOW)
        assert await cli("db", "copy", "--from", f"sqlite:{path}", "--to", url) == 1
        err = capsys.readouterr().err
        assert "already holds data: conversations (1)" in err and "--replace" in err
        assert await cli("db", "copy", "--from", f"sqlite:{path}", "--to", url, "--replace") == 0
        async with PostgresStorage(url) as copy:
            assert await copy.get_state("telegram:99", "c") is None
            assert len(await copy.known_people()) == len(PEOPLE)


def test_copy_needs_an_existing_sqlite_file_and_a_postgresql_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.sqlite3"
    assert main(["db", "copy", "--from", f"sqlite:{missing}", "--to", "postgresql://h/db"]) == 1
    assert "no SQLite database at" in capsys.readouterr().err and not missing.exists()
    assert main(["db", "copy", "--from", f"{missing}", "--to", "postgresql://h/db"]) == 1
    assert "--from must be sqlite:PATH" in capsys.readouterr().err
    assert main(["db", "copy", "--from", f"sqlite:{missing}", "--to", "mysql://h/db"]) == 1
    assert "--to must be a PostgreSQL URL" in capsys.readouterr().err


def test_migrate_brings_the_sqlite_file_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bot.sqlite3"
    monkeypatch.setenv("NSBOT_DB", str(path))
    assert main(["db", "migrate"]) == 0
    assert f"{len(SQLITE_MIGRATIONS)} migration(s) applied" in capsys.readouterr().out
    assert main(["db", "migrate"]) == 0
    assert "already up to date" in capsys.readouterr().out


async def test_migrate_brings_postgresql_up_to_date_without_showing_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with throwaway_schema() as url:
        secret = url.replace("postgresql://postgres@", "postgresql://postgres:hunter2-pw@")
        monkeypatch.setenv("NSBOT_DATABASE_URL", secret)  # trust auth ignores the password
        code = await cli("db", "migrate")
        out = capsys.readouterr().out
        assert code == 0 and "migration(s) applied" in out and "hunter2-pw" not in out
        async with PostgresStorage(url) as store, store.pool.acquire() as conn:
            tables = await conn.fetch(
                """SELECT table_name FROM information_schema.tables
                   WHERE table_schema = current_schema()"""
            )
        assert VERSION_TABLE in {t[0] for t in tables}
        assert not IMPLICIT_COLUMNS & {t[0] for t in tables}
