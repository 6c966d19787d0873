"""Coordinators' commands: /results, /export and /close (consultations and polls).

The registry marks the commands coordinators-only (refused and logged for anyone
else); the one button here, confirming an early close, checks again itself.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from bot import markup, polls, reminders, typed
from bot.charts import bar_chart
from bot.consultations import Consultation
from bot.handlers.base import Context
from bot.handlers.faq import label
from bot.messages import Attachment, Chat, Choice, Reply
from bot.results import (
    EXPORT_FORMATS,
    MIME_TYPES,
    answers_per_question,
    chart_data,
    consultation_export,
    poll_export,
    question_section,
    results_summary,
)
from bot.societies import load_societies
from bot.storage.base import PollRow

log = logging.getLogger(__name__)

# Where a chart image is shown in the conversation (not only saved as a file).
IMAGE_PLATFORMS = frozenset({"telegram", "slack"})

BREAKDOWNS = {
    "region": "region",
    "regions": "region",
    "ns": "ns",
    "society": "ns",
    "national": "ns",
}


def _private(ctx: Context, replies: list[Reply]) -> list[Reply]:
    """In a group, ask the platform to show the reply to the coordinator alone."""
    if not ctx.in_group:
        return replies
    return [
        Reply(r.text, r.choices, r.attachments, r.edit, r.key, r.notice, True, r.chat, r.columns)
        for r in replies
    ]


async def overview(ctx: Context) -> list[Reply]:
    """/results without an id: what there is to look at."""
    storage = ctx.core.storage
    closures = await storage.consultation_closures()
    lines = [ctx.t("results_overview_header")]
    for c in ctx.consultations:
        rows = await storage.responses(c.id)
        done = sum(1 for r in rows if r.status == "submitted")
        state = (
            "results_state_open"
            if c.is_open(ctx.now, closures.get(c.id))
            else ("results_state_upcoming" if ctx.now < c.opens else "results_state_closed")
        )
        counts = ctx.t("results_overview_counts", started=len(rows), completed=done)
        lines.append(
            "- "
            + ctx.t(
                "results_overview_line",
                id=c.id,
                title=markup.escape(c.title),
                state=ctx.t(state),
                counts=counts,
            )
        )
    if len(lines) == 1:
        lines.append(ctx.t("results_no_consultations"))
    recent = await storage.recent_polls(10)
    if recent:
        lines.append("\n" + ctx.t("results_overview_polls"))
        for p in recent:
            state = ctx.t("results_state_open" if p.is_open(ctx.now) else "results_state_closed")
            lines.append(f"- poll-{p.id}: {markup.escape(p.question)} ({state})")
    lines.append("\n" + ctx.t("results_usage"))
    return [Reply("\n".join(lines))]


async def _find(ctx: Context, ident: str) -> Consultation | PollRow | None:
    """A consultation by its id, or a poll by its number ("poll-12", "12")."""
    c = ctx.consultations.get(ident.lower())
    if c is not None:
        return c
    number = polls.parse_poll_id(ident)
    return None if number is None else await ctx.core.storage.get_poll(number)


async def results(ctx: Context, args: str) -> list[Reply]:
    """/results ID [by region|by ns]: a one-screen summary; each question's detail is a
    button; a chart where the platform shows images."""
    words = args.split()
    if not words:
        return _private(ctx, await overview(ctx))
    target = await _find(ctx, words[0])
    if target is None:
        return ctx.reply("results_unknown", id=markup.escape(words[0][:40]))
    if isinstance(target, PollRow):
        return _private(ctx, [Reply(await poll_results(ctx, target))])
    by = None
    rest = [w.lower() for w in words[1:] if w.lower() not in {"by", "per"}]
    if rest:
        by = BREAKDOWNS.get(rest[0])
        if by is None:
            return ctx.reply("results_bad_breakdown")
    rows = await ctx.core.storage.responses(target.id)
    early = (await ctx.core.storage.consultation_closures()).get(target.id)
    zone = await reminders.person_zone(ctx.core.storage, ctx.person)
    text = results_summary(
        ctx.t, target, rows, now=ctx.now, closed_early=early, by=by, dates=ctx.dates, zone=zone
    )
    suffix = f":{by}" if by else ""
    choices = tuple(
        Choice(label(f"{n}. {q.title}"), f"rq:{target.id}:{n - 1}{suffix}")
        for n, q in enumerate(target.questions, 1)
    )
    replies = [Reply(text, choices=choices if rows else ())]
    if rows and shows_images(ctx):
        completed = sum(1 for r in rows if r.status == "submitted")
        bars = answers_per_question(target, rows)
        title = ctx.t("results_chart_answers", title=target.title, completed=completed)
        replies.append(await chart_reply(ctx, f"{target.id}-answers.png", title, bars, completed))
    return _private(ctx, replies)


def shows_images(ctx: Context) -> bool:
    """Charts go where the chat shows an image in place (the terminal would only save it)."""
    return ctx.person.platform in IMAGE_PLATFORMS


async def chart_reply(
    ctx: Context, filename: str, title: str, bars: list[tuple[str, int]], total: int
) -> Reply:
    png = await asyncio.to_thread(bar_chart, title, bars, total=total)
    return Reply(
        ctx.t("results_chart_caption"), attachments=(Attachment(filename, png, "image/png"),)
    )


async def on_question(ctx: Context, arg: str) -> list[Reply]:
    """Button "rq:<consultation>:<question index>[:region|ns]": one question in full."""
    if not ctx.is_coordinator:
        log.warning("refused a results button to a non-coordinator on %s", ctx.person.platform)
        return ctx.reply("coordinators_only")
    pieces = arg.split(":")
    c = ctx.consultations.get(pieces[0])
    # typed.whole_number, not isdigit() then int(): forged data such as "²" crashed.
    index = typed.whole_number(pieces[1]) if len(pieces) in {2, 3} else None
    if c is None or index is None:
        return ctx.notice("unknown_action")
    by = pieces[2] if len(pieces) == 3 and pieces[2] in {"region", "ns"} else None
    if index >= len(c.questions):
        return ctx.notice("unknown_action")
    q = c.questions[index]
    rows = await ctx.core.storage.responses(c.id)
    canonical = load_societies(ctx.core.settings.knowledge_dir).canonical if by == "ns" else None
    text = "\n\n".join(question_section(ctx.t, c, rows, q, by, canonical))
    replies = [Reply(text)]
    if q.is_choice and shows_images(ctx):
        completed = sum(1 for r in rows if r.status == "submitted")
        bars = chart_data(c, rows, q)
        replies.append(await chart_reply(ctx, f"{c.id}-{q.id}.png", q.title, bars, completed))
    return _private(ctx, replies)


async def poll_results(ctx: Context, row: PollRow) -> str:
    tally = await ctx.core.storage.poll_tally(row.id)
    return polls.tally_text(ctx.t, row, tally, ctx.now, ctx.dates)


def parse_since(text: str) -> datetime | None:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_export_args(words: list[str]) -> tuple[str, datetime | None] | tuple[str, str]:
    """ "[csv|xlsx|json] [since DATE]" (also "--format xlsx"): (format, since), or
    (the locale key of what is wrong, the word at fault)."""
    fmt, since = "csv", None
    rest = [w.lower() for w in words]
    i = 0
    while i < len(rest):
        word = rest[i].lstrip("-")
        if word in EXPORT_FORMATS:
            fmt = word
        elif word in {"format", "since"} and i + 1 < len(rest):
            i += 1
            if word == "format" and rest[i] in EXPORT_FORMATS:
                fmt = rest[i]
            elif word == "since":
                try:
                    since = parse_since(rest[i])
                except ValueError:
                    return "export_bad_since", rest[i]
            else:
                return "export_usage", ""
        else:
            return "export_usage", ""
        i += 1
    return fmt, since


async def export(ctx: Context, args: str) -> list[Reply]:
    """/export ID [csv|xlsx|json] [since YYYY-MM-DD]: responses (or a poll's results) as a file."""
    if ctx.in_group:
        return ctx.reply("export_private_only")
    words = args.split()
    if not words:
        return ctx.reply("export_usage")
    target = await _find(ctx, words[0])
    if target is None:
        return ctx.reply("results_unknown", id=markup.escape(words[0][:40]))
    parsed = parse_export_args(words[1:])
    if isinstance(parsed[1], str):
        return ctx.reply(parsed[0], value=markup.escape(parsed[1][:40]))
    fmt, since = parsed[0], parsed[1]
    stamp = ctx.now.astimezone(UTC).strftime("%Y%m%d-%H%M")
    if isinstance(target, PollRow):
        tally = await ctx.core.storage.poll_tally(target.id)
        content = poll_export(ctx.t, target, tally, fmt, now=ctx.now)
        name = f"{polls.poll_key(target.id)}-{stamp}.{fmt}"
        log.info("a coordinator on %s exported poll %d", ctx.person.platform, target.id)
        text = ctx.t(
            "export_poll_done",
            id=polls.poll_key(target.id),
            question=markup.escape(target.question),
            format=fmt.upper(),
        )
        return [Reply(text, attachments=(Attachment(name, content, MIME_TYPES[fmt]),))]
    rows = await ctx.core.storage.responses(target.id, since)
    content = consultation_export(ctx.t, target, rows, fmt, now=ctx.now)
    file = Attachment(f"{target.id}-{stamp}.{fmt}", content, MIME_TYPES[fmt])
    log.info(
        "a coordinator on %s exported %s (%d responses)", ctx.person.platform, target.id, len(rows)
    )
    return [
        Reply(
            ctx.t(
                "export_done",
                count=len(rows),
                title=markup.escape(target.title),
                format=fmt.upper(),
            ),
            attachments=(file,),
        )
    ]


async def close(ctx: Context, args: str) -> list[Reply]:
    """/close ID: close a poll now (final results), or a consultation early (confirmed)."""
    words = args.split()
    if not words:
        return ctx.reply("close_usage")
    target = await _find(ctx, words[0])
    if target is None:
        return ctx.reply("results_unknown", id=markup.escape(words[0][:40]))
    if isinstance(target, PollRow):
        return await close_poll(ctx, target)
    early = (await ctx.core.storage.consultation_closures()).get(target.id)
    if not target.is_open(ctx.now, early):
        return ctx.reply("close_already", title=markup.escape(target.title))
    zone = await reminders.person_zone(ctx.core.storage, ctx.person)
    return [
        Reply(
            ctx.t(
                "close_confirm",
                title=markup.escape(target.title),
                closes=ctx.dates.format_moment(target.closes, zone),
            ),
            choices=(
                Choice(ctx.t("close_button_confirm"), f"cx:{target.id}"),
                Choice(ctx.t("close_button_cancel"), "cx:"),
            ),
            columns=2,
        )
    ]


async def close_poll(ctx: Context, row: PollRow) -> list[Reply]:
    was_open = row.is_open(ctx.now)
    closed = await polls.finish_poll(ctx.core, row, ctx.now)
    tally = await ctx.core.storage.poll_tally(closed.id)
    confirm = Reply(ctx.t("close_poll_done" if was_open else "close_poll_already", id=closed.id))
    same_place = closed.platform == ctx.person.platform
    final = polls.poll_reply(
        ctx.core.ui,
        closed,
        tally,
        ctx.now,
        chat=None
        if same_place and closed.chat == ctx.message.chat.chat_id
        else Chat(closed.chat, private=False),
    )
    await ctx.core.storage.mark_poll_final_shown(closed.id)
    if same_place:
        return [final, confirm]
    pushed = await ctx.core.push(closed.platform, [final])
    return (
        [confirm]
        if pushed
        else [confirm, Reply(ctx.t("close_poll_not_pushed", platform=closed.platform))]
    )


async def on_close(ctx: Context, arg: str) -> list[Reply]:
    """Button "cx:<consultation>" confirms an early close; "cx:" cancels."""
    if not ctx.is_coordinator:
        log.warning("refused a close confirmation to a non-coordinator on %s", ctx.person.platform)
        return ctx.reply("coordinators_only")
    if not arg:
        return ctx.reply("close_cancelled")
    c = ctx.consultations.get(arg)
    if c is None:
        return ctx.reply("unknown_action")
    await ctx.core.storage.close_consultation(c.id, ctx.person.key, ctx.now)
    rows = await ctx.core.storage.responses(c.id)
    done = sum(1 for r in rows if r.status == "submitted")
    log.info("a coordinator on %s closed consultation %s early", ctx.person.platform, c.id)
    return ctx.reply("close_done", title=markup.escape(c.title), completed=done, started=len(rows))
