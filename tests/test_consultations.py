"""Consultation files: the shipped one, validation with file/line/entry messages, and the
rules for walking through questions (skip logic, positions, typed answers)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings, shipped_knowledge_dir
from bot.consultations import (
    REVIEW,
    Consultation,
    check_consultations,
    load_consultation_file,
    load_consultations,
    match_option,
    parse_number,
)
from bot.errors import ContentError
from tests.consult_helpers import BROKEN, CONSULTATIONS, KB_MIN

SHIPPED = shipped_knowledge_dir() / "consultations"
TODAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def sample() -> Consultation:
    c = load_consultations(CONSULTATIONS).get("sample")
    assert c is not None
    return c


# --------------------------------------------------------------------------- shipped content


def test_shipped_consultation_is_valid_open_today_and_realistic() -> None:
    catalog, problems = check_consultations(SHIPPED)
    assert not problems, problems
    c = catalog.get("movement-strategy-input")
    assert c is not None
    assert c.is_open(TODAY)
    assert c.closes.date().isoformat() == "2027-03-31"
    assert 6 <= len(c.questions) <= 10
    assert len({q.type for q in c.questions}) >= 5  # most of the six types
    assert any(q.condition is not None for q in c.questions)  # skip logic
    network = c.question("network")
    assert network is not None
    assert {o.label.split(" ")[0] for o in network.options} >= {
        "APMN",
        "Sahel+",
        "MENA",
        "PERCO",
        "None",
    }
    assert c.anonymous


def test_the_skip_logic_of_the_shipped_consultation() -> None:
    c = load_consultations(SHIPPED).get("movement-strategy-input")
    assert c is not None
    shown_for_none = [q.id for q in c.visible({"network": "none"})]
    assert "network-value" not in shown_for_none
    assert "network-value" in [q.id for q in c.visible({"network": "perco"})]


# --------------------------------------------------------------------------- validation

BROKEN_CASES = [
    (
        "unknown_condition.yaml",
        15,
        "question second",
        "names question 'nope', which is not an earlier question",
    ),
    (
        "condition_later.yaml",
        12,
        "question first",
        "names question 'second', which is not an earlier question",
    ),
    (
        "empty_choices.yaml",
        12,
        "question pick",
        "'choices' must be a list with at least two options",
    ),
    (
        "closes_before_opens.yaml",
        6,
        "closes-before-opens",
        "'closes' (2026-11-01 09:00) is not after 'opens'",
    ),
    ("no_timezone.yaml", 5, "no-timezone", "'opens' has no time zone"),
    ("bad_timezone.yaml", 7, "bad-timezone", "unknown time zone 'Mars/Olympus_Mons'"),
    ("bad_type.yaml", 10, "question rank", "type 'ranking' is not one of: single, multiple"),
    ("syntax_error.yaml", 11, None, "YAML syntax error: mapping values are not allowed here"),
    ("duplicate_question.yaml", 12, "q", "duplicate id: already used at line 9"),
    (
        "unknown_choice_in_condition.yaml",
        16,
        "question why",
        "'sahel' is not a choice of question 'network'",
    ),
    ("scale_too_wide.yaml", 13, "question score", "a scale has at most 11 steps"),
    ("unquoted_yes.yaml", 12, "question q", "YAML reads Yes/No/On/Off as true/false"),
    ("number_range.yaml", 13, "question staff", "'max' (5) is below 'min' (10)"),
    ("unknown_field.yaml", 12, "question pick", "unknown field 'options'"),
    (
        "colon_in_choice.yaml",
        14,
        "question topic",
        "it reads as 'Climate: displacement', a key and a value",
    ),
]


@pytest.mark.parametrize(
    ("name", "line", "entry", "message"), BROKEN_CASES, ids=[c[0] for c in BROKEN_CASES]
)
def test_broken_file_is_refused_with_its_line_and_message(
    name: str, line: int, entry: str | None, message: str
) -> None:
    consultation, problems = load_consultation_file(BROKEN / name, name)
    assert consultation is None
    first = problems[0]
    assert (first.file, first.line, first.entry) == (name, line, entry)
    assert message in first.message
    assert str(first).startswith(f"{name}:{line}:")


def test_every_broken_fixture_is_covered() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(c[0] for c in BROKEN_CASES)


def test_loading_a_folder_collects_every_problem_and_raises(tmp_path: Path) -> None:
    for name in ("empty_choices.yaml", "bad_type.yaml"):
        shutil.copy(BROKEN / name, tmp_path / name)
    shutil.copy(CONSULTATIONS / "sample.yaml", tmp_path / "sample.yaml")
    with pytest.raises(ContentError) as info:
        load_consultations(tmp_path)
    text = str(info.value)
    assert "2 problem(s)" in text and "ranking" in text and "'choices'" in text


def test_duplicate_consultation_ids_across_files(tmp_path: Path) -> None:
    shutil.copy(CONSULTATIONS / "sample.yaml", tmp_path / "a.yaml")
    shutil.copy(CONSULTATIONS / "sample.yaml", tmp_path / "b.yaml")
    catalog, problems = check_consultations(tmp_path, root=tmp_path)
    assert len(catalog) == 1
    assert problems[0].file == "b.yaml" and "duplicate consultation id" in problems[0].message


def test_missing_folder_means_no_consultations(tmp_path: Path) -> None:
    assert len(load_consultations(tmp_path / "nothing-here")) == 0


def test_kb_check_reports_consultation_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "consultations"
    folder.mkdir()
    shutil.copy(BROKEN / "unknown_condition.yaml", folder / "unknown_condition.yaml")
    monkeypatch.setenv("NSBOT_KNOWLEDGE", str(KB_MIN))
    monkeypatch.setenv("NSBOT_FAQ", str(KB_MIN.parent / "faq.yaml"))
    monkeypatch.setenv("NSBOT_CONSULTATIONS", str(folder))
    assert main(["kb", "check"]) == 1
    out = capsys.readouterr().out
    assert (
        "unknown_condition.yaml:15: [question second] error: 'show_if' names question 'nope'" in out
    )


def test_kb_check_passes_on_the_shipped_content(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "check"]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_consultations_dir_setting() -> None:
    assert Settings(knowledge_dir=Path("/k")).consultations_dir == Path("/k/consultations")
    env = {"NSBOT_KNOWLEDGE": "/k", "NSBOT_CONSULTATIONS": "/elsewhere"}
    assert Settings.from_env(env).consultations_dir == Path("/elsewhere")


# --------------------------------------------------------------------------- times


def test_a_date_alone_closes_at_the_end_of_that_day_in_the_time_zone() -> None:
    c = sample()
    assert c.closes == datetime(2100, 1, 1, tzinfo=UTC)
    closed = load_consultations(CONSULTATIONS).get("old-survey")
    assert closed is not None
    assert closed.opens.utcoffset() is not None and str(closed.timezone) == "Europe/Zurich"
    assert not closed.is_open(TODAY)


def test_closing_early_overrides_the_file() -> None:
    c = sample()
    assert c.is_open(TODAY)
    assert not c.is_open(TODAY, closed_early=TODAY)


# --------------------------------------------------------------------------- walking through


def test_skip_logic_visibility_and_next_position() -> None:
    c = sample()
    assert c.next_position({}) == "network"
    assert c.next_position({"network": "perco"}, after="network") == "usefulness"
    assert c.next_position({"network": "none"}, after="network") == "priorities"
    # changing the answer that shows a question hides the answer given to it
    assert c.hidden_answers({"network": "none", "usefulness": 4}) == ["usefulness"]
    full = {
        "network": "none",
        "priorities": ["climate"],
        "hsp": "yes",
        "staff": None,
        "story": None,
    }
    assert c.next_position(full, after="story") == REVIEW
    assert c.missing({"network": "none"})[0].id == "priorities"
    assert c.effective(full) == {"network": "none", "priorities": ["climate"], "hsp": "yes"}


def test_progress_counts_only_questions_the_person_can_expect() -> None:
    c = sample()
    assert c.progress({}, "network") == (1, 6)
    assert c.progress({"network": "none"}, "priorities") == (2, 5)
    assert c.progress({"network": "apmn", "usefulness": 2}, "priorities") == (3, 6)


def test_previous_skips_hidden_questions() -> None:
    c = sample()
    assert c.previous({"network": "none"}, "priorities") == "network"
    assert c.previous({"network": "apmn"}, "priorities") == "usefulness"
    assert c.previous({}, "network") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("-3", -3),
        ("2.5", 2.5),
        ("2,5", 2.5),
        ("1 200", 1200),
        ("1,200", 1200),
        ("twelve", None),
        ("12 people", None),
        ("🙂", None),
        ("", None),
        ("1e5", None),
    ],
)
def test_parse_number(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


def test_typed_answers_to_choice_questions() -> None:
    c = sample()
    network, priorities, hsp, usefulness = (
        c.question(i) for i in ("network", "priorities", "hsp", "usefulness")
    )
    assert network and priorities and hsp and usefulness
    assert network.parse("2") == "perco"  # a number
    assert network.parse("perco") == "perco"  # a label, any case
    assert network.parse("PERC0") == "perco"  # a close misspelling
    assert network.parse("none") == "none"  # a word of a label
    assert network.parse("what is PERCO about, really, in depth") is None
    assert network.parse("7") is None
    assert hsp.parse("yse") == "yes" and hsp.parse("N") == "no"
    assert usefulness.parse("4") == 4 and usefulness.parse("very useful") == 5
    assert usefulness.parse("Not useful") == 1 and usefulness.parse("useful") is None
    assert priorities.parse("1, 3") == ["services", "missing"]
    assert priorities.parse("climate and inclusion") == ["climate", "inclusion"]
    assert priorities.parse("2 4") == ["climate", "inclusion"]
    assert priorities.parse("1, 9") is None
    assert match_option(network.options, "") is None


def test_answer_problems_name_the_locale_message() -> None:
    c = sample()
    staff, story, priorities = c.question("staff"), c.question("story"), c.question("priorities")
    assert staff and story and priorities
    assert staff.problem(5000) == ("consult_number_range", {"min": "0", "max": "1000"})
    assert staff.problem(2.5) == ("consult_whole_number", {})
    assert staff.problem(12) is None
    assert story.problem("x" * 201) == ("consult_text_too_long", {"length": 201, "max": 200})
    assert priorities.problem(["services", "climate", "missing"]) == (
        "consult_too_many",
        {"max": 2},
    )
