"""The figures of /stats and ``nsbot stats``: on a known fixture, in chat, in files."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot import stats
from bot.adapters.memory import MemoryAdapter
from bot.cli import main
from bot.feedback import Feedback
from bot.knowledge import KnowledgeBase
from bot.messages import Chat, Person
from bot.storage import SqliteStorage
from bot.storage.base import GapRow, QuestionCount, Storage
from tests.conftest import vague_question
from tests.consult_helpers import COORDINATOR, NOW, Setup, make_core

DAY = datetime(2026, 11, 20, tzinfo=UTC)


def counts() -> list[QuestionCount]:
    """20 questions over three days (one of them without any): 12 answered, 5 suggested,
    3 fallbacks; 14 on Telegram, 6 on Slack; 11 in French, 9 in English."""
    d1, d3 = DAY, DAY + timedelta(days=2)
    return [
        QuestionCount(d1, "telegram", "fr", "answer", 6),
        QuestionCount(d1, "telegram", "fr", "suggest", 3),
        QuestionCount(d1, "slack", "en", "answer", 2),
        QuestionCount(d3, "telegram", "en", "answer", 4),
        QuestionCount(d3, "telegram", "fr", "fallback", 1),
        QuestionCount(d3, "slack", "en", "suggest", 2),
        QuestionCount(d3, "slack", "fr", "fallback", 1),
        QuestionCount(d3, "slack", "en", "fallback", 1),
    ]


def votes() -> list[Feedback]:
    def vote(entry: str, helpful: bool, comment: str | None = None) -> Feedback:
        return Feedback(entry, "q", "fr", "telegram", helpful, comment, DAY)

    return [
        vote("policy-adopted", True),
        vote("policy-adopted", True),
        vote("policy-adopted", False, "wrong year"),
        vote("mrg-chair", False),
        vote("mrg-chair", False, "outdated"),
        vote("perco", True),
    ]


def desk() -> list[tuple[datetime, datetime | None]]:
    """Ten questions: nine answered after 1..9 hours, one never."""
    rows: list[tuple[datetime, datetime | None]] = [
        (DAY, DAY + timedelta(hours=h)) for h in (9, 1, 8, 2, 7, 3, 6, 4, 5)
    ]
    return [*rows, (DAY + timedelta(days=1), None)]


GAPS = [
    GapRow("how do I book a hotel", 4, DAY + timedelta(days=2), "fallback"),
    GapRow("visa letter", 2, DAY - timedelta(days=30), "suggest"),
]


def test_the_figures_of_a_known_fixture() -> None:
    s = stats.compute(counts(), votes(), desk(), GAPS, today=date(2026, 11, 23))
    assert s.total == 20
    assert s.outcomes == {"answer": 12, "suggest": 5, "fallback": 3}
    assert s.days == [
        (date(2026, 11, 20), 11),
        (date(2026, 11, 21), 0),  # a day without a question is shown as such
        (date(2026, 11, 22), 9),
        (date(2026, 11, 23), 0),  # up to today
    ]
    assert s.platforms == [("telegram", 14), ("slack", 6)]
    assert s.languages == [("fr", 11), ("en", 9)]
    assert [(v.entry_id, v.up, v.down, v.comments) for v in s.votes] == [
        ("policy-adopted", 2, 1, 1),
        ("mrg-chair", 0, 2, 1),
        ("perco", 1, 0, 0),
    ]
    assert (s.desk.sent, s.desk.answered) == (10, 9)
    assert s.desk.median == timedelta(hours=5)
    assert s.desk.p90 == timedelta(hours=9)  # nearest rank: the 9th of 9 waits
    assert [g.question for g in s.gaps] == ["how do I book a hotel", "visa letter"]


def test_since_starts_the_days_and_keeps_the_gaps_asked_since() -> None:
    since = DAY + timedelta(days=1)
    s = stats.compute(counts()[3:], [], [], GAPS, since=since, today=date(2026, 11, 22))
    assert s.days == [(date(2026, 11, 21), 0), (date(2026, 11, 22), 9)]
    assert [g.question for g in s.gaps] == ["how do I book a hotel"]
    assert s.desk == stats.DeskTimes(0, 0, None, None)


def test_percentiles_are_values_that_occurred() -> None:
    assert stats.percentile([3.0], 0.9) == 3.0
    assert stats.percentile([5, 1, 4, 2, 3], 0.5) == 3
    assert stats.percentile(list(range(1, 101)), 0.9) == 90


def test_json_and_csv_carry_every_figure() -> None:
    s = stats.compute(counts(), votes(), desk(), GAPS, today=date(2026, 11, 22))
    data = stats.as_json(s)
    assert data["questions"] == 20
    assert data["outcomes"]["answer"] == {"count": 12, "share": 0.6}
    assert data["per_day"][0] == {"day": "2026-11-20", "questions": 11}
    assert data["desk"] == {
        "sent": 10,
        "answered": 9,
        "median_seconds": 18000.0,
        "p90_seconds": 32400.0,
    }
    assert data["votes"][0] == {"entry": "policy-adopted", "up": 2, "down": 1, "comments": 1}
    json.dumps(data)  # serialisable as it is
    raw = stats.as_csv(s)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["section", "key", "value"]
    assert ["outcome", "fallback", "3"] in rows
    assert ["votes_down", "mrg-chair", "2"] in rows
    assert ["desk", "p90_seconds", "32400.0"] in rows
    assert ["gap", "how do I book a hotel", "4"] in rows


def test_the_text_shows_bars_shares_and_durations() -> None:
    from bot.ui import UI

    ui = UI.load()
    s = stats.compute(counts(), votes(), desk(), GAPS, today=date(2026, 11, 22))

    def t(key: str, **values: object) -> str:
        return ui.t(key, "en", **values)

    text = stats.as_text(s, t)
    assert "Questions asked: 20" in text
    assert "Answered\n██████░░░░ 12 · 60%" in text
    assert "2026-11-21  ░░░░░░░░░░ 0" in text
    assert "policy-adopted: 👍 2 · 👎 1" in text
    assert "10 sent, 9 answered" in text and "median 5 h 0 min, 90% within 9 h 0 min" in text
    assert "4× how do I book a hotel" in text
    assert stats.duration(t, timedelta(seconds=20)) == "1 min"
    assert stats.duration(t, timedelta(days=3, hours=2)) == "3 d 2 h"


# --------------------------------------------------------------------------- through the core


async def fill(storage: Storage) -> None:
    for c in counts():
        for _ in range(c.count):
            await storage.count_question(
                outcome=c.outcome, platform=c.platform, language=c.language, now=c.day
            )


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    return make_core(tmp_path, min_kb, storage)


async def test_stats_for_a_coordinator_in_chat_with_a_chart_and_a_file(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    coordinator = Person("telegram", "77", "Cora")  # Telegram shows the chart in place
    setup = make_core(tmp_path, min_kb, storage, coordinators=frozenset({coordinator.key}))
    await fill(setup.core.storage)
    bot = MemoryAdapter(setup.core, coordinator, Chat("77"))
    replies = await bot.send("/stats since 2026-11-20 csv")
    text = bot.plain(replies[:1])
    assert "Questions asked since 20 November 2026: 20" in text
    assert "Answered" in text and "60%" in text
    chart = replies[1].attachments[0]
    assert chart.mime_type == "image/png" and chart.content.startswith(b"\x89PNG")
    export = replies[2].attachments[0]
    assert export.filename.endswith(".csv") and b"outcome,answer,12" in export.content
    usage = await bot.ask("/stats yesterday")
    assert "/stats" in usage and "since" in usage


async def test_stats_are_refused_to_anyone_else(setup: Setup) -> None:
    await fill(setup.core.storage)
    someone = MemoryAdapter(setup.core, Person("telegram", "5", "Sam"), Chat("5"))
    text = await someone.ask("/stats")
    assert "Only the consultation coordinators" in text and "20" not in text
    coordinator = MemoryAdapter(setup.core, COORDINATOR, Chat("c"))
    assert "Questions asked: 20" in await coordinator.ask("/stats")  # no chart: not Telegram
    in_group = await coordinator.send("/stats json", chat=Chat("g", private=False))
    assert len(in_group) == 2 and all(r.private for r in in_group)  # the coordinator's eyes only
    assert json.loads(in_group[1].attachments[0].content)["questions"] == 20


async def test_answers_and_misses_are_counted_as_they_are_given(setup: Setup) -> None:
    person = MemoryAdapter(setup.core, Person("slack", "U1", "A", language="fr"), Chat("D1"))
    await person.ask("zzqx vvkw")  # first: after an answer, it might read as a follow-up
    await person.ask("when was the migration policy adopted")
    await person.press(person.last[0].choices[0].label)  # a button: not a question asked
    await person.ask(vague_question(setup.core.matcher))
    rows = await setup.core.storage.question_counts()
    assert sorted((r.outcome, r.platform, r.count) for r in rows) == [
        ("answer", "slack", 1),
        ("fallback", "slack", 1),
        ("suggest", "slack", 1),
    ]
    assert "U1" not in repr(rows)
    assert {r.day for r in rows} == {NOW.replace(hour=0, minute=0, second=0, microsecond=0)}


def test_the_cli_prints_the_figures_as_json_and_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "stats.sqlite3"
    monkeypatch.setenv("NSBOT_DB", str(db))

    async def seed() -> None:
        async with SqliteStorage(db) as s:
            await fill(s)

    asyncio.run(seed())
    assert main(["stats", "--json", "--since", "2026-11-22"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["since"] == "2026-11-22" and data["questions"] == 9
    assert data["outcomes"]["fallback"]["count"] == 3
    assert data["per_platform"] == [
        {"platform": "telegram", "questions": 5},
        {"platform": "slack", "questions": 4},
    ]
    assert main(["stats"]) == 0
    assert "Questions asked: 20" in capsys.readouterr().out
    assert main(["stats", "--csv"]) == 0
    assert "outcome,answer,12" in capsys.readouterr().out


async def test_the_top_gaps_are_those_of_the_period_asked_or_of_all_time(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    """/stats since a day counts each gap over that period: a question asked often long
    ago and once this week is not this week's top gap; without a date, all time."""
    for n in range(5):
        await storage.log_gap(
            "visa letter", "suggest", "telegram", DAY - timedelta(days=30, hours=n)
        )
    await storage.log_gap("visa letter", "suggest", "telegram", DAY + timedelta(hours=1))
    for n in range(2):
        await storage.log_gap("hotel in Geneva", "fallback", "slack", DAY + timedelta(hours=n))
    period = await stats.gather(storage, DAY, NOW)
    assert [(g.question, g.count) for g in period.gaps] == [
        ("hotel in Geneva", 2),
        ("visa letter", 1),
    ]
    ever = await stats.gather(storage, None, NOW)
    assert [(g.question, g.count) for g in ever.gaps] == [
        ("visa letter", 6),
        ("hotel in Geneva", 2),
    ]
    setup = make_core(tmp_path, min_kb, storage, coordinators=frozenset({COORDINATOR.key}))
    coordinator = MemoryAdapter(setup.core, COORDINATOR, Chat("c"))
    text = await coordinator.ask("/stats since 2026-11-20")
    assert text.index("hotel in Geneva") < text.index("visa letter")
    assert "6" not in text.split("visa letter")[0].splitlines()[-1]
