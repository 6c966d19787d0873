"""Numbers written without digits: Roman numerals and ordinal words.

Translations write "the 31st International Conference" as "la XXXI Conferencia", "la
trigésima primera Conferencia", "la XXXIe Conférence", "la trente et unième" or "المؤتمر
الدولي الحادي والثلاثون". :func:`spelled_numbers` reads those back as numbers, so the
translation check (bot/translation_check.py) can tell a faithful ordinal from a wrong
or dropped number. Tens and units are read as the languages compose them (units after
tens in Spanish, French and English; "unit و tens" and "unit عشر" in Arabic).
"""

from __future__ import annotations

import re
import unicodedata

# ------------------------------------------------------------------ Roman numerals

_ROMAN = re.compile(r"(?<![^\W\d_])([IVXLCDM]+)(?:e|er|re|ème|es|º|ª)?(?![^\W\d_])")
_ROMAN_VALUES = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)  # fmt: skip


def to_roman(n: int) -> str:
    out = []
    for value, letters in _ROMAN_VALUES:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def from_roman(text: str) -> int | None:
    """The value of a well-formed upper-case Roman numeral ("XXXI" -> 31), else None
    ("IIII", "IC" and "MRG" are not numerals)."""
    letters = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    if not text or any(ch not in letters for ch in text):
        return None
    total = 0
    for i, ch in enumerate(text):
        value = letters[ch]
        following = letters[text[i + 1]] if i + 1 < len(text) else 0
        total += -value if value < following else value
    return total if 0 < total < 4000 and to_roman(total) == text else None


# ------------------------------------------------------------------ Latin-script words


def _fold(text: str) -> str:
    if text.isascii():  # nothing to decompose: the common case, on every reading
        return text.lower()
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Spanish ordinals, folded, without their ending (-o, -a, -os, -as): "trigésima" -> trigesim.
_ES_UNITS = {
    "primer": 1, "segund": 2, "tercer": 3, "cuart": 4, "quint": 5, "sext": 6,
    "septim": 7, "setim": 7, "octav": 8, "noven": 9,
}  # fmt: skip
_ES_TENS = {
    "decim": 10, "vigesim": 20, "trigesim": 30, "cuadragesim": 40, "quincuagesim": 50,
    "sexagesim": 60, "septuagesim": 70, "octogesim": 80, "nonagesim": 90, "centesim": 100,
}  # fmt: skip
_ES_WHOLE = {"undecim": 11, "duodecim": 12}


def _es_stem(word: str) -> str:
    """A Spanish ordinal without its ending (-o, -a, -os, -as): "trigésimas" -> trigesim."""
    for ending in ("os", "as", "o", "a"):
        if word.endswith(ending) and len(word) > len(ending):
            return word[: -len(ending)]
    return word


# French and English: the tens a compound ordinal starts with ("trente et unième",
# "dix-septième", "thirty-first"), and the ordinal words.
_TENS = {
    "dix": 10, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_ORDINAL_WORDS = {
    "premier": 1, "premiere": 1, "unieme": 1, "deuxieme": 2, "second": 2, "seconde": 2,
    "troisieme": 3, "quatrieme": 4, "cinquieme": 5, "sixieme": 6, "septieme": 7,
    "huitieme": 8, "neuvieme": 9, "dixieme": 10, "onzieme": 11, "douzieme": 12,
    "treizieme": 13, "quatorzieme": 14, "quinzieme": 15, "seizieme": 16,
    "vingtieme": 20, "trentieme": 30, "quarantieme": 40, "cinquantieme": 50,
    "soixantieme": 60, "centieme": 100,
    "first": 1, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
    "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60, "seventieth": 70,
    "eightieth": 80, "ninetieth": 90, "hundredth": 100,
}  # fmt: skip


def _latin_words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", _fold(text))


def _spanish(words: list[str]) -> set[int]:
    out: set[int] = set()
    stems = [_es_stem(w) for w in words]
    i = 0
    while i < len(stems):
        stem = stems[i]
        # "decimosexta": décimo + sext, glued.
        glued = stem[6:] if stem.startswith("decimo") and stem[6:] in _ES_UNITS else None
        if glued:
            out.add(10 + _ES_UNITS[glued])
        elif stem in _ES_WHOLE:
            out.add(_ES_WHOLE[stem])
        elif stem in _ES_TENS:
            value = _ES_TENS[stem]
            if i + 1 < len(stems) and stems[i + 1] in _ES_UNITS:
                value += _ES_UNITS[stems[i + 1]]
                i += 1
            out.add(value)
        elif stem in _ES_UNITS:
            out.add(_ES_UNITS[stem])
        i += 1
    return out


def _french_english(words: list[str]) -> set[int]:
    """ "trente et unième" = 31, "dix-septième" = 17, "soixante-dixième" = 70,
    "thirty-first" = 31: a ten, then an ordinal below the next ten. "Les deux premières"
    (the first two) is 1, not 3: only tens compose."""
    out: set[int] = set()
    for i, w in enumerate(words):
        value = _ORDINAL_WORDS.get(w.removesuffix("s"))
        if value is None:
            continue
        before = words[i - 2] if i >= 2 and words[i - 1] in ("et", "and") else words[i - 1]
        tens = _TENS.get(before, 0) if i >= 1 else 0
        # French counts 70 as 60 + 10 and 90 as 80 + 10 ("soixante-dix-septième").
        if before == "dix" and i >= 2 and words[i - 2] in ("soixante", "vingts", "vingt"):
            tens = _TENS["soixante"] + 10 if words[i - 2] == "soixante" else 90
        if before in ("vingt", "vingts") and i >= 2 and words[i - 2] == "quatre":
            tens = 80
        limit = 20 if tens in (60, 80) else 10
        out.add(tens + value if tens and value < limit else value)
    return out


# ------------------------------------------------------------------ Arabic words

_AR_MARKS = re.compile("[\u064b-\u0652\u0640\u0670]")  # short vowels, tatweel
_AR_UNITS = {
    "اول": 1, "اولي": 1, "حادي": 1, "حاديه": 1, "ثاني": 2, "ثانيه": 2, "ثالث": 3,
    "ثالثه": 3, "رابع": 4, "رابعه": 4, "خامس": 5, "خامسه": 5, "سادس": 6, "سادسه": 6,
    "سابع": 7, "سابعه": 7, "ثامن": 8, "ثامنه": 8, "تاسع": 9, "تاسعه": 9,
    "عاشر": 10, "عاشره": 10,
}  # fmt: skip
_AR_TEEN = frozenset({"عشر", "عشره"})
_AR_TENS = {
    "عشرون": 20, "عشرين": 20, "ثلاثون": 30, "ثلاثين": 30, "اربعون": 40, "اربعين": 40,
    "خمسون": 50, "خمسين": 50, "ستون": 60, "ستين": 60, "سبعون": 70, "سبعين": 70,
    "ثمانون": 80, "ثمانين": 80, "تسعون": 90, "تسعين": 90,
}  # fmt: skip
_AR_KNOWN = {**_AR_UNITS, **_AR_TENS, **dict.fromkeys(_AR_TEEN, 10)}


# Spelling variants folded: hamza forms of alif, alif maqsura, ta marbuta.
_AR_LETTERS = str.maketrans("أإآىة", "ااايه")


def _arabic_fold(word: str) -> str:
    word = _AR_MARKS.sub("", word)
    return word.translate(_AR_LETTERS)


def _arabic_word(word: str) -> tuple[str, bool, bool]:
    """A word without its "و" (and) and article, as the tables spell it, whether it had
    the "و" and whether the article: "والثلاثون" -> ("ثلاثون", True, True)."""
    for conj in (False, True):
        w = word[1:] if conj and word.startswith("و") else word
        if conj and w == word:
            continue
        for article in ("ال", "لل", "بال", "فال", "كال", ""):
            if w.startswith(article) and w[len(article) :] in _AR_KNOWN:
                return w[len(article) :], conj, bool(article)
    return word, False, False


def _arabic(text: str) -> set[int]:
    if text.isascii():
        return set()
    letters = re.findall(r"[\u0621-\u064a]+", _AR_MARKS.sub("", text))  # no "،" or digits
    words = [_arabic_word(_arabic_fold(w)) for w in letters]
    out: set[int] = set()
    i = 0
    while i < len(words):
        word, _, article = words[i]
        nxt, conj, _ = words[i + 1] if i + 1 < len(words) else ("", False, False)
        if word in _AR_UNITS:
            value = _AR_UNITS[word]
            if nxt in _AR_TEEN and not conj and value < 10:
                value, i = value + 10, i + 1
            elif nxt in _AR_TENS and conj and value < 10:
                value, i = value + _AR_TENS[nxt], i + 1
            out.add(value)
        elif word in _AR_TENS and article:  # "العشرون" is the 20th; "عشرون" is twenty
            out.add(_AR_TENS[word])
        i += 1
    return out


def spelled_numbers(text: str) -> set[str]:
    """The numbers a text writes as Roman numerals or ordinal words, as digit strings:
    "la XXXI Conferencia" -> {"31"}, "الحادي والثلاثون" -> {"31"}."""
    values = {v for m in _ROMAN.finditer(text) if (v := from_roman(m.group(1)))}
    words = _latin_words(text)
    values |= _spanish(words) | _french_english(words) | _arabic(text)
    return {str(v) for v in values}
