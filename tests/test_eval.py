"""Answer quality on the evaluation set (tests/eval/questions.yaml), written
independently of faq.yaml's phrasings, the way field staff type.

Top-1 accuracy counts a question as right only when the bot answers it outright with
the expected entry (or one the set marks as equally correct); a suggestion does not
count. Out-of-scope questions must end in the fallback or, at worst, a suggestion:
never a confident answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher

EVAL = Path(__file__).parent / "eval" / "questions.yaml"


@pytest.fixture(scope="module")
def evalset() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def matcher(shipped_kb: KnowledgeBase) -> Matcher:
    return Matcher(shipped_kb)


def test_evaluation_set_is_big_enough_and_refers_to_real_entries(
    evalset: dict[str, Any], shipped_kb: KnowledgeBase
) -> None:
    assert len(evalset["in_scope"]) >= 150
    assert len(evalset["out_of_scope"]) >= 30
    for item in evalset["in_scope"]:
        for entry_id in [item["expect"], *item.get("accept", [])]:
            # an old id kept as an alias of a merged entry still names that entry
            assert shipped_kb.entry(entry_id), f"{item['q']!r} expects unknown entry {entry_id}"


def test_top1_accuracy_and_out_of_scope_fallback(
    evalset: dict[str, Any], matcher: Matcher, shipped_kb: KnowledgeBase
) -> None:
    misses = []
    for item in evalset["in_scope"]:
        result = matcher.match(item["q"])
        good = {shipped_kb.canonical(i) for i in [item["expect"], *item.get("accept", [])]}
        if not (result.status == "answer" and result.id in good):
            got = result.id or [s.id for s in result.suggestions]
            misses.append(f"  {item['q']!r}: expected {item['expect']}, got {result.status} {got}")
    accuracy = 1 - len(misses) / len(evalset["in_scope"])

    wrong = []
    for question in evalset["out_of_scope"]:
        result = matcher.match(question)
        if result.status == "answer":
            wrong.append(f"  {question!r}: answered with {result.id} ({result.score:.2f})")
    fallback_rate = 1 - len(wrong) / len(evalset["out_of_scope"])

    print(
        f"\ntop-1 accuracy: {accuracy:.1%} ({len(evalset['in_scope']) - len(misses)}/{len(evalset['in_scope'])})"
    )
    print(
        f"out-of-scope fallback: {fallback_rate:.1%} ({len(evalset['out_of_scope']) - len(wrong)}/{len(evalset['out_of_scope'])})"
    )
    print("\n".join(misses + wrong))
    assert accuracy >= 0.90, "\n".join(misses)
    assert fallback_rate >= 0.90, "\n".join(wrong)
