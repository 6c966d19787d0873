"""/topics: browse the knowledge base by topic, as buttons, in the person's language
(each topic's title and description, and each entry's title, where translated)."""

from __future__ import annotations

from bot import markup
from bot.handlers.base import Context
from bot.handlers.faq import label, title_for
from bot.messages import Choice, Reply

MAX_TOPIC_BUTTONS = 30


async def topics(ctx: Context, args: str) -> list[Reply]:
    kb = ctx.kb
    shown = [t.in_language(ctx.language) for t in kb.topics.values() if kb.entries_in_topic(t.id)]
    if not shown:
        return ctx.reply("topics_empty")
    return [
        Reply(
            ctx.t("topics_intro"),
            choices=tuple(Choice(label(t.title), f"topic:{t.id}") for t in shown),
            columns=2,
        )
    ]


async def show_topic(ctx: Context, topic_id: str) -> list[Reply]:
    kb = ctx.kb
    topic = kb.topic(topic_id, ctx.language)
    if topic is None:
        return ctx.notice("unknown_action")
    # Glossary terms are answerable but would crowd the list; FAQ entries first.
    entries = sorted(kb.entries_in_topic(topic_id), key=lambda e: e.id.startswith("glossary-"))
    header = ctx.t(
        "topic_header",
        title=markup.escape(topic.title),
        description=markup.escape(topic.description),
    )
    text = f"{header}\n\n{ctx.t('topic_questions')}"
    choices = tuple(
        Choice(label(title_for(ctx, e, None)), f"faq:{e.id}") for e in entries[:MAX_TOPIC_BUTTONS]
    )
    return [Reply(text, choices=choices)]
