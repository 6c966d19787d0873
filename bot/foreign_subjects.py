"""Subjects the knowledge base holds nothing on: other organisations' policies and the like.

A question about one ("the IFRC youth policy", "IOM's strategy") goes to the fallback
rather than to the nearest entry, and a curator is warned when a phrasing names one.
"""

from __future__ import annotations

from bot.wording import _LANGUAGE_DATA, Phrases, text_words

# Subjects beside the knowledge base's that it holds nothing on (matching.yaml,
# foreign_subjects): "the IFRC youth policy", "the president of the IFRC", "budget".
FOREIGN_SUBJECTS = tuple(
    sorted(
        phrase
        for phrase in {tuple(text_words(p)) for p in _LANGUAGE_DATA.get("foreign_subjects", [])}
        if phrase
    )
)
_FOREIGN_TEXTS = tuple(f" {' '.join(phrase)} " for phrase in FOREIGN_SUBJECTS)
_FOREIGN = Phrases(FOREIGN_SUBJECTS)


def _phrases(key: str) -> tuple[tuple[str, ...], ...]:
    return tuple({tuple(text_words(p)) for p in _LANGUAGE_DATA.get(key, [])} - {()})


_OTHER_BODIES = _phrases("other_bodies")
_DOCUMENTS = frozenset(w for p in _phrases("documents") for w in p)
_BETWEEN = frozenset(w for p in _phrases("between_them") for w in p)
MAX_BETWEEN = 5


_NATIONAL = _phrases("national_societies")
_NOT_A_NAME = frozenset(w for p in _phrases("not_a_name") for w in p)
# Their first words: most words of a message start no name, and are passed over at once.
_BODY_FIRSTS = frozenset(p[0] for p in (*_OTHER_BODIES, *_NATIONAL))


def _body_at(words: list[str], i: int) -> tuple[int, int] | None:
    """Where the other body named at ``words[i]`` starts and ends: another organisation,
    or a National Society with its name ("italian red cross", "cruz roja colombiana")."""
    body = next((b for b in _OTHER_BODIES if tuple(words[i : i + len(b)]) == b), None)
    if body is not None:
        return i, i + len(body)
    for ns in _NATIONAL:
        end = i + len(ns)
        if tuple(words[i:end]) != ns:
            continue
        if i > 0 and words[i - 1] not in _NOT_A_NAME:
            return i - 1, end  # the name before: "the Philippine Red Cross"
        if ns[0] != "red" and end < len(words) and words[end] not in _NOT_A_NAME:
            return i, end + 1  # the name after: "la Croix-Rouge française"
    return None


def other_bodys_document(words: list[str]) -> str | None:
    """The body whose own policy or strategy a text asks about ("IOM's strategy",
    "la politique migratoire de l'OIM", "the Philippine Red Cross migration policy"),
    else None."""
    for i in range(len(words)):
        if words[i] not in _BODY_FIRSTS:
            continue
        found = _body_at(words, i)
        if found is None:
            continue
        start, end = found
        after = words[end : end + MAX_BETWEEN + 1]
        before = words[max(0, start - MAX_BETWEEN - 1) : start][::-1]
        for side in (after, before):
            for w in side:
                if w in _DOCUMENTS:
                    return " ".join(words[start:end])
                if w not in _BETWEEN:
                    break
    return None


def names_a_foreign_subject(words: list[str]) -> bool:
    """Whether a text (as text_words() reads it) asks about one of those subjects."""
    return _FOREIGN.held_in(words) or other_bodys_document(words) is not None


def foreign_subject_in(words: list[str]) -> str | None:
    """The first of those subjects a text names, for a curator's warning."""
    joined = f" {' '.join(words)} "
    found = [p for p, text in zip(FOREIGN_SUBJECTS, _FOREIGN_TEXTS, strict=True) if text in joined]
    if found:
        return " ".join(found[0])
    body = other_bodys_document(words)
    return f"{body}'s own policy or strategy" if body else None
