"""Dates people can act on: relative dates, /timeline filters, /next, calendars."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
import pytest

from bot.adapters.memory import MemoryAdapter
from bot.core import Core
from bot.dates import format_range, relative
from bot.handlers.timeline import NOT_CALENDAR_KINDS
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher
from bot.storage import SqliteStorage

from .conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("start", "end", "precision", "expected"),
    [
        (date(2022, 6, 22), date(2022, 6, 23), "day", ("rel_years_ago", 4)),
        (date(2026, 12, 5), None, "day", ("rel_in_days", 12)),
        (date(2026, 11, 24), None, "day", ("rel_tomorrow", 1)),
        (date(2026, 11, 22), None, "day", ("rel_yesterday", 1)),
        (date(2026, 11, 20), date(2026, 11, 25), "day", ("rel_ongoing", 0)),
        (date(2026, 11, 1), None, "month", ("rel_ongoing", 0)),  # "November 2026" covers today
        (date(2027, 3, 1), None, "day", ("rel_in_months", 3)),
        (date(2026, 10, 1), None, "month", ("rel_days_ago", 23)),  # October ended 23 days ago
        (date(2008, 5, 1), None, "month", ("rel_years_ago", 18)),
    ],
)
def test_relative_dates(
    start: date, end: date | None, precision: str, expected: tuple[str, int]
) -> None:
    assert relative(start, end, precision, "day", TODAY) == expected


def test_format_range() -> None:
    assert format_range(date(2022, 6, 22), "day", date(2022, 6, 23)) == "22–23 June 2022"
    assert (
        format_range(date(2011, 11, 28), "day", date(2011, 12, 1))
        == "28 November – 1 December 2011"
    )
    assert format_range(date(2018, 1, 1), "year", date(2022, 1, 1), "year") == "2018–2022"
    assert format_range(date(2008, 5, 1), "month", None) == "May 2008"


async def test_answers_about_dates_say_how_long_ago(bot: MemoryAdapter) -> None:
    text = await bot.ask("when was the council of delegates in 2022")
    assert "22–23 June 2022" in text and "about 4 years ago" in text
    # Past: history, not something to put in a diary.
    assert not any(b.startswith("📅 Add to calendar") for b in bot.buttons)


async def test_an_answer_about_a_meeting_ahead_offers_it_for_the_calendar(
    tmp_path: Path, shipped_kb: KnowledgeBase
) -> None:
    async with SqliteStorage(tmp_path / "c.sqlite3") as storage:
        core = Core(
            make_settings(tmp_path),
            shipped_kb,
            storage,
            clock=lambda: datetime(2022, 6, 1, tzinfo=UTC),
        )
        bot = MemoryAdapter(core)
        await bot.ask("when was the council of delegates in 2022")
        await bot.press(next(b for b in bot.buttons if b.startswith("📅 Add to calendar")))
    (attachment,) = bot.last[0].attachments
    cal = icalendar.Calendar.from_ical(attachment.content)
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == "cod-2022@nsbot.migration-timeline"


async def test_relative_dates_follow_the_clock(tmp_path: Path, shipped_kb: KnowledgeBase) -> None:
    async with SqliteStorage(tmp_path / "c.sqlite3") as storage:
        core = Core(
            make_settings(tmp_path),
            shipped_kb,
            storage,
            clock=lambda: datetime(2022, 6, 10, tzinfo=UTC),
        )
        bot = MemoryAdapter(core)
        text = await bot.ask("/next")
        assert "17 June 2022" in text and "in 7 days" in text
        assert "22–23 June 2022" in text and "in 12 days" in text
        assert "⏭ next" in await bot.ask("/timeline")


async def test_next_says_plainly_when_nothing_is_scheduled(bot: MemoryAdapter) -> None:
    text = await bot.ask("/next")
    assert "No upcoming meeting" in text
    assert "The most recent ones were" in text and "October 2024" in text
    assert "2024–2030: Migration Strategy" not in text  # a strategy period is not a meeting
    assert "No upcoming meeting" in await bot.ask("when is the next meeting")


async def test_timeline_filters(bot: MemoryAdapter) -> None:
    by_group = await bot.ask("/timeline reference group")
    assert "May 2008" in by_group and "20–21 June 2011" in by_group
    assert "Leadership Group" not in by_group
    assert "17 June 2022" in await bot.ask("/timeline mlg")
    by_year = await bot.ask("/timeline 2011")
    assert "28 November – 1 December 2011" in by_year and "2022" not in by_year.replace(
        "2008–2018", ""
    )
    assert "No event in the timeline matches" in await bot.ask("/timeline football")


async def test_calendar_file_is_valid_rfc5545(
    bot: MemoryAdapter, shipped_kb: KnowledgeBase
) -> None:
    await bot.ask("/calendar")
    (attachment,) = bot.last[0].attachments
    assert attachment.mime_type == "text/calendar" and attachment.filename.endswith(".ics")
    cal = icalendar.Calendar.from_ical(attachment.content)
    assert str(cal["VERSION"]) == "2.0" and cal["PRODID"]
    events = cal.walk("VEVENT")
    entries = [e for e in shipped_kb.events if e.kind not in NOT_CALENDAR_KINDS]
    assert len(events) == len(entries) < len(shipped_kb.events)
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    for vevent in events:
        start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
        assert type(start) is date and type(end) is date, "date-only entries are all-day events"
        assert end > start and vevent.decoded("DTSTAMP").tzinfo is not None
    by_uid = {str(e["UID"]): e for e in events}
    cod = by_uid["cod-2022@nsbot.migration-timeline"]
    assert cod.decoded("DTSTART") == date(2022, 6, 22) and cod.decoded("DTEND") == date(2022, 6, 24)


async def test_calendar_uids_are_stable_so_reimport_updates(bot: MemoryAdapter) -> None:
    await bot.ask("/calendar")
    first = icalendar.Calendar.from_ical(bot.last[0].attachments[0].content)
    await bot.ask("/calendar")
    second = icalendar.Calendar.from_ical(bot.last[0].attachments[0].content)
    assert [str(e["UID"]) for e in first.walk("VEVENT")] == [
        str(e["UID"]) for e in second.walk("VEVENT")
    ]


def test_nsbot_calendar_command_writes_ics_to_stdout(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "calendar", "strategy"],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "NSBOT_DB": str(tmp_path / "cal.sqlite3")},
    )
    assert proc.returncode == 0, proc.stderr
    cal = icalendar.Calendar.from_ical(proc.stdout)
    assert len(cal.walk("VEVENT")) >= 3
    summaries = [str(e["SUMMARY"]) for e in cal.walk("VEVENT")]
    assert any(s.startswith("Consultation opens: Movement Strategy") for s in summaries)


async def test_add_all_under_a_filtered_timeline_sends_only_those(bot: MemoryAdapter) -> None:
    listed = await bot.ask("/timeline 2011")
    button = next(b for b in bot.buttons if b.startswith("📅"))
    count = int("".join(ch for ch in button if ch.isdigit()))
    await bot.press(button)
    (attachment,) = bot.last[0].attachments
    events = icalendar.Calendar.from_ical(attachment.content).walk("VEVENT")
    assert len(events) == count and 0 < count < 10
    assert all(str(e["SUMMARY"]).split(" (")[0] in listed for e in events)
    assert attachment.filename == "rcrc-migration-timeline-2011.ics"


async def test_the_calendar_file_says_what_it_holds(bot: MemoryAdapter) -> None:
    text = await bot.ask("/calendar")
    assert "still ahead" in text and "past, kept as a record" in text
    assert "Plans that did not happen" in text
    cal = icalendar.Calendar.from_ical(bot.last[0].attachments[0].content)
    kinds = {str(c) for e in cal.walk("VEVENT") for c in e.get("CATEGORIES").cats}
    assert "plan" not in kinds and "strategy-period" not in kinds
    assert bot.last[0].attachments[0].filename == "rcrc-migration-timeline.ics"
    await bot.ask("/calendar 2022")
    assert bot.last[0].attachments[0].filename == "rcrc-migration-timeline-2022.ics"


async def test_a_plan_that_never_happened_is_not_offered_for_the_calendar(
    bot: MemoryAdapter, shipped_kb: KnowledgeBase
) -> None:
    # The strategy planned for the 2023 Council of Delegates (adopted in October 2024).
    (plan,) = [e for e in shipped_kb.events if e.kind == "plan" and e.start.year == 2023]
    text = await bot.ask(f"/calendar {plan.start.year}")
    assert "only plans or periods spanning years" in text and "/timeline 2023" in text
    assert not [a for r in bot.last for a in r.attachments]
    await bot.ask("/calendar")
    ids = {
        str(e["UID"]).split("@")[0]
        for e in icalendar.Calendar.from_ical(bot.last[0].attachments[0].content).walk("VEVENT")
    }
    assert plan.id not in ids and "cod-2022" in ids


@pytest.mark.parametrize("language", ["en", "fr", "es", "ar"])
def test_the_timeline_examples_of_each_language_find_events(
    shipped_kb: KnowledgeBase, shipped_matcher: Matcher, language: str
) -> None:
    """ "/timeline stratégie", "/timeline الفريق المرجعي": the examples a person is
    given are in their language, and each finds events."""
    from bot.handlers.timeline import filter_events
    from bot.ui import UI

    text = UI.load().t("timeline_no_match", language, query="zzz")
    examples = re.findall(r"/timeline ([^()]+?)\)", text)
    assert len(examples) == 3, text
    for example in examples:
        assert filter_events(shipped_kb, shipped_matcher, example), (language, example)
    if language != "en":
        assert "reference group" not in text and "strategy" not in text


def test_filtering_events_tokenises_them_once_per_content(
    shipped_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "When is the next council of delegates" filters every event: their words are
    worked out once for the content the bot answers from, not for every question,
    and content reloaded (a new matcher) has its own."""
    from bot.handlers.timeline import filter_events

    def counting(matcher: Matcher) -> list[str]:
        texts: list[str] = []
        tokens = matcher.tokens

        def spy(text: str, correct: bool = False) -> list[str]:
            texts.append(text)
            return tokens(text, correct)

        monkeypatch.setattr(matcher, "tokens", spy)
        return texts

    matcher = Matcher(shipped_kb)
    texts = counting(matcher)
    first = filter_events(shipped_kb, matcher, "council of delegates")
    assert first and len(texts) > len(shipped_kb.events)  # the query, then each event
    texts.clear()
    assert filter_events(shipped_kb, matcher, "council of delegates") == first
    assert texts == ["council of delegates"]  # the question alone
    reloaded = Matcher(shipped_kb)
    again = counting(reloaded)
    assert filter_events(shipped_kb, reloaded, "council of delegates") == first
    assert len(again) > len(shipped_kb.events)
