"""What shape of question a text is: a claim to check, or asking what a thing does or says.

These change how an entry is scored (a checked claim's number may be the wrong one, a
question about what a text says weighs its content), but not which words are compared.
"""

from __future__ import annotations

from bot.wording import _LANGUAGE_DATA, FILLER, POLITENESS, STOPWORDS, Phrases, normalise

# Yes/no questions and claims to check (see matching.yaml, yes_no_starts and checks).
_YES_NO_STARTS = frozenset(normalise(w) for w in _LANGUAGE_DATA.get("yes_no_starts", []))
_CHECKS = tuple(
    phrase
    for phrase in {tuple(normalise(c).split()) for c in _LANGUAGE_DATA.get("checks", [])}
    if phrase
)
_CHECK_PHRASES = Phrases(_CHECKS)
_CHECK_TAGS = tuple(
    phrase
    for phrase in {tuple(normalise(c).split()) for c in _LANGUAGE_DATA.get("check_tags", [])}
    if phrase
)
# What may come before "was ..." in a yes/no question: "hello, was it adopted in 2011?"
_CHECK_OPENERS = frozenset(
    ["hi", "hey", "hello", "ok", "okay", "so", "and", "but", "pls", "please"]
)


def checks_a_claim(words: list[str]) -> bool:
    """Whether a question asks yes or no, or to check a claim: "was it adopted in 2011?",
    "... adopted in 2017, is that right?", "هل ...", "c'est vrai que ..."."""
    first = next(
        (w for w in words if w not in _CHECK_OPENERS and w not in POLITENESS and w not in FILLER),
        None,
    )
    if first in _YES_NO_STARTS:
        return True
    if any(tuple(words[-len(tag) :]) == tag for tag in _CHECK_TAGS if len(words) > len(tag)):
        return True  # "the policy was adopted in 2011, right?"
    return _CHECK_PHRASES.held_in(words)


# "what does the MLG do?", "mrg wat they do exactly", "hsp what for?", "¿para qué sirve el
# MRG?", "ça sert à quoi ?": what the thing does, which its curated entry tells, not
# what its letters stand for.
_SERVES = frozenset(
    [
        "sert",
        "servent",
        "sirve",
        "sirven",
        "بيعمل",
        "بتعمل",
        "بيشتغل",
        "بتشتغل",
        "شغلتهم",
        "شغلته",
        "شغلها",
        "شغلهم",
        "شغل",
    ]
)
_ASKING_DO = frozenset(["what", "wat", "when", "where", "how", "why", "which", "who"])
# "what" in French, Spanish and Arabic as text_words() leaves it
_WHAT_ELSEWHERE = frozenset(["que", "q", "quoi", "شو", "ايش", "ايه", "ماذا", "وش", "شنو", "اش"])


_SAYS = frozenset(["say", "says", "contain", "contains", "inside", "dice", "dicen"])
# Spoken and written Arabic "it says" / "it tells": anywhere in the question, like "dice".
_SAYS_ANYWHERE = frozenset(
    [
        "dice",
        "dicen",
        "establece",
        "plantea",
        "contiene",
        "prevoit",
        "contient",
        "stipule",
        "يقول",
        "بيقول",
        "تقول",
        "بتقول",
        "يحكي",
        "بيحكي",
        "تحكي",
        "بتحكي",
        "ينص",
        "تنص",
    ]
)
CONTENT_WEIGHT = 1.5  # "content", for a question that asks what a text says


def asks_what_it_says(words: list[str]) -> bool:
    """Whether a question asks what a text says or holds ("what does the resolution
    say?", "what is inside the 2022 resolution", "¿qué dice la resolución?")."""
    if not any(w in _ASKING_DO or w in _WHAT_ELSEWHERE for w in words):
        return False
    for i, w in enumerate(words):
        if w == "inside" or (w in _SAYS_ANYWHERE and i > 0):
            return True
        if w in _SAYS and i > 0 and words[i - 1] not in _ASKING_DO:
            return all(t in STOPWORDS or t in FILLER for t in words[i + 1 :])
    return False


def asks_what_it_does(words: list[str]) -> bool:
    """Whether a question asks what something does or is for."""
    if any(w in _SERVES for w in words):
        return True
    for i, w in enumerate(words[1:], start=1):
        # "gmtf do what", "mlg work on what": the question word may come last.
        rest = words[i + 1 :]
        if rest[-1:] and rest[-1] in ("what", "wat"):
            rest = rest[:-1]
        if not all(t in STOPWORDS or t in FILLER for t in rest):
            continue  # "what do they do in practice", "do they meet?": more is asked
        if w == "for" and (words[i - 1] in ("what", "wat", "it") or words[0] in ("what", "wat")):
            return True  # "hsp what for?", "what is it for?", "what is the mrg for exactly"
        if w in ("do", "doing") and words[i - 1] not in _ASKING_DO:
            return True  # not a helper verb: "what do the principles say"
        if w == "on" and words[i - 1] in ("work", "works", "working") and rest != words[i + 1 :]:
            return True  # "gmtf work on what"
    return False
