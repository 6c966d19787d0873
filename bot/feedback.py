"""Feedback on answers: 👍 / 👎 under every answer, and what is kept of a vote.

Nothing here names a person. An answer's buttons carry a random reference of the
answer message (:class:`AnswerRef`, kept :data:`WINDOW` days: what a vote needs to
know, the entry and the question, without asking the chat platform). A vote is kept
as a :class:`Feedback` row under a keyed code of (answer reference, person) from
:meth:`bot.pseudonym.Pseudonyms.feedback`: the same person pressing twice on one
answer (a double tap, a re-delivery) finds the same code, so a vote is never counted
twice, yet the row holds neither the person nor the answer reference, and without the
key nobody can test whose code it is. Votes are therefore not linked to each other, nor
to the person: /mydata cannot list them and /forget cannot find them. That is why the
question "what was wrong?" says that the comment is kept without the person's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# A vote on an answer older than this is refused ("too old"): its reference is gone,
# and with it the question text it carried.
WINDOW = timedelta(days=7)
MAX_COMMENT = 1000  # characters of a typed comment kept
MAX_QUESTION = 500  # characters of the question kept with a vote (as the gap log)

# The buttons: "fb:u:<ref>" 👍, "fb:d:<ref>" 👎, "fb:s" skip the comment.
PREFIX = "fb"
UP, DOWN, SKIP = "u", "d", "s"
KIND = "feedback"  # the conversation that waits for the comment


def action(verb: str, ref: str = "") -> str:
    return f"{PREFIX}:{verb}" + (f":{ref}" if ref else "")


def parse_action(arg: str) -> tuple[str, str] | None:
    """ "u:AbC" -> ("u", "AbC"); None when it is not one of ours."""
    verb, _, ref = arg.partition(":")
    if verb == SKIP:
        return verb, ""
    if verb not in (UP, DOWN) or not ref or not ref.isascii():
        return None
    return verb, ref


@dataclass(frozen=True)
class AnswerRef:
    """One answer message, as its 👍 / 👎 buttons find it: what was answered, to
    which question, in which language (the answer's) and on which platform (the day
    only)."""

    ref: str
    entry_id: str
    question: str  # "" when the answer came from a button, not a typed question
    language: str
    platform: str
    at: datetime


@dataclass(frozen=True)
class Feedback:
    """One vote, without identity. ``language`` is the answer's (the one voted on);
    ``question`` is "" when the answer came from a button. ``at`` is the UTC day only
    (midnight): an exact moment could be matched to a person's other rows."""

    entry_id: str
    question: str
    language: str
    platform: str
    helpful: bool
    comment: str | None
    at: datetime
