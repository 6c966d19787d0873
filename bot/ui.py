"""The bot's own UI strings, loaded from ``bot/locales/*.yaml``.

Code refers to strings by key; the words live in YAML so they can be reworded and
translated without touching code. English is complete; other languages may be partial.
"""

from __future__ import annotations

import string
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from bot.dates import ENGLISH, DateStyle
from bot.errors import ContentError, Problem
from bot.yamlfile import load_yaml

LOCALES_DIR = Path(__file__).resolve().parent / "locales"

# CLDR's plural categories. A key "<base>_<category>" is the words of <base> for the
# numbers of that category, in languages that have it ("rel_days_ago_two" in Arabic).
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


@lru_cache(maxsize=256)  # asked about ten times per event, of a handful of hints
def language_of(hint: str | None) -> str:
    """ "fr-FR" -> "fr"; None -> "en"."""
    return (hint or "en").split("-")[0].split("_")[0].lower() or "en"


@lru_cache(maxsize=4096)  # Babel's rule is slow to evaluate, and counts repeat
def plural_category(language: str | None, n: int) -> str:
    """The CLDR plural category of a whole number in a language ("few" for 3 in Arabic).

    Babel carries CLDR's rules, kept current with each CLDR release, so the bot does not
    maintain its own copy; a language Babel does not know counts like English.
    """
    return str(_plural_rule(language_of(language))(abs(n)))


@cache
def _plural_rule(language: str) -> Any:
    from babel import Locale, UnknownLocaleError  # CLDR data: when a count is first worded

    try:
        return Locale.parse(language).plural_form
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en").plural_form


def plural_base(key: str, english: dict[str, str]) -> str | None:
    """ "rel_days_ago" for "rel_days_ago_few" when that is an English key, else None."""
    base, _, category = key.rpartition("_")
    return base if category in PLURAL_CATEGORIES and base in english else None


class UI:
    def __init__(
        self, strings: dict[str, dict[str, str]], smalltalk: list[tuple[str, frozenset[str]]]
    ) -> None:
        self.strings = strings  # language -> key -> text
        self.smalltalk = smalltalk  # (reply key, normalised phrases)
        self._dates: dict[str, DateStyle] = {}
        self._words: dict[str, frozenset[str]] = {}
        self._smalltalk_words: frozenset[tuple[str, ...]] | None = None

    def smalltalk_words(self) -> frozenset[tuple[str, ...]]:
        """The small-talk phrases as the matcher reads words (:func:`bot.wording.text_words`,
        a function of the normalised text): a message whose words are none of these is no
        small talk, which a question then learns from words read for the matcher anyway."""
        if self._smalltalk_words is None:
            from bot.wording import text_words

            self._smalltalk_words = frozenset(
                tuple(text_words(phrase)) for _, phrases in self.smalltalk for phrase in phrases
            )
        return self._smalltalk_words

    def t(self, key: str, language: str | None = None, **values: object) -> str:
        """The words of ``key`` in a language, with ``values`` filled in. A placeholder
        with a count spec, ``{count:answers}``, is the number worded by the plural forms
        of ``count_answers`` ("1 answer", "5 answers", Arabic "إجابتان" for 2)."""
        lang = language_of(language)
        text = self.strings.get(lang, {}).get(key) or self.strings["en"][key]
        if not values:
            return text
        if not _words_counts(text):
            # str.format does the same for a text without {n:words} in a fraction of
            # string.Formatter's time: a poll's tally is worded after every vote.
            return text.format(**values)
        return _Wording(self, lang).vformat(text, (), values)

    def plural(self, key: str, language: str | None, n: int, **values: object) -> str:
        """``key`` worded for the number ``n``: its variant for n's plural category in
        the language ("rel_days_ago_few" for 3 in Arabic), else the key itself; a
        language without the key falls back to English, with English's category."""
        lang = language_of(language)
        for table, category in (
            (self.strings.get(lang, {}), plural_category(lang, n)),
            (self.strings["en"], plural_category("en", n)),
        ):
            text = table.get(f"{key}_{category}") or table.get(key)
            if text:
                return text.format(n=n, **values)
        raise KeyError(key)

    def words(self, key: str) -> frozenset[str]:
        """A "a|b|c" words key in every language at once, case-folded: what people may
        type whatever language their app is in ("oui", "sí", "نعم")."""
        if key not in self._words:
            self._words[key] = frozenset(
                word.strip().casefold()
                for table in self.strings.values()
                if key in table
                for word in table[key].split("|")
                if word.strip()
            )
        return self._words[key]

    def dates(self, language: str | None = None) -> DateStyle:
        """How dates are written in a language: month names and patterns from the
        locale files ("22 juin 2022", "22 de junio de 2022")."""
        lang = language_of(language)
        lang = lang if lang in self.strings else "en"
        style = self._dates.get(lang)
        if style is None:
            table, english = self.strings.get(lang, {}), self.strings["en"]

            def text(key: str, default: str) -> str:
                return table.get(key) or english.get(key) or default

            style = DateStyle(
                months=tuple(text(f"month_{i}", m) for i, m in enumerate(ENGLISH.months, 1)),
                day_format=text("date_day", ENGLISH.day_format),
                month_format=text("date_month", ENGLISH.month_format),
                days_in_month_format=text("date_days_in_month", ENGLISH.days_in_month_format),
                days_in_year_format=text("date_days_in_year", ENGLISH.days_in_year_format),
                months_in_year_format=text("date_months_in_year", ENGLISH.months_in_year_format),
                moment_format=text("date_moment", ENGLISH.moment_format),
                first_day=text("date_first_day", ENGLISH.first_day),
            )
            self._dates[lang] = style
        return style

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> UI:
        from bot.wording import normalise

        problems: list[Problem] = []
        strings: dict[str, dict[str, str]] = {}
        shipped = directory == LOCALES_DIR
        # "en.yaml" and "en.consult.yaml" are both English: one file per feature keeps
        # each feature's words together.
        for path in sorted(directory.glob("*.yaml")):
            if path.stem == "smalltalk":
                continue
            data, errors = load_yaml(path, f"locales/{path.name}", shipped=shipped)
            problems += errors
            table = strings.setdefault(path.name.split(".")[0], {})
            for key, value in (data or {}).items() if isinstance(data, dict) else ():
                if key in table:
                    problems.append(
                        Problem(f"locales/{path.name}", data.line_of(key), key, "key defined twice")
                    )
                table[str(key)] = str(value)
        english = strings.get("en", {})
        for lang, table in strings.items():
            for key, text in table.items():
                problem = _placeholder_problem(key, text, english) or _count_problem(text, english)
                if problem:
                    problems.append(Problem(f"locales/{lang}.*.yaml", None, key, problem))
        smalltalk: list[tuple[str, frozenset[str]]] = []
        data, errors = load_yaml(
            directory / "smalltalk.yaml", "locales/smalltalk.yaml", shipped=shipped
        )
        problems += errors
        for item in (data or {}).get("smalltalk", []):
            if item.get("reply") not in english:
                problems.append(
                    Problem(
                        "locales/smalltalk.yaml",
                        item.line,
                        None,
                        f"reply key {item.get('reply')!r} not in en.yaml",
                    )
                )
                continue
            smalltalk.append(
                (item["reply"], frozenset(normalise(p) for p in item.get("phrases", [])))
            )
        if problems or not english:
            raise ContentError(problems or [Problem("locales/en.yaml", None, None, "missing")])
        return cls(strings, smalltalk)


COUNT_PREFIX = "count_"


@cache
def _words_counts(text: str) -> bool:
    """Whether a text has a placeholder that words a count (``{n:days}``)."""
    return any(spec and spec.isidentifier() for _, _, spec, _ in string.Formatter().parse(text))


class _Wording(string.Formatter):
    """``str.format`` that words counts: ``{n:days}`` -> :meth:`UI.plural` of ``count_days``."""

    def __init__(self, ui: UI, language: str) -> None:
        self.ui, self.language = ui, language

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec.isidentifier():
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{{:{format_spec}}} words a whole number, not {value!r}")
            return self.ui.plural(COUNT_PREFIX + format_spec, self.language, value)
        return str(super().format_field(value, format_spec))


def _count_problem(text: str, english: dict[str, str]) -> str | None:
    """A ``{count:words}`` spec that names no ``count_words`` key, if there is one."""
    for _, name, spec, _ in string.Formatter().parse(text):
        if name and spec and spec.isidentifier() and COUNT_PREFIX + spec not in english:
            return f"{{{name}:{spec}}} needs a key {COUNT_PREFIX}{spec} in English"
    return None


def _placeholder_problem(key: str, text: str, english: dict[str, str]) -> str | None:
    """Why a locale string does not fit its English key, if it does not.

    A plural variant ("rel_days_ago_two") may leave out placeholders of its base key
    ("two days ago" needs no {n}), and need not exist in English.
    """
    base = plural_base(key, english)
    have = sorted(_fields(text))
    if base is not None:
        allowed = _fields(english[base])
        if not _fields(text) <= allowed:
            return f"placeholders {have} are not among {base}'s {sorted(allowed)}"
        return None
    if key not in english:
        return "key not in English"
    if _fields(text) != _fields(english[key]):
        return f"placeholders {have} differ from English {sorted(_fields(english[key]))}"
    return None


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
