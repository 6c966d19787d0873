"""The storage interface. Every method commits before it returns: when a handler has
awaited a write, the data survives ``kill -9``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Profile:
    """What a person chose to tell about themselves, for breakdowns of results."""

    person: str
    national_society: str | None
    region: str | None
    updated_at: datetime


@dataclass(frozen=True)
class ResponseRow:
    """One person's response to one consultation, with its answers.

    ``respondent`` is the person key for named consultations and a keyed hash for
    anonymous ones (then ``person`` and ``display_name`` are None). ``position`` is
    where the person is: a question id, "review" or "done".
    """

    id: int
    consultation: str
    respondent: str
    anonymous: bool
    person: str | None
    display_name: str | None
    ref: str
    status: str  # "draft" | "submitted"
    position: str
    region: str | None
    national_society: str | None
    started_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    answers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PollRow:
    id: int
    platform: str
    chat: str
    question: str
    options: tuple[str, ...]
    multi: bool
    anonymous: bool
    created_by: str
    created_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None
    final_shown: bool

    def is_open(self, now: datetime) -> bool:
        return self.closed_at is None and (self.closes_at is None or now < self.closes_at)


@dataclass(frozen=True)
class PollTally:
    counts: dict[int, int]  # option index -> votes
    voters: int  # distinct people who voted
    names: dict[int, list[str]] = field(default_factory=dict)  # named polls only


class Storage(ABC):
    """What the bot keeps. Implementations must be safe for concurrent coroutines."""

    async def __aenter__(self) -> Storage:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
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
    async def set_state(
        self, person: str, chat: str, kind: str, data: dict[str, Any], now: datetime
    ) -> None: ...

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
    async def person_data(self, person: str, pseudonyms: Sequence[str] = ()) -> dict[str, Any]:
        """Everything stored about a person, for /mydata (keys: table-like sections).

        ``pseudonyms`` are the person's keyed hashes in anonymous consultations: the
        responses stored under them are included too.
        """

    @abstractmethod
    async def forget_person(self, person: str, pseudonyms: Sequence[str] = ()) -> dict[str, int]:
        """Delete everything linked to a person; returns what was deleted, by kind.

        Named responses go whatever their status; under ``pseudonyms`` only unfinished
        drafts go (submitted anonymous responses carry no identity and stay counted).
        """

    # --- profiles --------------------------------------------------------------------
    @abstractmethod
    async def get_profile(self, person: str) -> Profile | None:
        """None when the person was never asked for a profile."""

    @abstractmethod
    async def set_profile(
        self, person: str, national_society: str | None, region: str | None, now: datetime
    ) -> None: ...

    # --- consultation responses ------------------------------------------------------
    @abstractmethod
    async def get_response(self, consultation: str, respondent: str) -> ResponseRow | None: ...

    @abstractmethod
    async def start_response(
        self,
        consultation: str,
        respondent: str,
        *,
        anonymous: bool,
        person: str | None,
        display_name: str | None,
        position: str,
        profile: tuple[str | None, str | None],
        now: datetime,
    ) -> ResponseRow:
        """Create the response unless it exists (one per consultation and respondent);
        return it either way. ``profile`` is (region, national society)."""

    @abstractmethod
    async def update_response(
        self,
        response_id: int,
        *,
        now: datetime,
        answers: Mapping[str, Any] | None = None,
        drop: Sequence[str] = (),
        position: str | None = None,
        expect_position: str | None = None,
        submit: bool = False,
        profile: tuple[str | None, str | None] | None = None,
    ) -> bool:
        """Change a response atomically: upsert ``answers`` (one row per question),
        delete the ``drop`` answers, move to ``position``, mark it submitted, refresh
        the profile snapshot. With ``expect_position`` nothing changes (False) unless
        the response is still there: a second press of one button cannot answer twice.
        """

    @abstractmethod
    async def responses(
        self, consultation: str, since: datetime | None = None
    ) -> list[ResponseRow]:
        """Every response to a consultation (changed since ``since``), oldest first."""

    @abstractmethod
    async def delete_responses(self, consultation: str) -> int:
        """Delete every response to a consultation (after its retention period); the count."""

    @abstractmethod
    async def response_consultations(self) -> list[str]:
        """Ids of the consultations that have any response stored."""

    @abstractmethod
    async def close_consultation(self, consultation: str, by: str, now: datetime) -> None:
        """Close a consultation before its scheduled end."""

    @abstractmethod
    async def consultation_closures(self) -> dict[str, datetime]:
        """Consultations closed early, with when."""

    # --- polls ---------------------------------------------------------------------------
    @abstractmethod
    async def create_poll(
        self,
        *,
        platform: str,
        chat: str,
        question: str,
        options: Sequence[str],
        multi: bool,
        anonymous: bool,
        created_by: str,
        closes_at: datetime | None,
        now: datetime,
    ) -> PollRow: ...

    @abstractmethod
    async def get_poll(self, poll_id: int) -> PollRow | None: ...

    @abstractmethod
    async def recent_polls(self, limit: int = 20) -> list[PollRow]: ...

    @abstractmethod
    async def cast_vote(
        self, poll_id: int, voter: str, option: int, *, name: str | None, now: datetime
    ) -> tuple[int, ...] | None:
        """Record a vote atomically and return the voter's options afterwards.

        Single-choice polls replace the voter's vote; multiple-choice polls toggle the
        option. None (and nothing recorded) when the poll is closed or past its time.
        """

    @abstractmethod
    async def poll_tally(self, poll_id: int) -> PollTally: ...

    @abstractmethod
    async def close_poll(self, poll_id: int, now: datetime) -> bool:
        """Mark a poll closed; False when it already was."""

    @abstractmethod
    async def polls_due(self, now: datetime) -> list[PollRow]:
        """Polls whose closing time passed and whose final results were not shown yet."""

    @abstractmethod
    async def mark_poll_final_shown(self, poll_id: int) -> None: ...
