from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Feedback:
    entry_id: str
    question: str
    language: str
    platform: str
    helpful: bool
    comment: str | None
    at: datetime
