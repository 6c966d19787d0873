"""Greetings, thanks and goodbyes get a friendly short answer, not a knowledge-base miss."""

from __future__ import annotations

from bot.handlers.base import Context
from bot.handlers.info import greeting_name
from bot.matcher import normalise, text_words
from bot.messages import Reply


async def handle(ctx: Context) -> list[Reply] | None:
    if ctx.message.action is not None or not ctx.text:
        return None
    # Most messages are questions: their words (read once per text, and kept for the
    # matcher and the next handlers) are no phrase's, and they are not normalised twice.
    if tuple(text_words(ctx.text)) not in ctx.core.ui.smalltalk_words():
        return None
    said = normalise(ctx.text)
    for reply_key, phrases in ctx.core.ui.smalltalk:
        if said in phrases:
            return ctx.reply(reply_key, name=greeting_name(ctx))
    return None
