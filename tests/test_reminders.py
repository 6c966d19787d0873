"""Reminders, time zones, new-consultation news, draft reminders and announcements.

Time is a fake clock moved by hand, and the scheduler's :func:`reminders.tick` is
called directly: no test sleeps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from bot import reminders
from bot.adapters.memory import MemoryAdapter
from bot.consultations import Catalog
from bot.knowledge import KnowledgeBase
from bot.messages import Person, Reply
from bot.storage import SqliteStorage
from tests.consult_helpers import CONSULTATIONS, Clock, Setup, make_core, settings_for, start_sample

# kb_min's "Council of Delegates 2022" is on 22-23 June 2022 (dated to the day).
JUNE_1 = datetime(2022, 6, 1, 12, 0, tzinfo=UTC)
SEVEN_DAYS_BEFORE = datetime(2022, 6, 15, 9, 0, tzinfo=UTC)
ONE_DAY_BEFORE = datetime(2022, 6, 21, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@dataclass
class Inbox:
    """The core's sender for the "test" platform: what each chat received."""

    sent: list[Reply] = field(default_factory=list)

    async def __call__(self, replies: list[Reply]) -> None:
        self.sent.extend(replies)

    def to(self, chat: str) -> list[str]:
        return [r.text for r in self.sent if r.chat is not None and r.chat.chat_id == chat]

    def take(self) -> list[Reply]:
        taken, self.sent = self.sent, []
        return taken


def catalog(**changes: object) -> Catalog:
    """The fixture consultations, with the sample's fields changed."""
    from bot.app import load_catalog

    loaded = load_catalog(settings_for(Path("/unused"), CONSULTATIONS))
    sample = loaded.get("sample")
    assert sample is not None
    others = [c for c in loaded if c.id != "sample"]
    return Catalog([replace(sample, **changes), *others])  # type: ignore[arg-type]


def make(
    tmp_path: Path,
    kb: KnowledgeBase,
    storage: SqliteStorage,
    now: datetime,
    cat: Catalog | None = None,
) -> tuple[Setup, Inbox]:
    setup = make_core(tmp_path, kb, storage, Clock(now), cat)
    inbox = Inbox()
    setup.core.register_sender("test", inbox)
    return setup, inbox


async def tick_at(setup: Setup, moment: datetime) -> reminders.TickReport:
    setup.clock.now = moment
    return await reminders.tick(setup.core)


# --------------------------------------------------------------------------- /subscribe


async def test_reminders_seven_and_one_day_before_fire_once_each_on_time(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup, inbox = make(tmp_path, min_kb, storage, JUNE_1)
    text = await setup.person("u1").ask("/subscribe")
    assert "7 days before and 1 day before" in text and "09:00" in text and "UTC" in text
    assert "Council of Delegates 2022" in text  # what is next on the timeline

    minute = timedelta(minutes=1)
    assert (await tick_at(setup, SEVEN_DAYS_BEFORE - minute)).sent == 0
    assert (await tick_at(setup, SEVEN_DAYS_BEFORE)).sent == 1
    (reminder,) = inbox.take()
    assert reminder.chat is not None and reminder.chat.chat_id == "u1" and reminder.chat.private
    assert "Council of Delegates 2022" in reminder.text and "in 7 days" in reminder.text
    assert [c.action for c in reminder.choices] == ["ics:cod-2022"]
    for later in (SEVEN_DAYS_BEFORE, SEVEN_DAYS_BEFORE + timedelta(hours=5)):
        assert (await tick_at(setup, later)).sent == 0  # once

    assert (await tick_at(setup, ONE_DAY_BEFORE - minute)).sent == 0
    assert (await tick_at(setup, ONE_DAY_BEFORE)).sent == 1
    (reminder,) = inbox.take()
    assert "tomorrow" in reminder.text
    assert (await tick_at(setup, ONE_DAY_BEFORE + timedelta(hours=2))).sent == 0
    assert (await tick_at(setup, datetime(2022, 6, 22, 9, tzinfo=UTC))).sent == 0
    assert inbox.sent == []


async def test_reminders_arrive_at_nine_in_the_persons_time_zone(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup, inbox = make(tmp_path, min_kb, storage, JUNE_1)
    nairobi = setup.person("nb")  # UTC+3
    assert "Africa/Nairobi" in await nairobi.ask("/timezone Africa/Nairobi")
    await nairobi.ask("/subscribe")
    await setup.person("utc").ask("/subscribe")
    # Slack tells the bot a person's zone: it is used until they choose one.
    bogota = MemoryAdapter(setup.core, Person("test", "bo", "Bo", timezone="America/Bogota"))
    await bogota.ask("/subscribe")
    await tick_at(setup, datetime(2022, 6, 15, 5, 59, tzinfo=UTC))
    assert inbox.sent == []
    await tick_at(setup, datetime(2022, 6, 15, 6, 0, tzinfo=UTC))  # 09:00 in Nairobi
    assert len(inbox.to("nb")) == 1 and not inbox.to("utc")
    await tick_at(setup, SEVEN_DAYS_BEFORE)
    assert len(inbox.to("utc")) == 1 and not inbox.to("bo")
    await tick_at(setup, datetime(2022, 6, 15, 14, 0, tzinfo=UTC))  # 09:00 in Bogota
    assert len(inbox.to("bo")) == 1 and len(inbox.to("nb")) == 1


async def test_no_reminders_for_past_events_late_subscriptions_or_undated_days(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup, inbox = make(tmp_path, min_kb, storage, datetime(2022, 6, 18, 12, tzinfo=UTC))
    await setup.person("late").ask("/subscribe")  # after the 7-day moment
    await tick_at(setup, datetime(2022, 6, 18, 12, 1, tzinfo=UTC))
    assert inbox.sent == []  # the 7-day reminder fell due before they subscribed
    await tick_at(setup, ONE_DAY_BEFORE)
    assert len(inbox.take()) == 1
    for moment in (datetime(2022, 6, 23, 9, tzinfo=UTC), datetime(2022, 7, 1, 9, tzinfo=UTC)):
        await tick_at(setup, moment)
    # The policy adoption is dated to a month only ("November 2009"): never reminded.
    await tick_at(setup, datetime(2009, 10, 25, 9, tzinfo=UTC))
    assert inbox.sent == []


async def test_after_downtime_only_the_latest_due_reminder_goes(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup, inbox = make(tmp_path, min_kb, storage, JUNE_1)
    await setup.person("u1").ask("/subscribe")
    # The bot was down from 1 June until after the 1-day moment.
    await tick_at(setup, ONE_DAY_BEFORE + timedelta(hours=3))
    (only,) = inbox.take()
    assert "tomorrow" in only.text


async def test_choosing_the_days(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup, inbox = make(tmp_path, min_kb, storage, JUNE_1)
    person = setup.person("u1")
    assert "3 days before" in await person.ask("/subscribe 3")
    text = await person.ask("/subscribe 14, 2 days")
    assert "14 days before and 2 days before" in text
    assert "14 days before and 2 days before" in await person.ask("/subscribe")  # kept
    assert "on the day" in await person.ask("/subscribe 0 2 14")
    for bad in ("/subscribe soon", "/subscribe 200", "/subscribe 1 2 3 4 5 6"):
        assert "for example /subscribe 3" in await person.ask(bad)
    await person.ask("/subscribe 14 2")
    await tick_at(setup, datetime(2022, 6, 8, 9, tzinfo=UTC))  # 14 days before
    await tick_at(setup, datetime(2022, 6, 15, 9, tzinfo=UTC))  # 7: not chosen
    await tick_at(setup, datetime(2022, 6, 20, 9, tzinfo=UTC))  # 2 days before
    texts = [r.text for r in inbox.take()]
    assert len(texts) == 2 and "in 14 days" in texts[0] and "in 2 days" in texts[1]
    assert "private chat" in await setup.person("g1", group="grp").ask("/subscribe")


async def test_unsubscribe_stops_them_even_when_already_queued(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup, inbox = make(tmp_path, min_kb, storage, JUNE_1)
    del setup.core.senders["test"]  # the platform is not running: reminders wait
    person = setup.person("u1")
    await person.ask("/subscribe")
    report = await tick_at(setup, SEVEN_DAYS_BEFORE)
    assert report.queued == 1 and report.sent == 0
    assert "no more reminders" in await person.ask("/unsubscribe")
    setup.core.register_sender("test", inbox)
    await tick_at(setup, SEVEN_DAYS_BEFORE + timedelta(minutes=1))
    await tick_at(setup, ONE_DAY_BEFORE)
    assert inbox.sent == []
    assert "not subscribed" in await person.ask("/unsubscribe")


async def test_reminders_wait_for_their_platform_and_are_not_lost(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup, inbox = make(tmp_path, min_kb, storage, JUNE_1)
    del setup.core.senders["test"]
    await setup.person("u1").ask("/subscribe")
    await tick_at(setup, SEVEN_DAYS_BEFORE)
    await tick_at(setup, SEVEN_DAYS_BEFORE + timedelta(hours=1))
    setup.core.register_sender("test", inbox)
    await tick_at(setup, SEVEN_DAYS_BEFORE + timedelta(hours=2))
    (late,) = inbox.take()
    assert "in 7 days" in late.text
    # Held until after the event began, a reminder is pointless: it is dropped, not sent.
    del setup.core.senders["test"]
    report = await tick_at(setup, ONE_DAY_BEFORE)
    assert report.queued == 1
    setup.core.register_sender("test", inbox)
    report = await tick_at(setup, datetime(2022, 6, 22, 10, tzinfo=UTC))
    assert report.skipped == 1 and inbox.sent == []


# --------------------------------------------------------------------------- /timezone


async def test_timezone_is_validated_with_suggestions_for_typos(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup, _ = make(tmp_path, min_kb, storage, NOW)
    person = setup.person("u1")
    text = await person.ask("/timezone")
    assert "UTC" in text and "the default" in text
    text = await person.ask("/timezone Africa/Nairob")
    assert "Did you mean" in text and person.buttons[0] == "Africa/Nairobi"
    text = await person.press("Africa/Nairobi")
    assert "Africa/Nairobi" in text and "15:00" in text  # 12:00 UTC is 15:00 there
    assert await storage.get_timezone("test:u1") == "Africa/Nairobi"
    assert "Europe/London" in await person.ask("/timezone europe/london")
    assert "America/New_York" in await person.ask("/timezone new york")
    text = await person.ask("/timezone Xyzzy/Qwerty")
    assert "do not know" in text and person.buttons == []
    assert await storage.get_timezone("test:u1") == "America/New_York"  # unchanged
    assert "UTC" in await person.ask("/timezone reset")
    assert await storage.get_timezone("test:u1") is None
    assert "unknown" not in await person.ask("/timezone UTC")
    assert await storage.get_timezone("test:u1") == "UTC"
    hinted = MemoryAdapter(setup.core, Person("test", "bo", "Bo", timezone="America/Bogota"))
    (shown,) = await hinted.send("/timezone")
    assert "**America/Bogota** (from your account settings)" in shown.text
    assert "private chat" in await setup.person("g", group="grp").ask("/timezone UTC")


def test_find_zone() -> None:
    assert reminders.find_zone("  africa/nairobi ") == ("Africa/Nairobi", [])
    assert reminders.find_zone("Nairobi") == ("Africa/Nairobi", [])
    assert reminders.find_zone("new york") == ("America/New_York", [])
    name, close = reminders.find_zone("Europe/Lodon")
    assert name is None and close[0] == "Europe/London"
    assert reminders.find_zone("bogata")[1][0] == "America/Bogota"
    assert reminders.find_zone("hello") == (None, [])


async def test_consultation_times_on_the_timeline_follow_the_persons_zone(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    closes = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    setup, _ = make(tmp_path, min_kb, storage, NOW, catalog(closes=closes))
    person = setup.person("u1")
    text = await person.ask("/next")
    assert "1 December 2026, 17:00 UTC" in text and "Consultation closes: Sample" in text
    assert "in 8 days" in text
    await person.ask("/timezone Asia/Tokyo")  # UTC+9: already 2 December there
    text = await person.ask("/next")
    assert "2 December 2026, 02:00 JST" in text and "in 9 days" in text
    text = await person.ask("/timeline consultation")
    assert "Consultation opens: Sample" in text and "1 January 2020" in text
    setup.clock.now = closes - timedelta(hours=2)
    assert "today" in await person.ask("/next")

    await person.ask("/calendar")
    cal = icalendar.Calendar.from_ical(person.last[0].attachments[0].content)
    by_uid = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    moment = by_uid["consultation.sample.closes@nsbot.migration-timeline"]
    start = moment.decoded("DTSTART")
    assert start == closes and start.utcoffset() == timedelta(0)
    assert "DTEND" not in moment  # a moment, not a span
    await person.ask("/next")
    button = next(b for b in person.buttons if "Consultation closes" in b)
    await person.press(button)
    (single,) = icalendar.Calendar.from_ical(person.last[0].attachments[0].content).walk("VEVENT")
    assert str(single["UID"]) == "consultation.sample.closes@nsbot.migration-timeline"


# --------------------------------------------------------------------------- consultations


async def test_subscribers_hear_when_a_consultation_opens(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    opens = NOW + timedelta(days=2)
    cat = catalog(opens=opens, closes=NOW + timedelta(days=60))
    setup, inbox = make(tmp_path, min_kb, storage, NOW, cat)
    await setup.person("early").ask("/subscribe")
    setup.person("bystander")  # never subscribed
    assert (await tick_at(setup, opens - timedelta(minutes=1))).sent == 0
    assert (await tick_at(setup, opens)).sent == 1
    (news,) = inbox.take()
    assert news.chat is not None and news.chat.chat_id == "early"
    assert "new consultation is open" in news.text and "Sample consultation" in news.text
    assert [c.action for c in news.choices] == ["cs:sample"]
    await setup.person("late").ask("/subscribe")  # after it opened: not news any more
    assert (await tick_at(setup, opens + timedelta(hours=1))).sent == 0
    assert inbox.sent == []


async def test_draft_reminder_once_a_day_before_closing_only_to_unfinished_drafts(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    closes = NOW + timedelta(days=3)
    setup, inbox = make(tmp_path, min_kb, storage, NOW, catalog(closes=closes))
    drafter = setup.person("drafter")  # not subscribed: found from their open conversation
    await start_sample(drafter)
    paused = setup.person("paused")  # typed cancel, but is subscribed
    await start_sample(paused)
    await paused.ask("cancel")
    await paused.ask("/subscribe")
    done = setup.person("done")
    await start_sample(done)
    code = setup.core.pseudonyms.respondent("sample", "test:done")
    row = await storage.get_response("sample", code)
    assert row is not None
    await storage.update_response(row.id, now=NOW, submit=True, position="done")
    setup.person("never")

    def drafts() -> dict[str, int]:
        seen: dict[str, int] = {}
        for reply in inbox.sent:
            if "not sent your answers" in reply.text and reply.chat is not None:
                seen[reply.chat.chat_id] = seen.get(reply.chat.chat_id, 0) + 1
        return seen

    due = closes - reminders.DRAFT_NOTICE
    await tick_at(setup, due - timedelta(minutes=1))
    assert drafts() == {}
    await tick_at(setup, due)
    assert drafts() == {"drafter": 1, "paused": 1}
    reminder = next(r for r in inbox.sent if r.chat and r.chat.chat_id == "drafter")
    assert "in 1 day" in reminder.text or "tomorrow" in reminder.text
    assert [c.action for c in reminder.choices] == ["cs:sample"]
    await tick_at(setup, due + timedelta(hours=1))
    await tick_at(setup, closes - timedelta(minutes=1))
    assert drafts() == {"drafter": 1, "paused": 1}
    job = await storage.get_job_by_key(f"draft:sample@{closes.isoformat()}")
    # Nothing says who had started the anonymous consultation: done rows are gone.
    assert job is not None and await storage.job_people(job.id) == set()
    await tick_at(setup, closes)
    assert await storage.job_people(job.id) == set()
    await tick_at(setup, closes + timedelta(minutes=1))
    assert drafts() == {"drafter": 1, "paused": 1}


async def test_a_draft_sent_before_its_reminder_goes_out_gets_none(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    closes = NOW + timedelta(days=3)
    setup, inbox = make(tmp_path, min_kb, storage, NOW, catalog(closes=closes))
    del setup.core.senders["test"]
    await start_sample(setup.person("u1"))
    report = await tick_at(setup, closes - reminders.DRAFT_NOTICE)
    assert report.queued == 1
    row = await storage.get_response(
        "sample", setup.core.pseudonyms.respondent("sample", "test:u1")
    )
    assert row is not None
    await storage.update_response(row.id, now=NOW, submit=True, position="done")
    setup.core.register_sender("test", inbox)
    report = await tick_at(setup, closes - timedelta(hours=20))
    assert report.skipped == 1 and inbox.sent == []


# --------------------------------------------------------------------------- /announce


async def test_announce_is_for_coordinators_and_needs_confirmation(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup, inbox = make(tmp_path, min_kb, storage, NOW)
    coordinator = setup.coordinator()
    assert "Nobody is subscribed" in await coordinator.ask("/announce Hello")
    for uid in ("u1", "u2"):
        await setup.person(uid).ask("/subscribe")
    member = setup.person("u3")
    assert "Only the consultation coordinators" in await member.ask("/announce Hi all")

    text = await coordinator.ask("/announce The call moves to *Thursday* 14:00 UTC.")
    assert "will go to 2 subscribers" in text and "*Thursday*" in text
    assert coordinator.buttons == ["📣 Send to 2", "Cancel"]
    send_action = coordinator.last[0].choices[0].action
    assert (await reminders.tick(setup.core)).sent == 0  # nothing before confirmation
    # A button is not a command: pressing a forged one is refused all the same.
    refused = MemoryAdapter.plain(await member.send(action=send_action))
    assert "Only the consultation coordinators" in refused
    assert (await reminders.tick(setup.core)).sent == 0
    assert "Cancelled" in await coordinator.press("Cancel")
    assert (await reminders.tick(setup.core)).sent == 0

    await coordinator.ask("/announce The call moves to *Thursday* 14:00 UTC.")
    send_action = coordinator.last[0].choices[0].action
    assert "Sending to 2 subscribers" in await coordinator.press("📣 Send to 2")
    assert (await reminders.tick(setup.core)).sent == 2
    assert (await reminders.tick(setup.core)).sent == 0
    for uid in ("u1", "u2"):
        (message,) = inbox.to(uid)
        assert "Announcement from the coordinators" in message
        assert "\\*Thursday\\*" in message  # their words, shown as typed
    again = MemoryAdapter.plain(await coordinator.send(action=send_action))  # a second press
    assert "already sent" in again
    assert inbox.to("u3") == []

    await coordinator.ask("/announce Too late?")
    setup.clock.advance(hours=2)
    assert "expired" in await coordinator.press("📣 Send to 2")
    assert (await reminders.tick(setup.core)).sent == 0
    assert "Type the announcement" in await coordinator.ask("/announce")


# --------------------------------------------------------------------------- privacy


async def test_mydata_shows_subscription_and_zone_and_forget_deletes_them(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup, inbox = make(tmp_path, min_kb, storage, JUNE_1)
    person = setup.person("u1")
    await person.ask("/subscribe 14 2")
    await person.ask("/timezone Africa/Nairobi")
    await tick_at(setup, datetime(2022, 6, 8, 6, tzinfo=UTC))  # the 14-day reminder
    assert len(inbox.take()) == 1

    await person.ask("/mydata")
    data = json.loads(person.last[0].attachments[0].content)
    assert data["subscription"]["days_before"] == [14, 2]
    assert data["subscription"]["chat"] == "u1"
    assert data["timezone"] == "Africa/Nairobi"
    assert data["messages_scheduled"] == [
        {
            "kind": "reminder",
            "about": "cod-2022",
            "days_before": 14,
            "state": "sent",
            "done_at": data["messages_scheduled"][0]["done_at"],
        }
    ]

    await person.ask("/forget")
    confirm = next(c.action for c in person.last[0].choices if c.action.startswith("fg:y"))
    await person.send(action=confirm)
    assert await storage.get_subscription("test:u1") is None
    assert await storage.get_timezone("test:u1") is None
    await person.ask("/mydata")
    data = json.loads(person.last[0].attachments[0].content)
    assert data["subscription"] is None and data["timezone"] is None
    assert data["messages_scheduled"] == []
    await tick_at(setup, datetime(2022, 6, 20, 6, tzinfo=UTC))
    assert inbox.sent == []


def test_parse_days() -> None:
    assert reminders.parse_days("3") == (3,)
    assert reminders.parse_days("2 14") == (14, 2)
    assert reminders.parse_days("14d, 2d") == (14, 2)
    assert reminders.parse_days("7 and 1 days before") == (7, 1)
    assert reminders.parse_days("0") == (0,)
    for bad in ("", "soon", "91", "1 2 3 4 5 6", "-1", "3.5"):
        assert reminders.parse_days(bad) is None, bad


@pytest.mark.parametrize("command", ["/subscribe", "/unsubscribe", "/timezone"])
async def test_new_commands_are_listed_in_help(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage, command: str
) -> None:
    setup, _ = make(tmp_path, min_kb, storage, NOW)
    assert command in await setup.person("u1").ask("/help")


async def test_reminders_and_days_are_worded_in_the_subscribers_language(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup, inbox = make(tmp_path, min_kb, storage, JUNE_1)
    french = MemoryAdapter(setup.core, Person("test", "fr1", "Marie", language="fr"))
    arabic = MemoryAdapter(setup.core, Person("test", "ar1", "Amal", language="ar"))
    setup.adapters += [french, arabic]
    assert "7 jours avant et 1 jour avant" in await french.ask("/subscribe")
    # Arabic counts: 14 takes the singular noun, 2 the dual, 3 to 10 the plural.
    assert "قبل 14 يومًا وقبل يومين" in await arabic.ask("/subscribe 14 2")
    assert "قبل 7 أيام" in await arabic.ask("/subscribe 7")
    await tick_at(setup, SEVEN_DAYS_BEFORE)
    (french_text,) = inbox.to("fr1")
    assert "22–23 juin 2022" in french_text and "dans 7 jours" in french_text
    (arabic_text,) = inbox.to("ar1")
    assert "22–23 يونيو 2022" in arabic_text and "بعد 7 أيام" in arabic_text


async def test_a_consultation_closing_reminder_is_dated_in_the_subscribers_language(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    closes = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # "closes: 2026-11-30": the end of that day
    setup, inbox = make(tmp_path, min_kb, storage, NOW, catalog(closes=closes))
    spanish = MemoryAdapter(setup.core, Person("test", "es1", "Ana", language="es"))
    setup.adapters.append(spanish)
    await spanish.ask("/subscribe 1")
    await tick_at(setup, datetime(2026, 11, 29, 9, tzinfo=UTC))
    (reminder,) = inbox.take()
    assert "30 de noviembre de 2026 inclusive" in reminder.text
