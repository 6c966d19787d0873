"""/start and /help: who the bot is and how to use it."""

from __future__ import annotations

from bot import markup
from bot.handlers.base import Context
from bot.messages import Choice, Reply


def menu(ctx: Context) -> tuple[Choice, ...]:
    return (
        Choice(ctx.t("button_topics"), "cmd:topics"),
        Choice(ctx.t("button_timeline"), "cmd:timeline"),
        Choice(ctx.t("button_help"), "cmd:help"),
    )


def greeting_name(ctx: Context) -> str:
    """ ", Marie" for "Hello{name}!"; the separator is the language's ("، " in Arabic)."""
    name = ctx.person.display_name.strip().split(" ")[0] if ctx.person.display_name.strip() else ""
    return ctx.t("greeting_separator") + markup.escape(name) if name else ""


async def start(ctx: Context, args: str) -> list[Reply]:
    return [Reply(ctx.t("start", name=greeting_name(ctx)), choices=menu(ctx), columns=3)]


async def help_(ctx: Context, args: str) -> list[Reply]:
    text = ctx.t("help")
    if ctx.in_group:
        text += "\n\n" + ctx.t("group_help")
    if ctx.is_coordinator:  # only coordinators are told about the commands only they can use
        text += "\n\n" + ctx.t("coordinator_help")
    return [Reply(text, choices=menu(ctx)[:2], columns=2)]
