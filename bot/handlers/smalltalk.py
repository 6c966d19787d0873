"""Greetings, thanks and goodbyes get a friendly short answer, not a knowledge-base miss."""

from __future__ import annotations

from itertools import dropwhile

from bot.handlers.base import Context
from bot.handlers.info import greeting_name
from bot.messages import Reply
from bot.wording import normalise, text_words

# An acknowledgement in front of the thanks or the goodbye ("vale gracias", "ok merci",
# "تمام شكرا") changes nothing: as the matcher and the smalltalk phrases read them.
_ACKNOWLEDGED = frozenset(
    [
        "ok",
        "okay",
        "okey",
        "okk",
        "k",
        "kk",
        "vale",
        "bueno",
        "bien",
        "super",
        "great",
        "perfect",
        "perfecto",
        "parfait",
        "genial",
        "top",
        "cool",
        "nice",
        "dac",
        "daccord",
        "entendu",
        "bon",
        "alright",
        "tamam",
        "تمام",
        "طيب",
        "ماشي",
        "اوكي",
        "حسنا",
    ]
)


def _unacknowledged(words: list[str]) -> list[str]:
    """The words after any leading acknowledgement; all of them when that is all."""
    rest = list(dropwhile(lambda w: w in _ACKNOWLEDGED, words))
    return rest or words


async def handle(ctx: Context) -> list[Reply] | None:
    if ctx.message.action is not None or not ctx.text:
        return None
    # Most messages are questions: their words (read once per text, and kept for the
    # matcher and the next handlers) are no phrase's, and they are not normalised twice.
    if tuple(_unacknowledged(text_words(ctx.text))) not in ctx.core.ui.smalltalk_words():
        return None
    said = " ".join(_unacknowledged(normalise(ctx.text).split()))
    for reply_key, phrases in ctx.core.ui.smalltalk:
        if said in phrases:
            return ctx.reply(reply_key, name=greeting_name(ctx))
    return None
