"""/stats for coordinators: how well the bot serves people, in chat and as a file.

``/stats [since YYYY-MM-DD] [csv|json]``: text bars in the chat, a chart of the
questions per day where the platform shows images, and the figures as a file when a
format is asked. The registry marks it coordinators-only (refused and logged for
anyone else). In a group the reply is shown to the coordinator alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from datetime import UTC, date, datetime

from bot import stats
from bot.charts import bar_chart
from bot.handlers.base import Context
from bot.handlers.coordinator import parse_since, shows_images
from bot.handoff import language_name
from bot.messages import Attachment, Reply
from bot.results import MIME_TYPES

log = logging.getLogger(__name__)

FORMATS = ("csv", "json")


def parse_args(args: str) -> tuple[datetime | None, str | None] | None:
    """ "since 2026-11-01 csv", "2026-11-01", "--json": (since, format); None when the
    words are not that."""
    since: datetime | None = None
    fmt: str | None = None
    words = [w.lower().lstrip("-") for w in args.split()]
    i = 0
    while i < len(words):
        word = words[i]
        if word in FORMATS:
            fmt = word
        else:
            if word == "since" and i + 1 < len(words):
                i += 1
                word = words[i]
            try:
                since = parse_since(word)
            except ValueError:
                return None
        i += 1
    return since, fmt


async def show(ctx: Context, args: str) -> list[Reply]:
    """/stats [since DATE] [csv|json]."""
    parsed = parse_args(args)
    if parsed is None:
        return ctx.reply("stats_usage")
    since, fmt = parsed
    figures = await stats.gather(ctx.core.storage, since, ctx.now)

    def title_of(entry_id: str) -> str:
        entry = ctx.kb.entry(entry_id)
        return entry.title_in(ctx.language) if entry else entry_id

    def day_label(day: date) -> str:
        return ctx.dates.format_date(day)

    def platform_label(platform: str) -> str:
        key = f"stats_platform_{platform}"  # a platform's name as the reader writes it
        return ctx.t(key) if key in ctx.core.ui.strings["en"] else platform

    text = stats.as_text(
        figures,
        ctx.t,
        title_of=title_of,
        day_label=day_label,
        platform_label=platform_label,
        language_label=lambda code: language_name(code, ctx.language),
    )
    replies = [Reply(text)]
    if figures.total and shows_images(ctx):
        bars = stats.day_bars(figures, lambda d: d.strftime("%d.%m"))
        png = await asyncio.to_thread(bar_chart, ctx.t("stats_chart_title"), bars)
        replies.append(
            Reply(
                ctx.t("stats_chart_caption"),
                attachments=(Attachment("stats-per-day.png", png, "image/png"),),
            )
        )
    if fmt is not None:
        stamp = ctx.now.astimezone(UTC).strftime("%Y%m%d-%H%M")
        content = (
            stats.as_csv(figures)
            if fmt == "csv"
            else (json.dumps(stats.as_json(figures), ensure_ascii=False, indent=2) + "\n").encode()
        )
        name = f"nsbot-stats-{stamp}.{fmt}"
        replies.append(
            Reply(
                ctx.t("stats_file", format=fmt.upper()),
                attachments=(Attachment(name, content, MIME_TYPES[fmt]),),
            )
        )
    log.info("a coordinator on %s read the stats", ctx.person.platform)
    if ctx.in_group:
        replies = [dataclasses.replace(r, private=True) for r in replies]
    return replies
