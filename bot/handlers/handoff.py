"""Ask a person: /human, "Ask the secretariat", the desk's replies, /myquestions, /close.

When the bot only suggests or falls back, and on ``/human <question>``, a person in a
private chat may send the question to the secretariat's desk (``NSBOT_HANDOFF``),
after confirming it and choosing whether the desk sees their name and National
Society. A desk member answers in the question's thread (Slack) or by replying to it
(Telegram); the answer reaches the asker in their chat, and the asker's next messages
reach the thread, until either side closes it.

Nothing is sent from here: every message for the other side is stored as a relay row
in the event's own transaction and sent by :mod:`bot.relay` (exactly once per event).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from bot import handoff, markup, relay
from bot.handlers.base import CommandFn, Context
from bot.handlers.router import parse_command
from bot.matcher import Match
from bot.messages import Choice, Reply
from bot.storage.handoff import CLOSED, DRAFT, FOLLOW_UP, NOTE, OPEN, QUESTION, REPLY, HandoffRow

MAX_LISTED = 10  # /myquestions shows this many, newest first

log = logging.getLogger(__name__)


def configured(ctx: Context) -> bool:
    return ctx.core.settings.handoff is not None


def _at_desk(ctx: Context, h: HandoffRow) -> bool:
    """The event comes from the desk the question was sent to."""
    return ctx.person.platform == h.desk_platform and ctx.message.chat.chat_id == h.desk_chat


def _is_desk_chat(ctx: Context) -> bool:
    desk = ctx.core.settings.handoff
    return desk is not None and (ctx.person.platform, ctx.message.chat.chat_id) == (
        desk.platform,
        desk.chat,
    )


def _tried(result: Match) -> list[str]:
    if result.suggestions:
        return [s.id for s in result.suggestions]
    return [result.id] if result.id else []


async def _draft(ctx: Context, question: str, result: Match) -> HandoffRow:
    return await ctx.core.storage.save_draft(
        person=ctx.person.key,
        platform=ctx.person.platform,
        chat=ctx.message.chat.chat_id,
        language=ctx.language,
        question=handoff.clip(question, handoff.MAX_QUESTION),
        tried=_tried(result),
        now=ctx.now,
    )


async def offer(ctx: Context, question: str, result: Match) -> Choice | None:
    """The "Ask the secretariat" button under a suggestion or the fallback, when a desk
    is configured and the chat is private (the offered question is kept as a draft)."""
    if not configured(ctx) or ctx.in_group or _is_desk_chat(ctx) or not question.strip():
        return None
    draft = await _draft(ctx, question, result)
    return Choice(ctx.t("handoff_button_ask"), handoff.action(handoff.ASK, draft.id))


def _confirm(ctx: Context, h: HandoffRow, edit: str | None = None) -> Reply:
    return Reply(
        ctx.t("handoff_confirm", question=markup.escape(" ".join(h.question.split()))),
        choices=(
            Choice(ctx.t("handoff_button_send_named"), handoff.action(handoff.SEND, h.id, "n")),
            Choice(ctx.t("handoff_button_send_anonymous"), handoff.action(handoff.SEND, h.id, "a")),
            Choice(ctx.t("handoff_button_cancel"), handoff.action(handoff.CANCEL, h.id)),
        ),
        edit=edit,
    )


async def human(ctx: Context, args: str) -> list[Reply]:
    """/human <question>: offer to send it to the desk, whatever the bot would answer."""
    if not configured(ctx):
        return ctx.reply("handoff_off")
    if ctx.in_group or _is_desk_chat(ctx):
        return ctx.reply("handoff_private_only")
    if not args.strip():
        return ctx.reply("handoff_usage")
    draft = await _draft(ctx, args, await ctx.core.matching.run(ctx.matcher.match, args))
    return [_confirm(ctx, draft)]


def _key(h: HandoffRow, kind: str) -> str:
    return f"ho:{h.id}:{kind}:{secrets.token_hex(6)}"


async def _to_desk(
    ctx: Context, h: HandoffRow, kind: str, text: str, key: str, *, edits: str | None = None
) -> None:
    assert h.desk_platform is not None and h.desk_chat is not None
    await ctx.core.storage.queue_relay(
        handoff_id=h.id,
        kind=kind,
        platform=h.desk_platform,
        chat=h.desk_chat,
        key=key,
        text=text,
        now=ctx.now,
        choices=()
        if kind != QUESTION
        else (
            (
                ctx.core.ui.t("handoff_desk_button_close", handoff.DESK_LANGUAGE),
                handoff.action(handoff.CLOSE, h.id),
            ),
        ),
        in_thread=kind in (FOLLOW_UP, NOTE),
        edits=edits,
    )
    relay.wake(ctx.core)


async def _to_asker(
    ctx: Context, h: HandoffRow, kind: str, text: str, choices: tuple[tuple[str, str], ...] = ()
) -> None:
    await ctx.core.storage.queue_relay(
        handoff_id=h.id,
        kind=kind,
        platform=h.platform,
        chat=h.chat,
        key=_key(h, kind),
        text=text,
        now=ctx.now,
        choices=choices,
    )
    relay.wake(ctx.core)


def _question_key(h: HandoffRow) -> str:
    return f"ho:{h.id}:question"


async def _send(ctx: Context, h: HandoffRow, shared: bool) -> list[Reply]:
    desk = ctx.core.settings.handoff
    assert desk is not None
    profile = await ctx.core.storage.get_profile(ctx.person.key) if shared else None
    opened = await ctx.core.storage.open_handoff(
        h.id,
        person=ctx.person.key,
        shared=shared,
        name=ctx.person.display_name or None,
        society=profile.national_society if profile else None,
        desk_platform=desk.platform,
        desk_chat=desk.chat,
        now=ctx.now,
    )
    if not opened:  # a second press, or a draft an older offer replaced
        return ctx.notice("handoff_already_sent")
    sent = await ctx.core.storage.get_handoff(h.id)
    assert sent is not None
    await _to_desk(
        ctx,
        sent,
        QUESTION,
        handoff.desk_card(ctx.core.ui, ctx.kb, sent),
        _question_key(sent),
    )
    return [Reply(ctx.t("handoff_sent", ref=sent.ref), edit=ctx.message.origin)]


async def _close(ctx: Context, h: HandoffRow, by: str) -> list[Reply]:
    if not await ctx.core.storage.close_handoff(h.id, by, ctx.now):
        return ctx.notice("handoff_already_closed", ref=h.ref)
    closed = await ctx.core.storage.get_handoff(h.id) or h
    ui = ctx.core.ui
    status = ui.t(f"handoff_desk_closed_by_{by}", handoff.DESK_LANGUAGE)
    card = handoff.desk_card(ui, ctx.kb, closed, status=status)
    await _to_desk(ctx, closed, NOTE, card, f"ho:{h.id}:closed-card", edits=_question_key(h))
    if by == "asker":
        await _to_desk(ctx, closed, NOTE, status, f"ho:{h.id}:closed-note")
        return ctx.reply("handoff_closed", ref=h.ref)
    await _to_asker(ctx, closed, NOTE, ui.t("handoff_closed_by_desk", h.language, ref=h.ref))
    return ctx.notice("handoff_desk_closed_done", ref=h.ref)


async def on_action(ctx: Context, arg: str) -> list[Reply]:
    """Buttons "ho:a|s|c|x|h:<handoff>[:...]": ask, send (n named, a anonymous),
    cancel, close, and "Did this help?" (y|n)."""
    parsed = handoff.parse_action(arg)
    h = await ctx.core.storage.get_handoff(parsed[1]) if parsed else None
    if parsed is None or h is None:
        return ctx.notice("handoff_gone")
    verb, _, extra = parsed
    mine = h.person == ctx.person.key
    if verb == handoff.CLOSE:
        if mine:
            return await _close(ctx, h, "asker")
        if _at_desk(ctx, h):
            return await _close(ctx, h, "desk")
        return ctx.notice("unknown_action")
    if not mine:
        return ctx.notice("unknown_action")
    if verb == handoff.ASK:
        if h.status != DRAFT:
            return ctx.notice("handoff_already_sent")
        if not configured(ctx):
            return ctx.reply("handoff_off")
        return [_confirm(ctx, h)]
    if verb == handoff.SEND and extra in ("n", "a"):
        if not configured(ctx):
            return ctx.reply("handoff_off")
        return await _send(ctx, h, shared=extra == "n")
    if verb == handoff.CANCEL:
        if h.status != DRAFT:
            return ctx.notice("handoff_already_sent")
        return [Reply(ctx.t("handoff_cancelled"), edit=ctx.message.origin)]
    if verb == handoff.HELPED and extra in ("y", "n"):
        await ctx.core.storage.set_helpful(h.id, extra == "y")
        if extra == "y":
            return ctx.notice("handoff_helped_thanks")
        return ctx.reply("handoff_not_helped" if h.status == OPEN else "handoff_not_helped_closed")
    return ctx.notice("unknown_action")


async def desk_reply(ctx: Context) -> list[Reply] | None:
    """A desk member's reply to a relayed question (its thread, or a reply to it):
    to the asker. ``/close`` in reply closes it. Anything else is not this handler's."""
    reply_to = ctx.message.reply_to
    if reply_to is None or ctx.message.action is not None or not ctx.text:
        return None
    h = await ctx.core.storage.handoff_at(ctx.person.platform, reply_to)
    if h is None or not _at_desk(ctx, h):
        # Desk members talking in another thread of their channel: not for the bot.
        return [] if _is_desk_chat(ctx) and parse_command(ctx.text) is None else None
    command = parse_command(ctx.text)
    if command is not None:
        if command[0] == "close":
            return await _close(ctx, h, "desk")
        return None  # another command, asked in the thread: the router's
    if h.status != OPEN:
        return [Reply(ctx.core.ui.t("handoff_desk_not_open", handoff.DESK_LANGUAGE, ref=h.ref))]
    await ctx.core.storage.note_desk_reply(h.id, ctx.now)
    language = h.language
    ui = ctx.core.ui
    await _to_asker(
        ctx,
        h,
        REPLY,
        handoff.to_asker(ui, h, ctx.text),
        (
            (ui.t("handoff_button_helped", language), handoff.action(handoff.HELPED, h.id, "y")),
            (
                ui.t("handoff_button_not_helped", language),
                handoff.action(handoff.HELPED, h.id, "n"),
            ),
            (ui.t("handoff_button_close", language), handoff.action(handoff.CLOSE, h.id)),
        ),
    )
    return []


async def follow_up(ctx: Context) -> list[Reply] | None:
    """While the person's question is open, what they type in that chat goes to the
    desk thread (commands still work: /close ends it)."""
    if ctx.message.action is not None or not ctx.text or ctx.in_group:
        return None
    h = await ctx.core.storage.current_handoff(ctx.person.key, ctx.message.chat.chat_id)
    if h is None or h.desk_platform is None:
        return None
    text = handoff.desk_follow_up(ctx.core.ui, h, ctx.text)
    await _to_desk(ctx, h, FOLLOW_UP, text, _key(h, FOLLOW_UP))
    return ctx.reply("handoff_follow_up_sent", ref=h.ref)


def _status(ctx: Context, h: HandoffRow) -> str:
    if h.status == CLOSED:
        return ctx.t("handoff_status_closed")
    if h.first_reply_at is not None:
        return ctx.t("handoff_status_answered")
    return ctx.t("handoff_status_waiting")


def _day(ctx: Context, moment: datetime | None) -> str:
    return ctx.dates.format_date(moment.date()) if moment else ""


async def myquestions(ctx: Context, args: str) -> list[Reply]:
    """/myquestions: the person's questions to the secretariat and where each stands."""
    if ctx.in_group:
        return ctx.reply("handoff_private_only")
    rows = [h for h in await ctx.core.storage.handoffs_of(ctx.person.key) if h.status != DRAFT]
    if not rows:
        return ctx.reply("handoff_none" if configured(ctx) else "handoff_off")
    lines = [
        "- "
        + ctx.t(
            "handoff_listed",
            ref=h.ref,
            date=_day(ctx, h.sent_at),
            status=_status(ctx, h),
            question=markup.escape(markup.shorten(h.question, 80)),
        )
        for h in rows[:MAX_LISTED]
    ]
    return [Reply(ctx.t("handoff_list_header") + "\n" + "\n".join(lines))]


def close_or(coordinators: CommandFn) -> CommandFn:
    """/close: end the person's open question in this chat; for coordinators, anything
    else (``/close ID``: a poll or a consultation) goes to ``coordinators``."""

    async def close(ctx: Context, args: str) -> list[Reply]:
        h = None
        if not ctx.in_group:
            h = await ctx.core.storage.current_handoff(ctx.person.key, ctx.message.chat.chat_id)
        if h is not None and (not args.strip() or args.strip().upper() == h.ref):
            return await _close(ctx, h, "asker")
        if ctx.is_coordinator:
            return await coordinators(ctx, args)
        if args.strip():
            # As the router does for every coordinators' command refused (bot/handlers/router.py).
            log.warning("refused /close to a non-coordinator on %s", ctx.person.platform)
            return ctx.reply("coordinators_only")
        return ctx.reply("handoff_nothing_to_close")

    return close
