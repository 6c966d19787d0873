"""Reminders and announcements: every scheduled send is a stored job, delivered once.

What goes out, to subscribers (``/subscribe``):

- a reminder some days before each upcoming dated event of the knowledge base and each
  open consultation's closing (7 and 1 days by default, per person), around
  :data:`REMINDER_HOUR` in the person's time zone;
- a message when a consultation opens (to those subscribed before it opened);
- coordinators' announcements (``/announce``, after a confirmation);

and, subscribed or not, one reminder 24 hours before a consultation closes to people
with an unfinished draft.

Every send is a job (``send_jobs``, one row under a key naming it for good) with one
delivery row per recipient whose state moves pending -> claimed -> sent. A single
:func:`tick` does all due work: it queues what fell due (creating rows is idempotent:
a job or a delivery row that exists is left alone) and delivers pending rows one at a
time through ``core.push``, so the adapter's outbox paces them to the platform's
limits. The text is worded when sent, in the recipient's language and time zone, and
what is no longer relevant (an event that has started, a draft sent meanwhile) is
skipped rather than sent late.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rapidfuzz import fuzz, process

from bot import markup, typed
from bot.consultations import Catalog, Consultation
from bot.dates import DateStyle, last_day, relative
from bot.errors import RecipientGone
from bot.ics import TimedEvent
from bot.knowledge import Event
from bot.leases import owner, sending
from bot.messages import Chat, Choice, Person, Reply
from bot.periodic import repeat
from bot.storage.base import Delivery, Recipient, Storage, Subscription
from bot.ui import UI

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

Translate = Callable[..., str]

DEFAULT_DAYS = (7, 1)
MAX_DAYS = 90
MAX_REMINDERS = 5  # lead times per person
REMINDER_HOUR = 9  # reminders arrive at about this hour, in the person's time zone
DRAFT_NOTICE = timedelta(hours=24)  # the draft reminder goes this long before closing
TICK_SECONDS = 30.0
# A process renews its delivery claims every third of their lease (NSBOT_LEASE_SECONDS)
# and looks for claims whose process died: these are sent again within a lease and a third.
BATCH = 100
MAX_ATTEMPTS = 5  # a send that raised is retried this many times, with backoff
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)
UTC_ZONE = ZoneInfo("UTC")

# Job kinds. Only subscribers get the first three: unsubscribing cancels them.
REMINDER = "reminder"
OPENING = "opening"
DRAFT = "draft"
ANNOUNCE = "announce"
SUBSCRIBER_KINDS = frozenset({REMINDER, OPENING, ANNOUNCE})

# Periods ("Migration Strategy 2024–2030", a pledge for 2015–2019, co-chairs since 2021)
# run for years: they are context on the timeline, never "the next meeting", and nobody
# wants a reminder of them.
NOT_UPCOMING_KINDS = frozenset({"strategy-period", "pledge", "leadership"})


# --------------------------------------------------------------------------- time zones


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def zone_info(name: str | None) -> ZoneInfo | None:
    """The zone of an IANA name, or None when it is not one."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def find_zone(text: str) -> tuple[str | None, list[str]]:
    """A typed time zone as (IANA name, []), or (None, close matches for a typo).

    Accepts the name in any case ("africa/nairobi"), spaces for underscores, and a
    city alone when only one zone is named after it ("nairobi", "new york").
    """
    typed = "_".join(text.split()).casefold()
    if not typed:
        return None, []
    names = zone_names()
    for name in names:
        if name.casefold() == typed:
            return name, []
    by_city = [n for n in names if "/" in n and n.rsplit("/", 1)[1].casefold() == typed]
    if len(by_city) == 1:
        return by_city[0], []
    if by_city:
        return None, by_city[:3]
    whole = process.extract(typed, {n: n.casefold() for n in names}, scorer=fuzz.ratio, limit=5)
    city = process.extract(
        typed, {n: n.rsplit("/", 1)[-1].casefold() for n in names}, scorer=fuzz.ratio, limit=5
    )
    best: dict[str, float] = {}
    for _, score, name in [*whole, *city]:
        best[name] = max(best.get(name, 0.0), score)
    ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    if not ranked or ranked[0][1] < 80:
        return None, []
    top = ranked[0][1]
    return None, [name for name, score in ranked if score >= max(80, top - 10)][:3]


async def person_zone(storage: Storage, person: Person) -> ZoneInfo:
    """The person's choice (/timezone), else the platform's hint, else UTC."""
    chosen = zone_info(await storage.get_timezone(person.key))
    return chosen or zone_info(person.timezone) or UTC_ZONE


def subscriber_zone(sub: Subscription) -> ZoneInfo:
    return zone_info(sub.timezone) or zone_info(sub.tz_hint) or UTC_ZONE


# --------------------------------------------------------------------------- dates


def moment_day(at: datetime, zone: tzinfo, closing: bool = False) -> date:
    """The day of a moment in a zone; a closing at midnight belongs to the day before
    ("closes: 2027-03-31" means through the end of that day)."""
    local = at.astimezone(zone)
    if closing and local.time() == time(0):
        return local.date() - timedelta(days=1)
    return local.date()


def moment_id(consultation_id: str, edge: str) -> str:
    """ "consultation.<id>.opens": the dot keeps it apart from knowledge-base event ids."""
    return f"consultation.{consultation_id}.{edge}"


def closes_at(c: Consultation, closures: dict[str, datetime]) -> datetime:
    early = closures.get(c.id)
    return min(c.closes, early) if early else c.closes


def consultation_moments(
    catalog: Catalog | Sequence[Consultation],
    closures: dict[str, datetime],
    t: Translate,
    zone: tzinfo,
) -> list[TimedEvent]:
    """Each consultation's opening and closing as timeline events (dated in ``zone``)."""
    out: list[TimedEvent] = []
    for c in catalog:
        for edge, at in (("opens", c.opens), ("closes", closes_at(c, closures))):
            closing = edge == "closes"
            out.append(
                TimedEvent(
                    id=moment_id(c.id, edge),
                    title=t(f"timeline_consultation_{edge}", title=c.title),
                    start=moment_day(at, zone, closing),
                    start_precision="day",
                    kind="consultation",
                    topic="",
                    summary=t(
                        f"timeline_consultation_{edge}_summary",
                        title=markup.escape(c.title),
                        id=c.id,
                    ),
                    sources=(),
                    at=at,
                    consultation=c.id,
                    closing=closing,
                )
            )
    return out


def event_when(t: Translate, dates: DateStyle, event: Event, zone: tzinfo) -> str:
    """ "22–23 June 2022" for an event over days; "31 March 2027, 23:59 CEST" for a moment,
    shown in the person's zone; both in the language of ``t`` and ``dates``."""
    if isinstance(event, TimedEvent):
        local = event.at.astimezone(zone)
        if event.closing and local.time() == time(0):
            return t("consult_end_of_day", day=dates.format_date(event.start))
        return dates.format_moment(event.at, zone)
    return dates.format_range(event.start, event.start_precision, event.end, event.end_precision)


def how_long(ui: UI, language: str | None, event: Event, now: datetime, zone: tzinfo) -> str:
    """Where an event stands relative to today in the person's zone: "in 12 days"."""
    today = now.astimezone(zone).date()
    if isinstance(event, TimedEvent) and event.start == today:
        key, n = ("rel_today" if event.at > now else "rel_earlier_today"), 0
    elif isinstance(event, TimedEvent):
        key, n = relative(event.start, None, "day", "day", today)
    else:
        key, n = relative(event.start, event.end, event.start_precision, event.end_precision, today)
    return ui.plural(key, language, n)


def event_line(ui: UI, language: str | None, event: Event, now: datetime, zone: tzinfo) -> str:
    """One event as the timeline and reminders show it: date, title, place, how long,
    in ``language`` (each field in English where it is not translated)."""
    event = event.in_language(language)
    t = _translator(ui, language)
    when = event_when(t, ui.dates(language), event, zone)
    # The colon, comma and brackets are the language's (French " : ", Arabic "،").
    where = t("event_place", place=markup.escape(event.place)) if event.place else ""
    return t(
        "event_line",
        when=when,
        title=markup.escape(event.title),
        where=where,
        relative=how_long(ui, language, event, now, zone),
    ) + plan_status(ui, language, event, now)


def plan_status(ui: UI, language: str | None, event: Event, now: datetime) -> str:
    """A plan is told as a plan, worded from today: "planned" before its date, and after
    it "planned at the time" with what is known of the outcome, never as if it happened."""
    if event.kind != "plan" or isinstance(event, TimedEvent):
        return ""
    last = last_day(
        event.end or event.start, event.end_precision if event.end else event.start_precision
    )
    if last >= now.date():
        return " (" + ui.t("event_plan_upcoming", language) + ")"
    if event.outcome:
        return " (" + ui.t("event_plan_past", language, outcome=markup.escape(event.outcome)) + ")"
    return " (" + ui.t("event_plan_past_unknown", language) + ")"


# --------------------------------------------------------------------------- what is due


@dataclass(frozen=True)
class Occasion:
    """Something subscribers are reminded of: a knowledge-base event over whole days
    (``day``) or a consultation's closing (``at``)."""

    id: str
    subject_at: str  # the date or moment, part of the job key: a new date, new reminders
    day_: date | None = None
    at: datetime | None = None
    closing: bool = False

    def day(self, zone: tzinfo) -> date:
        if self.at is not None:
            return moment_day(self.at, zone, self.closing)
        assert self.day_ is not None
        return self.day_

    def deadline(self, zone: tzinfo, lead: int) -> datetime:
        """After this a reminder is pointless: the moment itself, or the start of the
        event's first day (its end, for a reminder on the day)."""
        if self.at is not None:
            return self.at
        return datetime.combine(self.day(zone) + timedelta(days=lead == 0), time(0), zone)


def reminder_due(day: date, lead: int, zone: tzinfo) -> datetime:
    return datetime.combine(day - timedelta(days=lead), time(REMINDER_HOUR), zone)


def active_lead(occasion: Occasion, sub: Subscription, now: datetime) -> int | None:
    """Which of the person's reminders for this occasion should be out by now, if any.

    The latest one that fell due wins: after downtime across both the 7-day and the
    1-day moments, only the 1-day reminder goes. A reminder that fell due before the
    person (re)subscribed is not sent, nor one whose occasion has begun.
    """
    zone = subscriber_zone(sub)
    day = occasion.day(zone)
    for lead in sorted(sub.days):
        due = reminder_due(day, lead, zone)
        if due <= now:
            if due < sub.updated_at or now >= occasion.deadline(zone, lead):
                return None
            return lead
    return None


def reminder_occasions(core: Core, now: datetime, closures: dict[str, datetime]) -> list[Occasion]:
    """Events close enough that a reminder could be due: dated to the day, not a period."""
    today = now.astimezone(UTC).date()
    first, last = today - timedelta(days=1), today + timedelta(days=MAX_DAYS + 2)
    out = [
        Occasion(e.id, e.start.isoformat(), day_=e.start)
        for e in core.kb.events
        if e.start_precision == "day"
        and e.kind not in NOT_UPCOMING_KINDS
        and first <= e.start <= last
    ]
    for c in core.consultations:
        closes = closes_at(c, closures)
        if c.opens <= now < closes and closes.astimezone(UTC).date() <= last:
            out.append(Occasion(moment_id(c.id, "closes"), _iso(closes), at=closes, closing=True))
    return out


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _platform_and_user(person: str) -> tuple[str, str]:
    platform, _, user = person.partition(":")
    return platform, user


@dataclass
class TickReport:
    """What one tick did, for logs and tests."""

    queued: int = 0  # delivery rows created
    sent: int = 0
    skipped: int = 0  # no longer relevant when their turn came
    failed: int = 0  # gave up
    retrying: int = 0  # raised; tried again later
    waiting: int = 0  # their platform stopped running meanwhile


@dataclass
class _Tick:
    """What one tick looks up once."""

    core: Core
    now: datetime
    closures: dict[str, datetime]
    _subs: list[Subscription] | None = None
    _people: dict[str, str | None] | None = None
    report: TickReport = field(default_factory=TickReport)

    async def subscriptions(self) -> list[Subscription]:
        if self._subs is None:
            self._subs = await self.core.storage.subscriptions()
        return self._subs

    async def people(self) -> dict[str, str | None]:
        if self._people is None:
            self._people = await self.core.storage.known_people()
        return self._people


async def queue_reminders(tick: _Tick) -> int:
    occasions = reminder_occasions(tick.core, tick.now, tick.closures)
    if not occasions:
        return 0
    subs = await tick.subscriptions()
    wanted: dict[tuple[Occasion, int], list[Recipient]] = {}
    for occasion in occasions:
        for sub in subs:
            lead = active_lead(occasion, sub, tick.now)
            if lead is not None:
                recipient = Recipient(sub.person, sub.platform, sub.chat)
                wanted.setdefault((occasion, lead), []).append(recipient)
    storage = tick.core.storage
    added = 0
    for (occasion, lead), recipients in wanted.items():
        job, _ = await storage.ensure_job(
            f"{REMINDER}:{occasion.id}@{occasion.subject_at}:{lead}",
            kind=REMINDER,
            subject=occasion.id,
            subject_at=occasion.subject_at,
            lead_days=lead,
            now=tick.now,
        )
        have = await storage.job_people(job.id)
        added += await storage.add_deliveries(
            job.id, [r for r in recipients if r.person not in have], tick.now
        )
    return added


async def queue_openings(tick: _Tick) -> int:
    """A consultation that opened goes, once, to everyone subscribed before it opened."""
    storage = tick.core.storage
    added = 0
    for c in tick.core.consultations:
        if not c.opens <= tick.now < closes_at(c, tick.closures):
            continue
        key = f"{OPENING}:{c.id}@{_iso(c.opens)}"
        if await storage.get_job_by_key(key) is not None:
            continue
        recipients = [
            Recipient(s.person, s.platform, s.chat)
            for s in await tick.subscriptions()
            if s.created_at <= c.opens
        ]
        _, created = await storage.ensure_job(
            key,
            kind=OPENING,
            subject=c.id,
            subject_at=_iso(c.opens),
            recipients=recipients,
            now=tick.now,
        )
        added += len(recipients) if created else 0
    return added


async def queue_draft_reminders(tick: _Tick) -> int:
    """24 hours before a consultation closes, once, to people with an unfinished draft.

    Anonymous drafts are stored under a one-way code, so they are found from the
    people the bot can reach (subscribers, people in a conversation or with a
    profile): a draft whose owner is none of those cannot be reminded.
    """
    core, storage = tick.core, tick.core.storage
    added = 0
    for c in core.consultations:
        closes = closes_at(c, tick.closures)
        due = closes - DRAFT_NOTICE
        if not (c.opens <= tick.now and due <= tick.now < closes):
            continue
        key = f"{DRAFT}:{c.id}@{_iso(closes)}"
        if await storage.get_job_by_key(key) is not None:
            continue
        drafts = [
            r for r in await storage.responses(c.id) if r.status == "draft" and r.started_at <= due
        ]
        people = await tick.people()
        if c.anonymous:
            # Everyone reachable gets a row, so the rows do not say who has a draft;
            # the send checks the draft and skips the others, and done rows go.
            owners = sorted(people) if drafts else []
        else:
            owners = sorted({r.person for r in drafts if r.person})
        recipients = []
        for person in owners:
            platform, user = _platform_and_user(person)
            # A private chat's id is the user's on Telegram; Slack posts a user id to
            # the person's direct messages with the bot.
            recipients.append(Recipient(person, platform, people.get(person) or user))
        _, created = await storage.ensure_job(
            key,
            kind=DRAFT,
            subject=c.id,
            subject_at=_iso(closes),
            recipients=recipients,
            now=tick.now,
        )
        added += len(recipients) if created else 0
    return added


# --------------------------------------------------------------------------- delivery


def _translator(ui: UI, language: str | None) -> Translate:
    def t(key: str, **values: object) -> str:
        return ui.t(key, language, **values)

    return t


async def render(tick: _Tick, d: Delivery) -> list[Reply] | None:
    """The message of one delivery, worded for its recipient now; None when it is no
    longer relevant (the event began, the consultation closed, the draft was sent)."""
    core, now, job = tick.core, tick.now, d.job
    ui, language = core.ui, d.language
    t = _translator(ui, language)
    zone = zone_info(d.timezone) or UTC_ZONE
    chat = Chat(d.chat, private=True)
    footer = "\n\n" + t("reminders_footer") if job.kind in SUBSCRIBER_KINDS else ""
    if job.kind == ANNOUNCE:
        return [Reply(t("announce_message", text=markup.escape(job.text)) + footer, chat=chat)]
    if job.kind == REMINDER:
        return _render_reminder(tick, d, t, zone, chat, footer)
    c = core.consultations.in_language(language).get(job.subject)
    if c is None:
        return None
    closes = closes_at(c, tick.closures)
    if not c.opens <= now < closes:
        return None
    (closing,) = [
        m
        for m in consultation_moments([c], tick.closures, t, zone)
        if m.closing  # worded in the recipient's zone
    ]
    when = event_when(t, ui.dates(language), closing, zone)
    relative_text = how_long(ui, language, closing, now, zone)
    if job.kind == OPENING:
        if job.subject_at != _iso(c.opens):
            return None  # the opening moved: the new one has its own job
        text = t("reminders_opening", title=markup.escape(c.title), closes=when)
        choice = Choice(t("reminders_button_answer"), f"cs:{c.id}")
        return [Reply(text + footer, choices=(choice,), chat=chat)]
    if job.kind == DRAFT:
        if job.subject_at != _iso(closes):
            return None
        code = core.pseudonyms.respondent(c.id, d.person) if c.anonymous else d.person
        draft = await core.storage.get_response(c.id, code)
        if draft is None or draft.status != "draft":
            return None
        text = t(
            "reminders_draft", title=markup.escape(c.title), closes=when, relative=relative_text
        )
        choice = Choice(t("reminders_button_continue"), f"cs:{c.id}")
        return [Reply(text, choices=(choice,), chat=chat)]
    log.warning("unknown kind of scheduled send %r (job %d): skipped", job.kind, job.id)
    return None


def _render_reminder(
    tick: _Tick, d: Delivery, t: Translate, zone: tzinfo, chat: Chat, footer: str
) -> list[Reply] | None:
    core, job = tick.core, d.job
    event: Event | None = None
    choices: tuple[Choice, ...] = ()
    occasion: Occasion | None = None
    if job.subject.startswith("consultation."):
        c = core.consultations.in_language(d.language).get(job.subject.split(".")[1])
        if c is not None and _iso(closes_at(c, tick.closures)) == job.subject_at:
            moments = consultation_moments([c], tick.closures, t, zone)
            event = next(m for m in moments if m.closing)
            occasion = Occasion(job.subject, job.subject_at, at=event.at, closing=True)
            if not c.opens <= tick.now:
                return None
            choices = (Choice(t("reminders_button_answer"), f"cs:{c.id}"),)
    else:
        event = next(
            (
                e
                for e in core.kb.events
                if e.id == job.subject and e.start.isoformat() == job.subject_at
            ),
            None,
        )
        if event is not None:
            occasion = Occasion(event.id, job.subject_at, day_=event.start)
            title = t("button_add_to_calendar", title=event.in_language(d.language).title)
            choices = (Choice(markup.shorten(title), f"ics:{event.id}"),)
    if event is None or occasion is None:
        return None  # removed or moved to another date: its new date has its own reminders
    if tick.now >= occasion.deadline(zone, job.lead_days or 0):
        return None
    line = event_line(core.ui, d.language, event, tick.now, zone)
    text = t("reminders_header") + "\n\n" + line + footer
    return [Reply(text, choices=choices, chat=chat)]


def _retry_delay(attempts: int) -> timedelta:
    delay: timedelta = RETRY_BASE * 2 ** max(0, attempts - 1)
    return min(RETRY_MAX, delay)


async def deliver_one(tick: _Tick, d: Delivery) -> None:
    core, storage, report = tick.core, tick.core.storage, tick.report
    job_id, person, me = d.job.id, d.person, owner(tick.core)
    if not await storage.claim_delivery(
        job_id, person, core.clock(), owner=me, lease=core.settings.lease
    ):
        return
    try:
        replies = await render(tick, d)
    except Exception:
        log.exception("could not word scheduled send %d for a recipient: gave up", job_id)
        await storage.finish_delivery(job_id, person, "failed", core.clock(), owner=me)
        report.failed += 1
        return
    if replies is None:
        await storage.finish_delivery(job_id, person, "skipped", core.clock(), owner=me)
        report.skipped += 1
        return
    # The send and its record, one such at a time in this process (see
    # bot.leases.sending): a kill -9 leaves at most one message sent and not recorded.
    with sending(core):
        await _push_and_record(tick, d, replies)


async def _push_and_record(tick: _Tick, d: Delivery, replies: list[Reply]) -> None:
    core, storage, report = tick.core, tick.core.storage, tick.report
    job_id, person, me = d.job.id, d.person, owner(tick.core)
    try:
        # Awaited to the end: the adapter's outbox has sent it (or given up) when this
        # returns. A cancellation here leaves the row claimed: see recover().
        pushed = await core.push(d.platform, replies)
    except RecipientGone as exc:
        # Blocked, or the account is gone: five more tries would fail the same way.
        log.info("scheduled send %d: the recipient cannot be reached (%s)", job_id, exc)
        await storage.finish_delivery(job_id, person, "failed", core.clock(), owner=me)
        await core.person_gone(person, "unreachable")
        report.failed += 1
        return
    except Exception:
        attempts = d.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            log.exception("scheduled send %d failed %d times: gave up", job_id, attempts)
            await storage.finish_delivery(job_id, person, "failed", core.clock(), owner=me)
            report.failed += 1
        else:
            log.warning("scheduled send %d failed: will retry", job_id, exc_info=True)
            await storage.release_delivery(
                job_id, person, core.clock() + _retry_delay(attempts), owner=me
            )
            report.retrying += 1
        return
    if not pushed:  # the adapter stopped meanwhile: it waits for the next one
        await storage.release_delivery(job_id, person, core.clock(), owner=me)
        report.waiting += 1
        return
    await storage.finish_delivery(job_id, person, "sent", core.clock(), owner=me)
    report.sent += 1


async def deliver_due(tick: _Tick) -> None:
    """Send every pending row whose platform has a running adapter, one at a time.

    One at a time, so at most one message is ever in flight: the only one whose fate
    is unknown if the process dies. Throughput is whatever the adapter's outbox allows.
    """
    storage = tick.core.storage
    tried: set[tuple[int, str]] = set()
    while True:
        platforms = sorted(tick.core.senders)
        batch = await storage.pending_deliveries(platforms, tick.core.clock(), BATCH)
        fresh = [d for d in batch if (d.job.id, d.person) not in tried]
        if not fresh:
            return
        for d in fresh:
            tried.add((d.job.id, d.person))
            await deliver_one(tick, d)


# --------------------------------------------------------------------------- running


async def tick(core: Core) -> TickReport:
    """All due work: queue what fell due, then deliver what is pending. Tests call this
    directly with a moved clock; a running bot calls it every :data:`TICK_SECONDS`."""
    now = core.clock()
    state = _Tick(core, now, await core.storage.consultation_closures())
    for step in (queue_openings, queue_draft_reminders, queue_reminders):
        try:
            state.report.queued += await step(state)
        except asyncio.CancelledError:
            raise
        except Exception:  # one broken step must not hold up the others or delivery
            log.exception("scheduling step %s failed; will retry", step.__name__)
    await deliver_due(state)
    await core.storage.purge_draft_deliveries(now)
    if state.report.sent or state.report.failed:
        log.info("scheduled sends: %s", state.report)
    return state.report


async def recover(core: Core) -> int:
    """Rows claimed by a process that died (their lease ran out) go back to pending.

    The trade-off: a claimed row was being sent when the process died, and a platform
    API has no idempotency key, so we cannot know whether that message arrived. We send
    it again: a missed reminder is worse than a rare duplicate, and since sends go one
    at a time, at most one person per crash can get a second copy. Every other
    recipient gets exactly one. A live process renews its claims (:func:`heartbeat`),
    so its rows are never taken from it, whichever replica runs this.
    """
    count = await core.storage.recover_claimed(core.clock())
    if count:
        log.warning(
            "%d scheduled message(s) were being sent by a process that stopped: sending "
            "again (the person may get it twice)",
            count,
        )
    return count


_wakeups: weakref.WeakKeyDictionary[Core, asyncio.Event] = weakref.WeakKeyDictionary()


def wake(core: Core) -> None:
    """Run the next tick now (a confirmed announcement should not wait for the timer)."""
    event = _wakeups.get(core)
    if event is not None:
        event.set()


# Delivers only to the person at this keyboard: a terminal chat opened beside a running
# bot on the same database must not take back the rows that bot is sending.
LOCAL_PLATFORMS = frozenset({"terminal"})


def delivers_for_platforms(core: Core) -> bool:
    return bool(set(core.senders) - LOCAL_PLATFORMS)


async def heartbeat(core: Core) -> int:
    """One beat: this process's claims are renewed, and (when it delivers through a
    chat platform) the rows of a process that stopped renewing are taken back and sent
    at once. Returns how many were taken back."""
    await core.storage.renew_claims(owner(core), core.clock(), core.settings.lease)
    if not delivers_for_platforms(core):
        return 0
    count = await recover(core)
    if count:
        wake(core)
    return count


async def keep_claims(core: Core, interval: float | None = None) -> None:
    """The heartbeat, every ``interval`` seconds (a third of a claim's lease)."""
    await repeat(
        lambda: heartbeat(core),
        interval or core.settings.renew_every,
        log,
        "could not renew the delivery claims",
    )


async def run_forever(core: Core, interval: float = TICK_SECONDS) -> None:
    """Background task of a running bot: a tick every ``interval`` (or when woken), and
    beside it the heartbeat of this process's delivery claims. Claims left by a process
    that died are taken back before this process first delivers through a chat platform,
    and then whenever their lease runs out; a process without one (the terminal chat)
    never touches another's deliveries."""
    wakeup = _wakeups.setdefault(core, asyncio.Event())
    beating = asyncio.create_task(keep_claims(core), name="delivery-claims")
    try:
        await _tick_forever(core, wakeup, interval)
    finally:
        beating.cancel()
        with suppress(asyncio.CancelledError):
            await beating


async def _tick_forever(core: Core, wakeup: asyncio.Event, interval: float) -> None:
    recovered = False
    while True:
        with suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), interval)
        wakeup.clear()
        try:
            if not recovered and delivers_for_platforms(core):
                await recover(core)
                recovered = True
            await tick(core)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduled sends failed; will retry")


# --------------------------------------------------------------------------- parsing


# Words around the numbers, in the bot's languages: "14 and 2 days before", "14 et 2 jours".
_DAY_WORDS = frozenset(
    {"d", "day", "days", "and", "before", "j", "jour", "jours", "et", "avant"}
    | {
        "día",
        "días",
        "dia",
        "dias",
        "y",
        "antes",
        "يوم",
        "أيام",
        "ايام",
        "يومًا",
        "يوما",
        "و",
        "قبل",
    }
)


def parse_days(text: str) -> tuple[int, ...] | None:
    """ "3", "14 2", "14, 2", "7d 1d", "14 and 2 days" as lead times, largest first;
    None when the text is not that or asks for too many or too far."""
    said = typed.ascii_digits(text.strip().lower())
    tokens = [tok for tok in re.split(r"[\s,;\u060c\u061b]+", said) if tok]
    days: set[int] = set()
    for token in tokens:
        if token in _DAY_WORDS:
            continue
        m = re.fullmatch(r"(\d{1,3})(?:d|j)?", token, re.ASCII)
        if m is None:
            return None
        days.add(int(m.group(1)))
    if not days or len(days) > MAX_REMINDERS or max(days) > MAX_DAYS:
        return None
    return tuple(sorted(days, reverse=True))
