"""👍 / 👎 under every answer: a thank-you, or "what was wrong?" and the desk.

👍 is thanked with a toast (where the platform has one). 👎 asks, optionally, what was
wrong (the person's next typed message, or Skip) and offers "Ask the secretariat" when
a desk is configured (the handoff's own offer, :func:`bot.handlers.handoff.offer`).
What is kept, and why nothing of it names the person: :mod:`bot.feedback`. The
replies to a vote carry no 👍 / 👎 of their own: only answers do.
"""

from __future__ import annotations

from typing import Any

from bot import feedback
from bot.handlers import handoff
from bot.handlers.base import Context
from bot.handlers.router import parse_command
from bot.matcher import Match
from bot.messages import Choice, Reply

KIND = feedback.KIND  # the conversation waiting for a comment


async def remember(ctx: Context, entry_id: str, question: str, language: str) -> str:
    """The reference an answer's buttons carry (what a vote on it needs, kept a week)."""
    return await ctx.core.storage.save_answer(
        entry_id=entry_id,
        question=" ".join(question.split()),
        language=language,
        platform=ctx.person.platform,
        now=ctx.now,
    )


def buttons(ctx: Context, ref: str) -> tuple[Choice, ...]:
    """The 👍 / 👎 row under an answer: 17 ASCII bytes of button data at most."""
    up, down = ctx.memo(
        ("feedback labels", ctx.language),
        lambda: (ctx.t("feedback_button_up"), ctx.t("feedback_button_down")),
    )
    return (
        Choice(up, feedback.action(feedback.UP, ref)),
        Choice(down, feedback.action(feedback.DOWN, ref)),
    )


async def _drop_pending(ctx: Context, ref: str | None = None) -> None:
    """End a "what was wrong?" still waiting (for this answer, or any)."""
    state = await ctx.state()
    if state is not None and state[0] == KIND and ref in (None, state[1].get("ref")):
        await ctx.clear_state()


async def _desk(ctx: Context, answer: feedback.AnswerRef) -> Choice | None:
    """ "Ask the secretariat" with the question (or, from a button, the entry's title)."""
    entry = ctx.kb.entry(answer.entry_id)
    question = answer.question or (entry.title_in(answer.language) if entry else "")
    tried = Match(status="answer", id=entry.id if entry else None, score=0.0)
    return await handoff.offer(ctx, question, tried)


async def on_action(ctx: Context, arg: str) -> list[Reply]:
    """Buttons "fb:u|d:<answer ref>" (👍, 👎) and "fb:s" (no comment)."""
    parsed = feedback.parse_action(arg)
    if parsed is None:
        return ctx.notice("unknown_action")
    verb, ref = parsed
    if verb == feedback.SKIP:
        await _drop_pending(ctx)
        return ctx.notice("feedback_skipped")
    storage = ctx.core.storage
    answer = await storage.get_answer(ref, ctx.now)
    if answer is None:
        return ctx.notice("feedback_expired")
    voter = ctx.core.pseudonyms.feedback(ref, ctx.person.key)
    helpful = verb == feedback.UP
    before = await storage.cast_feedback(voter, answer, helpful, ctx.now)
    if before is helpful:  # a double tap, or the same verdict again: counted once
        return ctx.notice("feedback_already")
    if helpful:
        await _drop_pending(ctx, ref)
        return ctx.notice("feedback_thanks")
    if ctx.in_group:
        # Not "type what was wrong": the person's next words in a group are meant for
        # the group, and must not be kept as a comment. The desk is offered in private.
        return ctx.notice("feedback_noted_in_group")
    state = await ctx.state()
    if state is not None and state[0] != KIND:
        # In the middle of something else (a consultation, the profile): not replaced.
        return ctx.notice("feedback_skipped")
    # The state keeps the answer's reference (in the person's chat anyway), not the
    # vote's code: without the key, the person's state does not point at the vote row.
    # It ends with the person's next message here; /mydata shows it, /forget deletes it.
    await ctx.set_state(KIND, {"ref": ref})
    choices = [Choice(ctx.t("feedback_button_skip"), feedback.action(feedback.SKIP))]
    desk = await _desk(ctx, answer)
    if desk is not None:
        choices.append(desk)
    return [Reply(ctx.t("feedback_ask"), choices=tuple(choices), expects="text")]


async def converse(ctx: Context, data: dict[str, Any]) -> list[Reply] | None:
    """After 👎: the next typed message is the comment. A command or another button
    means the person moved on (the comment is not asked again)."""
    action = ctx.message.action
    if action is not None:
        if not action.startswith(feedback.PREFIX + ":"):
            await ctx.clear_state()
        return None  # the router's, either way
    if not ctx.text:
        return None
    await ctx.clear_state()
    if parse_command(ctx.text) is not None:
        return None
    comment = " ".join(ctx.text.split())[: feedback.MAX_COMMENT]
    voter = ctx.core.pseudonyms.feedback(str(data.get("ref", "")), ctx.person.key)
    if not await ctx.core.storage.comment_feedback(voter, comment):
        return None  # the vote changed to 👍 meanwhile: the text is a question again
    return ctx.reply("feedback_comment_thanks")
