"""Dispatch to conversations, commands and button actions, as registered in
:mod:`bot.handlers`."""

from __future__ import annotations

import logging
import re

from bot import markup
from bot.handlers.base import ActionFn, Command, Context, ConversationFn, Handler
from bot.messages import Reply

log = logging.getLogger(__name__)

# "/ask@nsbot_bot when..." (Telegram adds the bot's name in groups).
_COMMAND_RE = re.compile(r"^/([A-Za-z][A-Za-z0-9_]*)(?:@\S+)?(?:\s+(.*))?$", re.DOTALL)
# A bare word that people type meaning the command ("help", "topics").
BARE_COMMANDS = frozenset({"help", "start", "topics", "timeline", "menu"})


def parse_command(text: str) -> tuple[str, str] | None:
    """("ask", "when was...") for "/ask when was...", or None when not a command."""
    m = _COMMAND_RE.match(text.strip())
    if m:
        return m.group(1).lower(), (m.group(2) or "").strip()
    word = text.strip().lower().rstrip("!.?")
    if word in BARE_COMMANDS:
        return ("start" if word == "menu" else word), ""
    return None


def conversations(registry: dict[str, ConversationFn]) -> Handler:
    """A person in the middle of a multi-step conversation talks to it first."""

    async def handle(ctx: Context) -> list[Reply] | None:
        state = await ctx.state()
        if state is None:
            return None
        kind, data = state
        fn = registry.get(kind)
        if fn is None:
            log.warning("dropping conversation of unknown kind %r", kind)
            await ctx.clear_state()
            return None
        return await fn(ctx, data)

    return handle


def commands(registry: list[Command], actions: dict[str, ActionFn]) -> Handler:
    by_name = {c.name: c for c in registry}

    async def run(ctx: Context, name: str, args: str) -> list[Reply]:
        command = by_name.get(name)
        if command is None:
            return ctx.reply("unknown_command", command=markup.escape(name))
        if command.coordinators_only and not ctx.is_coordinator:
            log.warning("refused /%s to a non-coordinator on %s", name, ctx.person.platform)
            return ctx.reply("coordinators_only")
        return await command.run(ctx, args)

    async def handle(ctx: Context) -> list[Reply] | None:
        action = ctx.message.action
        if action is not None:
            prefix, _, arg = action.partition(":")
            if prefix == "cmd":
                return await run(ctx, arg, "")
            fn = actions.get(prefix)
            if fn is None:
                # A button from an old message: a toast where the platform has one.
                return ctx.notice("unknown_action")
            return await fn(ctx, arg)
        parsed = parse_command(ctx.text)
        if parsed is None:
            return None
        return await run(ctx, *parsed)

    return handle
