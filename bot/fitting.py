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
# A wrong answer costs most of what a right one gains: "did you mean" fails the asker
# too (one more tap, often a guess), while a wrong answer shows its sources and related
# entries, and misleads only when read without them. Cost 2 turned about 5 points of dev
# answers into suggestions; cost 1 on the dev split grown with the second blind set
# (2026-12-03) moved the threshold past answers that were right, 0.75 keeps it where
# right answers still outnumber wrong ones by more than 20 to 1 on dev overall.
WRONG_ANSWER_COST = 0.75
# Answering what the knowledge base does not cover at all ("what is the salary of a
# delegate") misleads most: the bot must say it does not know.
OUT_OF_SCOPE_ANSWER_COST = 4.0
# Thresholds whose dev utility is within this of the best count as equally good.
PLATEAU = 0.0


def _utility(
    probs: Sequence[float],
    labels: Sequence[int],
    oos: Sequence[bool],
    answer_at: float,
    message: Sequence[int] | None = None,
) -> float:
    """What answering at ``answer_at`` is worth on dev: +1 for a right answer, minus the
    cost of a wrong one. Rows of one message are its readings in the bot's order; the
    first over the threshold is the answer the bot gives, the others are never seen."""
    total = 0.0
    decided: set[int] = set()
    for i, (p, y, out) in enumerate(zip(probs, labels, oos, strict=True)):
        key = message[i] if message is not None else i
        if key in decided or p < answer_at:
            continue
        decided.add(key)
        cost = OUT_OF_SCOPE_ANSWER_COST if out else WRONG_ANSWER_COST
        total += 1.0 if y else -cost
    return total


def fit_decision_model(kb: KnowledgeBase, dev: Sequence[Item]) -> DecisionModel:
    matcher = Matcher(kb)
    data = training_rows(kb, dev, matcher)
    weights, bias = fit(data.rows, data.labels)
    unfitted = DecisionModel(weights, bias)
    probs = [unfitted.probability(x) for x in data.rows]
    grid = [i / 100 for i in range(20, 96)]
    value = {t: _utility(probs, data.labels, data.out_of_scope, t, data.message) for t in grid}
    # Where several thresholds are equally good, the middle one: the least moved by
    # one more dev question.
    best = max(value.values())
    plateau = [t for t in grid if value[t] >= best - PLATEAU]
    answer_at = plateau[len(plateau) // 2]
    model = DecisionModel(
        weights,
        bias,
        answer_at=answer_at,
        suggest_at=round(answer_at * 0.4, 4),
        fitted_on={"split": "dev", "rows": len(data.rows), "positives": sum(data.labels)},
    )
    model.dump(MODEL_FILE, HEADER)
    return model
