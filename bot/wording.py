"""The words of a text as the matcher compares them, and the language data they come from.

Everything that reads text sits on this: the matcher, the follow-up and question-shape
rules, the curators' checks and the small-talk handler. It normalises (case, accents,
punctuation, French elision, Arabic spelling and articles), stems lightly, and holds the
word sets from ``data/matching.yaml`` (stopwords, filler, politeness, question words).
It imports nothing else of the bot, so every other module can lean on it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

# BaseLoader: every word stays text ("no", "on" and "yes" are not booleans here).
_LANGUAGE_DATA: dict[str, Any] = yaml.load(
    (Path(__file__).resolve().parent / "data" / "matching.yaml").read_text(encoding="utf-8"),
    Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader),  # libyaml when built with it
)


def _words(section: str, languages: Iterable[str] | None = None) -> frozenset[str]:
    """One section of the language data (all languages, or only those asked for), each
    word in the form the matcher compares."""
    out: set[str] = set()
    for language, words in _LANGUAGE_DATA[section].items():
        if languages is None or language in languages:
            out.update(" ".join(text_words(w)) for w in words)
    return frozenset(out - {""})


# Question words keep a small fixed weight: enough to break ties, never enough to
# make an out-of-scope question look answerable.
QUESTION_WORDS = {
    "when": 0.9,
    "who": 0.9,
    "where": 0.9,
    "what": 0.35,
    "which": 0.35,
    "how": 0.5,
    "why": 0.7,
    "many": 0.6,
}
_SUFFIXES = (
    "ations",
    "ation",
    "ings",
    "ing",
    "ments",
    "ment",
    "ions",
    "ion",
    "ies",
    "ied",
    "es",
    "ed",
    "s",
)


# Arabic-Indic and Eastern Arabic-Indic (Persian, Urdu) digits: "٢٠٢٢" is "2022".
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
# Arabic spellings people use interchangeably: alif maqsura for ya ("متى"/"متي"), ta
# marbuta for ha ("الهجرة"/"الهجره"), and the tatweel that only stretches a word.
# Hamza seats (أ إ آ ؤ ئ) and short vowels go with the other combining marks.
_ARABIC_FOLD = str.maketrans({"ى": "ي", "ة": "ه", "ـ": None})
_FOLD = _DIGITS | _ARABIC_FOLD
# French elision: "l'OIM" is "l OIM", "qu'est-ce" is "qu est-ce". Only a one-letter
# word (or "qu") is split off, so English "CoD's" and "don't" stay as they were; and
# "d'accord" stays one word, a reply rather than a topic.
_ELISION = re.compile(r"\b(qu|[cdjlmnst])['’](?!accord\b)(?=[^\W\d_])")
# Arabic articles and the prepositions written onto them, longest first.
_ARABIC_ARTICLES = ("وال", "بال", "فال", "كال", "لل", "ال")
_ARABIC_POSSESSIVES = ("هما", "ها", "هم")
# A final hamza changes its seat before a pronoun: أعضاء "members", أعضاؤه / أعضائه /
# أعضاءه "its members". Written back on the line, they all are اعضاء once it is off.
_HAMZA_SEAT = re.compile(r"(?<=ا)[ؤئ](?=(?:ه|ها|هم|هما)(?![\u0621-\u064a]))")


_APOSTROPHES = re.compile(r"[’'`]")
# English possessive and "is" ("the Migration Leadership Group's role", "what's"): off,
# so that a name of several words still reads as that name.
_POSSESSIVE = re.compile(r"(?<=[a-z])['’`]s\b")
# "31st", and the French and Spanish "31e", "31ème", "31a", "31º" (º and ª fold to o, a).
_ORDINAL_SUFFIX = re.compile(r"\b(\d+)(?:st|nd|rd|th|e|er|ere|eme|o|a)\b")
_GLUED_YEAR = re.compile(r"(?<=[a-z])(?=\d{4}\b)")
_NON_WORD = re.compile(r"[^\w]+", flags=re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, accents stripped, punctuation to spaces ("CoD's" -> "cod",
    "l'OIM" -> "l oim"), Arabic digits and spellings folded ("٢٠٢٢" -> "2022")."""
    if text.isascii():  # no accents, no Arabic: decomposing and folding change nothing
        text = text.lower()
    else:
        text = _HAMZA_SEAT.sub("ء", text)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
        text = text.translate(_FOLD)
    text = text.replace("&", " and ").replace("+", " plus ")
    text = _ELISION.sub(r"\1 ", text)
    text = _POSSESSIVE.sub("", text)
    text = _APOSTROPHES.sub("", text)
    text = _ORDINAL_SUFFIX.sub(r"\1", text)  # "31st", "31e" -> "31"
    text = _GLUED_YEAR.sub(" ", text)  # "cod2015" -> "cod 2015"
    return _NON_WORD.sub(" ", text).strip()


@lru_cache(maxsize=64)
def _normalised_words(text: str) -> tuple[str, ...]:
    # A question is split into its readings and then analysed whole: normalised once
    # (a few recent texts are enough for that; building the index passes many more).
    return tuple(normalise(text).split())


def is_arabic(word: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in word)


def strip_arabic_prefix(word: str) -> str:
    """The stem of an Arabic word without its article or a leading "and": الهجره,
    للهجره, بالهجره and والهجره are all هجره. Deliberately light, like :func:`stem`:
    both sides of a match go through it, so being consistent matters more than being
    right, and a two-letter stem is always kept whole."""
    if not word or not "\u0600" <= word[0] <= "\u06ff":
        return word
    if word.startswith("و") and len(word) >= 5 and not word.startswith("وال"):
        word = word[1:]  # و "and": وسياسه -> سياسه, وبالهجره -> بالهجره
    for article in _ARABIC_ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= 2:
            word = word[len(article) :]
            # Whatever the "and" rule does to a bare word it must do after an article
            # too, or الوطنيه and وطنيه would part ways.
            if word.startswith("و") and len(word) >= 5:
                word = word[1:]
            break
    # A possessive pronoun on the end: اعضاءها "its members" is اعضاء.
    if word.endswith("اءه") and len(word) >= 5:
        return word[:-1]  # اعضاءه "its members": after a hamza, ه is no ta marbuta
    for suffix in _ARABIC_POSSESSIVES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def arabic_clitics_off(word: str) -> list[str]:
    """What a spoken-Arabic word may be without the clitics :func:`strip_arabic_prefix`
    leaves on, for a word the knowledge base does not know: a leading ب ("in", or the
    Levantine present: بلندن "in London", بيرأس "chairs"), an object pronoun ه at the end
    (يرأسه "chairs it") and the Levantine passive انـ (انعتمدت "was adopted", for
    اعتمدت). Only ever tried against the knowledge base's own words: ه also ends many
    words (ة is folded to it), so it is never stripped blindly."""
    out: list[str] = []
    # ...and a leading ل "for, of" (لسياسه "for the policy", لتنفيذ "to implement")
    for w in (word, word[1:] if word[:1] in ("ب", "ل") and len(word) >= 5 else ""):
        if not w:
            continue
        if w != word:
            out.append(w)
        if w.endswith("ه") and len(w) >= 5:
            out.append(w[:-1])
        if w.startswith("ان") and len(w) >= 6:
            out.append("ا" + w[2:])
    return out


def text_words(text: str) -> list[str]:
    """The words of a text as the matcher compares them: normalised, Arabic prefixes off."""
    return list(_text_words(text))


@lru_cache(maxsize=65536)
def _text_words(text: str) -> tuple[str, ...]:
    # Building the index reads each phrasing and answer more than once, and people
    # repeat the same short questions: normalising is the costly part of both.
    return tuple(strip_arabic_prefix(w) for w in _normalised_words(text))


@lru_cache(maxsize=4096)
def _as_compared(word: str) -> str:
    """A word of a text as the matcher compares it ("CI," -> "ci"): remembered, since
    every reading of a question looks at the same words again."""
    return " ".join(_text_words(word))


class Phrases:
    """A set of phrases (tuples of words as text_words() gives them), found in a text's
    words by their first word: every reading of every message is checked against a
    hundred or so, so a scan of each phrase over the joined text would be the cost."""

    def __init__(self, phrases: Iterable[tuple[str, ...]]) -> None:
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in phrases:
            if phrase:
                self._by_first.setdefault(phrase[0], []).append(phrase)

    def __eq__(self, other: object) -> bool:
        # Compared by value: an index read back from the cache holds the same phrases.
        return isinstance(other, Phrases) and self._by_first == other._by_first

    __hash__ = None  # type: ignore[assignment]

    def held_in(self, words: Sequence[str]) -> bool:
        """Whether the words hold one of the phrases, as consecutive words."""
        by_first = self._by_first
        for i, word in enumerate(words):
            for phrase in by_first.get(word, ()):
                if tuple(words[i : i + len(phrase)]) == phrase:
                    return True
        return False

    def without(self, words: Sequence[str]) -> list[str]:
        """The words less every occurrence of a phrase (the longest at each place)."""
        by_first = self._by_first
        kept: list[str] = []
        i = 0
        while i < len(words):
            found = max(
                (len(p) for p in by_first.get(words[i], ()) if tuple(words[i : i + len(p)]) == p),
                default=0,
            )
            if found:
                i += found
            else:
                kept.append(words[i])
                i += 1
        return kept


# Stopwords and politeness both carry nothing: dropped from every question and phrasing.
POLITENESS = _words("politeness")
STOPWORDS = _words("stopwords") | POLITENESS
# Politeness compared word by word in a follow-up ("por favor" is "por" and "favor";
# Arabic فضلك is politeness already).
COURTESY = POLITENESS | {
    "please",
    "pls",
    "plz",
    "por",
    "favor",
    "porfa",
    "porfis",
    "xfa",
    "plis",
    "kindly",
}
FILLER = _words("filler")
ENGLISH_WORDS = _words("stopwords", ["en"]) | _words("filler", ["en"])
# Other languages' question words, as the English word the weights are set for.
QUESTION_ALIASES = {
    " ".join(text_words(word)): english
    for english, words in _LANGUAGE_DATA["question_words"].items()
    for word in words
}


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A deliberately light English stemmer: both sides are stemmed the same way, so
    only consistency matters, and being timid keeps short acronyms intact."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            base = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                return base + "y"
            return base
    # "include" and "included" (-> "includ") must meet: a final silent e goes too.
    return word[:-1] if word.endswith("e") and len(word) > 5 else word


# The same, as the stemmer leaves them: checked after stemming and folding too.
STOP_STEMS = frozenset(stem(w) for w in STOPWORDS if " " not in w)
FILLER_STEMS = frozenset(stem(w) for w in FILLER)
