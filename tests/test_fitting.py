"""Choosing the answer threshold when fitting the decision model (bot/fitting.py)."""

from __future__ import annotations

from bot.fitting import OUT_OF_SCOPE_ANSWER_COST, WRONG_ANSWER_COST, _utility


def test_answering_out_of_scope_costs_more_than_a_wrong_in_scope_answer() -> None:
    assert OUT_OF_SCOPE_ANSWER_COST > 2 * WRONG_ANSWER_COST > 1.0
    probs = [0.9, 0.6]
    labels = [1, 0]
    in_scope = _utility(probs, labels, [False, False], 0.5)
    out_of_scope = _utility(probs, labels, [False, True], 0.5)
    assert in_scope == 1.0 - WRONG_ANSWER_COST
    assert out_of_scope == 1.0 - OUT_OF_SCOPE_ANSWER_COST
    # Above the wrong row's probability, only the right answer is given either way.
    assert _utility(probs, labels, [False, True], 0.7) == 1.0


def test_a_message_is_answered_by_its_first_reading_over_the_threshold() -> None:
    # One message, two readings: a wrong one first (p 0.6), then a right one (p 0.9).
    probs, labels, oos, message = [0.6, 0.9], [0, 1], [False, False], [7, 7]
    # At 0.5 the wrong reading answers and the right one is never seen.
    assert _utility(probs, labels, oos, 0.5, message) == -WRONG_ANSWER_COST
    # At 0.7 the wrong one is passed over and the right one answers.
    assert _utility(probs, labels, oos, 0.7, message) == 1.0
    # Read as two messages, both would count.
    assert _utility(probs, labels, oos, 0.5) == 1.0 - WRONG_ANSWER_COST
