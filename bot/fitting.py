"""Fitting the decision model (:mod:`bot.decision`) on the dev split of the evaluation set.

Kept apart from the model itself: the bot only ever *loads* a model; fitting is a
curator's or developer's step (``nsbot eval --fit``), reads only dev, and writes
``bot/data/decision.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.decision import MODEL_FILE, DecisionModel, fit
from bot.evaluation import Item, training_rows
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher

HEADER = (
    "# Written by 'nsbot eval --fit' (bot/fitting.py) from tests/eval/dev only: a logistic\n"
    "# regression over bot.matcher.features(); answer_at and suggest_at are thresholds on\n"
    "# its probability, chosen on dev. Do not hand-edit: refit after changing the matcher.\n"
)
# A confident wrong answer costs more than saying "did you mean": staff act on answers.
WRONG_ANSWER_COST = 2.0
# Answering what the knowledge base does not cover at all ("what is the salary of a
# delegate") misleads most: the bot must say it does not know.
OUT_OF_SCOPE_ANSWER_COST = 4.0


def _utility(
    probs: Sequence[float], labels: Sequence[int], oos: Sequence[bool], answer_at: float
) -> float:
    total = 0.0
    for p, y, out in zip(probs, labels, oos, strict=True):
        if p >= answer_at:
            cost = OUT_OF_SCOPE_ANSWER_COST if out else WRONG_ANSWER_COST
            total += 1.0 if y else -cost
    return total


def fit_decision_model(kb: KnowledgeBase, dev: Sequence[Item]) -> DecisionModel:
    matcher = Matcher(kb)
    rows, labels, oos = training_rows(kb, dev, matcher)
    weights, bias = fit(rows, labels)
    unfitted = DecisionModel(weights, bias)
    probs = [unfitted.probability(x) for x in rows]
    grid = [i / 100 for i in range(20, 96)]
    answer_at = max(grid, key=lambda t: (_utility(probs, labels, oos, t), -t))
    model = DecisionModel(
        weights,
        bias,
        answer_at=answer_at,
        suggest_at=round(answer_at * 0.4, 4),
        fitted_on={"split": "dev", "rows": len(rows), "positives": sum(labels)},
    )
    model.dump(MODEL_FILE, HEADER)
    return model
