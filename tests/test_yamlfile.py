"""YAML errors in words a curator can act on: each broken fixture is kept as a file."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from bot.knowledge import check_knowledge
from bot.yamlfile import display_path, load_yaml, parse_date

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


@pytest.mark.parametrize(
    "text",
    ["²²²²", "²⁰²⁴", "①②③④", "٢٠٢٤", "２０２４", "٢٠٢٤-٠١", "2024-٠١", "2024-²", "2024-01-٠١"],
)
def test_a_date_in_digits_of_another_script_is_not_a_date(text: str) -> None:
    # Not a crash, and not read one way at one precision and refused at another.
    assert parse_date(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", (date(2024, 1, 1), "year")),
        ("2024-06", (date(2024, 6, 1), "month")),
        ("2024-06-30", (date(2024, 6, 30), "day")),
        ("2024-13", None),
        ("2024-06-31", None),
        ("24-06", None),
    ],
)
def test_dates_at_each_precision(text: str, expected: object) -> None:
    assert parse_date(text) == expected
