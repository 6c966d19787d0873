"""The platform-neutral core: one entry point, :meth:`Core.handle`, for every adapter.

It de-duplicates re-delivered events, runs the handler pipeline registered in
:mod:`bot.handlers`, and is the single error boundary: a failing handler is logged with
its traceback and the person gets a short apology, never the exception text.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import itertools
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot import leases, owed, polls
from bot.config import Settings
from bot.consultations import Catalog
from bot.content import Content
from bot.errors import StorageConflict
from bot.handlers import PIPELINE, timeline
from bot.handlers.base import Context, Renderings
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher
from bot.messages import Incoming, Person, Reply
from bot.pseudonym import Pseudonyms
from bot.readiness import Readiness
from bot.storage.base import Storage
from bot.turns import Turns
from bot.ui import UI, plural_category

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# How an adapter delivers replies the core starts itself (a poll closing on time, a
# reminder): adapters register one per platform when they start.
Sender = Callable[[list[Reply]], Awaitable[None]]


# Longer input is cut here, before any handler: Telegram's own limit for one message.
# Normalising or matching 100,000 characters would hold the event loop for seconds,
# and nothing the bot asks for (a consultation answer is at most 4,000) needs more.
MAX_INPUT_CHARS = 4096
# Events handled in one transaction at most: a burst is committed in a few fsyncs, and
# the first event of a batch does not wait for too many others.
MAX_BATCH = 64
# Loop turns the batch writer lets pass after answering a batch, before it takes the
# next: enough for an answered caller's next event to reach the queue (the answer goes
# through the shield, then the caller's task), microseconds in all.
GATHER_TURNS = 4
# An event waiting for the batch writer: message, time, route, inboxed, its result.
_Waiting = tuple[Incoming, datetime, str | None, bool, "asyncio.Future[list[Reply]]"]
# Tries of a batch that met another replica's in a deadlock (PostgreSQL undid one).
CONFLICT_ATTEMPTS = 5
# Button data the bot sends is at most 64 bytes; anything much longer is not ours.
MAX_ACTION_CHARS = 256


@dataclass(frozen=True)
class FloodLimit:
    """How much typed text one person may send: ``burst`` messages at once, then
    ``per_second``. Past it, one notice, then nothing is read until the flood stops:
    a thousand messages in ten seconds must not queue a thousand replies (drained at
    one a second) nor fill the log of unanswered questions. Buttons are not counted."""

    burst: int = 30
    per_second: float = 1.0


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    noticed: bool = False


GAPS_PER_HOUR = 20
_MAX_BUCKETS = 10_000  # people remembered; the oldest are forgotten past it


def bounded(message: Incoming) -> Incoming:
    """The message with its text and button data cut to what any handler may see."""
    action = message.action
    if len(message.text) <= MAX_INPUT_CHARS and (action is None or len(action) <= MAX_ACTION_CHARS):
        return message
    return dataclasses.replace(
        message,
        text=message.text[:MAX_INPUT_CHARS],
        action=None if action is None else action[:MAX_ACTION_CHARS],
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def settle_heap() -> None:
    """Keep what is alive now (the content just loaded: knowledge base, matcher index,
    UI strings; hundreds of thousands of objects that live as long as the process) out
    of the garbage collector's passes. Its full pass walked them all, about 70 ms with
    the loop held, and the events waiting then (a batch of 50) were all that much later:
    the p99 of answering questions was 2.5 times its p50. Objects freed later are still
    freed by their counts; only cycles among them would stay, so the previous content's
    is collected first (``unfreeze``) when a reload calls this again."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class Core:
    def __init__(
        self,
        settings: Settings,
        kb: KnowledgeBase,
        storage: Storage,
        *,
        ui: UI | None = None,
        clock: Clock = utc_now,
        consultations: Catalog | None = None,
        matcher: Matcher | None = None,
        flood: FloodLimit | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.ui = ui or UI.load()
        self.clock = clock
        self.content = Content(
            kb,
            matcher or Matcher(kb),
            consultations if consultations is not None else Catalog(),
        )
        self.matching = Turns()  # one match per loop turn, whichever chat asks (bot/turns.py)
        self.renderings = Renderings()  # answers' texts and buttons, per language (ctx.memo)
        self.senders: dict[str, Sender] = {}
        self.readiness = Readiness()  # what /readyz reports (bot/health.py)
        self.pseudonyms = Pseudonyms(settings)  # codes for anonymous respondents and voters
        self.flood = flood or FloodLimit()
        self._buckets: dict[str, _Bucket] = {}
        self._gap_times: dict[str, list[datetime]] = {}
        self._waiting: list[_Waiting] = []
        self._paid: list[tuple[str, str]] = []
        self._taken: list[tuple[str, str]] = []  # inbox rows handled outside handle()
        # Repeats of an event handled here, whose delivery report is not in yet: see paid().
        self._repeats: dict[tuple[str, str], int] = {}
        self._writer: asyncio.Task[None] | None = None
        self._settled = False

    # What the bot answers from now. A handler reads these through its Context, which
    # keeps the content the event started with (see bot.content).
    @property
    def kb(self) -> KnowledgeBase:
        return self.content.kb

    @property
    def matcher(self) -> Matcher:
        return self.content.matcher

    @property
    def consultations(self) -> Catalog:
        return self.content.consultations

    def use(self, content: Content) -> None:
        """Answer from ``content`` from the next event on (one assignment: events
        already being handled finish with the content they started with)."""
        self.content = content
        if self._settled:
            self._prepare()  # the new content out of the collector's way too (a reload is rare)

    def settle(self) -> None:
        """The content is loaded and events are about to come: what the first events
        would work out the first time is worked out now, then :func:`settle_heap`; again
        after each reload (:meth:`use`). The process's start calls it, not the
        constructor: tests make a core each, and a full collection each would add up."""
        self._settled = True
        self._prepare()

    def _prepare(self) -> None:
        # The first dated answer loaded CLDR's plural rules (20 ms) and the first "when
        # is the next ..." tokenised every event (50 ms), holding a whole batch back.
        for language in self.ui.strings:
            plural_category(language, 1)
        timeline.prepare(self.content.kb, self.content.matcher)
        settle_heap()

    def register_sender(self, platform: str, sender: Sender) -> None:
        self.senders[platform] = sender

    async def push(self, platform: str, replies: list[Reply]) -> bool:
        """Deliver replies nobody asked for just now; False when the platform is not running."""
        sender = self.senders.get(platform)
        if sender is None:
            log.warning("cannot push to %s: no adapter running", platform)
            return False
        await sender(replies)
        return True

    async def person_gone(self, person: str, reason: str) -> None:
        """The platform says this person can no longer be reached (``"blocked"``, or
        ``"unreachable"`` after a refused send): stop their reminders, and keep why."""
        if await self.storage.unsubscribe(person, self.clock(), reason=reason):
            log.info("reminders turned off for a person the platform says is %s", reason)

    async def handle(
        self, message: Incoming, route: str | None = None, *, inboxed: bool = False
    ) -> list[Reply]:
        """Everything the bot says in response to one incoming event (maybe nothing).

        Returns once the event's claim and everything its handler stored are
        committed, together: a crash before that leaves no trace of it (a re-delivery
        is handled afresh), a crash after it leaves it done (a re-delivery is ignored).
        Events waiting at the same moment share one transaction (group commit).
        With a ``route`` (the adapter's note of where to answer), the replies are
        stored with the claim until the adapter reports them delivered (:meth:`paid`):
        see :mod:`bot.owed`. ``inboxed``: the event was kept with :meth:`keep`, and
        is no longer pending from the same transaction on.
        """
        done: asyncio.Future[list[Reply]] = asyncio.get_running_loop().create_future()
        self._waiting.append((message, self.clock(), route, inboxed, done))
        self._wake_writer()
        # Shielded: a caller that gives up does not undo the others in its batch.
        return await asyncio.shield(done)

    def paid(self, platform: str, event_id: str | None) -> None:
        """The replies of this event were delivered: they are no longer owed (recorded
        with the next batch; a crash before that sends them once more).

        A repeat of the event (the platform re-delivered it) is answered with nothing,
        and its adapter reports that at once, maybe while the first handling's replies
        still wait to go out: of the reports for one event, each repeat's cancels one,
        so only the last one, after the replies went, deletes them."""
        if event_id is None:
            return
        pending = self._repeats.pop((platform, event_id), 0)
        if pending:
            if pending > 1:
                self._repeats[(platform, event_id)] = pending - 1
            return
        self._paid.append((platform, event_id))
        self._wake_writer()

    async def keep(self, platform: str, items: list[tuple[str, str, str | None]]) -> None:
        """Store incoming events (event id, the platform's payload, the sender's person
        key when known) before the platform is told they arrived: a crash before they
        are handled leaves them pending, and
        :meth:`kept` hands them back at the next start. :meth:`handle` with ``inboxed``
        (or :meth:`taken`) marks one handled."""
        await self.storage.inbox_put(platform, items, self.clock())

    async def kept(self, platform: str) -> list[tuple[str, str]]:
        """(event id, payload) of the events kept and not handled yet, oldest first."""
        return await self.storage.inbox_pending(platform)

    def taken(self, platform: str, event_id: str) -> None:
        """A kept event was handled without :meth:`handle` (nothing in it for the core):
        no longer pending (recorded with the next batch)."""
        self._taken.append((platform, event_id))
        self._wake_writer()

    async def owed(self, platform: str, *, mine: bool = True) -> list[tuple[str, str, list[Reply]]]:
        """(event id, route, replies) to send now, not older than OWED_FOR: those nobody
        is sending any more (a dead replica's, once its lease ran out), taken for this
        process. With ``mine`` (an adapter's start, when none of this process's are in
        flight), also those this process left unsent itself. Poll messages among them
        are drawn again from the tally of now (:func:`bot.polls.redraw`)."""
        rows = await self.storage.claim_owed(
            platform,
            leases.owner(self),
            self.clock(),
            self.clock() - owed.OWED_FOR,
            mine=mine,
            lease=self.settings.lease,
        )
        return [
            (event_id, route, await polls.redraw(self, owed.loads(replies)))
            for event_id, route, replies in rows
        ]

    async def flush(self) -> None:
        """Wait until every queued event and delivery record is stored (at shutdown)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    def _wake_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches(), name="core-writer")

    async def _write_batches(self) -> None:
        while self._waiting or self._paid or self._taken:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            paid, self._paid = self._paid, []
            taken, self._taken = self._taken, []
            try:
                results = await self._store(batch, paid, taken)
            except asyncio.CancelledError:
                for *_, done in batch:
                    done.cancel()
                raise
            except Exception:
                # Begin or commit failed (a database locked from outside, a full disk):
                # nothing of the batch is stored, so a re-delivery is handled afresh.
                log.exception("could not store a batch of %d event(s)", len(batch))
                results = [self._apology(message) for message, *_ in batch]
            for (*_, done), replies in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(replies)
            if batch and len(self._waiting) < MAX_BATCH:
                # Those just answered often send their next event at once (a person's
                # next press, an adapter's next queued update): a few turns of the loop
                # let it join the next transaction rather than the one after, so a
                # burst shares fewer fsyncs (50 in flight: 121 commits became 64).
                for _ in range(GATHER_TURNS):
                    await asyncio.sleep(0)

    async def _store(
        self, batch: list[_Waiting], paid: list[tuple[str, str]], taken: list[tuple[str, str]]
    ) -> list[list[Reply]]:
        """The batch in one unit of work. When it met another replica's batch in a
        deadlock (PostgreSQL undid one: votes on two polls, taken in opposite orders),
        nothing of it was stored, and doing it again as it was would meet the other
        again: each event is then stored in its own unit, which holds one poll's locks
        at most, so it waits for the other writer instead of deadlocking with it."""
        repeats = dict(self._repeats)
        try:
            return await self._store_batch(batch, paid, list(taken))
        except StorageConflict:
            self._repeats = repeats  # the repeats seen in the undone unit count once
            if len(batch) <= 1:
                return await self._store_retrying(batch, paid, taken)
            log.info(
                "a batch of %d event(s) met another writer's: storing them one by one", len(batch)
            )
        results: list[list[Reply]] = []
        for i, item in enumerate(batch):
            first = i == 0  # the delivery records go with the first event
            try:
                results += await self._store_retrying(
                    [item], paid if first else [], taken if first else []
                )
            except StorageConflict:  # not stored: a re-delivery is handled afresh
                log.exception("could not store an event")
                results.append(self._apology(item[0]))
        return results

    async def _store_retrying(
        self, batch: list[_Waiting], paid: list[tuple[str, str]], taken: list[tuple[str, str]]
    ) -> list[list[Reply]]:
        for attempt in itertools.count(1):
            repeats = dict(self._repeats)
            try:
                return await self._store_batch(batch, paid, list(taken))
            except StorageConflict:
                self._repeats = repeats
                if attempt >= CONFLICT_ATTEMPTS:
                    raise
                # Apart from the other writer's own retry, which may meet this one again.
                await asyncio.sleep(random.uniform(0.01, 0.1) * attempt)
        raise AssertionError("unreachable")

    async def _store_batch(
        self,
        batch: list[_Waiting],
        paid: list[tuple[str, str]],
        taken: list[tuple[str, str]],
    ) -> list[list[Reply]]:
        """Handle a batch of events and record deliveries in one unit of work."""
        results: list[list[Reply]] = []
        async with self.storage.unit():
            for message, now, route, inboxed, _ in batch:
                replies = await self._handle_one(message, now)
                if inboxed and message.event_id is not None:
                    taken.append((message.person.platform, message.event_id))
                if route is not None and replies and message.event_id is not None:
                    await self.storage.owe_replies(
                        message.person.platform,
                        message.event_id,
                        route,
                        owed.dumps(replies),
                        now,
                        person=message.person.key,
                        chats=owed.chats(message.chat, replies),
                        owner=leases.owner(self),
                        lease=self.settings.lease,
                    )
                results.append(replies)
            for platform in {p for p, _ in paid}:
                await self.storage.paid_replies(
                    platform,
                    [e for p, e in paid if p == platform],
                    owner=leases.owner(self),  # not a repeat's: see bot.owed
                )
            for platform in {p for p, _ in taken}:
                await self.storage.inbox_done(platform, [e for p, e in taken if p == platform])
        return results

    def may_log_gap(self, person: str, now: datetime) -> bool:
        """At most :data:`GAPS_PER_HOUR` unanswered questions logged per person (kept in
        memory only: the log itself never says who asked)."""
        recent = self._gap_times.pop(person, [])
        recent = [t for t in recent if now - t < timedelta(hours=1)]
        allowed = len(recent) < GAPS_PER_HOUR
        if allowed:
            recent.append(now)
        if len(self._gap_times) >= _MAX_BUCKETS:
            del self._gap_times[next(iter(self._gap_times))]
        self._gap_times[person] = recent
        return allowed

    def _flooding(self, who: Person, now: datetime) -> list[Reply] | None:
        """None when the message may be read; else what to answer instead: the one
        notice of a flood, then nothing."""
        person = who.key
        bucket = self._buckets.pop(person, None)  # re-inserted last: the newest
        if bucket is None:
            if len(self._buckets) >= _MAX_BUCKETS:
                del self._buckets[next(iter(self._buckets))]
            bucket = _Bucket(float(self.flood.burst), now)
        self._buckets[person] = bucket
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(
            float(self.flood.burst), bucket.tokens + elapsed * self.flood.per_second
        )
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            if bucket.tokens >= self.flood.burst / 2:
                bucket.noticed = False  # calm again: a later flood gets its notice
            return None
        if bucket.noticed:
            return []
        bucket.noticed = True
        log.warning("a person is flooding the bot: their messages are not read for now")
        return [Reply(self.ui.t("flood_notice", who.language))]

    def _apology(self, message: Incoming) -> list[Reply]:
        return [Reply(self.ui.t("error", message.person.language))]

    async def _handle_one(self, message: Incoming, now: datetime) -> list[Reply]:
        typed = len(message.text)
        message = bounded(message)
        ctx = Context(self, message, now, cut=typed - len(message.text), content=self.content)
        try:
            # Inside the boundary: a storage error here (a locked database) still gets
            # the person an apology instead of escaping to the adapter.
            if message.event_id is not None:
                fresh = await self.storage.claim_event(
                    message.person.platform, message.event_id, now
                )
                if not fresh:
                    key = (message.person.platform, message.event_id)
                    if key not in self._repeats and len(self._repeats) >= _MAX_BUCKETS:
                        del self._repeats[next(iter(self._repeats))]
                    self._repeats[key] = self._repeats.get(key, 0) + 1
                    log.info(
                        "ignoring re-delivered %s event %s",
                        message.person.platform,
                        message.event_id,
                    )
                    return []
            if message.action is None and message.text.strip():
                instead = self._flooding(message.person, now)
                if instead is not None:
                    return instead
            # A failing handler's writes are undone; the claim stays, so a re-delivery
            # of the same event does not fail again.
            async with self.storage.savepoint():
                for handler in PIPELINE:
                    replies = await handler(ctx)
                    if replies is not None:
                        return replies
            return []
        except (asyncio.CancelledError, StorageConflict):
            raise  # a conflict: the batch writer does the whole batch again
        except Exception:
            log.exception(
                "handler failed on %s event %s", message.person.platform, message.event_id or "-"
            )
            return [Reply(ctx.t("error"))]
