"""iCalendar (RFC 5545) files of the timeline, so people can put dates in their calendar.

Built with the ``icalendar`` library rather than by hand: line folding, escaping and
value types are exactly the details a hand-written writer gets subtly wrong. Date-only
events are all-day events; moments (a consultation opening or closing) are timed events
in UTC; UIDs are stable, so re-importing a file updates events instead of duplicating them.

A file is written in the language of the person who asked for it (titles, summaries,
notes, places, source labels, the calendar's name), each field in English where it is
not translated. Sources are cited as the answers cite them: the public pages, by label
and address, rather than sections of our compiled fact sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot import markup
from bot.dates import last_day
from bot.knowledge import Event, KnowledgeBase
from bot.ui import UI

PRODID = "-//IFRC migration assistant (nsbot)//Timeline//EN"
UID_DOMAIN = "nsbot.migration-timeline"
_NO_MOMENT = datetime.min.replace(tzinfo=UTC)  # a default only dataclass inheritance needs


@dataclass(frozen=True)
class TimedEvent(Event):
    """An event at a precise moment, not over whole days: a consultation opening or
    closing. ``start`` is its date in the zone it was built for; ``at`` is the moment."""

    at: datetime = _NO_MOMENT
    consultation: str = ""
    closing: bool = False


@dataclass(frozen=True)
class CalendarItem:
    uid: str
    title: str
    start: date | datetime  # a date: all-day; an aware datetime: a moment
    # Exclusive, as RFC 5545 wants; None for a moment, which then ends as it starts
    # (a DTEND equal to DTSTART would be invalid).
    end: date | datetime | None
    description: str = ""
    location: str = ""
    categories: tuple[str, ...] = ()


def item_from_event(event: Event, kb: KnowledgeBase, ui: UI, language: str | None) -> CalendarItem:
    """An event as an all-day calendar item covering every day its dates cover
    (a :class:`TimedEvent` as a timed item at its moment), worded in ``language``."""
    event = event.in_language(language)
    if isinstance(event, TimedEvent):
        return CalendarItem(
            uid=f"{event.id}@{UID_DOMAIN}",
            title=event.title,
            start=event.at,
            end=None,
            description=markup.to_plain(event.summary),
            categories=tuple(c for c in (event.kind, event.topic) if c),
        )
    end = (
        last_day(event.end, event.end_precision)
        if event.end
        else last_day(event.start, event.start_precision)
    )
    lines = [markup.to_plain(event.summary)]
    if event.start_precision != "day" or (event.end and event.end_precision != "day"):
        precision = "year" if "year" in (event.start_precision, event.end_precision) else "month"
        lines.append(ui.t(f"ics_day_unknown_{precision}", language))
    if event.note:
        lines.append(markup.to_plain(event.note))
    cited = _cited(event, kb, ui, language)
    if cited:
        lines.append(ui.t("source", language, source=cited))
    return CalendarItem(
        uid=f"{event.id}@{UID_DOMAIN}",
        title=event.title,
        start=event.start,
        end=end + timedelta(days=1),
        description="\n\n".join(line for line in lines if line),
        location=event.place,
        categories=tuple(c for c in (event.kind, event.topic) if c),
    )


def _cited(event: Event, kb: KnowledgeBase, ui: UI, language: str | None) -> str:
    """The pages behind an event ("Blog on rcrcconference.org, June 2022: https://…"),
    else, without a public page, the documents and sections."""
    dates = ui.dates(language)
    pages = [
        c.label
        + (f", {dates.format_date(c.published, c.precision)}" if c.published else "")
        + f": {c.url}"
        for c in kb.citations(event.sources, language)
    ]
    if pages:
        return "; ".join(pages)
    return "; ".join(
        f"{source.title if (source := kb.source_in(r.doc, language)) else r.doc}, {r.section}"
        for r in event.sources
    )


def to_ics(
    items: list[CalendarItem], now: datetime, name: str = "RCRC migration timeline"
) -> bytes:
    import icalendar  # here, not at the top: a tenth of the start-up for a rare command

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    stamp = now.astimezone(UTC)
    for item in items:
        vevent = icalendar.Event()
        vevent.add("uid", item.uid)
        vevent.add("dtstamp", stamp)
        vevent.add("summary", item.title)
        vevent.add("dtstart", _value(item.start))
        if item.end is not None:
            vevent.add("dtend", _value(item.end))
        if item.description:
            vevent.add("description", item.description)
        if item.location:
            vevent.add("location", item.location)
        if item.categories:
            vevent.add("categories", list(item.categories))
        vevent.add("transp", "TRANSPARENT")  # information, not a block in anyone's diary
        cal.add_component(vevent)
    data: bytes = cal.to_ical()
    return data


def _value(moment: date | datetime) -> date | datetime:
    # Moments go out in UTC: a TZID would oblige us to embed VTIMEZONE definitions.
    return moment.astimezone(UTC) if isinstance(moment, datetime) else moment


def events_ics(
    kb: KnowledgeBase,
    events: list[Event],
    now: datetime,
    ui: UI,
    language: str | None = None,
) -> bytes:
    """The .ics file of some knowledge-base events, in ``language`` (default English)."""
    items = [item_from_event(e, kb, ui, language) for e in events]
    return to_ics(items, now, ui.t("ics_calendar_name", language))
