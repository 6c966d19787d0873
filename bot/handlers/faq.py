"""Question answering: a confident answer with follow-ups, suggestions, or the fallback.

Questions that end in a suggestion or the fallback are logged (text, time, platform;
no identity) so curators can see what people ask that the knowledge base lacks. Every
question's outcome is counted (day, platform, language: /stats), and every answer
carries 👍 / 👎 (:mod:`bot.handlers.feedback`).
"""

from __future__ import annotations

from bot import followup, markup
from bot.handlers import feedback, handoff, timeline
from bot.handlers.base import Context
from bot.knowledge import Entry
from bot.matcher import Match, answer_language
from bot.messages import Choice, Reply

MAX_LABEL = 60
MAX_SOURCES_SHOWN = 4  # an overview citing ten pages shows four links and "(+6)"


def label(text: str) -> str:
    """Button labels stay short: long ones are cut at a word with an ellipsis."""
    return markup.shorten(text, MAX_LABEL)


def entry_reply(
    ctx: Context, entry: Entry, asked_in: str | None = None, *, ref: str | None = None
) -> Reply:
    """An answer, in the language the question was asked in when the entry has it,
    else in the person's language, else English. ``ref`` (the answer message's
    reference, :mod:`bot.feedback`) adds the 👍 / 👎 row."""
    language = answer_language(entry, asked_in, ctx.language)
    # The answer, its sources and related entries are the same for everyone reading it
    # in these languages: rendered once (ctx.memo). Its dates depend on today too.
    text, related = ctx.memo(
        ("entry", entry.id, language, ctx.language), lambda: _entry_body(ctx, entry, language)
    )
    dates, calendar_buttons = timeline.dates_for_entry(ctx, entry.id)
    if dates:
        text += "\n\n" + dates
    footer = feedback.buttons(ctx, ref) if ref else ()
    return Reply(text, choices=calendar_buttons + related, footer=footer)


def _entry_body(ctx: Context, entry: Entry, language: str) -> tuple[str, tuple[Choice, ...]]:
    """An answer's text with its sources, and its related entries' buttons."""
    kb = ctx.kb
    text = entry.answer_in(language)
    source = source_line(ctx, entry)
    if source:
        text += "\n\n" + source
    related = [e for e in (kb.entry(r) for r in entry.related) if e is not None]
    choices = tuple(Choice(label(title_for(ctx, e, language)), f"faq:{e.id}") for e in related[:4])
    return text, choices


def title_for(ctx: Context, entry: Entry, language: str | None) -> str:
    """A button's text in the language of the answer it sits under (the rule of
    :func:`answer_language`, so a button never shows a third language)."""
    return entry.title_in(answer_language(entry, language, ctx.language))


def source_line(ctx: Context, entry: Entry) -> str:
    """ "Source: [Blog on rcrcconference.org, June 2022](https://…)": each page behind the
    answer as a link a person can open, with its date when it has one, since a dated
    page tells the reader what "currently" meant when it was written. Labels are in the
    person's language, like the "Source:" before them."""
    cited = ctx.kb.citations(entry.sources, ctx.language)
    if not cited:
        plain = ctx.kb.source_label(entry, ctx.language)
        return "_" + markup.escape(ctx.t("source", source=plain)) + "_" if plain else ""
    links = []
    for c in cited[:MAX_SOURCES_SHOWN]:
        name = c.label
        if c.published:
            name += ", " + ctx.dates.format_date(c.published, c.precision)
        links.append(f"[{markup.escape(name)}]({c.url})")
    more = len(cited) - MAX_SOURCES_SHOWN
    return ctx.t("source", source="; ".join(links) + (f" (+{more})" if more > 0 else ""))


async def answer(ctx: Context, question: str) -> list[Reply]:
    # Matching runs on the loop, in turns (bot/turns.py): a thread would only add GIL
    # contention for a pure-Python matcher.
    storage, person, chat = ctx.core.storage, ctx.person.key, ctx.message.chat.chat_id
    last = await storage.last_answer(person, chat, ctx.now - followup.CONTEXT_TTL)
    previous = followup.Previous(*last) if last else None
    result: Match = await ctx.core.matching.run(followup.resolve, ctx.matcher, question, previous)
    # Counted in the language asked in (the answer's may be English, untranslated), as
    # shown: an "answer" without an entry gets the fallback below.
    await storage.count_question(
        outcome=result.status if result.id or result.status != "answer" else "fallback",
        platform=ctx.person.platform,
        language=result.language or ctx.language,
        now=ctx.now,
    )
    if result.status == "answer" and result.id:
        entry = ctx.kb.entries[result.id]
        language = answer_language(entry, result.language, ctx.language)
        await storage.remember_answer(person, chat, entry.id, language, ctx.now)
        ref = await feedback.remember(ctx, entry.id, question, language)
        return [entry_reply(ctx, entry, language, ref=ref)]
    if ctx.core.may_log_gap(person, ctx.now):  # one person cannot fill the curators' log
        await ctx.core.storage.log_gap(question, result.status, ctx.person.platform, ctx.now)
    desk = await handoff.offer(ctx, question, result)  # "Ask the secretariat", if configured
    # Worded in the question's language, as an answer would be: an Arabic question typed
    # in an English chat app gets "did you mean" in Arabic, not English. Where the
    # question does not say (a lone "ok"), the chat app's language.
    asked = result.language or ctx.language
    if result.status == "suggest":
        kb = ctx.kb
        choices = [
            Choice(label(title_for(ctx, kb.entries[s.id], result.language)), f"faq:{s.id}")
            for s in result.suggestions
        ]
        # The language rides on the button, so the thanks after it is worded alike.
        choices.append(Choice(ctx.core.ui.t("suggest_none", asked), f"nomatch:{asked}"))
        if desk is not None:
            choices.append(desk)
        return [Reply(ctx.core.ui.t("suggest", asked), choices=tuple(choices))]
    fallback = [
        Choice(ctx.core.ui.t("button_topics", asked), "cmd:topics"),
        Choice(ctx.core.ui.t("button_timeline", asked), "cmd:timeline"),
    ]
    if desk is not None:
        fallback.append(desk)
    return [Reply(ctx.core.ui.t("fallback", asked), choices=tuple(fallback), columns=2)]


async def handle(ctx: Context) -> list[Reply] | None:
    """The last handler: any text nobody else took is a question."""
    if ctx.message.action is not None or not ctx.text:
        return None
    return await answer(ctx, ctx.text)


async def ask(ctx: Context, args: str) -> list[Reply]:
    if not args.strip():
        return ctx.reply("ask_usage")
    return await answer(ctx, args)


async def show_entry(ctx: Context, entry_id: str) -> list[Reply]:
    entry = ctx.kb.entry(entry_id)  # an old id of a merged entry still resolves
    if entry is None:  # a button from before the knowledge base changed
        return ctx.notice("unknown_action")
    # A pressed button is an answer too: "who chairs it?" may follow.
    language = answer_language(entry, None, ctx.language)
    await ctx.core.storage.remember_answer(
        ctx.person.key, ctx.message.chat.chat_id, entry.id, language, ctx.now
    )
    # No typed question behind a button: the vote keeps the entry alone.
    ref = await feedback.remember(ctx, entry.id, "", language)
    return [entry_reply(ctx, entry, ref=ref)]


async def none_of_these(ctx: Context, asked: str) -> list[Reply]:
    """ "None of these": thanks in the language the suggestions were worded in (an older
    button carries none: the chat app's)."""
    return [Reply(ctx.core.ui.t("suggest_none_reply", asked or ctx.language))]
