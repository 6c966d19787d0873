"""The storage interface, by aggregate: :class:`EventStore` (events and conversation
state), :class:`ConsultationStore`, :class:`PollStore`, :class:`DeliveryStore`,
:class:`~bot.storage.handoff.HandoffStore` (its own module), :class:`FeedbackStore`
(votes on answers and the anonymous counts behind /stats); and :class:`Storage`, all
six plus what spans them (units of work, /mydata, /forget).

Every method commits before it returns (inside a unit of work: with the unit), so
when a handler has awaited a write, the data survives ``kill -9``. A component that
needs one aggregate can be typed with it alone."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from bot.feedback import AnswerRef, Feedback
from bot.send_limits import SharedLimiter
from bot.storage.claims import CLAIM_LEASE as CLAIM_LEASE  # also importable from here
from bot.storage.handoff import HandoffStore


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


# "No answer stored" in a compare-and-set (None is an answer: a skipped question).
ABSENT: Any = _Absent()


@dataclass(frozen=True)
class GapRow:
    """A question the knowledge base could not answer confidently, grouped by text."""

    question: str
    count: int
    last_asked: datetime
    status: str  # the latest outcome: "suggest" or "fallback"


@dataclass(frozen=True)
class QuestionCount:
    """How many questions of one UTC day, platform and language ended one way:
    "answer", "suggest" or "fallback". Counts only: no text, no identity."""

    day: datetime  # midnight UTC
    platform: str
    language: str
    outcome: str
    count: int


@dataclass(frozen=True)
class LoggedGap:
    """One logged unanswered question, as asked (``nsbot kb review`` groups them itself:
    its references name a row, which stays put when newer questions arrive)."""

    id: int
    question: str
    status: str  # "suggest" or "fallback"
    platform: str
    asked_at: datetime


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
    language: str | None = None  # its creator's: the posted tally is worded in it

    def is_open(self, now: datetime) -> bool:
        return self.closed_at is None and (self.closes_at is None or now < self.closes_at)


@dataclass(frozen=True)
class PollTally:
    counts: dict[int, int]  # option index -> votes
    voters: int  # distinct people who voted
    names: dict[int, list[str]] = field(default_factory=dict)  # named polls only


@dataclass(frozen=True)
class Subscription:
    """Someone who asked for reminders and announcements, and where to send them."""

    person: str
    platform: str
    chat: str  # the private chat they subscribed from
    days: tuple[int, ...]  # remind this many days before, largest first
    language: str | None  # the platform's hint when they subscribed
    tz_hint: str | None  # the platform's time zone hint, if it gave one
    timezone: str | None  # what they chose with /timezone (wins over the hint)
    created_at: datetime
    updated_at: datetime  # when ``days`` last changed


@dataclass(frozen=True)
class Recipient:
    """Where one scheduled message goes."""

    person: str
    platform: str
    chat: str


@dataclass(frozen=True)
class SendJob:
    """One scheduled send (a reminder, an announcement...): what and about what.

    ``key`` names it for good ("reminder:cod-2026@2026-06-22:7"), so however often
    the scheduler notices it is due, it exists once. ``subject_at`` is the date or
    moment it is about, so a rescheduled event gets new reminders.
    """

    id: int
    key: str
    kind: str  # "reminder" | "opening" | "draft" | "announce"
    subject: str  # an event or consultation id; "" for announcements
    subject_at: str
    lead_days: int | None
    text: str  # announcements: the coordinator's words
    status: str  # "draft" (an announcement awaiting confirmation) | "active" | "cancelled"
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Delivery:
    """One (job, recipient) row waiting to be sent, with how to word it for them."""

    job: SendJob
    person: str
    platform: str
    chat: str
    attempts: int
    language: str | None
    timezone: str | None  # chosen with /timezone, else the platform's hint


class EventStore(ABC):
    """Incoming events and the conversation around them: claims, the inbox, replies
    owed, the unanswered-question log, conversation state, message references, the last
    answer, and who may fetch the events (a lease on a role)."""

    @abstractmethod
    async def claim_event(self, platform: str, event_id: str, now: datetime) -> bool:
        """Record an incoming event id; False when it was seen before (a re-delivery)."""

    @abstractmethod
    async def owe_replies(
        self,
        platform: str,
        event_id: str,
        route: str,
        replies: str,
        now: datetime,
        *,
        person: str = "",
        chats: Sequence[str] = (),
        owner: str = "",
        lease: timedelta = CLAIM_LEASE,
    ) -> None:
        """Keep an event's replies (JSON) and where to send them (the adapter's route).
        ``person`` (whose event) and ``chats`` (every chat the replies go to) are kept
        so that :meth:`Storage.forget_person` can delete them. With ``owner`` (the
        process sending them) they are its until ``now + lease`` (:meth:`renew_owed`);
        then another process may take them (:meth:`claim_owed`)."""

    @abstractmethod
    async def owed_replies(self, platform: str, since: datetime) -> list[tuple[str, str, str]]:
        """(event id, route, replies) not sent yet, whoever holds them, oldest first;
        those created before ``since`` are deleted."""

    @abstractmethod
    async def claim_owed(
        self,
        platform: str,
        owner: str,
        now: datetime,
        since: datetime,
        *,
        mine: bool = False,
        lease: timedelta = CLAIM_LEASE,
    ) -> list[tuple[str, str, str]]:
        """Take the replies nobody is sending any more (their holder's lease ran out, or
        they have none; with ``mine``, ``owner``'s own too): they are ``owner``'s until
        ``now + lease``. (event id, route, replies), oldest first; those created before
        ``since`` are deleted. Two processes never take the same row."""

    @abstractmethod
    async def renew_owed(
        self, platform: str, owner: str, now: datetime, lease: timedelta = CLAIM_LEASE
    ) -> int:
        """The owner is alive: its owed replies are its own until ``now + lease``; the count."""

    @abstractmethod
    async def release_owed(self, platform: str, owner: str) -> int:
        """The owner stops without having sent these: any process may take them now."""

    @abstractmethod
    async def paid_replies(
        self, platform: str, event_ids: Sequence[str], *, owner: str = ""
    ) -> None:
        """These events' replies were delivered: forget them. With ``owner``, only those
        it holds: a repeat of the event handled by another process (which had nothing
        to send) leaves the first one's replies owed."""

    @abstractmethod
    async def inbox_put(
        self, platform: str, items: Sequence[tuple[str, str, str | None]], now: datetime
    ) -> None:
        """Keep incoming events (event id, the platform's payload, the person key of
        its sender when known) before the platform is told they arrived; one already
        kept stays as it is. The sender is kept so /mydata and /forget find the row."""

    @abstractmethod
    async def inbox_pending(self, platform: str) -> list[tuple[str, str]]:
        """(event id, payload) kept and not handled yet, in the order they were kept."""

    @abstractmethod
    async def inbox_done(self, platform: str, event_ids: Sequence[str]) -> None:
        """These events are handled (in the unit that handled them): no longer pending."""

    @abstractmethod
    async def log_gap(self, question: str, status: str, platform: str, now: datetime) -> None:
        """Remember a question that ended in a suggestion or the fallback (no identity)."""

    @abstractmethod
    async def gaps(self, limit: int = 50, since: datetime | None = None) -> list[GapRow]:
        """Unanswered questions, most frequent first; with ``since``, counting only the
        times each was asked at or after it (and only those asked then)."""

    @abstractmethod
    async def logged_gaps(self, since: datetime | None = None) -> list[LoggedGap]:
        """Every logged question (asked at or after ``since``), oldest first."""

    @abstractmethod
    async def clear_gaps(self, before: datetime | None = None) -> int:
        """Forget logged questions (all, or those asked before a moment); how many went."""

    @abstractmethod
    async def get_state(self, person: str, chat: str) -> tuple[str, dict[str, Any]] | None:
        """The active conversation of a person in a chat: (kind, data)."""

    @abstractmethod
    async def set_state(
        self, person: str, chat: str, kind: str, data: dict[str, Any], now: datetime
    ) -> None: ...

    @abstractmethod
    async def clear_state(self, person: str, chat: str) -> None: ...

    @abstractmethod
    async def set_message_ref(self, platform: str, key: str, chat: str, ref: str) -> None: ...

    @abstractmethod
    async def get_message_ref(self, platform: str, key: str) -> tuple[str, str] | None:
        """(chat, platform message reference) of a message sent under a logical key."""

    @abstractmethod
    async def remember_answer(
        self, person: str, chat: str, entry: str, language: str | None, now: datetime
    ) -> None:
        """Keep the entry just answered in this chat, for a follow-up question."""

    @abstractmethod
    async def last_answer(
        self, person: str, chat: str, since: datetime
    ) -> tuple[str, str | None] | None:
        """(entry, language) last answered in this chat, if not before ``since``."""

    @abstractmethod
    async def take_lease(self, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        """Hold a role only one process may have at a time (Telegram polling) until
        ``now + ttl``: True when it is ``owner``'s now (it was free, its holder's lease had
        run out, or ``owner`` held it already and has renewed it)."""

    @abstractmethod
    async def drop_lease(self, name: str, owner: str) -> None:
        """Give the role up, if ``owner`` holds it."""


class ConsultationStore(ABC):
    """Consultation responses (one per consultation and respondent, one row per
    answer), early closures, and the profiles their breakdowns use."""

    @abstractmethod
    async def get_profile(self, person: str) -> Profile | None:
        """None when the person was never asked for a profile."""

    @abstractmethod
    async def set_profile(
        self, person: str, national_society: str | None, region: str | None, now: datetime
    ) -> None: ...

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
        expect_answer: tuple[str, Any] | None = None,
    ) -> bool:
        """Change a response atomically: upsert ``answers`` (one row per question),
        delete the ``drop`` answers, move to ``position``, mark it submitted, refresh
        the profile snapshot. With ``expect_position`` nothing changes (False) unless
        the response is still there: a second press of one button cannot answer twice.
        ``expect_answer`` (question, value) is a compare-and-set: nothing changes unless
        that answer is still ``value`` (:data:`ABSENT`: no answer), so two quick ticks
        in a multiple choice cannot overwrite each other.
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


class PollStore(ABC):
    """Quick polls and their votes."""

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
        language: str | None = None,
    ) -> PollRow:
        """A new open poll. ``language`` (the creator's) words its posted message for
        everyone, whoever votes."""

    @abstractmethod
    async def get_poll(self, poll_id: int) -> PollRow | None: ...

    @abstractmethod
    async def recent_polls(self, limit: int = 20) -> list[PollRow]: ...

    @abstractmethod
    async def cast_vote(
        self,
        poll_id: int,
        voter: str,
        option: int,
        *,
        name: str | None,
        now: datetime,
        debounce: timedelta = timedelta(0),
    ) -> tuple[int, ...] | None:
        """Record a vote atomically and return the voter's options afterwards.

        Single-choice polls replace the voter's vote; multiple-choice polls toggle the
        option, except that a vote cast less than ``debounce`` ago stays (a double tap).
        None (and nothing recorded) when the poll is closed or past its time.
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


class DeliveryStore(ABC):
    """Subscriptions, time zones, scheduled sends (jobs) and their delivery rows."""

    @abstractmethod
    async def subscribe(
        self,
        person: str,
        *,
        platform: str,
        chat: str,
        days: Sequence[int] | None,
        language: str | None,
        tz_hint: str | None,
        now: datetime,
    ) -> Subscription:
        """Create or refresh a subscription; ``days`` None keeps the current ones.
        ``updated_at`` moves only when the days change."""

    @abstractmethod
    async def unsubscribe(self, person: str, now: datetime, reason: str | None = None) -> bool:
        """Delete the subscription and cancel what is still queued for it (not draft
        reminders, which do not depend on it); False when there was none.

        ``reason`` is given when the bot stops on its own (``"blocked"``): it is kept
        for /mydata until the person subscribes again or asks to be forgotten."""

    @abstractmethod
    async def get_subscription(self, person: str) -> Subscription | None: ...

    @abstractmethod
    async def subscriptions(self) -> list[Subscription]: ...

    @abstractmethod
    async def count_subscriptions(self) -> int: ...

    @abstractmethod
    async def get_timezone(self, person: str) -> str | None:
        """The IANA name the person chose with /timezone, if any."""

    @abstractmethod
    async def set_timezone(self, person: str, zone: str | None, now: datetime) -> None:
        """None goes back to the default (the platform's hint, else UTC)."""

    @abstractmethod
    async def known_people(self) -> dict[str, str | None]:
        """Every person the bot can reach unasked, with their private chat when known:
        subscribers, people in a conversation, people with a profile."""

    @abstractmethod
    async def ensure_job(
        self,
        key: str,
        *,
        kind: str,
        now: datetime,
        subject: str = "",
        subject_at: str = "",
        lead_days: int | None = None,
        text: str = "",
        status: str = "active",
        created_by: str = "",
        recipients: Sequence[Recipient] | None = None,
    ) -> tuple[SendJob, bool]:
        """The job under ``key``, created unless it exists: (job, created). The
        ``recipients`` are added in the same transaction, only when it is created."""

    @abstractmethod
    async def get_job(self, job_id: int) -> SendJob | None: ...

    @abstractmethod
    async def get_job_by_key(self, key: str) -> SendJob | None: ...

    @abstractmethod
    async def job_people(self, job_id: int) -> set[str]:
        """Everyone the job has a delivery row for, whatever its state."""

    @abstractmethod
    async def add_deliveries(
        self, job_id: int, recipients: Sequence[Recipient], now: datetime
    ) -> int:
        """One pending row per new recipient (existing rows are left alone); the count added."""

    @abstractmethod
    async def activate_announcement(self, job_id: int, by: str, now: datetime) -> int | None:
        """Confirm a draft announcement: it becomes active with one pending row per
        current subscriber, atomically. None when it is not ``by``'s draft any more."""

    @abstractmethod
    async def cancel_announcement(self, job_id: int, by: str) -> bool: ...

    @abstractmethod
    async def pending_deliveries(
        self, platforms: Sequence[str], now: datetime, limit: int = 100
    ) -> list[Delivery]:
        """Pending rows of active jobs for these platforms, due by ``now``, oldest job first."""

    @abstractmethod
    async def claim_delivery(
        self,
        job_id: int,
        person: str,
        now: datetime,
        *,
        owner: str = "",
        lease: timedelta = CLAIM_LEASE,
    ) -> bool:
        """pending -> claimed (counting the attempt), before sending; False if not pending.

        The claim is ``owner``'s (a process) until ``now + lease``: if that process dies,
        another takes the row back once the lease has run out (:meth:`recover_claimed`),
        unless the owner renewed it meanwhile (:meth:`renew_claims`)."""

    @abstractmethod
    async def renew_claims(self, owner: str, now: datetime, lease: timedelta = CLAIM_LEASE) -> int:
        """The owner is alive: its claimed rows are its own until ``now + lease``; the count."""

    @abstractmethod
    async def finish_delivery(
        self, job_id: int, person: str, state: str, now: datetime, *, owner: str = ""
    ) -> None:
        """claimed -> "sent", "skipped" (no longer relevant) or "failed" (gave up).
        A draft reminder's row is deleted instead: its state would tell who had a draft.
        With ``owner``, only that owner's claim moves (not one another process took over)."""

    @abstractmethod
    async def release_delivery(
        self, job_id: int, person: str, not_before: datetime, *, owner: str = ""
    ) -> None:
        """claimed -> pending again, not to be tried before ``not_before`` (with ``owner``:
        only that owner's claim)."""

    @abstractmethod
    async def recover_claimed(self, now: datetime | None = None) -> int:
        """Claimed rows go back to pending; the count. With ``now``, only those whose lease
        ran out by then (their process died); without, every one (a lone process after
        its restart)."""

    @abstractmethod
    async def purge_draft_deliveries(self, now: datetime) -> int:
        """Delete the rows of draft reminders whose consultation has closed: they would
        say, long after, who had started an anonymous consultation. The count deleted."""

    @abstractmethod
    async def delivery_states(self, job_id: int) -> dict[str, int]:
        """How many rows of a job are in each state."""


class FeedbackStore(ABC):
    """👍 / 👎 on answers (bot.feedback), and the anonymous counts behind /stats.

    Nothing here is stored with a person's identity: a vote is keyed by a keyed code
    of (answer reference, person) that the caller computes, so one person's second
    press on one answer finds their first vote without the row naming them."""

    @abstractmethod
    async def count_question(
        self, *, outcome: str, platform: str, language: str, now: datetime
    ) -> None:
        """One more question of this UTC day, platform and language that ended in
        ``outcome`` ("answer", "suggest", "fallback")."""

    @abstractmethod
    async def question_counts(self, since: datetime | None = None) -> list[QuestionCount]:
        """The counts, oldest day first (from the UTC day of ``since`` on)."""

    @abstractmethod
    async def save_answer(
        self, *, entry_id: str, question: str, language: str, platform: str, now: datetime
    ) -> str:
        """Keep what a vote on this answer message needs; its random reference (for the
        buttons). References older than :data:`bot.feedback.WINDOW` are deleted."""

    @abstractmethod
    async def get_answer(self, ref: str, now: datetime) -> AnswerRef | None:
        """The answer a button refers to; None when unknown or older than the window."""

    @abstractmethod
    async def cast_feedback(
        self, voter: str, answer: AnswerRef, helpful: bool, now: datetime
    ) -> bool | None:
        """Record a vote under ``voter`` (one row per voter code, ever); the verdict it
        had before (None: a first vote). A changed verdict drops the comment."""

    @abstractmethod
    async def comment_feedback(self, voter: str, comment: str) -> bool:
        """Keep a comment on a 👎 vote; False when there is no such vote."""

    @abstractmethod
    async def feedback_since(self, since: datetime | None = None) -> list[Feedback]:
        """Every vote (from the UTC day of ``since`` on), oldest day first."""

    @abstractmethod
    async def purge_feedback(self, before: datetime) -> int:
        """Delete the votes, with their comments, of UTC days before the day of
        ``before`` (the end of their retention, bot.retention); how many went."""

    @abstractmethod
    async def desk_reply_times(
        self, since: datetime | None = None
    ) -> list[tuple[datetime, datetime | None]]:
        """(sent, first desk reply or None) of every question sent to the desk (since
        ``since``), oldest first: no person, no text."""


class Storage(EventStore, ConsultationStore, PollStore, DeliveryStore, HandoffStore, FeedbackStore):
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

    @abstractmethod
    def send_limiter(self) -> SharedLimiter | None:
        """The platform send limiter every replica on this database shares
        (:mod:`bot.send_limits`); None when the database serves one process, whose
        outboxes then keep the limits on their own."""

    def unit(self) -> AbstractAsyncContextManager[None]:
        """Everything the current task awaits inside is one transaction: committed
        together when the block ends, or not at all. The core runs a batch of events
        in one (group commit), so an event's claim and its effects land together.
        This default commits each operation on its own (no atomicity across them)."""
        return nullcontext()

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """Inside a unit: what the block did is undone alone if it raises."""
        return nullcontext()

    @abstractmethod
    async def person_data(self, person: str, pseudonyms: Sequence[str] = ()) -> dict[str, Any]:
        """Everything stored about a person, for /mydata (keys: table-like sections).

        ``pseudonyms`` are the person's keyed hashes in anonymous consultations: the
        responses stored under them are included too.
        """

    @abstractmethod
    async def forget_person(
        self,
        person: str,
        pseudonyms: Sequence[str] = (),
        private_chats: Sequence[str] = (),
        *,
        now: datetime | None = None,
    ) -> dict[str, int]:
        """Delete everything linked to a person; returns what was deleted, by kind.

        Named responses go whatever their status; under ``pseudonyms`` only unfinished
        drafts go (submitted anonymous responses carry no identity and stay counted).
        ``private_chats`` are the person's own chats with the bot (on Telegram, the
        account id): polls posted there lose their chat (and close), and the
        references of messages sent there go. Owed replies go when they are the
        person's or go to one of those chats. ``"log_pending": 1`` in the result says
        old copies of the deleted rows could not be cleared from a write-ahead log yet.
        """
