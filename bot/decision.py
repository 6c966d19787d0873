"""The answer / did-you-mean / fallback decision, as a model fitted on data.

A logistic regression over a few features of a ranking (the top score, its margin over
the runner-up, precision, recall, number agreement, how much the question names; see
:func:`bot.matcher.features`) estimates the probability that the top entry is the right
answer. Two thresholds on that probability choose what the bot does. The weights and
thresholds live in ``bot/data/decision.yaml``, written by ``nsbot eval --fit`` from the
*dev* split of ``tests/eval`` only; the held-out split is never read when fitting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MODEL_FILE = Path(__file__).resolve().parent / "data" / "decision.yaml"


@dataclass(frozen=True)
class DecisionModel:
    weights: tuple[float, ...]
    bias: float
    answer_at: float = 0.5
    suggest_at: float = 0.2
    fitted_on: dict[str, Any] = field(default_factory=dict, compare=False)

    def probability(self, x: Sequence[float]) -> float:
        z = self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def load(cls, path: Path) -> DecisionModel:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            weights=tuple(float(w) for w in data["weights"]),
            bias=float(data["bias"]),
            answer_at=float(data["answer_at"]),
            suggest_at=float(data["suggest_at"]),
            fitted_on=dict(data.get("fitted_on") or {}),
        )

    @classmethod
    def shipped(cls) -> DecisionModel:
        return _shipped()

    def dump(self, path: Path, header: str) -> None:
        data = {
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "answer_at": round(self.answer_at, 4),
            "suggest_at": round(self.suggest_at, 4),
            "fitted_on": self.fitted_on,
        }
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        path.write_text(header + text, encoding="utf-8")
        _CACHE.clear()  # the next Matcher uses what was just written


_CACHE: dict[str, DecisionModel] = {}


def _shipped() -> DecisionModel:
    if "model" not in _CACHE:
        _CACHE["model"] = DecisionModel.load(MODEL_FILE)
    return _CACHE["model"]


def fit(
    rows: Sequence[Sequence[float]],
    labels: Sequence[int],
    *,
    l2: float = 0.01,
    epochs: int = 3000,
    rate: float = 0.5,
) -> tuple[tuple[float, ...], float]:
    """Logistic regression by full-batch gradient descent with L2: the data is a few
    hundred rows of seven features, so plain Python is quick and needs no numpy."""
    width = len(rows[0])
    w = [0.0] * width
    b = 0.0
    n = len(rows)
    for _ in range(epochs):
        gw = [0.0] * width
        gb = 0.0
        for x, y in zip(rows, labels, strict=True):
            z = b + sum(wi * xi for wi, xi in zip(w, x, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            d = p - y
            for i in range(width):
                gw[i] += d * x[i]
            gb += d
        for i in range(width):
            w[i] -= rate * (gw[i] / n + l2 * w[i])
        b -= rate * gb / n
    return tuple(w), b
