"""YAML errors in words a curator can act on: each broken fixture is kept as a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.knowledge import check_knowledge
from bot.yamlfile import display_path, load_yaml

from .conftest import FIXTURES
from .test_knowledge import broken_kb

BROKEN = FIXTURES / "broken"


def test_an_over_indented_line_says_so_rather_than_asking_for_quotes() -> None:
    _, problems = load_yaml(BROKEN / "over_indented" / "faq.yaml")
    (problem,) = problems
    assert problem.line == 19
    assert "indented more than the line above" in problem.message
    assert "'answer:'" in problem.message
    assert "must be put in quotes" not in problem.message


def test_a_tab_inside_a_question_is_not_called_indentation() -> None:
    _, problems = load_yaml(BROKEN / "tab_in_text" / "faq.yaml")
    (problem,) = problems
    assert problem.line == 17
    assert "tab inside the text" in problem.message
    assert "indentation" not in problem.message


def test_a_tab_that_indents_is_still_called_indentation(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text("entries:\n  - id: a\n\tquestions: x\n", encoding="utf-8")
    _, (problem,) = load_yaml(path)
    assert "not tabs, for indentation" in problem.message


def test_a_colon_in_a_question_gets_a_hint_about_quotes(tmp_path: Path) -> None:
    _, problems = check_knowledge(broken_kb(tmp_path, "colon_in_question"))
    found = [str(p) for p in problems if not p.warning]
    (message,) = [m for m in found if "'questions' item 2" in m]
    assert "faq.yaml:17: [mrg-chair]" in message
    assert "'mrg chair: who is it'" in message and "quotes" in message


def test_paths_are_shown_as_given_or_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    inside = tmp_path / "work" / "knowledge" / "faq.yaml"
    assert display_path(inside) == os.path.join("knowledge", "faq.yaml")
    elsewhere = tmp_path / "copy" / "faq.yaml"
    assert display_path(elsewhere) == str(elsewhere)
