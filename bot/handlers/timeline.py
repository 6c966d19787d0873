"""/timeline: the dated events, oldest to newest, with the next upcoming one marked."""

from __future__ import annotations

from bot import markup
from bot.dates import format_range, last_day
from bot.handlers.base import Context
from bot.knowledge import Event
from bot.messages import Reply


def event_line(event: Event) -> str:
    when = format_range(event.start, event.start_precision, event.end, event.end_precision)
    where = f" ({markup.escape(event.place)})" if event.place else ""
    return f"**{when}**: {markup.escape(event.title)}{where}"


def filter_events(events: list[Event], query: str) -> list[Event]:
    """/timeline 2022 (a year) or /timeline strategy (words in title, body, topic)."""
    query = query.strip().lower()
    if not query:
        return events
    if query.isdigit() and len(query) == 4:
        year = int(query)
        return [e for e in events if e.start.year <= year <= (e.end or e.start).year]
    words = query.split()
    return [
        e for e in events
        if all(w in f"{e.title} {e.body} {e.topic} {e.place} {e.kind}".lower() for w in words)
    ]


async def timeline(ctx: Context, args: str) -> list[Reply]:
    events = filter_events(ctx.core.kb.events, args)
    if not events:
        return ctx.reply("timeline_empty")
    today = ctx.now.date()
    upcoming = next((e for e in events if last_day(e.end or e.start, e.end_precision if e.end else e.start_precision) >= today), None)
    lines = []
    for event in events:
        line = f"- {event_line(event)}"
        if event is upcoming:
            line += f" {ctx.t('timeline_next')}"
        lines.append(line)
    text = ctx.t("timeline_header") + "\n\n" + "\n".join(lines)
    if upcoming is None:
        text += "\n\n_" + ctx.t("timeline_no_upcoming") + "_"
    return [Reply(text)]
