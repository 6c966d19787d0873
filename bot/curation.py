"""The curators' review (``nsbot kb review``): what people asked that the knowledge base
did not answer well, grouped by the entry it is closest to, most frequent first.

Three kinds of evidence, each item with a short reference that ``nsbot kb promote``
takes: ``g12`` a logged gap (a suggestion or the fallback; the number is a row of the
gap log), ``f3`` a 👎 on an answer (the n-th 👎 ever given, oldest first), ``d7`` a desk
conversation that ended with the secretariat's answer (the handoff's number). New
questions never change an existing reference.

Pure functions of the stored rows and a :class:`~bot.matcher.Matcher`, so the review is
tested on fixture lists; the command line only fetches them (:mod:`bot.cli_kb`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from bot.feedback import Feedback
from bot.handoff import to_asker
from bot.matcher import SUGGEST_FLOOR, Matcher
from bot.storage.base import LoggedGap
from bot.storage.handoff import CLOSED, FOLLOW_UP, REPLY, HandoffRow, RelayRow
from bot.ui import UI

GAP, FEEDBACK, DESK = "gap", "feedback", "desk"
PREFIX = {GAP: "g", FEEDBACK: "f", DESK: "d"}
REF_RE = re.compile(r"^([gfd])(\d+)$")

# Two questions whose words agree this much (rapidfuzz token sort ratio, 0-100) are one
# question asked twice: "when was the policy adopted?" and "When was policy adopted".
NEAR_DUPLICATE = 85.0
# Below the score at which the bot would still suggest an entry, the "closest" entry is
# noise: such questions are listed apart, as new ground.
CLOSE_ENOUGH = SUGGEST_FLOOR

_SENTINEL = "\x00desk-answer\x00"
_UNESCAPE = re.compile(r"\\([\\*_\[\]\-•])")


def gap_key(question: str) -> str:
    """How the gap log groups questions (as ``Storage.log_gap`` normalises them)."""
    return " ".join(question.split()).lower().rstrip("?!. ")


@dataclass(frozen=True)
class DeskConversation:
    """A closed question to the desk whose last word was the secretariat's answer."""

    handoff_id: int
    question: str
    language: str | None
    answer: str  # the desk's last answer, as the desk member wrote it
    closed_at: datetime
    helpful: bool | None


def desk_words(ui: UI, h: HandoffRow, relayed: str) -> str:
    """What the desk member wrote, out of the message relayed to the asker (which
    frames it as "From the secretariat ... Did this help?" and escapes its markup).
    Wording from an older version that no longer matches is kept whole."""
    frame = to_asker(ui, h, _SENTINEL)
    head, _, tail = frame.partition(_SENTINEL)
    text = relayed
    if relayed.startswith(head) and relayed.endswith(tail):
        text = relayed[len(head) : len(relayed) - len(tail)]
    return _UNESCAPE.sub(r"\1", text).strip()


def desk_conversation(ui: UI, h: HandoffRow, relays: Sequence[RelayRow]) -> DeskConversation | None:
    """The conversation, if it ended with an answer: closed, and the desk spoke after the
    asker's last follow-up. Its answer is what the desk wrote since then (one or more
    replies), the text a curator starts an entry from."""
    if h.status != CLOSED or h.closed_at is None:
        return None
    said = [r for r in relays if r.kind in (REPLY, FOLLOW_UP)]
    if not said or said[-1].kind != REPLY:
        return None
    last: list[str] = []
    for r in reversed(said):
        if r.kind != REPLY:
            break
        last.insert(0, desk_words(ui, h, r.text))
    return DeskConversation(
        h.id, h.question, h.language, "\n\n".join(t for t in last if t), h.closed_at, h.helpful
    )


@dataclass(frozen=True)
class Item:
    """One question of the review, asked ``count`` times (a gap's or a 👎's repeats)."""

    ref: str
    kind: str
    question: str
    count: int
    last_at: datetime
    entry_id: str | None  # the closest entry (a 👎: the entry that answered)
    score: float  # how close (the matcher's score; 1.0 for a 👎's own entry)
    language: str | None  # the question's language, as told by its words or as stored
    status: str | None = None  # a gap's latest outcome: "suggest" or "fallback"
    comments: tuple[str, ...] = ()  # what the 👎 said was wrong
    answer: str | None = None  # the desk's answer
    helpful: bool | None = None  # the asker's "Did this help?" on the desk's answer
    # The numbers behind it (gap rows, 👎 counted from the first): a reference read with
    # --since names one of them, which must lead ``promote`` to the same question.
    row_ids: tuple[int, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Cluster:
    """Near-duplicate questions: one question, however worded."""

    items: tuple[Item, ...]

    @property
    def count(self) -> int:
        return sum(i.count for i in self.items)

    @property
    def last_at(self) -> datetime:
        return max(i.last_at for i in self.items)


@dataclass(frozen=True)
class Group:
    """Everything closest to one entry (``entry_id`` None: close to none)."""

    entry_id: str | None
    clusters: tuple[Cluster, ...]

    @property
    def count(self) -> int:
        return sum(c.count for c in self.clusters)

    @property
    def last_at(self) -> datetime:
        return max(c.last_at for c in self.clusters)


def _closest(matcher: Matcher, question: str) -> tuple[str | None, float, str | None]:
    """(entry id, score, the question's language) by the matcher's own ranking."""
    found = matcher.match(question)
    top = found.ranked[0] if found.ranked else None
    if top is None or top.score < CLOSE_ENOUGH:
        return None, top.score if top else 0.0, found.language
    return top.id, top.score, found.language


def gap_items(matcher: Matcher, gaps: Iterable[LoggedGap]) -> list[Item]:
    """Logged gaps, one item per question text (as the gap log groups them). Its
    reference is its oldest row here: a newer ask of the same question keeps it."""
    by_key: dict[str, list[LoggedGap]] = defaultdict(list)
    for row in sorted(gaps, key=lambda g: g.id):
        by_key[gap_key(row.question)].append(row)
    items = []
    for rows in by_key.values():
        latest = max(rows, key=lambda g: (g.asked_at, g.id))
        entry, score, language = _closest(matcher, latest.question)
        items.append(
            Item(
                ref=f"g{rows[0].id}",
                kind=GAP,
                question=latest.question,
                count=len(rows),
                last_at=latest.asked_at,
                entry_id=entry,
                score=score,
                language=language,
                status=latest.status,
                row_ids=tuple(g.id for g in rows),
            )
        )
    return items


def feedback_items(
    matcher: Matcher, feedback: Iterable[Feedback], since: datetime | None = None
) -> list[Item]:
    """👎 answers, one item per (entry, question). ``feedback`` must be the whole log,
    not only what came since: references count every 👎 from the first, so that a
    reference read with ``--since`` still names the same 👎 for ``promote``."""
    thumbs_down = sorted(
        (f for f in feedback if not f.helpful), key=lambda f: (f.at, f.entry_id, f.question)
    )
    by_key: dict[tuple[str, str], list[tuple[int, Feedback]]] = defaultdict(list)
    for number, f in enumerate(thumbs_down, start=1):
        if since is None or f.at >= since:
            by_key[(matcher.kb.resolve(f.entry_id), gap_key(f.question))].append((number, f))
    items = []
    for (entry_id, _), rows in by_key.items():
        latest = rows[-1][1]
        if entry_id in matcher.kb.entries:
            entry: str | None = entry_id
            score, language = 1.0, matcher.match(latest.question).language
        else:  # the entry is gone since: where would the question go now?
            entry, score, language = _closest(matcher, latest.question)
        items.append(
            Item(
                ref=f"f{rows[0][0]}",
                kind=FEEDBACK,
                question=latest.question,
                count=len(rows),
                last_at=latest.at,
                entry_id=entry,
                score=score,
                language=language or latest.language,
                comments=tuple(
                    f.comment.strip() for _, f in rows if f.comment and f.comment.strip()
                ),
                row_ids=tuple(number for number, _ in rows),
            )
        )
    return items


def desk_items(matcher: Matcher, conversations: Iterable[DeskConversation]) -> list[Item]:
    items = []
    for c in conversations:
        entry, score, language = _closest(matcher, c.question)
        items.append(
            Item(
                ref=f"d{c.handoff_id}",
                kind=DESK,
                question=c.question,
                count=1,
                last_at=c.closed_at,
                entry_id=entry,
                score=score,
                language=language or c.language,
                answer=c.answer,
                helpful=c.helpful,
            )
        )
    return items


def _frequent_first(item: Item) -> tuple[int, float, str]:
    return (-item.count, -item.last_at.timestamp(), item.ref)


def near_duplicates(a: str, b: str) -> bool:
    return bool(fuzz.token_sort_ratio(a, b, processor=default_process) >= NEAR_DUPLICATE)


def cluster(items: Iterable[Item]) -> list[Cluster]:
    """Near-duplicate questions together: each item joins the first (most frequent)
    cluster whose leading question it nearly repeats."""
    clusters: list[list[Item]] = []
    for item in sorted(items, key=_frequent_first):
        for members in clusters:
            if near_duplicates(members[0].question, item.question):
                members.append(item)
                break
        else:
            clusters.append([item])
    out = [Cluster(tuple(m)) for m in clusters]
    return sorted(out, key=lambda c: (-c.count, -c.last_at.timestamp(), c.items[0].ref))


def group(items: Iterable[Item]) -> list[Group]:
    """By closest entry, most frequent first (then most recent)."""
    by_entry: dict[str | None, list[Item]] = defaultdict(list)
    for item in items:
        by_entry[item.entry_id].append(item)
    groups = [Group(entry, tuple(cluster(members))) for entry, members in by_entry.items()]
    return sorted(groups, key=lambda g: (-g.count, -g.last_at.timestamp(), g.entry_id or "~"))


def review(
    matcher: Matcher,
    gaps: Iterable[LoggedGap],
    feedback: Iterable[Feedback],
    desk: Iterable[DeskConversation],
    since: datetime | None = None,
) -> list[Group]:
    """The whole review. ``since`` applies to every list (the storage may have applied
    it already to gaps and desk conversations; ``feedback`` is the whole log)."""
    gaps = [g for g in gaps if since is None or g.asked_at >= since]
    desk = [c for c in desk if since is None or c.closed_at >= since]
    items = [
        *gap_items(matcher, gaps),
        *feedback_items(matcher, feedback, since),
        *desk_items(matcher, desk),
    ]
    return group(items)


def find(groups: Sequence[Group], ref: str) -> tuple[Item, Cluster] | None:
    """The item a reference names, with its cluster (the other wordings of it). A gap or
    👎 reference may name any row of its question, not only the oldest."""
    ref = ref.strip().lower()
    match = REF_RE.match(ref)
    if match is None:
        return None
    row = int(match.group(2))
    for g in groups:
        for c in g.clusters:
            for item in c.items:
                if item.ref == ref or (ref[0] == item.ref[0] and row in item.row_ids):
                    return item, c
    return None


def as_record(g: Group, titles: Mapping[str, str]) -> dict[str, object]:
    """One ``nsbot kb review --json`` line."""
    return {
        "entry": g.entry_id,
        "title": titles.get(g.entry_id) if g.entry_id else None,
        "count": g.count,
        "clusters": [
            {
                "count": c.count,
                "items": [
                    {
                        "ref": i.ref,
                        "kind": i.kind,
                        "question": i.question,
                        "count": i.count,
                        "last": i.last_at.isoformat(),
                        "score": round(i.score, 4),
                        "language": i.language,
                        "status": i.status,
                        "comments": list(i.comments),
                        "answer": i.answer,
                        "helpful": i.helpful,
                    }
                    for i in c.items
                ],
            }
            for c in g.clusters
        ],
    }
