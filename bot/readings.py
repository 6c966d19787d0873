"""How to read a message: its sentences, its clauses and the parts of it that ask.

A message often holds more than its question ("We're aligning our plan. What are its
goals?"); the matcher tries each reading, most specific first, and keeps the best.
"""

from __future__ import annotations

import re
from collections import defaultdict

from bot.wording import (
    _LANGUAGE_DATA,
    FILLER,
    QUESTION_ALIASES,
    QUESTION_WORDS,
    STOPWORDS,
    _normalised_words,
    normalise,
    strip_arabic_prefix,
    text_words,
)

# Question markers by first word, longest first (see readings()).
_MARKERS_BY_FIRST: dict[str, list[tuple[str, ...]]] = defaultdict(list)
for _marker in sorted(
    {tuple(normalise(m).split()) for m in _LANGUAGE_DATA.get("question_markers", [])},
    key=lambda m: -len(m),
):
    if _marker:
        _MARKERS_BY_FIRST[_marker[0]].append(_marker)


# A sentence ends after its punctuation, which stays with it ("?" says it asks).
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;:\n؟؛])\s*")
# A full stop that ends an abbreviation, not a sentence: "principle no. 10", "nr. 7".
_ABBREVIATION = re.compile(r"(?:^|\s)(?:no|nr|n|num|vs|etc|art|p)\.$", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """A message's sentences, each with its closing mark."""
    out: list[str] = []
    for piece in _SENTENCE_SPLIT.split(text):
        if out and _ABBREVIATION.search(out[-1].rstrip()):
            out[-1] = f"{out[-1]} {piece}"
        elif piece.strip():
            out.append(piece)
    return out


_CLAUSE_SPLIT = re.compile(r"[,،]\s*|\s+[\U0001F000-\U0001FAFF\u2600-\u27BF]+\s*")


def _asks(piece: str) -> bool:
    """A sentence or clause that asks: it ends with a question mark, or starts with a
    question word."""
    first = (text_words(piece) or [""])[0]
    return (
        piece.rstrip().endswith(("?", "؟")) or QUESTION_ALIASES.get(first, first) in QUESTION_WORDS
    )


# The pronouns that stand for a whole topic ("who chairs it?"); not articles such as
# French "le" or Spanish "lo", which a question of its own is full of.
PRONOUNS = frozenset(["it", "its", "they", "them", "their", "ca", "cela", "eso", "ello"])


def asked_after_marker(sentence: str, head: str) -> bool:
    """Whether ``head`` (normalised words) comes after a question marker in ``sentence``:
    "our secretary general asked me which bodies ...": what comes after "asked me" is the
    question, and the asker before it only context."""
    words = sentence.split()
    at = sentence.find(head)
    if at < 0:
        return False
    before = len(sentence[:at].split())
    for i in range(before):
        for marker in _MARKERS_BY_FIRST.get(words[i], ()):
            if tuple(words[i : i + len(marker)]) == marker and i + len(marker) <= before:
                return True
    return False


def readings(text: str) -> list[str]:
    """How to read a message, most specific first: what follows a question marker
    ("... and I need to know <question>"), the sentences that ask, the whole message,
    the clauses that ask (after a comma or an emoji), the text from a question word on
    ("the director asked me when ..."), then its other sentences. A clause comes after
    the whole message: the clause of "people forced to migrate, what can NS do" that
    asks has lost the topic."""
    tails: list[str] = []
    words = list(_normalised_words(text))
    for i in range(len(words)):
        for marker in _MARKERS_BY_FIRST.get(words[i], ()):
            if tuple(words[i : i + len(marker)]) == marker and i + len(marker) < len(words):
                tails.append(" ".join(words[i + len(marker) :]))
    from_word: list[str] = []
    for i in range(1, len(words) - 2):  # at least three words from the question word on
        w = strip_arabic_prefix(words[i])
        if QUESTION_ALIASES.get(w, w) in QUESTION_WORDS:
            from_word = [" ".join(words[i:])]
            break
    asking: list[str] = []
    other: list[str] = []
    pieces = sentences(text)
    if len(pieces) > 1:
        for n, piece in enumerate(pieces):
            sentence = piece.strip(" \t\n.!;:؛")
            # "I heard of HSPs. What are they for?": the question's "they" is the
            # sentence before it, so it is read with that sentence.
            if n and PRONOUNS.intersection(_normalised_words(sentence)):
                sentence = f"{pieces[n - 1].strip()} {sentence}"
            (asking if _asks(piece) else other).append(sentence)
        if asking and all(_empty(a) for a in asking):
            # "... I need the month the MRG was set up. Any idea?": the sentence that asks
            # says nothing; the one before holds the question.
            asking, other = [s for s in other if not _empty(s)], []
    clauses = [
        clause for piece in (asking or [text]) for clause in _split_clauses(piece) if _asks(clause)
    ]
    # A sentence that asks nothing is context once another one asks: "We're aligning our
    # plan to the new strategy. What are its goals?" is not about aligning plans.
    context = [] if asking else other
    return list(dict.fromkeys([*tails, *asking, text, *clauses, *from_word, *context]))[:6]


def _empty(piece: str) -> bool:
    """A sentence of nothing but courtesy and chat ("Any idea?", "Can you help?")."""
    return all(w in STOPWORDS or w in FILLER for w in text_words(piece))


def _split_clauses(piece: str) -> list[str]:
    parts = [c.strip() for c in _CLAUSE_SPLIT.split(piece) if c.strip()]
    return parts if len(parts) > 1 else []
