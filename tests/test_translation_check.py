"""``nsbot kb check``: per language, what is untranslated, and translations whose
numbers or placeholders differ from the English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import shipped_knowledge_dir
from bot.consultations import load_consultations
from bot.knowledge import load_knowledge
from bot.translation_check import numbers, reports
from bot.ui import LOCALES_DIR, UI
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
