"""The storage interface. Every method commits before it returns: when a handler has
awaited a write, the data survives ``kill -9``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class GapRow:
    """A question the knowledge base could not answer confidently, grouped by text."""

    question: str
    count: int
    last_asked: datetime
    status: str  # the latest outcome: "suggest" or "fallback"


class Storage(ABC):
    """What the bot keeps. Implementations must be safe for concurrent coroutines."""

    async def __aenter__(self) -> Storage:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @abstractmethod
    async def open(self) -> None:
        """Connect and bring the schema up to date (migrations run here)."""

    @abstractmethod
    async def close(self) -> None: ...

    # --- delivery de-duplication -------------------------------------------------
    @abstractmethod
    async def claim_event(self, platform: str, event_id: str, now: datetime) -> bool:
        """Record an incoming event id; False when it was seen before (a re-delivery)."""

    # --- unanswered questions ----------------------------------------------------
    @abstractmethod
    async def log_gap(self, question: str, status: str, platform: str, now: datetime) -> None:
        """Remember a question that ended in a suggestion or the fallback (no identity)."""

    @abstractmethod
    async def gaps(self, limit: int = 50) -> list[GapRow]:
        """Unanswered questions, most frequent first."""

    # --- conversation state ------------------------------------------------------
    @abstractmethod
    async def get_state(self, person: str, chat: str) -> tuple[str, dict[str, Any]] | None:
        """The active conversation of a person in a chat: (kind, data)."""

    @abstractmethod
    async def set_state(self, person: str, chat: str, kind: str, data: dict[str, Any], now: datetime) -> None: ...

    @abstractmethod
    async def clear_state(self, person: str, chat: str) -> None: ...

    # --- platform message references (for edits of live messages) ---------------
    @abstractmethod
    async def set_message_ref(self, platform: str, key: str, chat: str, ref: str) -> None: ...

    @abstractmethod
    async def get_message_ref(self, platform: str, key: str) -> tuple[str, str] | None:
        """(chat, platform message reference) of a message sent under a logical key."""

    # --- people --------------------------------------------------------------------
    @abstractmethod
    async def person_data(self, person: str) -> dict[str, Any]:
        """Everything stored about a person, for /mydata (keys: table-like sections)."""

    @abstractmethod
    async def forget_person(self, person: str) -> dict[str, int]:
        """Delete everything linked to a person; returns what was deleted, by kind."""
