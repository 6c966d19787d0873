"""Storage behind one interface (:class:`Storage`); SQLite is the default implementation.

Handlers and adapters talk only to :class:`Storage`, so a PostgreSQL implementation can
be added beside :mod:`bot.storage.sqlite` and pass the same contract tests.
"""

from bot.storage.base import (
    ConsultationStore,
    DeliveryStore,
    EventStore,
    FeedbackStore,
    GapRow,
    PollStore,
    Storage,
)
from bot.storage.handoff import HandoffStore
from bot.storage.sqlite import SqliteStorage

__all__ = [
    "ConsultationStore",
    "DeliveryStore",
    "EventStore",
    "FeedbackStore",
    "GapRow",
    "HandoffStore",
    "PollStore",
    "SqliteStorage",
    "Storage",
]
