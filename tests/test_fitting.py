"""Choosing the answer threshold when fitting the decision model (bot/fitting.py)."""

from __future__ import annotations

from bot.fitting import OUT_OF_SCOPE_ANSWER_COST, WRONG_ANSWER_COST, _utility


def test_answering_out_of_scope_costs_more_than_a_wrong_in_scope_answer() -> None:
    assert OUT_OF_SCOPE_ANSWER_COST > WRONG_ANSWER_COST > 1.0
    probs = [0.9, 0.6]
    labels = [1, 0]
    in_scope = _utility(probs, labels, [False, False], 0.5)
    out_of_scope = _utility(probs, labels, [False, True], 0.5)
    assert in_scope == 1.0 - WRONG_ANSWER_COST
    assert out_of_scope == 1.0 - OUT_OF_SCOPE_ANSWER_COST
    # Above the wrong row's probability, only the right answer is given either way.
    assert _utility(probs, labels, [False, True], 0.7) == 1.0
