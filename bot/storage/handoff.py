"""The handoff aggregate: questions a person sent to the secretariat's desk, and the
messages relayed between the two sides (:class:`HandoffStore`).

A handoff moves draft (offered, not confirmed) -> open (sent to the desk) -> closed.
Every message relayed in either direction is a row written in the same transaction as
the event that caused it, then sent by :mod:`bot.relay`: pending -> claimed -> sent,
so a restart neither loses nor repeats one (a sent row keeps the platform's reference
of the message, which is how a desk member's reply finds its question).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.claims import CLAIM_LEASE

# Handoff states, and the kinds of relayed message.
DRAFT, OPEN, CLOSED = "draft", "open", "closed"
QUESTION = "question"  # the question, to the desk: the root of its thread
REPLY = "reply"  # a desk member's answer, to the asker
FOLLOW_UP = "follow-up"  # the asker's later message, to the desk thread
NOTE = "note"  # the bot's own word on either side (closed, a reminder)
ERASE = "erase"  # a relayed message edited to "[deleted at the asker's request]"


@dataclass(frozen=True)
class HandoffRow:
    """One question to the desk. ``ref`` is the short reference both sides see
    (random: it says nothing of who asked). ``name`` and ``society`` are set only when
    the asker agreed to share them. ``desk_ref`` is the desk message the question was
    posted as (``"<chat>:<message>"``), once it was."""

    id: int
    ref: str
    person: str
    platform: str
    chat: str
    language: str | None
    question: str
    tried: tuple[str, ...]  # entry ids the bot suggested, best first
    status: str
    shared: bool
    name: str | None
    society: str | None
    desk_platform: str | None
    desk_chat: str | None
    desk_ref: str | None
    created_at: datetime
    sent_at: datetime | None
    first_reply_at: datetime | None
    reminded_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None  # "asker" | "desk"
    helpful: bool | None  # the asker's "Did this help?"


@dataclass(frozen=True)
class RelayRow:
    """One message to relay. ``in_thread``: posted in the desk thread of its handoff
    (under the question), known only once the question is posted. ``key`` names the
    row and the message it posts, for good: sending it again edits that message
    rather than posting a second one. ``edits`` is the key of an earlier message this
    row rewrites instead (a question closed, a message erased)."""

    id: int
    handoff_id: int | None  # None for an erasure, whose handoff is gone
    kind: str
    platform: str
    chat: str
    key: str
    text: str
    choices: tuple[tuple[str, str], ...]  # (label, action)
    in_thread: bool
    state: str  # "pending" | "claimed" | "sent" | "failed"
    attempts: int
    ref: str | None  # the platform's "<chat>:<message>" once sent
    created_at: datetime
    edits: str | None = None

    @property
    def message_key(self) -> str:
        """The key of the platform message this row shows or rewrites."""
        return self.edits or self.key


class HandoffStore(ABC):
    """Questions to the desk and the messages relayed for them."""

    @abstractmethod
    async def save_draft(
        self,
        *,
        person: str,
        platform: str,
        chat: str,
        language: str | None,
        question: str,
        tried: Sequence[str],
        now: datetime,
    ) -> HandoffRow:
        """A question offered to the desk, not confirmed yet. It replaces the person's
        earlier draft in this chat: only the latest offer can be confirmed."""

    @abstractmethod
    async def get_handoff(self, handoff_id: int) -> HandoffRow | None: ...

    @abstractmethod
    async def open_handoff(
        self,
        handoff_id: int,
        *,
        person: str,
        shared: bool,
        name: str | None,
        society: str | None,
        desk_platform: str,
        desk_chat: str,
        now: datetime,
    ) -> bool:
        """Draft -> open, atomically: False (nothing changed) unless it is still this
        person's draft, so a second press of "Send" cannot send twice."""

    @abstractmethod
    async def close_handoff(self, handoff_id: int, by: str, now: datetime) -> bool:
        """Open -> closed by "asker" or "desk"; False when it was not open."""

    @abstractmethod
    async def current_handoff(self, person: str, chat: str) -> HandoffRow | None:
        """The person's latest open handoff asked from this chat."""

    @abstractmethod
    async def handoff_at(self, platform: str, ref: str) -> HandoffRow | None:
        """The handoff a relayed message (its ``"<chat>:<message>"``) belongs to."""

    @abstractmethod
    async def handoffs_of(self, person: str) -> list[HandoffRow]:
        """The person's handoffs (drafts included), newest first."""

    @abstractmethod
    async def closed_handoffs(self, since: datetime | None = None) -> list[HandoffRow]:
        """Closed handoffs (closed at or after ``since``), oldest first: what the
        curators' review (``nsbot kb review``) turns into knowledge."""

    @abstractmethod
    async def note_desk_reply(self, handoff_id: int, now: datetime) -> None:
        """A desk member answered: the first time is kept (time to first reply)."""

    @abstractmethod
    async def set_helpful(self, handoff_id: int, helpful: bool) -> None: ...

    @abstractmethod
    async def handoffs_to_remind(self, sent_before: datetime) -> list[HandoffRow]:
        """Open handoffs sent before ``sent_before`` with no desk reply nor reminder yet."""

    @abstractmethod
    async def mark_reminded(self, handoff_id: int, now: datetime) -> bool:
        """Record the reminder; False when it was recorded already (by another process)."""

    @abstractmethod
    async def queue_relay(
        self,
        *,
        handoff_id: int | None,
        kind: str,
        platform: str,
        chat: str,
        key: str,
        text: str,
        now: datetime,
        choices: Sequence[tuple[str, str]] = (),
        in_thread: bool = False,
        edits: str | None = None,
    ) -> bool:
        """A message to send (or, with ``edits``, an earlier one to rewrite), pending;
        False (nothing queued) when ``key`` exists."""

    @abstractmethod
    async def pending_relays(
        self, platforms: Sequence[str], now: datetime, limit: int = 100
    ) -> list[RelayRow]:
        """Pending messages for these platforms, due by ``now``, in the order queued."""

    @abstractmethod
    async def relays_of(self, handoff_id: int) -> list[RelayRow]:
        """Every message of a handoff, in the order queued."""

    @abstractmethod
    async def claim_relay(
        self, relay_id: int, now: datetime, *, owner: str = "", lease: timedelta = CLAIM_LEASE
    ) -> bool:
        """pending -> claimed (counting the attempt), before sending; False if not pending.
        The claim is ``owner``'s until ``now + lease`` (:meth:`renew_relays`); after
        that another process takes it back (:meth:`recover_relays`)."""

    @abstractmethod
    async def renew_relays(self, owner: str, now: datetime, lease: timedelta = CLAIM_LEASE) -> int:
        """The owner is alive: its claimed messages are its own until ``now + lease``."""

    @abstractmethod
    async def finish_relay(
        self, relay_id: int, state: str, now: datetime, ref: str | None = None, *, owner: str = ""
    ) -> None:
        """claimed -> "sent" (with the platform's reference) or "failed". With ``owner``,
        only while that process still holds the claim: one whose lease lapsed (another
        replica took the row over) changes nothing."""

    @abstractmethod
    async def release_relay(self, relay_id: int, not_before: datetime, *, owner: str = "") -> None:
        """claimed -> pending again, not to be tried before ``not_before``; with
        ``owner``, only while that process still holds the claim."""

    @abstractmethod
    async def recover_relays(self, now: datetime | None = None) -> int:
        """Claimed messages go back to pending; the count. With ``now``, only those whose
        lease ran out by then (their process died); without, every one."""

    @abstractmethod
    async def forget_handoffs(self, person: str) -> list[RelayRow]:
        """Delete the person's handoffs and their messages; returns the messages that
        had been sent, so their copies on the platforms can be erased."""

    @abstractmethod
    async def purge_drafts(self, before: datetime) -> int:
        """Delete drafts offered before ``before`` and never sent; the count."""
