"""Storage behind one interface (:class:`Storage`); SQLite is the default implementation.

Handlers and adapters talk only to :class:`Storage`, so a PostgreSQL implementation can
be added beside :mod:`bot.storage.sqlite` and pass the same contract tests.
"""

from bot.storage.base import GapRow, Storage
from bot.storage.sqlite import SqliteStorage

__all__ = ["GapRow", "SqliteStorage", "Storage"]
