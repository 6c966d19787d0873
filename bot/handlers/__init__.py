"""Everything the bot can do, registered in one place.

Reading this module tells a newcomer the whole bot: the order in which an incoming
event is offered to handlers, every command, every kind of button and every
multi-step conversation. Nothing registers itself by import side effect.
"""

from __future__ import annotations

from bot.handlers import faq, info, router, smalltalk, timeline, topics
from bot.handlers.base import ActionFn, Command, ConversationFn, Handler

COMMANDS: list[Command] = [
    Command("start", info.start, "cmd_start"),
    Command("help", info.help_, "cmd_help"),
    Command("topics", topics.topics, "cmd_topics"),
    Command("timeline", timeline.timeline, "cmd_timeline"),
    Command("ask", faq.ask, "cmd_ask"),
]

# Button actions, by the prefix of their action string ("faq:policy-adopted").
# "cmd:<name>" runs a command and needs no entry here.
ACTIONS: dict[str, ActionFn] = {
    "faq": faq.show_entry,
    "topic": topics.show_topic,
    "nomatch": faq.none_of_these,
}

# Multi-step conversations, by the kind stored in the person's conversation state.
CONVERSATIONS: dict[str, ConversationFn] = {}

# The order of decision: an active conversation first, then commands and buttons,
# then small talk, then question answering (which always answers).
PIPELINE: list[Handler] = [
    router.conversations(CONVERSATIONS),
    router.commands(COMMANDS, ACTIONS),
    smalltalk.handle,
    faq.handle,
]
