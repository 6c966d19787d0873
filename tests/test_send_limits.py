"""Send limits shared by replicas: the algorithm on virtual time, the outbox waiting for
its shared slot, and two replicas' outboxes on one real PostgreSQL never exceeding a
chat's limit together."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from bot.outbox import Limits, Outbox, RetryAfter
from bot.send_limits import MemoryLimiter, Rate, group_rate, reserve_slot, send_rates
from bot.storage.postgres import PostgresStorage
from tests.pg_server import throwaway_schema
from tests.test_outbox import EPS, Recorder, Timeline, VirtualTime


def test_a_group_never_gets_more_than_its_limit_in_any_minute() -> None:
    """Whatever the pattern of bursts and pauses, 20 a minute in every 60-s window:
    senders arrive at random, and one told "not yet" asks again when told."""
    rng = random.Random(13)
    rate = group_rate("g", 20)
    tats: dict[str, float] = {}
    now, sent = 0.0, []
    for _ in range(400):
        now += rng.choice([0.0, 0.1, 0.5, 2.0, 7.0, 30.0])
        asked = now
        while True:
            slot, moved = reserve_slot(tats, [rate], asked)
            if moved:
                break
            asked = slot
        tats.update(moved)
        sent.append(slot)
    sent.sort()
    most = max(sum(1 for t in sent[i:] if t < start + 60.0) for i, start in enumerate(sent))
    assert most == 20  # the limit is reached (bursts are allowed), never passed
    tats = {}
    at_once = []
    for _ in range(6):
        slot, moved = reserve_slot(tats, [rate], 100.0)
        tats.update(moved)
        at_once.append(slot)
    assert at_once[:5] == [100.0] * 5 and at_once[5] == 100.0 + rate.step  # a burst of five


def test_a_send_waits_for_the_latest_of_its_keys_and_moves_them_all() -> None:
    chat, bot = Rate("t:chat:1", 1.0), Rate("t:bot", 0.1)
    tats = {"t:bot": 5.0, "t:chat:1": 2.0}
    slot, moved = reserve_slot(tats, [chat, bot], now=4.95)
    assert slot == 5.0 and moved == {"t:chat:1": 6.0, "t:bot": 5.1}
    # Seconds away: announced, not taken, so the other chats are not held back meanwhile.
    assert reserve_slot(tats, [chat, bot], now=1.0) == (5.0, {})
    keys = [r.key for r in send_rates("telegram", Limits(), "-100", group=True)]
    assert keys == ["telegram:chat:-100", "telegram:group:-100", "telegram:bot"]


async def test_the_outbox_waits_for_the_slot_another_replica_left_and_coalesces_meanwhile() -> None:
    vt = VirtualTime()
    shared = MemoryLimiter(vt.clock)
    # Another replica has just sent to this chat: its next slot is a second away.
    await shared.reserve(send_rates("t", Limits(), "c", group=False))
    send = Recorder(vt)
    box = Outbox(send, Limits(), clock=vt.clock, sleep=vt.sleep, shared=shared, scope="t")
    await box.start()
    try:
        vt.hold(1.0)
        first = box.submit("c", "tally 1", coalesce_key="poll")
        for _ in range(20):
            await asyncio.sleep(0)  # it is waiting for its slot now
        later = box.submit("c", "tally 2", coalesce_key="poll")
        vt.release()
        assert await first == await later == "ok:tally 2"  # the last state went, once
    finally:
        await box.stop()
    assert send.sent == [(1.0, "c", "tally 2")]


async def test_a_retry_after_holds_the_other_replicas_back_from_that_chat() -> None:
    vt = VirtualTime()
    shared = MemoryLimiter(vt.clock)
    send = Recorder(vt)
    send.fail("hello", RetryAfter(7))
    box = Outbox(send, Limits(), clock=vt.clock, sleep=vt.sleep, shared=shared, scope="t")
    await box.start()
    vt.hold(5.0)  # the retry has not come yet
    try:
        sending = box.submit("c", "hello")
        for _ in range(30):
            await asyncio.sleep(0)
        assert len(send.attempts) == 1  # told to retry after 7 s
        # What another replica is told now: that chat waits out the 7 s, the others not
        # (and asking for that chat does not hold the whole bot back with it).
        told = await shared.reserve(send_rates("t", Limits(), "c", group=False))
        assert not told.taken and told.wait >= 7.0 - 1e-9
        other = await shared.reserve(send_rates("t", Limits(), "other", group=False))
        assert other.taken and other.wait < 0.1  # the bot's spacing only
        vt.release()
        assert await sending == "ok:hello"
    finally:
        vt.release()
        await box.stop()


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
async def two_replicas() -> AsyncIterator[tuple[PostgresStorage, PostgresStorage]]:
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(throwaway_schema())
        one = await stack.enter_async_context(PostgresStorage(url))
        two = await stack.enter_async_context(PostgresStorage(url))
        yield one, two


class RealRecorder:
    """Send times on the real clock, as the platform would see them."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, str]] = []

    async def __call__(self, chat_id: str, payload: object) -> None:
        self.sent.append((time.monotonic(), chat_id))

    def gaps(self, chat_id: str) -> list[float]:
        times = sorted(t for t, c in self.sent if c == chat_id)
        return [b - a for a, b in itertools.pairwise(times)]


async def burst(
    storages: tuple[PostgresStorage, ...], limits: Limits, shared: bool
) -> RealRecorder:
    """Each replica's outbox sends 6 messages to one chat at once; one platform records."""
    platform = RealRecorder()
    boxes = [
        Outbox(platform, limits, shared=s.send_limiter() if shared else None, scope="telegram")
        for s in storages
    ]
    for box in boxes:
        await box.start()
    try:
        await asyncio.gather(
            *(box.deliver("chat", f"{i}:{n}") for i, box in enumerate(boxes) for n in range(6))
        )
    finally:
        for box in boxes:
            await box.stop()
    return platform


async def test_two_replicas_never_exceed_a_chats_limit_together(
    two_replicas: tuple[PostgresStorage, PostgresStorage],
) -> None:
    limits = Limits(global_per_second=50.0, per_chat_interval=0.25, group_per_minute=None)
    alone = await burst(two_replicas, limits, shared=False)
    # Each replica keeps its own spacing, so together they send twice as fast.
    assert min(alone.gaps("chat")) < 0.1
    together = await burst(two_replicas, limits, shared=True)
    assert len(together.sent) == 12
    # A little under the interval at most: the replicas' clocks are one machine's, and
    # only the moment each call went out varies (by the event loop's jitter).
    assert min(together.gaps("chat")) > 0.25 - 0.03


async def test_reservations_from_two_replicas_take_distinct_slots(
    two_replicas: tuple[PostgresStorage, PostgresStorage],
) -> None:
    one, two = (s.send_limiter() for s in two_replicas)
    rate = Rate("telegram:chat:7", 0.5, burst=2)
    asked = (limiter.reserve([rate], horizon=10.0) for limiter in (one, two) * 4)
    got = await asyncio.gather(*asked)
    assert all(slot.taken for slot in got)
    slots = sorted(slot.wait for slot in got)
    # Two at once (the burst), then one every half second, whoever asked.
    assert slots[1] < 0.05
    for earlier, later in itertools.pairwise(slots[1:]):
        assert 0.4 < later - earlier <= 0.5 + 1e-6
    async with two_replicas[0].pool.acquire() as conn:
        rows = await conn.fetchval("SELECT count(*) FROM send_slots")
    assert rows == 1  # one row per key, whatever the number of sends
    far = await one.reserve([rate])  # beyond the horizon: told when, nothing taken
    assert not far.taken and far.wait > 2.5
    assert (await two.reserve([rate], horizon=10.0)).wait - far.wait < 0.05


async def test_forget_deletes_the_persons_private_chat_slot_and_keeps_the_others(
    two_replicas: tuple[PostgresStorage, PostgresStorage],
) -> None:
    """A private chat's key names the person (on Telegram, the account id)."""
    one, _ = two_replicas
    limiter = one.send_limiter()
    for chat in ("7", "8"):
        rates = send_rates("telegram", Limits(), chat, group=False)
        assert (await limiter.reserve(rates)).taken
    async with one.pool.acquire() as conn:
        before = {r[0] for r in await conn.fetch("SELECT key FROM send_slots")}
    assert before == {"telegram:chat:7", "telegram:chat:8", "telegram:bot"}
    deleted = await one.forget_person("telegram:7", (), ["7"])
    assert deleted["send_slots"] == 1
    async with one.pool.acquire() as conn:
        after = {r[0] for r in await conn.fetch("SELECT key FROM send_slots")}
    assert after == {"telegram:chat:8", "telegram:bot"}


async def test_a_live_tally_keeps_the_groups_last_slot_in_the_shared_limiter_too() -> None:
    """With several replicas the group's limit is the shared limiter's: it must keep
    the slot the live states leave for the final one, as the outbox alone does (the
    final count waited up to 3.75 s, the group's spacing, when live states had used
    the shared burst)."""
    tl = Timeline()
    sent: list[tuple[float, Any]] = []

    async def send(chat_id: str, payload: Any) -> Any:
        sent.append((tl.now, payload))
        return payload

    shared = MemoryLimiter(tl.clock)
    box = Outbox(send, Limits(), clock=tl.clock, sleep=tl.sleep, shared=shared, scope="t")
    await box.start()
    last_votes: dict[int, float] = {}  # each burst's last state: when it was submitted

    async def votes() -> None:
        # Bursts of votes (a new tally every 0.1 s for 2 s), each followed by a lull.
        n = 0
        for burst in range(12):
            for _ in range(20):
                box.submit("-100", n, group=True, coalesce_key="poll-1", priority=True)
                n += 1
                await tl.sleep(0.1)
            last_votes[n - 1] = tl.now - 0.1
            await tl.sleep(2 + burst % 5)

    voting = asyncio.ensure_future(votes())
    try:
        await tl.run_until(voting.done, until=600)
        voting.result()
        times = [t for t, _ in sent]
        assert all(sum(1 for u in times if t <= u < t + 60.0) <= 20 for t in times)
        assert all(b - a >= 1.0 - EPS for a, b in itertools.pairwise(times))  # per chat
        # Each burst's final count within a second of its last vote.
        shown = dict((p, t) for t, p in sent)
        late = {n: shown[n] - at for n, at in last_votes.items()}
        assert max(late.values()) <= 1.0 + EPS, late
    finally:
        voting.cancel()
        await box.stop(drain_seconds=1)


async def test_live_states_leave_the_groups_last_slot_for_the_final_one_on_postgresql(
    two_replicas: tuple[PostgresStorage, PostgresStorage],
) -> None:
    one, two = (s.send_limiter() for s in two_replicas)
    limits = Limits(global_per_second=0, per_chat_interval=0, group_per_minute=20)
    live = send_rates("telegram", limits, "-100", group=True, live=True)
    final = send_rates("telegram", limits, "-100", group=True)
    got = [await (one, two)[i % 2].reserve(live) for i in range(5)]
    # Four of the group's burst of five, whichever replica asks; the fifth waits a spacing.
    assert [slot.taken for slot in got] == [True, True, True, True, False]
    assert got[4].wait > 3.0
    settled = await two.reserve(final)
    assert settled.taken and settled.wait < 0.1  # the final state takes the kept slot at once
    assert not (await one.reserve(final)).taken  # and then the group's burst is used up
