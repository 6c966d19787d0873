"""Anonymous means: a database reader without the key cannot link an account to its
answers. These tests read the database file the way such a reader would, and try."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from bot import reminders
from bot.knowledge import KnowledgeBase
from bot.storage import SqliteStorage
from tests.consult_helpers import Setup, make_core, start_sample
from tests.test_consult_durability import answer_as

PEOPLE = 8
_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    return make_core(tmp_path, min_kb, storage)


async def take_part(setup: Setup) -> None:
    """Eight people, a few minutes apart: a profile, then the anonymous consultation
    (the even ones send it, the odd ones leave a draft)."""
    for i in range(PEOPLE):
        setup.clock.advance(minutes=7)
        bot = setup.person(f"p{i}", f"Person {i}")
        await bot.ask("/profile")
        await bot.ask("Nepal Red Cross Society")
        setup.clock.advance(seconds=20)
        if i % 2 == 0:
            await answer_as(setup, i)
        else:
            await start_sample(bot)
            await bot.ask("1")


def read_everything(db: Path) -> dict[str, list[dict[str, object]]]:
    """Every row of every table, as a reader of the file sees it."""
    tables: dict[str, list[dict[str, object]]] = {}
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in names:
            tables[name] = [dict(r) for r in conn.execute(f"SELECT * FROM {name}")]
    return tables


def account_rows(tables: dict[str, list[dict[str, object]]], user: str) -> list[dict[str, object]]:
    return [
        row
        for rows in tables.values()
        for row in rows
        if any(isinstance(v, str) and re.search(rf"\b{user}\b", v) for v in row.values())
    ]


def moments(rows: list[dict[str, object]]) -> set[str]:
    return {
        m for row in rows for v in row.values() if isinstance(v, str) for m in _MOMENT.findall(v)
    }


async def test_no_moment_links_an_account_to_its_anonymous_response(
    setup: Setup, tmp_path: Path
) -> None:
    await take_part(setup)
    tables = read_everything(tmp_path / "bot.sqlite3")
    responses = [r for r in tables["responses"] if r["anonymous"]]
    assert len(responses) == PEOPLE
    by_response = {
        r["id"]: moments([r, *(a for a in tables["answers"] if a["response_id"] == r["id"])])
        for r in responses
    }
    shared = set.intersection(*by_response.values())  # e.g. the day, the same for all
    for i in range(PEOPLE):
        mine = moments(account_rows(tables, f"p{i}")) - shared
        candidates = [rid for rid, seen in by_response.items() if mine & seen]
        assert candidates == [], f"p{i} is linked by time to response(s) {candidates}"


async def test_the_order_of_rows_does_not_link_accounts_to_responses(
    setup: Setup, tmp_path: Path
) -> None:
    await take_part(setup)
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        # Accounts in the order their rows were first written...
        accounts = [r[0] for r in conn.execute("SELECT person FROM profiles ORDER BY rowid")]
        # ...against responses in the order of their ids and storage.
        stored = [r[0] for r in conn.execute("SELECT respondent FROM responses ORDER BY rowid")]
        with pytest.raises(sqlite3.OperationalError):  # answers keep no insertion order
            conn.execute("SELECT rowid FROM answers").fetchall()
    # What the reader cannot compute without the key, but the test can: who is who.
    owner = {setup.core.pseudonyms.respondent("sample", a): a for a in accounts}
    assert len(accounts) == PEOPLE
    assert [owner[code] for code in stored] != accounts, "stored in the order accounts came"


async def test_draft_reminder_rows_do_not_say_who_has_a_draft(setup: Setup, tmp_path: Path) -> None:
    await take_part(setup)
    c = setup.core.consultations.get("sample")
    assert c is not None
    sent: list[object] = []

    async def inbox(replies: list[object]) -> None:
        sent.extend(replies)

    setup.core.register_sender("test", inbox)  # type: ignore[arg-type]
    setup.clock.now = c.closes - reminders.DRAFT_NOTICE
    setup.core.senders.pop("test")  # queued, not yet sent: what do the rows say?
    await reminders.tick(setup.core)
    tables = read_everything(tmp_path / "bot.sqlite3")
    queued = {r["person"] for r in tables["deliveries"]}
    assert queued in (set(), {f"test:p{i}" for i in range(PEOPLE)})
    setup.core.register_sender("test", inbox)  # type: ignore[arg-type]
    await reminders.tick(setup.core)
    assert len(sent) == PEOPLE // 2  # the drafts were reminded...
    tables = read_everything(tmp_path / "bot.sqlite3")
    assert {r["person"] for r in tables["deliveries"]} == set()  # ...and no row tells whom
