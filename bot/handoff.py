"""Asking a person: what the secretariat's desk and the asker see of one handoff.

Pure wording of the messages relayed between an asker (on Telegram, Slack...) and the
desk (``NSBOT_HANDOFF``, a Slack channel or a Telegram group), from a stored
:class:`~bot.storage.handoff.HandoffRow`. What the desk sees of the asker: their name
and National Society only when they agreed; otherwise the handoff's random reference.
The desk's words are in ``DESK_LANGUAGE``: one channel, read by one team.
"""

from __future__ import annotations

from bot import markup
from bot.knowledge import KnowledgeBase
from bot.storage.handoff import HandoffRow
from bot.ui import UI, language_of

DESK_LANGUAGE = "en"
MAX_QUESTION = 1000  # characters of a question sent to the desk (Telegram allows 4096)
MAX_RELAYED = 3000  # characters of one relayed message (Slack's section limit)
MAX_TRIED = 3  # suggestions of the bot shown to the desk

# Button actions: "ho:<verb>:<handoff id>[:<arg>]" (see bot.handlers.handoff).
ASK, SEND, CANCEL, CLOSE, HELPED = "a", "s", "c", "x", "h"


def action(verb: str, handoff_id: int, arg: str = "") -> str:
    return f"ho:{verb}:{handoff_id}" + (f":{arg}" if arg else "")


def parse_action(arg: str) -> tuple[str, int, str] | None:
    """ "s:12:n" -> ("s", 12, "n"); None when it is not one of ours."""
    verb, _, rest = arg.partition(":")
    ident, _, extra = rest.partition(":")
    if not verb or not ident.isascii() or not ident.isdigit():
        return None
    return verb, int(ident), extra


def language_name(code: str | None, in_language: str = DESK_LANGUAGE) -> str:
    """ "fr" -> "French" (in the desk's language), by CLDR; the code when unknown."""
    from babel import Locale, UnknownLocaleError  # CLDR data: when a desk reads a name

    code = language_of(code)
    try:
        return str(Locale.parse(code).get_display_name(in_language) or code)
    except (UnknownLocaleError, ValueError):
        return code


def clip(text: str, limit: int = MAX_RELAYED) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def desk_card(ui: UI, kb: KnowledgeBase, h: HandoffRow, *, status: str = "") -> str:
    """The question as posted to the desk: who (or the reference), their language,
    what the bot tried, and how to answer. ``status`` is a line added when it closes."""

    def t(key: str, **values: object) -> str:
        return ui.t(key, DESK_LANGUAGE, **values)

    if h.shared and (h.name or h.society):
        who = t(
            "handoff_desk_from_named",
            name=markup.escape(h.name or t("handoff_desk_no_name")),
            society=markup.escape(h.society or t("handoff_desk_no_society")),
        )
    else:
        who = t("handoff_desk_from_anonymous")
    titles = [e.title_in(DESK_LANGUAGE) for e in (kb.entry(i) for i in h.tried) if e is not None]
    tried = (
        t("handoff_desk_tried", titles="; ".join(markup.escape(x) for x in titles[:MAX_TRIED]))
        if titles
        else t("handoff_desk_tried_nothing")
    )
    lines = [
        t("handoff_desk_title", ref=h.ref),
        who,
        t("handoff_desk_language", spoken=language_name(h.language)),
        "> " + markup.escape(" ".join(clip(h.question, MAX_QUESTION).split())),
        tried,
        status or t("handoff_desk_how"),
    ]
    return "\n".join(lines)


def desk_follow_up(ui: UI, h: HandoffRow, text: str) -> str:
    """The asker's later message, in the desk thread."""
    return ui.t("handoff_desk_follow_up", DESK_LANGUAGE, ref=h.ref, text=markup.escape(clip(text)))


def to_asker(ui: UI, h: HandoffRow, text: str) -> str:
    """A desk member's answer, as the asker sees it: from the secretariat, no name."""
    return (
        ui.t("handoff_reply", h.language, ref=h.ref, text=markup.escape(clip(text)))
        + "\n\n"
        + ui.t("handoff_reply_helped", h.language)
    )
