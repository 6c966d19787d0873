"""Coverage (knowledge/coverage.yaml): every fact of the seeds and every verified fact of
the fact sheet is reachable by a direct question, answered with the entry listed for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import shipped_knowledge_dir
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher

COVERAGE = shipped_knowledge_dir() / "coverage.yaml"


def facts() -> list[dict[str, Any]]:
    data: dict[str, Any] = yaml.safe_load(Path(COVERAGE).read_text(encoding="utf-8"))
    return list(data["facts"])


@pytest.fixture(scope="module")
def matcher(shipped_kb: KnowledgeBase) -> Matcher:
    return Matcher(shipped_kb)


def test_the_list_covers_both_seeds_and_the_fact_sheet() -> None:
    listed = facts()
    docs = {f["source"]["doc"] for f in listed}
    assert docs == {"mrg-page", "blog-2022", "fact-sheet"}
    assert len(listed) >= 90
    for f in listed:
        assert f["fact"] and f["ask"] and f["entry"] and f["source"]["section"], f


@pytest.mark.parametrize("fact", facts(), ids=lambda f: f["ask"])
def test_each_fact_is_answered_by_its_entry(
    fact: dict[str, Any], shipped_kb: KnowledgeBase, matcher: Matcher
) -> None:
    entry = shipped_kb.entry(fact["entry"])  # an old id resolves to the merged entry
    assert entry is not None, f"{fact['entry']} is not an entry"
    cited = {ref.doc for ref in entry.sources}
    assert fact["source"]["doc"] in cited, f"{entry.id} does not cite {fact['source']['doc']}"
    result = matcher.match(fact["ask"])
    got = result.id or [s.id for s in result.suggestions]
    assert (result.status, result.id) == ("answer", entry.id), f"{fact['ask']!r}: {got}"
