"""``nsbot kb check``'s translation report: what is untranslated, per language, and
which translations disagree with the English on numbers, dates or placeholders.

Untranslated text is not an error (a person then reads the English of that field),
so it is reported as warnings: one summary per language with the counts, and with
``--verbose`` one line per untranslated item, located by file and line. A translation
whose digits (years, days, counts, article numbers) or ``{placeholders}`` differ from
the English one is a warning too: a dropped year, a wrong number, a renamed placeholder.
A number written as a Roman numeral or an ordinal word that equals it ("XXXI",
"trigésima primera", "الحادي والثلاثون" for "31st") is the same number (bot/ordinals.py).

Glossary terms, topics, events and sources are counted item by item: an item is
untranslated while any field a person reads is, and ``--verbose`` names the fields.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot import typed
from bot.config import Settings
from bot.consultation_translations import pairs, untranslated
from bot.consultations import Catalog, check_consultations
from bot.errors import Problem
from bot.kb_translations import FIELDS, untranslated_fields
from bot.knowledge import Event, KnowledgeBase, Source, Topic
from bot.ordinals import spelled_numbers
from bot.ui import UI, plural_base

LANGUAGES = ("fr", "es", "ar")
FAQ_FILE = "faq.yaml"


@dataclass
class Tally:
    """One kind of content in one language: how many there are, which are missing."""

    kind: str
    total: int = 0
    missing: list[Problem] = field(default_factory=list)


@dataclass
class Report:
    language: str
    tallies: list[Tally]
    mismatches: list[Problem]

    @property
    def untranslated(self) -> int:
        return sum(len(t.missing) for t in self.tallies)

    def summary(self) -> str:
        parts = [f"{t.kind} {len(t.missing)} of {t.total}" for t in self.tallies if t.total]
        return f"untranslated: {', '.join(parts)} (kb check --verbose lists them)"


class TranslationCheck:
    """The ``extra_checks()`` hook: a summary warning per language not translated in
    full, the mismatches,
    and with ``verbose`` every untranslated item."""

    def __init__(self, verbose: bool = False, languages: Iterable[str] = LANGUAGES) -> None:
        self.verbose = verbose
        self.languages = tuple(languages)

    def __call__(self, settings: Settings, kb: KnowledgeBase | None) -> list[Problem]:
        ui = UI.load()
        catalog, _ = check_consultations(
            settings.consultations_dir, root=settings.knowledge_dir.parent
        )
        problems: list[Problem] = []
        for report in reports(ui, kb, catalog, self.languages):
            if report.untranslated:  # a language translated in full has nothing to warn of
                problems.append(
                    Problem("translations", None, report.language, report.summary(), warning=True)
                )
            if self.verbose:
                problems += [p for t in report.tallies for p in t.missing]
            problems += report.mismatches
        return problems


def reports(
    ui: UI, kb: KnowledgeBase | None, catalog: Catalog, languages: Iterable[str] = LANGUAGES
) -> list[Report]:
    return [_report(ui, kb, catalog, lang) for lang in languages]


def _report(ui: UI, kb: KnowledgeBase | None, catalog: Catalog, lang: str) -> Report:
    tallies: list[Tally] = []
    mismatches: list[Problem] = []

    def missing(tally: Tally, file: str, line: int | None, entry: str) -> None:
        tally.missing.append(
            Problem(file, line, entry, f"not translated into {lang}", warning=True)
        )

    # The bot's own words.
    english, table = ui.strings["en"], ui.strings.get(lang, {})
    strings = Tally("UI strings")
    for key, text in english.items():
        if plural_base(key, english) is not None:
            continue  # "rel_in_days_one": a plural form, not a string of its own
        strings.total += 1
        if key not in table:
            missing(strings, f"locales/{lang}.*.yaml", None, key)
        else:
            mismatches += _differences(f"locales/{lang}.*.yaml", None, key, lang, text, table[key])
    tallies.append(strings)

    # Consultations, field by field.
    fields = Tally("consultation fields")
    for c in catalog:
        english_fields = untranslated(c, "en")  # English has no block: every field
        fields.total += len(english_fields)
        for name in untranslated(c, lang):
            missing(fields, c.file, c.line, f"{c.id} {name}")
        for name, source, translation in pairs(c, lang):
            mismatches += _differences(c.file, c.line, f"{c.id} {name}", lang, source, translation)
    tallies.append(fields)

    if kb is not None:
        faq = Tally("FAQ entries")
        for entry in kb.entries.values():
            if entry.id.startswith("glossary-"):
                continue
            faq.total += 1
            tr = entry.translations.get(lang)
            if tr is None:
                missing(faq, entry.file or FAQ_FILE, entry.line or None, entry.id)
            else:
                mismatches += _differences(
                    entry.file or FAQ_FILE,
                    entry.line or None,
                    entry.id,
                    lang,
                    entry.answer,
                    tr.answer,
                )
        tallies += [faq, *_content_tallies(kb, lang, missing, mismatches)]
    return Report(lang, tallies, mismatches)


Missing = Callable[[Tally, str, int | None, str], None]


def _content_tallies(
    kb: KnowledgeBase, lang: str, missing: Missing, mismatches: list[Problem]
) -> list[Tally]:
    """Glossary terms, topics, events and sources: each item counted untranslated while
    a field of it is (the list names the fields), each translated field compared."""
    glossary = Tally("glossary terms")
    for term in kb.terms:
        entry = kb.entries.get(term.entry_id)
        file, line = (
            (entry.file, entry.line or None) if entry else ("knowledge/glossary.yaml", None)
        )
        glossary.total += 1
        tr = term.translations.get(lang)
        fallback = ("stands_for", "description") if tr is None else tr.fallback
        if fallback:
            fields = "" if tr is None else f" ({', '.join(fallback)})"
            missing(glossary, file, line, term.term + fields)
        if tr is not None:
            for name in ("stands_for", "description"):
                if name not in fallback:
                    english, translated = getattr(term, name), getattr(tr, name)
                    who = term.term if name == "description" else f"{term.term} {name}"
                    mismatches += _differences(file, line, who, lang, english, translated)
    tallies = [glossary]
    groups: list[tuple[str, str, Iterable[Topic | Event | Source]]] = [
        ("topics", "topics", kb.topics.values()),
        ("events", "events", kb.events),
        ("sources", "sources", kb.sources.values()),
    ]
    for kind, label, items in groups:
        tally = Tally(label)
        for item in items:
            tally.total += 1
            home = item.defined_in if isinstance(item, Source) else item.file
            file, line = home or f"knowledge/{kind}.yaml", item.line or None
            lacking = untranslated_fields(item, lang, FIELDS[kind])
            if lacking:
                partly = lang in item.translations
                missing(tally, file, line, item.id + (f" ({', '.join(lacking)})" if partly else ""))
            text = item.translations.get(lang)
            for name in FIELDS[kind]:
                english, translated = getattr(item, name), getattr(text, name, "") if text else ""
                if english and translated:
                    mismatches += _differences(
                        file, line, f"{item.id} {name}", lang, english, translated
                    )
        tallies.append(tally)
    return tallies


_DIGITS = re.compile(r"[0-9]+")


def numbers(text: str) -> set[str]:
    """The digit runs of a text, in any script: years, days, counts, section numbers.
    "1,200", "1 200" and "1.200" all give {"1", "200"}, so grouping does not matter."""
    return set(_DIGITS.findall(typed.ascii_digits(text)))


_ORDINAL = re.compile(r"(?<![0-9])([0-9]+)(?:st|nd|rd|th)\b")


def ordinals(english: str) -> set[str]:
    """The numbers an English text writes as ordinals: "the 31st Conference" -> {"31"}."""
    return set(_ORDINAL.findall(english))


def placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:  # a lone "{" in prose: no placeholders to compare
        return set()


def _differences(
    file: str, line: int | None, entry: str, lang: str, english: str, translation: str
) -> list[Problem]:
    """Warnings for a translation whose numbers or placeholders are not the English's.
    An English ordinal ("31st") may be a Roman numeral or an ordinal word in the
    translation ("XXXI", "trigésima primera") of the same value; a day or a count
    ("31 March") may not."""
    out = []
    spelled = spelled_numbers(translation) & ordinals(english)
    lost = numbers(english) - numbers(translation) - spelled
    added = numbers(translation) - numbers(english) - spelled_numbers(english)
    if lost or added:
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(sorted(lost))}" if lost else "",
                f"not in the English: {', '.join(sorted(added))}" if added else "",
            )
            if part
        )
        out.append(
            Problem(
                file, line, entry, f"{lang} translation's numbers differ ({detail})", warning=True
            )
        )
    if placeholders(english) != placeholders(translation):
        out.append(
            Problem(
                file,
                line,
                entry,
                f"{lang} translation's placeholders {sorted(placeholders(translation))} "
                f"differ from the English {sorted(placeholders(english))}",
                warning=True,
            )
        )
    return out
