"""``nsbot kb promote``: a reviewed question becomes a phrasing or a draft entry, in a
temporary copy of the shipped knowledge base (never the repository's own files)."""

from __future__ import annotations

import asyncio
import difflib
import io
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.knowledge import load_knowledge
from bot.matcher import Matcher
from bot.promote import PromoteError, add_draft, add_phrasing
from bot.storage import SqliteStorage

from .curation_fixtures import (
    DESK_ANSWER,
    FEEDBACK,
    FUNDING,
    SIGN_OFF,
    VOTED,
    VOTED_FR,
    fill,
    kb_copy,
)


def inserted_only(before: str, after: str) -> list[str]:
    """The lines ``after`` adds to ``before``, asserting that it changes nothing else:
    every other byte of the file, comments and folding included, is as it was."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    added: list[str] = []
    kept: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        assert tag in ("equal", "insert"), (tag, a[i1:i2], b[j1:j2])
        (added if tag == "insert" else kept).extend(b[j1:j2])
    assert after.endswith("\n") and "".join(kept) == before
    return added


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    return kb_copy(tmp_path)


@pytest.fixture
def promote_env(tmp_path: Path, kb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """``nsbot`` pointed at the copy and at the fixture database (with the 👎 log)."""
    db = tmp_path / "bot.sqlite3"
    ids = asyncio.run(fill(db))

    async def feedback_since(self: SqliteStorage, since: object = None) -> list[object]:
        return list(FEEDBACK)  # the 👎 storage of the feedback branch, until it is merged

    monkeypatch.setattr(SqliteStorage, "feedback_since", feedback_since, raising=False)
    monkeypatch.setenv("NSBOT_DB", str(db))
    monkeypatch.setenv("NSBOT_KNOWLEDGE", str(kb_dir))
    return ids


def test_a_gap_becomes_a_phrasing_of_its_closest_entry_and_is_then_answered(
    kb_dir: Path, promote_env: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    faq = kb_dir.parent / "faq.yaml"
    before = faq.read_bytes().decode("utf-8")
    others = {p: p.read_bytes() for p in kb_dir.rglob("*.yaml")}
    assert main(["kb", "promote", "g1", "--yes"]) == 0
    out = capsys.readouterr().out
    after = faq.read_text(encoding="utf-8")
    assert inserted_only(before, after) == [f"      - {VOTED}\n"]
    assert after.index(VOTED) > after.index("  - id: policy-adopted\n")  # its own questions
    assert f"+      - {VOTED}" in out and "a/faq.yaml" in out and "no errors" in out
    assert "now answers" in out and "'policy-adopted'" in out
    assert {p: p.read_bytes() for p in kb_dir.rglob("*.yaml")} == others
    result = Matcher(load_knowledge(kb_dir)).match(VOTED)
    assert (result.status, result.id) == ("answer", "policy-adopted")


def test_a_french_phrasing_goes_where_the_entrys_french_phrasings_live(kb_dir: Path) -> None:
    faq = kb_dir.parent / "faq.yaml"
    fr = kb_dir / "translations" / "fr.yaml"
    kb = load_knowledge(kb_dir)
    # policy-adopted is translated inline in faq.yaml; mrg-guidance-documents in fr.yaml.
    inline = add_phrasing(
        kb, "policy-adopted", "la politique a été votée quelle année", "fr",
        faq_path=faq, knowledge_dir=kb_dir,
    )  # fmt: skip
    assert inline.path == faq
    (line,) = inserted_only(inline.before, inline.after)
    assert line == "          - la politique a été votée quelle année\n"
    fr_block = inline.after[inline.after.index("  - id: policy-adopted\n") :]
    assert fr_block.index(line) < fr_block.index("      es:")  # under fr, not es
    apart = add_phrasing(
        kb, "mrg-guidance-documents", "Les orientations du MRG : combien ?", "fr",
        faq_path=faq, knowledge_dir=kb_dir,
    )  # fmt: skip
    assert apart.path == fr
    assert inserted_only(apart.before, apart.after) == [
        "      - 'Les orientations du MRG : combien ?'\n"  # quoted: ": " would be a key
    ]


def test_a_gap_asked_in_french_joins_the_entrys_french_phrasings(
    kb_dir: Path, promote_env: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    faq = kb_dir.parent / "faq.yaml"
    before = faq.read_text(encoding="utf-8")
    assert main(["kb", "promote", "g6", "--yes"]) == 0  # its words tell French
    assert "(fr, inline in faq.yaml)" in capsys.readouterr().out
    after = faq.read_text(encoding="utf-8")
    assert inserted_only(before, after) == [f"          - {VOTED_FR}\n"]
    kb = load_knowledge(kb_dir)
    assert VOTED_FR in kb.entries["policy-adopted"].translations["fr"].questions
    assert Matcher(kb).match(VOTED_FR).id == "policy-adopted"


def test_a_phrasing_without_a_translation_to_start_from_is_refused(kb_dir: Path) -> None:
    kb = load_knowledge(kb_dir)
    faq = kb_dir.parent / "faq.yaml"
    with pytest.raises(PromoteError, match="no sw translations yet"):
        add_phrasing(kb, "policy-adopted", "sera iliidhinishwa lini", "sw",
                     faq_path=faq, knowledge_dir=kb_dir)  # fmt: skip
    (kb_dir / "translations" / "sw.yaml").write_text("entries:\n", encoding="utf-8")
    with pytest.raises(PromoteError, match="only a desk conversation"):
        add_phrasing(kb, "policy-adopted", "sera iliidhinishwa lini", "sw",
                     faq_path=faq, knowledge_dir=kb_dir)  # fmt: skip
    started = add_phrasing(
        kb, "policy-adopted", "sera iliidhinishwa lini", "sw",
        faq_path=faq, knowledge_dir=kb_dir, answer="Iliidhinishwa **Novemba 2009**.",
    )  # fmt: skip
    assert started.after == (
        "entries:\n  - id: policy-adopted\n    questions:\n      - sera iliidhinishwa lini\n"
        "    answer: >-\n      Iliidhinishwa **Novemba 2009**.\n"
    )
    with pytest.raises(PromoteError, match="already a phrasing"):
        add_phrasing(kb, "policy-adopted", "policy adoption date?", "en",
                     faq_path=faq, knowledge_dir=kb_dir)  # fmt: skip
    with pytest.raises(PromoteError, match="glossary term"):
        add_phrasing(kb, "glossary-mrg", "the mrg thing", "en",
                     faq_path=faq, knowledge_dir=kb_dir)  # fmt: skip


def test_a_desk_answer_becomes_a_draft_entry_that_kb_check_warns_about(
    kb_dir: Path, promote_env: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    faq = kb_dir.parent / "faq.yaml"
    before = faq.read_text(encoding="utf-8")
    ref = f"d{promote_env['answered']}"
    assert main(["kb", "promote", ref, "--new", "migration-project-funding", "--yes"]) == 2
    assert "at least 2 phrasings" in capsys.readouterr().err
    assert faq.read_text(encoding="utf-8") == before  # refused before writing anything
    code = main(
        ["kb", "promote", ref, "--new", "migration-project-funding", "--yes",
         "--question", "Where can a National Society find money for migration work?"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    added = "".join(inserted_only(before, faq.read_text(encoding="utf-8")))
    assert added.startswith("\n  # Draft from 'nsbot kb promote' (desk answer d")
    assert "\n  # check the answer, complete its source" in added
    closest = Matcher(load_knowledge(kb_dir)).match(FUNDING).ranked[0].id
    topic = load_knowledge(kb_dir).entries[closest].topic
    assert f"  - id: migration-project-funding\n    topic: {topic}\n" in added
    assert f"      - {FUNDING}\n" in added and "**Emergency Appeal**" in added
    assert 'section: "DRAFT: name the section' in added
    assert "[migration-project-funding] warning: draft: source" in out  # kb check says so
    kb = load_knowledge(kb_dir)  # and the bot starts with it
    entry = kb.entries["migration-project-funding"]
    assert entry.answer == DESK_ANSWER and entry.sources[0].doc
    assert faq.read_text(encoding="utf-8").endswith(added)  # at the end of the file


def test_a_promote_that_kb_check_rejects_is_refused_and_the_file_restored(
    kb_dir: Path, promote_env: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    faq = kb_dir.parent / "faq.yaml"
    before = faq.read_bytes()
    # Someone's unfinished edit to a consultation: the entries load (the review works),
    # but the content as a whole would not start, so no promote may pass as checked.
    consultation = kb_dir / "consultations" / "movement-strategy-input.yaml"
    text = consultation.read_text(encoding="utf-8")
    consultation.write_text(text.replace("closes: 2027-03-31 23:59", "closes: 2025-03-31"))
    assert main(["kb", "promote", "g1", "--yes"]) == 1
    captured = capsys.readouterr()
    assert "Refused" in captured.err and "movement-strategy-input.yaml" in captured.err
    assert "is restored as it was" in captured.err and "Written" not in captured.out
    assert faq.read_bytes() == before
    # Broken entries stop it before anything is written, naming the problem.
    broken = before.decode("utf-8").replace("related: [cod-2009, policy-drafted-by,",
                                            "related: [cod-2099, policy-drafted-by,", 1)  # fmt: skip
    faq.write_text(broken, encoding="utf-8")
    assert main(["kb", "promote", "g1", "--yes"]) == 1
    assert "related id 'cod-2099' does not exist" in capsys.readouterr().err
    assert faq.read_text(encoding="utf-8") == broken


def test_without_yes_and_no_terminal_nothing_is_written(
    kb_dir: Path, promote_env: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    faq = kb_dir.parent / "faq.yaml"
    before = faq.read_bytes()
    assert main(["kb", "promote", "g4", "--entry", "policy-adopted"]) == 2  # stdin: no tty
    out = capsys.readouterr().out
    assert "+      - what year was policy voted" in out and "--yes" in out
    assert faq.read_bytes() == before


def test_a_thumbs_down_needs_the_entry_that_should_answer_it(
    kb_dir: Path, promote_env: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "promote", "f1", "--yes"]) == 2
    assert "a 👎 on the answer of 'policy-what'" in capsys.readouterr().err
    assert main(["kb", "promote", "f1", "--entry", "policy-adopted", "--yes"]) == 0
    assert SIGN_OFF in (kb_dir.parent / "faq.yaml").read_text(encoding="utf-8")
    assert main(["kb", "promote", "z9", "--yes"]) == 2
    assert "no item 'z9'" in capsys.readouterr().err
    assert main(["kb", "promote", "g1", "--answer", "x", "--yes"]) == 2
    assert "go with --new" in capsys.readouterr().err


def test_draft_ids_topics_and_sources_are_checked_first(kb_dir: Path) -> None:
    kb = load_knowledge(kb_dir)
    args = dict(
        faq_path=kb_dir.parent / "faq.yaml",
        questions=["a", "b"],
        answer="An answer.",
        topic="policy",
        source_doc="fact-sheet",
        origin="test",
    )
    for new_id, problem in (
        ("Bad Id", "not a usable id"),
        ("policy-adopted", "is taken"),
    ):
        with pytest.raises(PromoteError, match=problem):
            add_draft(kb, new_id, **args)  # type: ignore[arg-type]
    with pytest.raises(PromoteError, match="no topic"):
        add_draft(kb, "x-new", **{**args, "topic": "nope"})  # type: ignore[arg-type]
    with pytest.raises(PromoteError, match="no source"):
        add_draft(kb, "x-new", **{**args, "source_doc": "nope"})  # type: ignore[arg-type]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "kept"), [("y\n", True), ("\n", False)])
def test_at_a_terminal_the_curator_confirms_after_the_diff(
    kb_dir: Path,
    promote_env: dict[str, int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    kept: bool,
) -> None:
    faq = kb_dir.parent / "faq.yaml"
    before = faq.read_text(encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", _Terminal(answer))
    assert main(["kb", "promote", "g1"]) == 0
    out = capsys.readouterr().out
    assert out.index(f"+      - {VOTED}") < out.index("Keep this change? [y/N]")
    assert (faq.read_text(encoding="utf-8") != before) is kept
    assert ("Written to" in out) is kept and ("not confirmed" in out) is not kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # an end-of-line comment stays on its phrasing
            "a:\n  q:\n    - one\n    - two  # note\n  answer: x\n",
            "a:\n  q:\n    - one\n    - two  # note\n    - three\n  answer: x\n",
        ),
        (  # the comments and blank line before the next key stay before it
            "a:\n  q:\n    - one\n    - two  # note\n    # after\n\n  answer: x\n",
            "a:\n  q:\n    - one\n    - two  # note\n    - three\n    # after\n\n  answer: x\n",
        ),
        (
            "a:\n  q:\n    - one\n    - two\n\n  answer: x\n",
            "a:\n  q:\n    - one\n    - two\n    - three\n\n  answer: x\n",
        ),
        ("a:\n  q: [one, two]\n", "a:\n  q: [one, two, three]\n"),
    ],
)
def test_a_phrasing_is_appended_with_the_comments_around_it_in_place(
    tmp_path: Path, text: str, expected: str
) -> None:
    from bot.promote import _append, _Document

    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    doc = _Document(path)
    _append(doc.data["a"]["q"], "three")
    assert doc.edit("").after == expected
