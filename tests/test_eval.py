"""Answer quality on tests/eval, the way the issue asks for it: per language, the entry
*and* the answer's language must be right, on the held-out split that no tuning reads.

The floors below are regression guards at the level measured when they were set (see
the README's "How answering works"); the targets the project aims at are higher (95% for
English, 90% for the other languages) and are not met yet: ``nsbot eval`` prints the
table beside the naive extractOne baseline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.decision import DecisionModel
from bot.evaluation import LANGUAGES, SPLITS, Report, evaluate, load_split
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher

EVAL = Path(__file__).parent / "eval"
# Held-out floors (entry and language right), set just under what was measured.
FLOORS = {"en": 0.89, "fr": 0.91, "es": 0.9, "ar": 0.93}
OUT_OF_SCOPE_FLOOR = 0.95


@pytest.fixture(scope="module")
def heldout_report(shipped_kb: KnowledgeBase, shipped_matcher: Matcher) -> Report:
    return evaluate(shipped_kb, load_split(EVAL, "heldout"), shipped_matcher)


def test_the_splits_are_big_enough_and_never_share_a_question(shipped_kb: KnowledgeBase) -> None:
    texts = {split: {i.q.strip().lower() for i in load_split(EVAL, split)} for split in SPLITS}
    assert not texts["dev"] & texts["heldout"]
    for language in LANGUAGES:
        items = [i for s in SPLITS for i in load_split(EVAL, s) if i.language == language]
        assert len(items) >= (500 if language == "en" else 150), language
    for split in SPLITS:
        for item in load_split(EVAL, split):
            for entry in (item.expect, *item.accept):
                assert entry is None or shipped_kb.entry(entry), (item.q, entry)


def test_the_decision_model_was_fitted_on_dev_only() -> None:
    assert DecisionModel.shipped().fitted_on.get("split") == "dev"


def test_heldout_accuracy_per_language(heldout_report: Report) -> None:
    print("\n" + heldout_report.table())
    low = {
        lang: round(tally.rate, 3)
        for lang, tally in heldout_report.ours.items()
        if tally.rate < FLOORS[lang]
    }
    assert not low, f"held-out accuracy fell below the floor: {low}"


def test_heldout_out_of_scope_is_not_answered(heldout_report: Report) -> None:
    low = {
        lang: round(t.rate, 3)
        for lang, t in heldout_report.ours_oos.items()
        if t.rate < OUT_OF_SCOPE_FLOOR
    }
    assert not low, low


def test_ours_beats_the_naive_baseline_in_every_language(heldout_report: Report) -> None:
    for lang, tally in heldout_report.ours.items():
        assert tally.rate > heldout_report.base[lang].rate + 0.15, lang


def test_the_answer_language_is_judged_against_the_entry_given(shipped_kb: KnowledgeBase) -> None:
    """An item may accept an English-only entry beside a translated one: answering the
    translated one in the question's language is right, whichever sorts first."""
    from dataclasses import replace

    from bot.evaluation import Item

    answer = shipped_kb.entries["policy-adopted"]
    other = shipped_kb.entries["cod-2009"]
    assert "ar" in answer.translations and other.id < answer.id  # "cod-..." sorts first
    entries = {**shipped_kb.entries, other.id: replace(other, translations={})}
    kb = replace(shipped_kb, entries=entries)
    question = answer.translations["ar"].questions[0]
    for accept in ((other.id,), ()):
        item = Item(q=question, expect=answer.id, accept=accept, kind="bare", language="ar")
        report = evaluate(kb, [item])
        assert report.ours["ar"].rate == 1.0, report.misses


def test_a_confident_answer_from_the_wrong_entry_counts_as_wrong(
    shipped_kb: KnowledgeBase, shipped_matcher: Matcher
) -> None:
    from bot.evaluation import Item

    items = [
        Item(q="who chairs the mrg", expect="mrg-chair", language="en"),  # right
        Item(q="who chairs the mrg", expect="policy-adopted", language="en"),  # wrong
        Item(q="hmm", expect="policy-adopted", language="en"),  # not answered: a miss only
    ]
    report = evaluate(shipped_kb, items, shipped_matcher)
    assert report.ours["en"].right == 1
    assert report.wrong["en"] == 1
    assert report.as_dict()["wrong_answers"] == {"en": 1}
