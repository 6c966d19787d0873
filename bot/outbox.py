"""One outgoing path per platform: rate limits, retries and coalesced edits.

Platforms throttle bots (Telegram: about 30 messages a second overall, 1 a second per
chat, 20 a minute per group) and answer a burst with "retry after N seconds". Every
outgoing call of an adapter goes through one :class:`Outbox`, which

- keeps one queue ("lane") per chat, so order within a chat is preserved and a chat
  told to wait does not hold up the others;
- spaces sends to respect the per-chat, per-group and global limits;
- honours :class:`RetryAfter` for the chat it concerns (or for everything when the
  platform says the whole bot is limited), retries :class:`Transient` failures with
  bounded exponential backoff, and never drops or duplicates an item on its own;
- replaces a queued item by a newer one with the same ``coalesce_key``: a live poll
  tally voted on 2,000 times in a minute is edited about once a second, last state wins;
- in a group, paces such live states so that they leave the group's last slot of the
  minute free: a state that has settled (no newer one for :data:`SETTLE` seconds, the
  burst is over) takes it at once, instead of waiting up to a minute behind the
  intermediate states that filled the group's 20 (:meth:`Outbox._live_ready`);
- sends the messages of a stored delivery (:func:`held`: an answer owed, a reminder)
  one delivery at a time for the whole process, from the moment one is sent until the
  delivery is recorded (:class:`Gate`), so a ``kill -9`` leaves at most one message
  whose fate is unknown; meanwhile every other send goes on, and a delivery waiting
  for its chat (spacing, "retry after") holds nobody up;
- with a :class:`~bot.send_limits.SharedLimiter` (several replicas on PostgreSQL),
  reserves each message's slot there before sending it, so the limits hold for all
  replicas together; a newer state coalesces into an item while it waits for its slot,
  and a live state not settled yet leaves the group's reserved slot there too.

The clock and sleep are injectable so tests run on virtual time.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.errors import BotError
from bot.send_limits import SharedLimiter, group_rate, send_rates

log = logging.getLogger(__name__)

SendFn = Callable[[str, Any], Awaitable[Any]]
GROUP_WINDOW = 60.0  # seconds over which group_per_minute is counted
SHARED_FAILURE_LOG_EVERY = 60.0  # seconds between two "shared limiter unreachable" lines
# A live state (an item with a coalesce key) no newer one replaced for this long is
# taken as the last of its burst: it may use the slot its group keeps in reserve.
SETTLE = 0.5


class RetryAfter(BotError):
    """The platform said "too many requests, retry after ``seconds``" (HTTP 429).

    ``whole_bot`` means the limit concerns every chat, not only the one sent to.
    """

    def __init__(self, seconds: float, *, whole_bot: bool = False) -> None:
        self.seconds = max(0.0, float(seconds))
        self.whole_bot = whole_bot
        super().__init__(f"rate limited: retry after {self.seconds:g} s")


class Transient(BotError):
    """A failure worth retrying: a 5xx answer, a timeout, a dropped connection."""


class OutboxClosed(BotError):
    """The outbox stopped before this item could be sent."""


@dataclass(frozen=True)
class Limits:
    """How fast one platform lets a bot send. The defaults are Telegram's."""

    global_per_second: float = 30.0
    per_chat_interval: float = 1.0  # seconds between two sends to one chat
    group_per_minute: int | None = 20


# A delivery holding the gate this long (stuck behind a chat's "retry after", or
# waiting for an item queued behind another delivery's) no longer holds up the others.
GATE_PATIENCE = 5.0


class Gate:
    """One stored delivery at a time whose messages may be in doubt, for every outbox
    of a process: held by a :class:`Hold` from its first message's send until the
    delivery is recorded (:meth:`Hold.release`).

    A platform offers no idempotency key: a message sent whose delivery was not
    recorded before a ``kill -9`` is sent again by the replica taking the delivery
    over. Concurrent sends reported in batches left every message since the last
    commit to be sent twice."""

    def __init__(self) -> None:
        self.holder: Hold | None = None
        self.since = 0.0
        self._watchers: set[asyncio.Event] = set()

    def free_for(self, hold: Hold, now: float) -> bool:
        holder = self.holder
        if holder is None or holder is hold or holder.done:
            return True
        return now - self.since >= GATE_PATIENCE

    def take(self, hold: Hold, now: float) -> None:
        if self.holder is not hold:
            if self.holder is not None and not self.holder.done:
                log.warning(
                    "a delivery waited %.0f s for its chat: others go meanwhile", now - self.since
                )
            self.holder, self.since = hold, now

    def let_go(self, hold: Hold) -> None:
        if self.holder is hold:
            self.holder = None
            for event in self._watchers:
                event.set()

    def watch(self, event: asyncio.Event) -> None:
        """Set ``event`` (an outbox's wake-up) whenever the gate is let go."""
        self._watchers.add(event)

    def unwatch(self, event: asyncio.Event) -> None:
        self._watchers.discard(event)


@dataclass(eq=False)
class Hold:
    """One stored delivery's claim on its process's :class:`Gate`."""

    gate: Gate
    done: bool = False
    sent: bool = False  # one of its messages reached the platform, or may have
    flying: int = 0  # of its messages, awaiting the platform's answer

    @property
    def in_doubt(self) -> bool:
        return self.sent or self.flying > 0

    def release(self) -> None:
        """The delivery is recorded (or given up): the next one may send."""
        self.done = True
        self.gate.let_go(self)


_HOLD: contextvars.ContextVar[Hold | None] = contextvars.ContextVar("outbox_hold", default=None)


@contextlib.contextmanager
def held(gate: Gate) -> Iterator[Hold]:
    """Messages submitted in this block (by this task, or tasks it starts) belong to
    one stored delivery: see :class:`Gate`. Release at the end, once it is recorded."""
    hold = Hold(gate)
    token = _HOLD.set(hold)
    try:
        yield hold
    finally:
        _HOLD.reset(token)
        hold.release()


@dataclass(eq=False)
class _Item:
    chat_id: str
    payload: Any
    group: bool
    coalesce_key: str | None
    futures: list[asyncio.Future[Any]]
    order: int  # submission order: the oldest waiting item is served first
    failures: int = 0  # transient failures so far
    priority: bool = False  # served before ordinary items (toasts, live tallies)
    budget: bool = True  # counts against global_per_second
    changed_at: float = 0.0  # when its payload was last replaced by a newer state
    queued_at: float = 0.0
    hold: Hold | None = None  # the stored delivery it is part of (Gate)

    def gated(self) -> bool:
        """A new message of a delivery still being sent: it waits for the gate. Edits
        (coalesced) and toasts (budget-free) repeat nothing visible."""
        return (
            self.hold is not None
            and not self.hold.done
            and self.coalesce_key is None
            and self.budget
        )


@dataclass(eq=False)
class _Lane:
    queue: deque[_Item] = field(default_factory=deque)
    ready_at: float = 0.0  # no send before this (spacing, retry-after or backoff)
    busy: bool = False  # one item in flight at a time keeps the chat's order
    recent: deque[float] = field(default_factory=deque)  # send times, for group_per_minute
    live_tat: float = 0.0  # GCRA arrival time of the lane's live states (_live_ready)


class Outbox:
    def __init__(
        self,
        send: SendFn,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        max_attempts: int = 8,
        base_backoff: float = 1.0,
        max_backoff: float = 30.0,
        max_in_flight: int = 16,
        shared: SharedLimiter | None = None,
        scope: str = "",
    ) -> None:
        self._send = send
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        # Sends awaiting the platform at once. Without a cap a burst (2,000 toasts, one
        # lane each) opened hundreds of requests together and the HTTP client's pool,
        # whose bookkeeping grows with the square of them, took 20 s to get through.
        # Counted apart for chat messages and for budget-free items (toasts): with one
        # cap for both, 2,000 toasts took every slot and a poll's tally edit, queued
        # after them, waited for all of them (13 s in the 2,000-vote burst).
        self.max_in_flight = max_in_flight
        self._flying = {True: 0, False: 0}  # in flight, by the item's ``budget``
        self._caps = {True: max_in_flight, False: max_in_flight}
        self._held_for = 0.0  # a budget-free item waiting this long is no longer held
        self._lanes: dict[str, _Lane] = {}
        self._coalescing: dict[tuple[str, str], _Item] = {}
        self._global_next = 0.0
        self._order = itertools.count()
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._worker: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._closed = False
        # The limiter all replicas share, and this platform's name in its keys.
        self._shared = shared
        self.scope = scope
        self._shared_failed_at: float | None = None

    # ------------------------------------------------------------------ public API

    async def start(self) -> None:
        if self._worker is None:
            self._closed = False
            self._worker = asyncio.create_task(self._run(), name="outbox")

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Send what is queued (for at most ``drain_seconds``), then stop.

        Items still queued after that fail with :class:`OutboxClosed` and are logged:
        a bounded shutdown matters more than a message stuck behind a long retry-after.
        """
        self._closed = True
        if self._worker is None:
            self._fail_all(OutboxClosed("the outbox was never started"))
            return
        try:
            await asyncio.wait_for(self._idle.wait(), drain_seconds)
        except TimeoutError:
            log.error("outbox stopped with %d message(s) still unsent", self.pending)
        self._worker.cancel()
        for task in list(self._in_flight):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        self._worker = None
        self._fail_all(OutboxClosed("the outbox stopped before this message was sent"))

    def limit_budget_free(self, in_flight: int | None, *, at_most_for: float = 5.0) -> None:
        """At most ``in_flight`` budget-free items (toasts) awaiting the platform at once;
        None: ``max_in_flight`` again. An adapter lowers it while it takes in a burst:
        on one event loop, each toast's HTTP round trip takes the CPU the votes still
        to be stored (and the tally showing them) wait for; the toasts go in full once
        the burst is in. One that has waited ``at_most_for`` seconds is not held back
        any longer: Telegram forgets a button press after about 15 s."""
        self._caps[False] = max(1, in_flight) if in_flight is not None else self.max_in_flight
        self._held_for = at_most_for
        self._wakeup.set()

    @property
    def pending(self) -> int:
        """Items queued or in flight."""
        return sum(len(lane.queue) for lane in self._lanes.values())

    def queued(self, chat_id: str) -> list[Any]:
        """The payloads waiting (or in flight) for a chat, oldest first: for diagnostics."""
        lane = self._lanes.get(chat_id)
        return [item.payload for item in lane.queue] if lane else []

    def submit(
        self,
        chat_id: str,
        payload: Any,
        *,
        group: bool = False,
        coalesce_key: str | None = None,
        priority: bool = False,
        budget: bool = True,
    ) -> asyncio.Future[Any]:
        """Queue one send; the future resolves with ``send()``'s result or final exception.

        ``priority`` items go before ordinary ones, across chats and within their own
        chat's queue: a button's toast or a poll's tally edit is not stuck behind a
        burst of messages. ``budget=False`` leaves the item out of the global rate
        (Telegram counts messages there, not answers to button presses)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._closed:
            future.set_exception(OutboxClosed("the outbox is stopped"))
            return future
        if coalesce_key is not None:
            queued = self._coalescing.get((chat_id, coalesce_key))
            if queued is not None:
                # Last state wins; whoever waited for the earlier state gets the later result.
                queued.payload = payload
                queued.futures.append(future)
                queued.changed_at = self._clock()  # it settles later (_live_ready)
                return future
        item = _Item(
            chat_id,
            payload,
            group,
            coalesce_key,
            [future],
            next(self._order),
            priority=priority,
            budget=budget,
            changed_at=self._clock(),
            queued_at=self._clock(),
            hold=_HOLD.get() if coalesce_key is None and budget else None,
        )
        if item.hold is not None:
            item.hold.gate.watch(self._wakeup)
        lane = self._lanes.setdefault(chat_id, _Lane())
        if priority:
            # After the item in flight and the other priority ones; before the rest.
            at = int(lane.busy)
            while at < len(lane.queue) and lane.queue[at].priority:
                at += 1
            lane.queue.insert(at, item)
        else:
            lane.queue.append(item)
        if coalesce_key is not None:
            self._coalescing[(chat_id, coalesce_key)] = item
        self._idle.clear()
        self._wakeup.set()
        return future

    async def deliver(
        self,
        chat_id: str,
        payload: Any,
        *,
        group: bool = False,
        coalesce_key: str | None = None,
        priority: bool = False,
        budget: bool = True,
    ) -> Any:
        return await self.submit(
            chat_id,
            payload,
            group=group,
            coalesce_key=coalesce_key,
            priority=priority,
            budget=budget,
        )

    # ------------------------------------------------------------------ scheduling

    def _group_ready(self, lane: _Lane, now: float) -> float:
        limit = self.limits.group_per_minute
        while lane.recent and lane.recent[0] <= now - GROUP_WINDOW:
            lane.recent.popleft()
        if limit is None or len(lane.recent) < limit:
            return now
        return lane.recent[-limit] + GROUP_WINDOW

    def _live_ready(self, lane: _Lane, item: _Item, now: float) -> float:
        """When a live state (``coalesce_key``) may go to its group, besides the limits.

        Live states are paced as if the group allowed one message a minute fewer
        (GCRA: a few at once, then evenly spaced), so a 60-second burst of votes edits
        the tally every few seconds and the group's last slot stays free. A state that
        has settled goes without that pacing: the final tally, shown within a second
        or so of the last vote rather than when the minute is over."""
        limit = self.limits.group_per_minute
        if limit is None or limit < 2:
            return now
        settled = item.changed_at + SETTLE
        rate = group_rate("live", limit - 1)
        return min(settled, max(now, lane.live_tat - rate.tolerance))

    def _live_sent(self, lane: _Lane, now: float) -> None:
        limit = self.limits.group_per_minute
        if limit is not None and limit >= 2:
            lane.live_tat = max(lane.live_tat, now) + group_rate("live", limit - 1).step

    def _cap(self, item: _Item, now: float) -> int:
        """How many of the item's kind may await the platform for it to go too."""
        if not item.budget and now - item.queued_at >= self._held_for:
            return self.max_in_flight  # held long enough (limit_budget_free)
        return self._caps[item.budget]

    def _next(self, now: float) -> tuple[str, _Lane | None, float] | None:
        """The lane to serve next and when: earliest allowed first, then oldest item.
        No lane: nothing to send before that moment (a gate's patience)."""
        best: tuple[float, bool, int, str, _Lane] | None = None
        gate_at = float("inf")
        for chat_id, lane in list(self._lanes.items()):
            if lane.busy:
                continue
            if lane.queue and self._flying[lane.queue[0].budget] >= self._cap(lane.queue[0], now):
                continue  # its kind has no free slot: a send finishing wakes us
            if not lane.queue:
                # Forget a quiet chat once its spacing and group window have passed.
                if lane.ready_at <= now and self._group_ready(lane, now) <= now and not lane.recent:
                    del self._lanes[chat_id]
                continue
            head = lane.queue[0]
            if head.hold is not None and head.gated():
                gate = head.hold.gate
                if not gate.free_for(head.hold, now):
                    # Another delivery's message may be in doubt: the gate's release
                    # (it wakes us), or its patience running out.
                    gate_at = min(gate_at, gate.since + GATE_PATIENCE)
                    continue
            at = lane.ready_at
            if head.group:
                at = max(at, self._group_ready(lane, now))
                if head.coalesce_key is not None:
                    at = max(at, self._live_ready(lane, head, now))
            if head.budget:
                at = max(at, self._global_next)
            # Every chat that may send now ties at ``now``: then priority items, then
            # the oldest item goes first.
            key = (max(at, now), not head.priority, head.order, chat_id, lane)
            if best is None or key[:3] < best[:3]:
                best = key
        if best is None or gate_at < best[0]:
            return None if gate_at == float("inf") else ("", None, max(gate_at, now))
        return best[3], best[4], best[0]

    def _update_idle(self) -> None:
        if not any(lane.queue for lane in self._lanes.values()):
            self._idle.set()

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            now = self._clock()
            chosen = self._next(now)
            if chosen is None:
                self._update_idle()
                await self._wakeup.wait()
                continue
            _, lane, at = chosen
            if at > now or lane is None:
                await self._pause(at - now)
                continue
            item = lane.queue[0]
            lane.busy = True
            if item.hold is not None and item.gated():
                item.hold.gate.take(item.hold, now)
            if self.limits.global_per_second > 0 and item.budget:
                self._global_next = now + 1.0 / self.limits.global_per_second
            if item.group:
                lane.recent.append(now)
                if item.coalesce_key is not None:
                    self._live_sent(lane, now)
            task = asyncio.create_task(self._attempt(lane, item, now))
            self._in_flight.add(task)
            self._flying[item.budget] += 1
            task.add_done_callback(functools.partial(self._sent, item.budget))

    def _sent(self, budget: bool, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._flying[budget] -= 1
        self._wakeup.set()  # a slot is free (the attempt's own wake-up came before this)

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake early when something new is submitted or a send finishes."""
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(self._wakeup.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)

    async def _wait_for_slot(self, item: _Item) -> None:
        """Reserve the item's slot in the shared limiter and wait for it. Without the
        limiter (the database is down) this replica's own limits still hold."""
        if self._shared is None or not item.budget:
            return  # a toast is not a message: no limit to share
        while True:
            asked = self._clock()
            # A live state not settled yet leaves the group's last slot to the final one
            # (as _live_ready does here); settled, it may take that slot.
            live = item.group and item.coalesce_key is not None and asked < item.changed_at + SETTLE
            rates = send_rates(self.scope, self.limits, item.chat_id, group=item.group, live=live)
            try:
                slot = await self._shared.reserve(rates)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._shared_failure(exc)
                return
            # The database chose the slot about half a round trip after we asked.
            wait = slot.wait - (self._clock() - asked) / 2
            if live and not slot.taken:
                # Ask again once it has settled: then the reserved slot is its own.
                wait = min(wait, item.changed_at + SETTLE - self._clock())
            hold = item.hold
            if not slot.taken and wait > 0 and hold is not None and not hold.in_doubt:
                # Nothing of its delivery is in doubt while it waits: others may send.
                hold.gate.let_go(hold)
                await self._sleep(wait)
                await self._take_gate(item)
                continue
            if wait > 0:
                await self._sleep(wait)  # a newer state coalesces into the item meanwhile
            if slot.taken:
                return

    async def _share_pause(self, item: _Item, exc: RetryAfter) -> None:
        """The platform's "retry after" holds every replica back from that chat (or,
        for the whole bot, from every chat)."""
        if self._shared is None:
            return
        keys = [r.key for r in send_rates(self.scope, self.limits, item.chat_id, group=False)]
        if not exc.whole_bot:
            keys = keys[:1]  # the chat's key
        try:
            await self._shared.pause(keys, exc.seconds)
        except asyncio.CancelledError:
            raise
        except Exception as failure:
            self._shared_failure(failure)

    def _shared_failure(self, exc: Exception) -> None:
        now = self._clock()
        if (
            self._shared_failed_at is None
            or now - self._shared_failed_at >= SHARED_FAILURE_LOG_EVERY
        ):
            self._shared_failed_at = now
            log.warning(
                "the shared send limiter failed (%s: %s): this replica keeps its own limits",
                type(exc).__name__,
                exc,
            )

    async def _take_gate(self, item: _Item) -> None:
        """Wait until the item's delivery may hold the gate again, and take it."""
        hold = item.hold
        if hold is None or not item.gated():
            return
        gate = hold.gate
        while not gate.free_for(hold, self._clock()):
            woken = asyncio.Event()
            gate.watch(woken)
            sleeper = asyncio.ensure_future(
                self._sleep(max(0.0, gate.since + GATE_PATIENCE - self._clock()))
            )
            waker = asyncio.ensure_future(woken.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                gate.unwatch(woken)
                for task in (sleeper, waker):
                    task.cancel()
                await asyncio.gather(sleeper, waker, return_exceptions=True)
        gate.take(hold, self._clock())

    async def _attempt(self, lane: _Lane, item: _Item, started: float) -> None:
        hold = item.hold if item.gated() else None
        flying = False
        try:
            await self._wait_for_slot(item)
            if item.coalesce_key is not None:
                # From here on a newer state is a new item: this one is being sent.
                key = (item.chat_id, item.coalesce_key)
                if self._coalescing.get(key) is item:
                    del self._coalescing[key]
            started = self._clock()  # the chat's spacing counts from the send itself
            if hold is not None:
                hold.flying += 1
                flying = True
            try:
                result = await self._send(item.chat_id, item.payload)
            except RetryAfter:
                raise  # refused: it never reached the chat
            except BaseException:
                if hold is not None:
                    hold.sent = True  # a timeout or a drop: it may have
                raise
            if hold is not None:
                hold.sent = True
        except RetryAfter as exc:
            if hold is not None:
                hold.flying -= 1
                flying = False
                if not hold.in_doubt:
                    hold.gate.let_go(hold)  # others go while this one waits for its chat
            until = self._clock() + exc.seconds
            lane.ready_at = max(lane.ready_at, until)
            if exc.whole_bot:
                self._global_next = max(self._global_next, until)
            await self._share_pause(item, exc)
            log.warning(
                "rate limited by the platform: retrying in %.1f s (%d waiting for this chat%s)",
                exc.seconds,
                len(lane.queue),
                ", every chat paused" if exc.whole_bot else "",
            )
            self._requeue(lane, item)
        except Transient as exc:
            item.failures += 1
            if item.failures >= self.max_attempts:
                log.error("giving up after %d attempts: %s", item.failures, exc)
                self._finish(lane, item, error=exc)
            else:
                delay = min(self.max_backoff, self.base_backoff * 2 ** (item.failures - 1))
                log.warning("send failed (%s): retry %d in %.1f s", exc, item.failures, delay)
                lane.ready_at = max(lane.ready_at, self._clock() + delay)
                self._requeue(lane, item)
        except asyncio.CancelledError:
            lane.busy = False
            raise
        except Exception as exc:
            # Permanent (bad request, blocked by the user...): retrying would not help.
            self._finish(lane, item, error=exc)
            if item.budget:  # a chat's spacing; budget-free items are not chat messages
                lane.ready_at = max(lane.ready_at, started + self.limits.per_chat_interval)
        else:
            self._finish(lane, item, result=result)
            if item.budget:  # a chat's spacing; budget-free items are not chat messages
                lane.ready_at = max(lane.ready_at, started + self.limits.per_chat_interval)
        finally:
            if flying and hold is not None:
                hold.flying -= 1
            lane.busy = False
            if not item.budget and not lane.queue and self._lanes.get(item.chat_id) is lane:
                # Not a message to a chat (a toast has a lane of its own): no spacing to
                # remember, and a burst of them must not make every scheduling pass long.
                del self._lanes[item.chat_id]
            self._update_idle()
            self._wakeup.set()

    def _requeue(self, lane: _Lane, item: _Item) -> None:
        """The item stays first in its lane; a newer state queued meanwhile is merged in."""
        if item.coalesce_key is None:
            return
        key = (item.chat_id, item.coalesce_key)
        newer = self._coalescing.get(key)
        if newer is not None and newer is not item:
            lane.queue.remove(newer)
            item.payload = newer.payload
            item.futures.extend(newer.futures)
            item.changed_at = newer.changed_at
        self._coalescing[key] = item

    def _finish(
        self, lane: _Lane, item: _Item, *, result: Any = None, error: BaseException | None = None
    ) -> None:
        if lane.queue and lane.queue[0] is item:
            lane.queue.popleft()
        settle(item.futures, result=result, error=error)

    def _fail_all(self, error: BotError) -> None:
        for lane in self._lanes.values():
            while lane.queue:
                item = lane.queue.popleft()
                for future in item.futures:
                    if not future.done():
                        future.set_exception(error)
        self._lanes.clear()
        self._coalescing.clear()
        self._idle.set()


def settle(
    futures: list[asyncio.Future[Any]], *, result: Any = None, error: BaseException | None = None
) -> None:
    """Give every waiter that is still waiting the result, or the error."""
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
