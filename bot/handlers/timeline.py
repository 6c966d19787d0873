"""Dates people can act on: /timeline, /next, /calendar and "Add to calendar" buttons.

Every date is shown with where it stands relative to today ("about 4 years ago",
"in 12 days"), computed from the core's clock so tests can move time. Consultations'
opening and closing moments are on the timeline too, shown in the person's time zone
(/timezone, else the platform's hint, else UTC). Titles, summaries, notes and places
are in the person's language where translated, field by field.
"""

from __future__ import annotations

import weakref
from datetime import UTC, date, tzinfo

from bot import markup, reminders, typed
from bot.dates import last_day
from bot.handlers.base import Context
from bot.ics import TimedEvent, events_ics
from bot.knowledge import Event, KnowledgeBase, Topic
from bot.matcher import Matcher
from bot.messages import Attachment, Choice, Reply

CALENDAR_FILE = "rcrc-migration-timeline.ics"
MAX_PAST_SHOWN = 3


def last_date(event: Event) -> date:
    return (
        last_day(event.end, event.end_precision)
        if event.end
        else last_day(event.start, event.start_precision)
    )


def how_long(ctx: Context, event: Event, zone: tzinfo = UTC) -> str:
    return reminders.how_long(ctx.core.ui, ctx.person.language, event, ctx.now, zone)


def event_line(ctx: Context, event: Event, zone: tzinfo = UTC) -> str:
    return reminders.event_line(ctx.core.ui, ctx.person.language, event, ctx.now, zone)


async def all_events(ctx: Context) -> tuple[list[Event], tzinfo]:
    """The knowledge base's events and the consultations' moments, oldest first, dated
    in the person's time zone (which is returned too)."""
    zone = await reminders.person_zone(ctx.core.storage, ctx.person)
    closures = await ctx.core.storage.consultation_closures()
    moments = reminders.consultation_moments(ctx.consultations, closures, ctx.t, zone)
    return sorted([*ctx.kb.events, *moments], key=lambda e: e.start), zone


def filter_events(
    kb: KnowledgeBase, matcher: Matcher, query: str, events: list[Event] | None = None
) -> list[Event]:
    """/timeline 2022 (a year), or words: a topic, a group, a body ("reference group").

    Words are compared in the matcher's canonical form, so acronyms and their
    expansions ("mlg", "leadership group") find the same events. The English and every
    translation are searched, so "/timeline stratégie" and "/timeline strategy" find the
    same. ``events`` defaults to the knowledge base's.
    """
    pool = kb.events if events is None else events
    query = query.strip()
    if not query:
        return pool
    year = typed.whole_number(query) if len(query) == 4 else None
    if year is not None:
        return [e for e in pool if e.start.year <= year <= (e.end or e.start).year]
    wanted = set(matcher.tokens(query))
    if not wanted:
        return []
    words, known = _words_of(matcher)
    found = []
    for event in pool:
        topic = kb.topics.get(event.topic)
        seen = known.get(id(event))
        if seen is not None and seen[0] is event and seen[1] is topic:
            tokens = seen[2]
        else:
            tokens = _event_tokens(matcher, words, event, topic)
            if len(known) >= MAX_CACHED_TEXTS:
                known.clear()
            known[id(event)] = (event, topic, tokens)
        if wanted <= tokens:
            found.append(event)
    return found


def _event_tokens(
    matcher: Matcher, words: dict[str, frozenset[str]], event: Event, topic: Topic | None
) -> frozenset[str]:
    texts = [event.kind, event.topic, event.title, event.body, event.place]
    for et in event.translations.values():
        texts += [et.title, et.body, et.place]
    if topic:
        texts += [topic.title, *(tt.title for tt in topic.translations.values())]
    haystack = " ".join(t for t in texts if t)
    tokens = words.get(haystack)
    if tokens is None:
        if len(words) >= MAX_CACHED_TEXTS:
            words.clear()
        tokens = words[haystack] = frozenset(matcher.tokens(haystack))
    return tokens


# Each event's words in the matcher's canonical form, kept per matcher: a reload
# brings new content with its own matcher (bot.content), and the old words go with
# the old one. Tokenising every event again for every "when is the next ..." question
# took most of the time of answering it. Keyed by the event's text, so a
# consultation's moment (made afresh for each question) finds its words too; and by
# the event object itself (with its topic, the other source of its words), since
# putting the text together again for each of the knowledge base's events took as
# long as the rest of the question. The object is kept with its id, so the id stays its.
_KnownEvents = dict[int, tuple[Event, Topic | None, frozenset[str]]]
_EVENT_WORDS_CACHE: weakref.WeakKeyDictionary[
    Matcher, tuple[dict[str, frozenset[str]], _KnownEvents]
] = weakref.WeakKeyDictionary()
MAX_CACHED_TEXTS = 4096


def _words_of(matcher: Matcher) -> tuple[dict[str, frozenset[str]], _KnownEvents]:
    cached = _EVENT_WORDS_CACHE.get(matcher)
    if cached is None:
        cached = _EVENT_WORDS_CACHE[matcher] = ({}, {})
    return cached


def prepare(kb: KnowledgeBase, matcher: Matcher) -> None:
    """The knowledge base's events' words, worked out now (at start, after a reload)
    rather than by the first "when is the next ..." question: 50 ms for 39 events."""
    words, known = _words_of(matcher)
    for event in kb.events:
        topic = kb.topics.get(event.topic)
        known[id(event)] = (event, topic, _event_tokens(matcher, words, event, topic))


async def _filtered(ctx: Context, query: str) -> tuple[list[Event], tzinfo]:
    events, zone = await all_events(ctx)
    return filter_events(ctx.kb, ctx.matcher, query, events), zone


NOT_UPCOMING_KINDS = reminders.NOT_UPCOMING_KINDS
# Not calendar entries: a plan may never have happened (the strategy planned for 2023
# was adopted in 2024), and a strategy period spans years, not days in a diary.
NOT_CALENDAR_KINDS = frozenset({"plan", *NOT_UPCOMING_KINDS})


def is_calendar_entry(event: Event) -> bool:
    return event.kind not in NOT_CALENDAR_KINDS


def is_upcoming(ctx: Context, event: Event, zone: tzinfo = UTC) -> bool:
    if event.kind in NOT_UPCOMING_KINDS:
        return False
    if isinstance(event, TimedEvent):
        return event.at > ctx.now
    return last_date(event) >= ctx.now.astimezone(zone).date()


def upcoming(ctx: Context, events: list[Event], zone: tzinfo = UTC) -> list[Event]:
    return [e for e in events if is_upcoming(ctx, e, zone)]


def calendar_button(ctx: Context, event: Event) -> Choice:
    title = event.in_language(ctx.language).title
    return Choice(markup.shorten(ctx.t("button_add_to_calendar", title=title)), f"ics:{event.id}")


def offers_calendar_entry(ctx: Context, event: Event, zone: tzinfo = UTC) -> bool:
    """Whether "Add to calendar" makes sense: a meeting, deadline or event still ahead,
    not a plan (which may never happen) or a years-long period."""
    return is_calendar_entry(event) and is_upcoming(ctx, event, zone)


def filtered_calendar_button(ctx: Context, query: str, count: int) -> Choice | None:
    """The "add these to my calendar" button of a filtered timeline: its action carries
    the filter, so the file holds what the list showed. None when the filter cannot
    travel in a button (non-ASCII or too long); /calendar <filter> still works."""
    action = f"cal:{' '.join(query.split())}"
    try:
        return Choice(ctx.t("button_calendar_these", count=count), action)
    except ValueError:
        return None


async def timeline(ctx: Context, args: str) -> list[Reply]:
    events, zone = await _filtered(ctx, args)
    if not events:
        key = "timeline_no_match" if args.strip() else "timeline_empty"
        return ctx.reply(key, query=markup.escape(args.strip()))
    nxt = next(iter(upcoming(ctx, events, zone)), None)
    lines = []
    for event in events:
        line = f"- {event_line(ctx, event, zone)}"
        if event is nxt:
            line += f" {ctx.t('timeline_next')}"
        lines.append(line)
    header = (
        ctx.t("timeline_header_filtered", query=markup.escape(args.strip()))
        if args.strip()
        else ctx.t("timeline_header")
    )
    text = header + "\n\n" + "\n".join(lines)
    if nxt is None and not args.strip():
        text += "\n\n_" + ctx.t("timeline_no_upcoming") + "_"
    entries = [e for e in events if is_calendar_entry(e)]
    button: Choice | None = None
    if not args.strip():
        button = Choice(ctx.t("button_calendar"), "cmd:calendar")
    elif entries:
        button = filtered_calendar_button(ctx, args, len(entries))
    return [Reply(text, choices=(button,) if button else ())]


async def next_events(ctx: Context, args: str) -> list[Reply]:
    """/next: what is coming; when nothing is, say so and offer the latest past events."""
    events, zone = await _filtered(ctx, args)
    coming = upcoming(ctx, events, zone)
    if coming:
        lines = [f"- {event_line(ctx, e, zone)}" for e in coming[:5]]
        choices = tuple(calendar_button(ctx, e) for e in coming[:3] if is_calendar_entry(e))
        return [Reply(ctx.t("next_header") + "\n\n" + "\n".join(lines), choices=choices)]
    past = [e for e in events if e.kind not in NOT_UPCOMING_KINDS][-MAX_PAST_SHOWN:]
    lines = [f"- {event_line(ctx, e, zone)}" for e in reversed(past)]
    text = ctx.t("next_none")
    if lines:
        text += "\n\n" + ctx.t("next_latest") + "\n\n" + "\n".join(lines)
    return [Reply(text, choices=(Choice(ctx.t("button_timeline"), "cmd:timeline"),))]


async def calendar(ctx: Context, args: str) -> list[Reply]:
    """/calendar [filter]: every (or every matching) dated entry as one .ics file, and
    a message saying what it holds (how many are ahead; plans and periods left out)."""
    found, zone = await _filtered(ctx, args)
    events = [e for e in found if is_calendar_entry(e)]
    if not events:
        if found:
            return ctx.reply("calendar_nothing_datable", query=markup.escape(args.strip()))
        return ctx.reply("timeline_no_match", query=markup.escape(args.strip()))
    data = events_ics(ctx.kb, events, ctx.now, ctx.core.ui, ctx.language)
    attachment = Attachment(calendar_file_name(args), data, "text/calendar")
    ahead = sum(1 for e in events if is_upcoming(ctx, e, zone))
    text = ctx.t("calendar_sent", count=len(events)) + " " + ctx.t("calendar_holds", ahead=ahead)
    return [Reply(text, attachments=(attachment,))]


async def calendar_filtered(ctx: Context, query: str) -> list[Reply]:
    """The button "cal:<filter>" under a filtered /timeline: the same events as a file."""
    return await calendar(ctx, query)


def calendar_file_name(query: str) -> str:
    """``rcrc-migration-timeline.ics``, or ``…-2011.ics`` for /calendar 2011: a filtered
    file does not take the name of the whole timeline."""
    words = "-".join(
        "".join(ch for ch in w.lower() if ch.isascii() and ch.isalnum()) for w in query.split()
    ).strip("-")
    stem = CALENDAR_FILE.removesuffix(".ics")
    return f"{stem}-{words[:40]}.ics" if words else CALENDAR_FILE


async def add_to_calendar(ctx: Context, event_id: str) -> list[Reply]:
    """The "Add to calendar" button: that event alone."""
    events, _ = await all_events(ctx)
    event = next((e for e in events if e.id == event_id), None)
    if event is None:  # a button from before the timeline changed
        return ctx.notice("unknown_action")
    data = events_ics(ctx.kb, [event], ctx.now, ctx.core.ui, ctx.language)
    attachment = Attachment(f"{event.id}.ics", data, "text/calendar")
    title = markup.escape(event.in_language(ctx.language).title)
    return [Reply(ctx.t("calendar_one_sent", title=title), attachments=(attachment,))]


def dates_for_entry(ctx: Context, entry_id: str) -> tuple[str, tuple[Choice, ...]]:
    """The dated events an answer is about: a line each, relative to today, with an
    "Add to calendar" button for those still ahead (a past one is history, not a plan)."""
    events = ctx.memo(("events of", entry_id), lambda: _events_of(ctx.kb, entry_id))
    if not events:
        return "", ()
    if any(isinstance(e, TimedEvent) for e in events):  # worded from the moment itself
        return _dates_for(ctx, events)
    # The knowledge base's events are worded from the day alone ("in 12 days"): the
    # same for everyone answered today in these languages.
    key = ("dates", entry_id, ctx.person.language, ctx.now.date(), ctx.now.astimezone(UTC).date())
    return ctx.memo(key, lambda: _dates_for(ctx, events))


def _events_of(kb: KnowledgeBase, entry_id: str) -> list[Event]:
    return [e for e in kb.events if e.entry == entry_id][:3]


def _dates_for(ctx: Context, events: list[Event]) -> tuple[str, tuple[Choice, ...]]:
    lines = "\n".join(f"📅 {event_line(ctx, e)}" for e in events)
    return lines, tuple(calendar_button(ctx, e) for e in events if offers_calendar_entry(ctx, e))


# "when is the next meeting", "upcoming cod", "any meetings coming up": answered from the
# events (what is next *today*), which no static FAQ answer can do.
_NEXT_WORDS = frozenset({"next", "upcoming", "coming", "soon", "future", "forthcoming"})
_EVENT_WORDS = frozenset(
    {"meeting", "meetings", "event", "events", "date", "dates", "deadline", "deadlines"}
)


async def next_question(ctx: Context) -> list[Reply] | None:
    """Free-text questions about what comes next go to /next, with any filter words kept."""
    if ctx.message.action is not None or not ctx.text or ctx.text.startswith("/"):
        return None
    words = ctx.matcher.normalise_words(ctx.text)
    if not _NEXT_WORDS & set(words):
        return None
    rest = [w for w in words if w not in _NEXT_WORDS and w not in _EVENT_WORDS]
    filter_words = " ".join(w for w in rest if _content_word(ctx, w))
    if filter_words and not await _finds_any(ctx, filter_words):
        filter_words = ""  # "when is the next one please": nothing to filter on
    if not (_EVENT_WORDS & set(words)) and not filter_words:
        return None  # "next steps after london": a question for the knowledge base
    return await next_events(ctx, filter_words)


def _content_word(ctx: Context, word: str) -> bool:
    """Whether a word has a token: the same for every question of this content."""
    return ctx.memo(("has tokens", word), lambda: bool(ctx.matcher.tokens(word)))


async def _finds_any(ctx: Context, query: str) -> bool:
    """Whether the filter finds anything on the timeline. The knowledge base's events
    are tried first (the same answer for every question of this content), and the
    consultations' moments (which need the person's time zone
    and the closures, read from storage) only when they find nothing and there are
    consultations: the filter takes or leaves each event on its own."""
    if ctx.memo(("finds", query), lambda: bool(filter_events(ctx.kb, ctx.matcher, query))):
        return True
    assert ctx.content is not None
    if not len(ctx.content.consultations):
        return False
    return bool(filter_events(ctx.kb, ctx.matcher, query, (await all_events(ctx))[0]))
