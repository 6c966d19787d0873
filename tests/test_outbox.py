"""The outgoing queue on virtual time: limits, retry-after, retries, coalescing, shutdown."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.outbox import Gate, Limits, Outbox, OutboxClosed, RetryAfter, Transient, held

EPS = 1e-9


class VirtualTime:
    """A clock that only moves when the outbox sleeps: tests never wait for real.

    A sleep first lets every other ready task run; if one of them wakes the outbox
    (the sleep is cancelled), no time passes, as with a real clock. Against a real
    server, where replies take real time, :meth:`hold` keeps the clock below a
    moment while a test checks what happens before it.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self._limit: float | None = None
        self._released = asyncio.Event()

    def clock(self) -> float:
        return self.now

    def hold(self, at: float) -> None:
        """Sleeps that would reach ``at`` wait (for real) until :meth:`release`."""
        self._limit = at
        self._released.clear()

    def release(self) -> None:
        self._limit = None
        self._released.set()

    async def sleep(self, seconds: float) -> None:
        target = self.now + max(0.0, seconds)
        for _ in range(10):
            await asyncio.sleep(0)
        if self._limit is not None and target >= self._limit:
            await self._released.wait()
        self.now = max(self.now, target)
        await asyncio.sleep(0)


class Recorder:
    """A platform send function that records (time, chat, payload) and can be told to fail."""

    def __init__(self, vt: VirtualTime) -> None:
        self.vt = vt
        self.sent: list[tuple[float, str, Any]] = []
        self.attempts: list[tuple[float, str, Any]] = []
        self.failures: dict[Any, list[BaseException]] = {}
        self.gate: asyncio.Event | None = None

    def fail(self, payload: Any, *errors: BaseException) -> None:
        self.failures.setdefault(payload, []).extend(errors)

    async def __call__(self, chat_id: str, payload: Any) -> Any:
        self.attempts.append((self.vt.now, chat_id, payload))
        if self.gate is not None:
            await self.gate.wait()
        pending = self.failures.get(payload)
        if pending:
            raise pending.pop(0)
        self.sent.append((self.vt.now, chat_id, payload))
        return f"ok:{payload}"

    def times(self, chat_id: str) -> list[float]:
        return [t for t, c, _ in self.sent if c == chat_id]

    def payloads(self, chat_id: str) -> list[Any]:
        return [p for _, c, p in self.sent if c == chat_id]


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def rec(vt: VirtualTime) -> Recorder:
    return Recorder(vt)


OutboxFactory = Callable[..., Outbox]


@pytest.fixture
async def make_outbox(vt: VirtualTime, rec: Recorder) -> AsyncIterator[OutboxFactory]:
    made: list[Outbox] = []

    def make(limits: Limits | None = None, **kw: Any) -> Outbox:
        box = Outbox(rec, limits or Limits(), clock=vt.clock, sleep=vt.sleep, **kw)
        made.append(box)
        return box

    yield make
    for box in made:
        await box.stop(drain_seconds=1)


async def settle(*futures: asyncio.Future[Any]) -> list[Any]:
    """Wait (with a generous real-time safety net) for futures; exceptions are returned."""
    return list(await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 10))


async def test_per_chat_spacing_and_chats_do_not_wait_for_each_other(
    make_outbox: OutboxFactory, rec: Recorder
) -> None:
    box = make_outbox()
    await box.start()
    futures = [box.submit(chat, f"{chat}{i}") for i in range(3) for chat in ("A", "B")]
    results = await settle(*futures)
    assert results == [f"ok:{c}{i}" for i in range(3) for c in ("A", "B")]
    for chat in ("A", "B"):
        assert rec.payloads(chat) == [f"{chat}0", f"{chat}1", f"{chat}2"]  # order kept
        times = rec.times(chat)
        assert all(b - a >= 1.0 - EPS for a, b in itertools.pairwise(times))
    # B's first message went out right after A's, not a second later.
    assert rec.times("B")[0] < 1.0


async def test_global_rate(make_outbox: OutboxFactory, rec: Recorder) -> None:
    box = make_outbox(Limits(global_per_second=30, per_chat_interval=1.0, group_per_minute=None))
    await box.start()
    await settle(*(box.submit(f"chat{i}", i) for i in range(90)))
    times = sorted(t for t, _, _ in rec.sent)
    assert len(times) == 90
    # No second-long window holds more than 30 sends.
    assert all(times[i + 30] - times[i] >= 1.0 - EPS for i in range(len(times) - 30))
    assert [p for _, _, p in rec.sent] == list(range(90))  # oldest first across chats


async def test_group_per_minute(make_outbox: OutboxFactory, rec: Recorder) -> None:
    box = make_outbox()
    await box.start()
    await settle(*(box.submit("-100", i, group=True) for i in range(25)))
    times = rec.times("-100")
    assert len(times) == 25
    assert all(times[i + 20] - times[i] >= 60.0 - EPS for i in range(5))
    assert times[19] < 60.0  # the first twenty did not wait for the window


async def test_retry_after_pauses_only_that_chat(make_outbox: OutboxFactory, rec: Recorder) -> None:
    rec.fail("A1", RetryAfter(30))
    box = make_outbox()
    await box.start()
    a1 = box.submit("A", "A1")
    a2 = box.submit("A", "A2")
    others = [box.submit("B", f"B{i}") for i in range(3)]
    assert await settle(a1, a2, *others) == ["ok:A1", "ok:A2", "ok:B0", "ok:B1", "ok:B2"]
    assert all(t < 30 for t in rec.times("B"))  # B was not held up by A's penalty
    a_times = rec.times("A")
    assert a_times[0] >= 30 - EPS  # A waited the time asked...
    assert rec.payloads("A") == ["A1", "A2"]  # ...sent each message once, in order
    assert [p for _, c, p in rec.attempts if c == "A"] == ["A1", "A1", "A2"]


async def test_whole_bot_retry_after_pauses_everyone(
    make_outbox: OutboxFactory, rec: Recorder
) -> None:
    rec.fail("A1", RetryAfter(10, whole_bot=True))
    box = make_outbox()
    await box.start()
    a1 = box.submit("A", "A1")
    await asyncio.sleep(0)
    b1 = box.submit("B", "B1")
    await settle(a1, b1)
    assert rec.times("B")[0] >= 10 - EPS
    assert rec.times("A")[0] >= 10 - EPS


async def test_transient_failures_are_retried_with_backoff(
    make_outbox: OutboxFactory, rec: Recorder
) -> None:
    rec.fail("A1", Transient("502"), Transient("timeout"))
    box = make_outbox()
    await box.start()
    a1, a2 = box.submit("A", "A1"), box.submit("A", "A2")
    assert await settle(a1, a2) == ["ok:A1", "ok:A2"]
    tries = [t for t, c, p in rec.attempts if p == "A1"]
    assert len(tries) == 3
    assert tries[1] - tries[0] >= 1.0 - EPS and tries[2] - tries[1] >= 2.0 - EPS
    assert rec.payloads("A") == ["A1", "A2"]  # A2 never overtook the retried A1


async def test_gives_up_after_max_attempts_and_moves_on(
    make_outbox: OutboxFactory, rec: Recorder
) -> None:
    rec.fail("A1", *(Transient("503") for _ in range(10)))
    box = make_outbox(max_attempts=3)
    await box.start()
    a1, a2 = box.submit("A", "A1"), box.submit("A", "A2")
    r1, r2 = await settle(a1, a2)
    assert isinstance(r1, Transient)
    assert r2 == "ok:A2"
    assert len([1 for _, _, p in rec.attempts if p == "A1"]) == 3


async def test_permanent_error_fails_that_item_only(
    make_outbox: OutboxFactory, rec: Recorder
) -> None:
    rec.fail("A1", ValueError("bad request"))
    box = make_outbox()
    await box.start()
    r1, r2 = await settle(box.submit("A", "A1"), box.submit("A", "A2"))
    assert isinstance(r1, ValueError) and r2 == "ok:A2"
    assert len(rec.attempts) == 2  # not retried


async def test_coalescing_keeps_only_the_last_state(
    make_outbox: OutboxFactory, rec: Recorder
) -> None:
    box = make_outbox()
    await box.start()
    rec.gate = asyncio.Event()
    first = box.submit("-5", "tally 0", group=True, coalesce_key="poll-1")
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # "tally 0" is now in flight
    later = [
        box.submit("-5", f"tally {i}", group=True, coalesce_key="poll-1") for i in range(1, 2000)
    ]
    other = box.submit("-5", "a message", group=True)
    assert box.queued("-5") == ["tally 0", "tally 1999", "a message"]
    rec.gate.set()
    results = await settle(first, *later, other)
    assert results[0] == "ok:tally 0"
    assert set(results[1:-1]) == {"ok:tally 1999"}  # every waiter sees the final state
    assert rec.payloads("-5") == ["tally 0", "tally 1999", "a message"]


async def test_coalesced_item_waiting_on_retry_after_takes_the_newest_state(
    make_outbox: OutboxFactory, rec: Recorder
) -> None:
    rec.fail("tally 1", RetryAfter(5))
    box = make_outbox()
    await box.start()
    rec.gate = asyncio.Event()
    first = box.submit("-5", "tally 1", coalesce_key="k")
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # in flight, about to be told to wait
    second = box.submit("-5", "tally 2", coalesce_key="k")
    rec.gate.set()
    assert await settle(first, second) == ["ok:tally 2", "ok:tally 2"]
    assert rec.payloads("-5") == ["tally 2"]


async def test_stop_drains_the_queue(make_outbox: OutboxFactory, rec: Recorder) -> None:
    box = make_outbox()
    await box.start()
    futures = [box.submit("A", i) for i in range(5)]
    await box.stop()
    assert [f.result() for f in futures] == [f"ok:{i}" for i in range(5)]
    late = box.submit("A", "late")
    with pytest.raises(OutboxClosed):
        await late


async def test_stop_is_bounded(make_outbox: OutboxFactory, rec: Recorder) -> None:
    box = make_outbox()
    await box.start()
    rec.gate = asyncio.Event()  # the platform never answers
    stuck = box.submit("A", "stuck")
    queued = box.submit("A", "queued")
    await box.stop(drain_seconds=0.05)
    for future in (stuck, queued):
        with pytest.raises(OutboxClosed):
            await future


async def test_toasts_skip_the_global_budget_and_go_first(
    make_outbox: OutboxFactory, rec: Recorder
) -> None:
    box = make_outbox(Limits(global_per_second=1, per_chat_interval=1.0, group_per_minute=None))
    await box.start()
    messages = [box.submit(f"chat{i}", f"m{i}") for i in range(5)]
    toast = box.submit("callback:1", "toast", priority=True, budget=False)
    await settle(toast, *messages)
    sent = {p: t for t, _, p in rec.sent}
    assert sent["toast"] < 1.0  # not after the four messages still waiting for the budget
    assert sorted(sent[f"m{i}"] for i in range(5)) == [sent[f"m{i}"] for i in range(5)]
    assert sent["m4"] >= 4.0 - EPS  # the messages kept their 1 a second


async def test_a_priority_edit_goes_before_older_messages(
    make_outbox: OutboxFactory, rec: Recorder
) -> None:
    box = make_outbox(Limits(global_per_second=1, per_chat_interval=1.0, group_per_minute=None))
    await box.start()
    messages = [box.submit(f"chat{i}", f"m{i}") for i in range(5)]
    queued_in_group = box.submit("group", "notice")
    edit = box.submit("group", "tally", priority=True)
    await settle(edit, queued_in_group, *messages)
    order = [p for _, _, p in rec.sent]
    assert order.index("tally") <= 1 and order.index("tally") < order.index("notice")


async def test_at_most_max_in_flight_sends_await_the_platform(
    make_outbox: OutboxFactory, rec: Recorder
) -> None:
    box = make_outbox(Limits(global_per_second=0, per_chat_interval=0.0), max_in_flight=2)
    await box.start()
    rec.gate = asyncio.Event()
    futures = [box.submit(f"callback:{i}", i, budget=False) for i in range(6)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert len(rec.attempts) == 2  # the rest wait for a free slot, not for the platform
    rec.gate.set()
    assert await settle(*futures) == [f"ok:{i}" for i in range(6)]


async def test_budget_free_items_keep_no_chat_spacing(
    make_outbox: OutboxFactory, rec: Recorder
) -> None:
    box = make_outbox(Limits(global_per_second=30, per_chat_interval=1.0, group_per_minute=None))
    await box.start()
    await settle(*(box.submit("callback:0", i, budget=False) for i in range(5)))
    assert max(rec.times("callback:0")) < 1.0  # five answers in one lane, no 1 s spacing


async def test_toasts_in_flight_leave_the_tally_edit_a_slot(vt: VirtualTime) -> None:
    # Toasts are budget-free and counted apart: a burst of answers to button presses,
    # all waiting for the platform, must not hold back the poll's tally edit.
    toasts_answered = asyncio.Event()
    sent: list[str] = []

    async def send(chat_id: str, payload: Any) -> str:
        if chat_id.startswith("callback:"):
            await toasts_answered.wait()
        sent.append(payload)
        return f"ok:{payload}"

    box = Outbox(send, Limits(), clock=vt.clock, sleep=vt.sleep, max_in_flight=2)
    await box.start()
    try:
        toasts = [
            box.submit(f"callback:{i}", f"t{i}", priority=True, budget=False) for i in range(6)
        ]
        edit = box.submit("-100", "tally", group=True, coalesce_key="poll-1", priority=True)
        assert await asyncio.wait_for(edit, 10) == "ok:tally"
        assert sent == ["tally"]  # while every toast slot still waits for the platform
        toasts_answered.set()
        assert await settle(*toasts) == [f"ok:t{i}" for i in range(6)]
    finally:
        toasts_answered.set()
        await box.stop(drain_seconds=1)


class Timeline:
    """Virtual time where sleepers wake in the order of their moments: a test can
    submit on a schedule of its own while the outbox waits for its slots."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), woken))
        await woken

    async def run_until(self, done: Callable[[], bool], until: float) -> None:
        while not done() and self.now < until:
            for _ in range(20):  # everything that can run at this moment runs
                await asyncio.sleep(0)
            while self._sleepers and self._sleepers[0][2].done():  # cancelled sleeps
                heapq.heappop(self._sleepers)
            if done() or not self._sleepers:
                break
            at, _, woken = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            woken.set_result(None)


async def test_a_live_tally_keeps_a_group_slot_for_its_final_state() -> None:
    # 100 s of votes, a new tally every 0.1 s: the group's 20 a minute must hold,
    # the tally must keep moving meanwhile, and the final count must not wait for
    # the minute to end (it waited 20 s when the first states took every slot).
    tl = Timeline()
    sent: list[tuple[float, Any]] = []

    async def send(chat_id: str, payload: Any) -> Any:
        sent.append((tl.now, payload))
        return payload

    box = Outbox(send, Limits(), clock=tl.clock, sleep=tl.sleep)
    await box.start()

    async def votes() -> float:
        for i in range(1000):
            box.submit("-100", i, group=True, coalesce_key="poll-1", priority=True)
            if i < 999:
                await tl.sleep(0.1)
        return tl.now

    voting = asyncio.ensure_future(votes())
    try:
        await tl.run_until(lambda: bool(sent) and sent[-1][1] == 999, until=300)
        last_vote = voting.result()
        times = [t for t, _ in sent]
        assert sent[-1][1] == 999
        assert sent[-1][0] - last_vote <= 1.0 + EPS  # the final state, within a second
        assert all(b - a >= 1.0 - EPS for a, b in itertools.pairwise(times))  # per chat
        assert all(sum(1 for u in times if t <= u < t + 60.0) <= 20 for t in times)
        assert max(b - a for a, b in itertools.pairwise(times)) <= 4.0 + EPS  # kept moving
    finally:
        voting.cancel()
        await box.stop(drain_seconds=1)


async def test_budget_free_items_can_be_held_to_fewer_in_flight(vt: VirtualTime) -> None:
    # While an adapter takes a burst in, its toasts fill the time left: one at a time
    # here, then all at once when the limit is lifted.
    answered = asyncio.Event()
    waiting: list[str] = []

    async def send(chat_id: str, payload: Any) -> str:
        waiting.append(payload)
        await answered.wait()
        return payload

    box = Outbox(send, Limits(), clock=vt.clock, sleep=vt.sleep, max_in_flight=16)
    await box.start()
    try:
        box.limit_budget_free(1)
        toasts = [
            box.submit(f"callback:{i}", f"t{i}", priority=True, budget=False) for i in range(6)
        ]
        edit = box.submit("-100", "tally", group=True, coalesce_key="poll-1", priority=True)
        for _ in range(20):
            await asyncio.sleep(0)
        assert sorted(waiting) == ["t0", "tally"]  # one toast; the edit is not held back
        vt.now = 4.0
        box.limit_budget_free(1, at_most_for=5.0)  # wakes the outbox
        for _ in range(20):
            await asyncio.sleep(0)
        assert sorted(waiting) == ["t0", "tally"]
        late = box.submit("callback:9", "t9", priority=True, budget=False)
        vt.now = 5.0  # t1..t5 have waited 5 s: no longer held; t9 only 1 s
        box.limit_budget_free(1, at_most_for=5.0)
        for _ in range(20):
            await asyncio.sleep(0)
        assert sorted(waiting) == sorted([f"t{i}" for i in range(6)] + ["tally"])
        toasts.append(late)
        box.limit_budget_free(None)
        for _ in range(20):
            await asyncio.sleep(0)
        assert sorted(waiting) == sorted([f"t{i}" for i in range(6)] + ["t9", "tally"])
        answered.set()
        assert await settle(*toasts, edit) == [f"t{i}" for i in range(6)] + ["t9", "tally"]
    finally:
        answered.set()
        await box.stop(drain_seconds=1)


async def test_stored_deliveries_send_one_at_a_time_and_one_told_to_wait_holds_none_up(
    make_outbox: OutboxFactory, rec: Recorder, vt: VirtualTime
) -> None:
    """Each delivery's message goes once the one before it is recorded (a kill -9 leaves
    one message in doubt, not all those sent since the last record); a delivery whose
    chat was told to retry in 30 s lets the others go meanwhile."""
    box = make_outbox(Limits(global_per_second=0, per_chat_interval=0, group_per_minute=None))
    await box.start()
    gate = Gate()
    recorded: dict[str, float] = {}
    rec.fail("a", RetryAfter(30))

    async def delivery(chat: str) -> None:
        with held(gate):
            await box.deliver(chat, chat)
            await vt.sleep(0.5)  # its record, in the database
            recorded[chat] = vt.now

    await settle(*(asyncio.ensure_future(delivery(c)) for c in "abcd"))
    sent = {payload: t for t, _, payload in rec.sent}
    assert sent["a"] >= 30 and max(sent[c] for c in "bcd") < 30
    order = sorted("abcd", key=lambda c: sent[c])
    for earlier, later in itertools.pairwise(order):
        assert sent[later] >= recorded[earlier]  # never two in doubt at once
    untracked = box.submit("e", "e")  # not a stored delivery's: never waits for the gate
    assert await settle(untracked) == ["ok:e"]
