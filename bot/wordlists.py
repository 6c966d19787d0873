"""Which language a question is in, and whether a word is a real word of it.

The word lists are wordfreq's "small" frequency lists (about 30,000 words each for
English, French and Spanish, 57,000 for Arabic), read straight from the package's data
files. Importing ``wordfreq`` itself costs half a second of start-up (it brings a
tokenizer and text fixers the bot does not need), so only its data is used: each file is
msgpack, a header then one list of words per centibel of frequency, most frequent first.

Two uses, both where the knowledge base's own vocabulary is not enough:
- Language identification of short texts: a naive Bayes over word frequencies, with
  the script deciding for Arabic.
- Typo correction must never rewrite a real word ("join" is not "joint"); and a real
  word the knowledge base does not know ("morning", "preparing") is context, not evidence
  against a match.
"""

from __future__ import annotations

import gzip
import importlib.util
import pickle
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

import msgpack

LANGUAGES = ("en", "fr", "es", "ar")
# A word no list has: about the frequency of a word just past the end of the lists.
_FLOOR_CB = 900
# How many centibels of total evidence one language needs over the next to be named.
_MIN_LEAD_CB = 150
# Most staff write in English, and English words borrowed into French or Spanish lists
# ("compact", "agenda") must not turn an English question French.
_ENGLISH_PRIOR_CB = 100


def _data_dir() -> Path | None:
    spec = importlib.util.find_spec("wordfreq")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


# Arabic as the matcher spells it (bot.wording.normalise): ى is ي, ة is ه, no tatweel.
# Without it, the list's عاصمة never met the question's عاصمه, which typo correction
# then "corrected" to عامه.
_ARABIC_FOLD = str.maketrans({"ى": "ي", "ة": "ه", "ـ": None})


def fold(word: str) -> str:
    """Lower case without accents: how people type on a phone, and how lists are keyed."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_ARABIC_FOLD)


def data_files() -> list[Path]:
    """The files the lists are read from: part of the index cache's key."""
    folder = _data_dir()
    return [] if folder is None else [folder / f"small_{lang}.msgpack.gz" for lang in LANGUAGES]


# Each list as the index cache keeps it (bot/index_cache.py), read on first use: three
# times faster than decoding and folding the package's file again on every start.
_adopted: dict[str, bytes] = {}


def adopt(serialised: dict[str, bytes]) -> None:
    """Use the lists :func:`serialised` made from these same files (the cache's key)."""
    _adopted.update(serialised)


def serialised() -> dict[str, bytes]:
    """Every list, in the form :func:`adopt` takes."""
    return {
        lang: pickle.dumps(centibels(lang), protocol=pickle.HIGHEST_PROTOCOL) for lang in LANGUAGES
    }


@cache
def centibels(language: str) -> dict[str, int]:
    """Word (folded) -> how rare it is, in centibels below 1 (0 is "every word")."""
    if language in _adopted:
        table: dict[str, int] = pickle.loads(_adopted[language])
        return table
    folder = _data_dir()
    if folder is None or language not in LANGUAGES:
        return {}
    path = folder / f"small_{language}.msgpack.gz"
    buckets = msgpack.loads(gzip.decompress(path.read_bytes()), raw=False)
    out: dict[str, int] = {}
    for cb, words in enumerate(buckets[1:]):  # the first item is the header
        for word in words:
            # Folding merges "où" and "ou": the more frequent spelling's rank is kept.
            out.setdefault(fold(word) if not word.isascii() else word, cb)
    return out


def is_word(word: str, languages: tuple[str, ...] = LANGUAGES, max_cb: int = 700) -> bool:
    """True when ``word`` (folded) is a common enough word of one of ``languages``.

    ``max_cb`` 700 is a frequency of one in ten million: everyday words and most
    inflections, not the long tail where typos of common words also live.
    """
    return any(centibels(lang).get(word, _FLOOR_CB) <= max_cb for lang in languages)


@lru_cache(maxsize=65536)
def _rarity(word: str) -> tuple[int, int, int]:
    """How rare a word is in English, French and Spanish (capped at the floor): every
    question is scored word by word, and people ask with the same few thousand words."""
    en, fr, es = (
        min(centibels(lang).get(word, _FLOOR_CB), _FLOOR_CB) for lang in ("en", "fr", "es")
    )
    return en, fr, es


@lru_cache(maxsize=65536)
def _is_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" for ch in text)


def detect(words: list[str]) -> str | None:
    """The language of a short text's words (folded), or None when they do not say.

    Arabic script decides for Arabic. Otherwise each Latin-script language scores the
    words by their frequency in it; acronyms and names are rare everywhere and so weigh
    nothing. A lead too small to trust (a lone "ok", "mrg 2011") gives None, and the
    caller falls back on the chat app's language.
    """
    if any(_is_arabic(w) for w in words):
        latin = [w for w in words if w.isascii() and w.isalpha()]
        arabic = [w for w in words if _is_arabic(w)]
        return "ar" if len(arabic) >= len(latin) or len(arabic) >= 2 else None
    en = fr = es = 0
    for w in words:
        rare_en, rare_fr, rare_es = _rarity(w)
        en, fr, es = en + rare_en, fr + rare_fr, es + rare_es
    scores = (-en + _ENGLISH_PRIOR_CB, -fr, -es)
    first, second, _ = sorted(scores, reverse=True)
    if not words or first - second < _MIN_LEAD_CB:
        return None
    # A lead of _MIN_LEAD_CB or more: the best language is the only one with that score.
    return ("en", "fr", "es")[scores.index(first)]


def preload() -> None:
    """Read every list now: a long-running bot pays this once at start, instead of
    holding the event loop for a tenth of a second on the first Arabic question."""
    for language in LANGUAGES:
        centibels(language)
