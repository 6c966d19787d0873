"""Everything the bot can do, registered in one place.

Reading this module tells a newcomer the whole bot: the order in which an incoming
event is offered to handlers, every command, every kind of button and every
multi-step conversation. Nothing registers itself by import side effect.
"""

from __future__ import annotations

from bot.handlers import (
    consult,
    coordinator,
    faq,
    feedback,
    handoff,
    info,
    polls,
    privacy,
    router,
    smalltalk,
    stats,
    subscriptions,
    timeline,
    topics,
)
from bot.handlers.base import ActionFn, Command, ConversationFn, Handler

COMMANDS: list[Command] = [
    Command("start", info.start, "cmd_start"),
    Command("help", info.help_, "cmd_help"),
    Command("topics", topics.topics, "cmd_topics"),
    Command("timeline", timeline.timeline, "cmd_timeline"),  # /timeline [year | words]
    Command("next", timeline.next_events, "cmd_next"),  # upcoming events, else the latest
    Command("calendar", timeline.calendar, "cmd_calendar"),  # the timeline as an .ics file
    Command("ask", faq.ask, "cmd_ask"),
    Command("consult", consult.consult, "cmd_consult"),  # answer an open consultation
    Command("human", handoff.human, "cmd_human"),  # /human <question>: to the secretariat's desk
    Command("myquestions", handoff.myquestions, "cmd_myquestions"),  # my questions to the desk
    Command("profile", privacy.profile, "cmd_profile"),  # National Society and region (optional)
    Command("mydata", privacy.mydata, "cmd_mydata"),  # everything the bot holds about me
    Command("forget", privacy.forget, "cmd_forget"),  # delete it, after a confirmation
    Command("subscribe", subscriptions.subscribe, "cmd_subscribe"),  # reminders: /subscribe [14 2]
    Command("unsubscribe", subscriptions.unsubscribe, "cmd_unsubscribe"),  # stop them
    Command("timezone", subscriptions.timezone, "cmd_timezone"),  # /timezone [Africa/Nairobi]
    # Coordinators only (NSBOT_COORDINATORS): refused and logged for anyone else.
    Command("poll", polls.poll, "cmd_poll", coordinators_only=True, in_menu=False),
    Command("results", coordinator.results, "cmd_results", coordinators_only=True, in_menu=False),
    Command("export", coordinator.export, "cmd_export", coordinators_only=True, in_menu=False),
    # /stats [since DATE] [csv|json]: how well the bot serves people (counts, no identity).
    Command("stats", stats.show, "cmd_stats", coordinators_only=True, in_menu=False),
    # /close: end my open question to the desk; coordinators: /close ID (a poll, a consultation).
    Command("close", handoff.close_or(coordinator.close), "cmd_close", in_menu=False),
    # /announce <text>: to every subscriber, after a confirmation saying how many.
    Command(
        "announce", subscriptions.announce, "cmd_announce", coordinators_only=True, in_menu=False
    ),
]

# Button actions, by the prefix of their action string ("faq:policy-adopted").
# "cmd:<name>" runs a command and needs no entry here.
ACTIONS: dict[str, ActionFn] = {
    "faq": faq.show_entry,
    "topic": topics.show_topic,
    "nomatch": faq.none_of_these,
    "ics": timeline.add_to_calendar,  # ics:<event>: that event as an .ics file
    "cal": timeline.calendar_filtered,  # cal:<filter>: a filtered /timeline's events as one file
    "cs": consult.on_start,  # cs:<consultation>: open it from the /consult list
    "ck": consult.on_consent,  # ck:<consultation>:y|n: consent to the introduction
    "ca": consult.on_answer,  # ca:<consultation>:<question>:<option>: choose an answer
    "cm": consult.on_toggle,  # cm:<consultation>:<question>:<option>: tick in a multiple choice
    "cn": consult.on_nav,  # cn:<consultation>:<question>:b|s|d: back, skip, done
    "cv": consult.on_review,  # cv:<consultation>:s|e<question>: submit, or change an answer
    "pf": privacy.on_profile,  # pf:ns:k|x, pf:r:<region>|k|x: profile questions
    "fg": privacy.on_forget,  # fg:y:<offered at>|n: confirm /forget
    "pv": polls.on_vote,  # pv:<poll>:<option>: vote in a posted poll
    "cx": coordinator.on_close,  # cx:<consultation>: confirm closing it early (coordinators)
    "rq": coordinator.on_question,  # rq:<consultation>:<question>[:by]: one question's results
    "tz": subscriptions.on_timezone,  # tz:<IANA zone>: a suggested time zone for a typo
    "an": subscriptions.on_announce,  # an:y|n:<job>: send or cancel an announcement (coordinators)
    "ho": handoff.on_action,  # ho:a|s|c|x|h:<handoff>[:n|a|y|n]: ask, send, cancel, close, helped
    "fb": feedback.on_action,  # fb:u|d:<answer ref>, fb:s: 👍, 👎, no comment (under answers)
}

# Multi-step conversations, by the kind stored in the person's conversation state.
CONVERSATIONS: dict[str, ConversationFn] = {
    consult.KIND: consult.converse,  # typed answers to the current consultation question
    privacy.PROFILE: privacy.converse,  # typed National Society / region
    feedback.KIND: feedback.converse,  # after 👎: what was wrong (optional)
}

# The order of decision: a desk member's reply to a relayed question, an active
# conversation, then commands and buttons, then a person's follow-up to their open
# question to the desk, then small talk, then questions about what comes next, then
# question answering (which always answers).
PIPELINE: list[Handler] = [
    handoff.desk_reply,  # a reply in a desk thread: to the asker
    router.conversations(CONVERSATIONS),
    router.commands(COMMANDS, ACTIONS),
    handoff.follow_up,  # while a question to the desk is open: to its thread
    smalltalk.handle,
    timeline.next_question,  # "when is the next meeting": answered from today's date
    faq.handle,
]
