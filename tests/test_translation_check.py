"""``nsbot kb check``: per language, what is untranslated, and translations whose
numbers or placeholders differ from the English."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import shipped_knowledge_dir
from bot.consultations import load_consultations
from bot.knowledge import load_knowledge
from bot.translation_check import Report, _differences, numbers, reports
from bot.ui import LOCALES_DIR, UI
from tests.conftest import FIXTURES
from tests.consult_helpers import KB_MIN

CONSULTATION = """\
id: t
title: Test of 2027
introduction: Answer before 31 March 2027.
consent: Agree?
opens: 2020-01-01 00:00
closes: 2099-12-31
timezone: UTC
questions:
  - id: pick
    type: single
    text: Pick one of 3
    choices: [Alpha, Beta]
translations:
  fr:
    title: Test de 2027
    introduction: Répondez avant le XXXI mars 2027.
"""


def test_numbers_are_compared_in_any_script() -> None:
    assert numbers("the 31st Conference, 2011") == numbers("la XXXIe Conférence, 2011") | {"31"}
    assert numbers("١٢ و 2011") == {"12", "2011"}
    assert numbers("1,200") == numbers("1 200")


def test_untranslated_fields_are_counted_and_mismatches_found(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(CONSULTATION, encoding="utf-8")
    catalog = load_consultations(tmp_path)
    (french,) = reports(UI.load(), None, catalog, ["fr"])
    fields = next(t for t in french.tallies if t.kind == "consultation fields")
    assert fields.total == 6  # title, introduction, consent, the question's text, 2 choices
    assert sorted(p.entry for p in fields.missing) == [
        "t consent",
        "t questions.pick.choices.alpha",
        "t questions.pick.choices.beta",
        "t questions.pick.text",
    ]
    (mismatch,) = [p for p in french.mismatches if p.entry == "t introduction"]
    assert "missing 31" in mismatch.message and mismatch.warning


def test_a_locale_string_with_a_changed_number_is_reported(tmp_path: Path) -> None:
    for path in LOCALES_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    reminders = tmp_path / "es.reminders.yaml"
    text = reminders.read_text(encoding="utf-8")
    reminders.write_text(
        re.sub(
            r"(?m)^subscribe_help_line: .*$",
            "subscribe_help_line: 'Elija otros días con /subscribe 7 1.'",
            text,
        ),
        encoding="utf-8",
    )
    (spanish,) = reports(UI.load(tmp_path), None, load_consultations(tmp_path / "none"), ["es"])
    (problem,) = [p for p in spanish.mismatches if p.entry == "subscribe_help_line"]
    assert "missing 14, 2" in problem.message and "not in the English: 1, 7" in problem.message


def test_the_shipped_content_counts_per_language() -> None:
    kb = load_knowledge(shipped_knowledge_dir())
    catalog = load_consultations(shipped_knowledge_dir() / "consultations")
    for report in reports(UI.load(), kb, catalog):
        kinds = {t.kind: t for t in report.tallies}
        assert kinds["UI strings"].total > 300 and not kinds["UI strings"].missing
        assert kinds["consultation fields"].total > 40 and not kinds["consultation fields"].missing
        assert kinds["FAQ entries"].total == len(
            [e for e in kb.entries if not e.startswith("glossary-")]
        )
        assert "FAQ entries" in report.summary() and "events" in report.summary()


def test_kb_check_prints_the_counts_and_lists_with_verbose(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NSBOT_KNOWLEDGE", str(KB_MIN))
    monkeypatch.setenv("NSBOT_FAQ", str(KB_MIN.parent / "faq.yaml"))
    assert main(["kb", "check"]) == 0
    out = capsys.readouterr().out
    for language in ("fr", "es", "ar"):
        assert re.search(
            rf"translations: \[{language}\] warning: untranslated: UI strings 0 of \d+", out
        )
    assert "not translated into fr" not in out
    assert main(["kb", "check", "--verbose"]) == 0
    verbose = capsys.readouterr().out
    assert "not translated into fr" in verbose and "not translated into ar" in verbose


@pytest.mark.parametrize(
    "translation",
    [
        "la XXXI Conferencia Internacional (2011)",
        "la trigésima primera Conferencia Internacional (2011)",
        "la XXXIe Conférence internationale (2011)",
        "la trente et unième Conférence internationale (2011)",
        "المؤتمر الدولي الحادي والثلاثون (2011)",
        "المؤتمر الدولي الحادي والثلاثين (2011)",
    ],
)
def test_an_ordinal_in_words_or_roman_numerals_is_the_same_number(translation: str) -> None:
    assert (
        _differences("f", 1, "e", "es", "the 31st International Conference (2011)", translation)
        == []
    )


@pytest.mark.parametrize(
    ("english", "translation", "expected"),
    [
        # The wrong Conference, in numerals or in words.
        ("the 31st Conference", "la XXXII Conferencia", "missing 31"),
        ("the 31st Conference", "المؤتمر الثاني والثلاثون", "missing 31"),
        ("the 16th and 17th Assemblies", "la XVI y la XVI Asamblea", "missing 17"),
        # A day is not an ordinal: "XXXI de marzo" for "31 March" stays flagged.
        ("by 31 March 2027", "antes del XXXI de marzo de 2027", "missing 31"),
        # A dropped year next to a faithful ordinal.
        ("the 31st Conference (2011)", "la XXXI Conferencia", "missing 2011"),
    ],
)
def test_real_number_mismatches_stay_flagged(english: str, translation: str, expected: str) -> None:
    (problem,) = _differences("f", 1, "e", "es", english, translation)
    assert expected in problem.message and problem.warning


def test_the_shipped_translations_have_no_ordinal_false_alarms() -> None:
    """Before bot/ordinals.py, every "XXXI" and "الحادي والثلاثون" for "31st" was a
    warning: 26 each in Spanish and Arabic."""
    kb = load_knowledge(shipped_knowledge_dir())
    catalog = load_consultations(shipped_knowledge_dir() / "consultations")
    for report in reports(UI.load(), kb, catalog, ["es", "ar"]):
        alarms = [
            str(p) for p in report.mismatches if p.file == "faq.yaml" and "numbers" in p.message
        ]
        assert alarms == [], alarms


def overlay_reports(tmp_path: Path, extra: str = "") -> dict[str, Report]:
    root = tmp_path / "kb"
    shutil.copytree(KB_MIN.parent, root)
    shutil.copytree(FIXTURES / "kb_lang", root, dirs_exist_ok=True)
    if extra:
        (root / "knowledge" / "translations" / "es.yaml").write_text(extra, encoding="utf-8")
    kb = load_knowledge(root / "knowledge")
    catalog = load_consultations(tmp_path / "none")
    return {r.language: r for r in reports(UI.load(), kb, catalog)}


def test_glossary_topics_events_and_sources_are_counted_field_by_field(tmp_path: Path) -> None:
    by_language = overlay_reports(tmp_path)
    fr, ar, es = by_language["fr"], by_language["ar"], by_language["es"]

    def missing(report: Report, kind: str) -> list[str]:
        tally = next(t for t in report.tallies if t.kind == kind)
        return sorted(str(p.entry) for p in tally.missing)

    assert missing(fr, "glossary terms") == ["MRG (stands_for, description)"]
    assert missing(fr, "topics") == ["groups (description)"]
    assert missing(fr, "events") == ["policy-adoption (summary)"]
    assert missing(fr, "sources") == ["sheet (title)"]
    assert all(not t.missing for t in ar.tallies if t.kind != "UI strings"), ar.summary()
    assert missing(es, "glossary terms") == ["CoD", "MRG"]
    assert missing(es, "events") == ["cod-2022", "policy-adoption"]
    assert "topics 1 of 2, events 1 of 2, sources 1 of 1" in fr.summary()
    assert "glossary terms 0 of 2, topics 0 of 2, events 0 of 2, sources 0 of 1" in ar.summary()
    located = next(p for t in fr.tallies if t.kind == "topics" for p in t.missing)
    assert located.file.endswith("knowledge/topics.yaml") and located.line == 5
    assert fr.mismatches == ar.mismatches == []


def test_numbers_of_translated_events_and_topics_are_compared(tmp_path: Path) -> None:
    spanish = overlay_reports(
        tmp_path,
        "events:\n"
        "  - id: cod-2022\n"
        "    title: Consejo de Delegados 2023\n"
        "topics:\n"
        "  - id: policy\n"
        "    description: La política de {year}.\n",
    )["es"]
    found: dict[str | None, str] = {}
    for p in spanish.mismatches:
        found[p.entry] = found.get(p.entry, "") + p.message + "\n"
    assert "missing 2022" in found["cod-2022 title"]
    assert "not in the English: 2023" in found["cod-2022 title"]
    assert "missing 2009" in found["policy description"]
    assert "placeholders ['year']" in found["policy description"]


def test_a_language_translated_in_full_gets_no_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The shipped knowledge base is translated in full into fr, es and ar: kb check has
    # nothing to warn a curator of (the minimal one above, with gaps, still warns).
    monkeypatch.delenv("NSBOT_KNOWLEDGE", raising=False)
    monkeypatch.delenv("NSBOT_FAQ", raising=False)
    assert main(["kb", "check"]) == 0
    out = capsys.readouterr().out
    assert "untranslated" not in out and "0 error(s), 0 warning(s)" in out
