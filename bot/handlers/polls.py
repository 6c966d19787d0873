"""/poll (coordinators) and the vote buttons of posted polls."""

from __future__ import annotations

from datetime import timedelta

from bot import markup, polls, typed
from bot.handlers.base import Context
from bot.messages import Reply
from bot.storage.base import PollRow


async def poll(ctx: Context, args: str) -> list[Reply]:
    """/poll Question? | Option | Option [--closes 48h] [--multi] [--named]"""
    # The usage's example closing date is a week ahead, never one already past.
    example = (ctx.now + timedelta(days=7)).date().isoformat()
    try:
        spec = polls.parse_poll(args, ctx.now)
    except polls.PollUsageError as exc:
        text = ctx.t(exc.key, **{"example_date": example, **exc.values})
        if exc.key != "poll_usage":
            text += "\n\n" + ctx.t("poll_usage", example_date=example)
        return [Reply(text)]
    created = await ctx.core.storage.create_poll(
        platform=ctx.person.platform,
        chat=ctx.message.chat.chat_id,
        question=spec.question,
        options=spec.options,
        multi=spec.multi,
        anonymous=spec.anonymous,
        created_by=ctx.person.key,
        closes_at=spec.closes_at,
        now=ctx.now,
        language=ctx.language,
    )
    tally = await ctx.core.storage.poll_tally(created.id)
    return [polls.poll_reply(ctx.core.ui, created, tally, ctx.now)]


def voter(ctx: Context, row: PollRow) -> str:
    if row.anonymous:
        return ctx.core.pseudonyms.voter(row.id, ctx.person.key)
    return ctx.person.key


async def final_results(ctx: Context, row: PollRow) -> list[Reply]:
    """A poll past its time: close it and show the final tally in the posted message."""
    closed = await polls.finish_poll(ctx.core, row, ctx.now)
    tally = await ctx.core.storage.poll_tally(closed.id)
    await ctx.core.storage.mark_poll_final_shown(closed.id)
    return [
        polls.poll_reply(ctx.core.ui, closed, tally, ctx.now),
        Reply(ctx.t("poll_is_closed"), notice=True),
    ]


async def on_vote(ctx: Context, arg: str) -> list[Reply]:
    """Button "pv:<poll>:<option>": one vote per person, changeable while the poll is open."""
    poll_text, _, option_text = arg.partition(":")
    poll_id, option = typed.whole_number(poll_text), typed.whole_number(option_text)
    if poll_id is None or option is None:
        return ctx.reply("unknown_action")
    row = await ctx.core.storage.get_poll(poll_id)
    if row is None or option >= len(row.options):
        return ctx.reply("unknown_action")
    if (row.platform, row.chat) != (ctx.person.platform, ctx.message.chat.chat_id):
        # The buttons only exist on the posted message: a press from elsewhere is forged.
        return ctx.notice("unknown_action")
    if not row.is_open(ctx.now):
        return await final_results(ctx, row)
    mine = await ctx.core.storage.cast_vote(
        row.id,
        voter(ctx, row),
        option,
        name=ctx.person.display_name or ctx.person.user_id,
        now=ctx.now,
        debounce=polls.DOUBLE_TAP,
    )
    if mine is None:  # closed between the two reads
        return await final_results(ctx, row)
    tally = await ctx.core.storage.poll_tally(row.id)
    if mine:
        chosen = ctx.t("list_separator").join(row.options[i] for i in mine)
        ack = ctx.t("poll_voted", choice=markup.escape(chosen))
    else:
        ack = ctx.t("poll_vote_removed")
    # The posted tally in the poll's language; the toast in the voter's.
    return [polls.poll_reply(ctx.core.ui, row, tally, ctx.now), Reply(ack, notice=True)]
