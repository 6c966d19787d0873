"""Reminders and announcements with several replicas on one database: a replica that
dies while sending loses its claim when the lease runs out, and another sends the row;
a live one renews its claims and keeps them. On SQLite (two processes on one file) and
on PostgreSQL alike."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot import owed, relay, reminders
from bot.knowledge import KnowledgeBase
from bot.messages import Chat, Incoming, Person, Reply
from bot.outbox import Limits, Outbox
from bot.storage import SqliteStorage, Storage
from bot.storage.base import CLAIM_LEASE
from bot.storage.handoff import NOTE
from bot.storage.postgres import PostgresStorage
from tests.consult_helpers import Clock, make_core
from tests.pg_server import throwaway_schema
from tests.test_broadcast import NOW, announce, chats, subscribe_many


@pytest.fixture(params=["sqlite", "postgres"])
async def replicas(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two storages on one database, as two replicas have."""
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            path = tmp_path / "bot.sqlite3"
            one: Storage = SqliteStorage(path)
            two: Storage = SqliteStorage(path)
        else:
            url = await stack.enter_async_context(throwaway_schema())
            one, two = PostgresStorage(url), PostgresStorage(url)
        await stack.enter_async_context(one)
        await stack.enter_async_context(two)
        yield one, two


async def test_a_dead_replicas_claim_is_sent_by_another_once_its_lease_ran_out(
    replicas: tuple[Storage, Storage], tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    one, two = replicas
    await subscribe_many(one, 5)
    job_id = await announce(one)
    clock = Clock(NOW)
    dying, living = make_core(tmp_path, min_kb, one, clock), make_core(tmp_path, min_kb, two, clock)
    received: Counter[str] = Counter()
    stuck = asyncio.Event()

    async def hangs(replies: list[Reply]) -> None:
        stuck.set()
        await asyncio.Event().wait()  # the machine went away mid-send

    async def sends(replies: list[Reply]) -> None:
        received.update(chats(replies))

    dying.core.register_sender("test", hangs)
    living.core.register_sender("test", sends)
    gone = asyncio.create_task(reminders.tick(dying.core))
    await stuck.wait()
    gone.cancel()  # nothing of it runs again: no renewals, no answer from the platform
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await two.delivery_states(job_id) == {"claimed": 1, "pending": 4}

    report = await reminders.tick(living.core)
    assert report.sent == 4  # the claimed row is not touched while its lease holds
    clock.advance(seconds=CLAIM_LEASE.total_seconds() - 1)
    assert await reminders.heartbeat(living.core) == 0
    clock.advance(seconds=1)  # the lease ran out: well within a minute of the death
    assert await reminders.heartbeat(living.core) == 1
    assert (await reminders.tick(living.core)).sent == 1
    assert await one.delivery_states(job_id) == {"sent": 5}
    assert sorted(received) == [f"c{i}" for i in range(5)] and set(received.values()) == {1}


async def test_a_live_replica_renews_its_claims_and_keeps_them(
    replicas: tuple[Storage, Storage], tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    one, two = replicas
    await subscribe_many(one, 1)
    job_id = await announce(one)
    clock = Clock(NOW)
    slow, other = make_core(tmp_path, min_kb, one, clock), make_core(tmp_path, min_kb, two, clock)
    received: list[str] = []
    sending, finish = asyncio.Event(), asyncio.Event()

    async def slow_platform(replies: list[Reply]) -> None:
        sending.set()
        await finish.wait()  # a rate-limited send that takes longer than a lease
        received.extend(chats(replies))

    async def fast(replies: list[Reply]) -> None:
        received.extend(chats(replies))

    slow.core.register_sender("test", slow_platform)
    other.core.register_sender("test", fast)
    running = asyncio.create_task(reminders.tick(slow.core))
    await sending.wait()
    for _ in range(5):  # two and a half leases, renewed every third of one
        clock.advance(seconds=CLAIM_LEASE.total_seconds() / 3)
        assert await reminders.heartbeat(slow.core) == 0
        assert await reminders.heartbeat(other.core) == 0  # never taken from a live replica
    finish.set()
    assert (await running).sent == 1
    assert received == ["c0"] and await two.delivery_states(job_id) == {"sent": 1}


async def test_the_heartbeat_runs_beside_the_ticks(tmp_path: Path, min_kb: KnowledgeBase) -> None:
    """run_forever renews this process's claims on its own, every HEARTBEAT_SECONDS."""
    async with SqliteStorage(tmp_path / "bot.sqlite3") as storage:
        setup = make_core(tmp_path, min_kb, storage, Clock(NOW))
        renewed = asyncio.Event()
        real = storage.renew_claims

        async def spy(owner: str, *args: object, **kwargs: object) -> int:
            renewed.set()
            assert owner == reminders.owner(setup.core)
            return await real(owner, *args, **kwargs)  # type: ignore[arg-type]

        storage.renew_claims = spy  # type: ignore[method-assign]
        beat = asyncio.create_task(reminders.keep_claims(setup.core, interval=0.01))
        try:
            await asyncio.wait_for(renewed.wait(), 5)
        finally:
            beat.cancel()
        assert reminders.owner(setup.core) != reminders.owner(
            make_core(tmp_path, min_kb, storage).core
        )


# --------------------------------------------------------------------------- owed replies


def _question(event_id: str = "ev-1") -> Incoming:
    return Incoming(Person("test", "u1"), Chat("u1"), text="/topics", event_id=event_id)


async def test_a_dead_replicas_owed_reply_is_sent_once_by_another_once_its_lease_ran_out(
    replicas: tuple[Storage, Storage], tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    """The answer a replica stored with its event but never sent (it was killed) is
    taken over by one live replica within the lease, not only at the dead one's
    restart; a re-delivery of the event to another replica does not cancel it."""
    one, two = replicas
    clock = Clock(NOW)
    dying = make_core(tmp_path, min_kb, one, clock).core
    living = make_core(tmp_path, min_kb, two, clock).core
    other = make_core(tmp_path, min_kb, two, clock).core
    replies = await dying.handle(_question(), route="the route")
    assert replies  # committed with the event's claim; then kill -9, nothing sent
    # The platform did not get its answer in time: it re-delivers to another replica,
    # which ignores the repeat and, having sent nothing, reports nothing owed for it.
    assert await living.handle(_question(), route="the route") == []
    living.paid("test", "ev-1")
    await living.flush()
    assert await living.owed("test", mine=False) == []  # the dying one's lease holds
    clock.advance(seconds=CLAIM_LEASE.total_seconds())  # its lease ran out
    taken = await asyncio.gather(living.owed("test", mine=False), other.owed("test", mine=False))
    assert sorted(len(t) for t in taken) == [0, 1]  # one replica takes it, exactly once
    [(event_id, route, again)] = taken[0] or taken[1]
    assert (event_id, route, again) == ("ev-1", "the route", replies)
    taker = living if taken[0] else other
    clock.advance(seconds=CLAIM_LEASE.total_seconds() / 2)
    assert await owed.renew(taker, "test") == 1  # the taker keeps it while it sends
    clock.advance(seconds=CLAIM_LEASE.total_seconds() / 2)
    assert await dying.owed("test") == []  # not even the dead one's restart sends it again
    taker.paid("test", "ev-1")
    await taker.flush()
    assert await one.owed_replies("test", NOW) == []


async def test_a_live_replica_keeps_its_owed_replies_and_gives_them_up_when_it_stops(
    replicas: tuple[Storage, Storage], tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    one, two = replicas
    clock = Clock(NOW)
    slow = make_core(tmp_path, min_kb, one, clock).core
    other = make_core(tmp_path, min_kb, two, clock).core
    await slow.handle(_question(), route="r")  # its answer waits behind a rate limit
    for _ in range(5):  # two and a half leases, renewed every third of one
        clock.advance(seconds=CLAIM_LEASE.total_seconds() / 3)
        await owed.renew(slow, "test")
        assert await other.owed("test", mine=False) == []  # never taken from a live replica
    # A stop before it went out (SIGTERM in a rolling deploy): another sends it at once.
    assert await owed.give_up(slow, "test") == 1
    [(event_id, *_)] = await other.owed("test", mine=False)
    assert event_id == "ev-1"


# --------------------------------------------------------------------------- relays


async def _queue_note(store: Storage, key: str) -> None:
    await store.queue_relay(
        handoff_id=None, kind=NOTE, platform="test", chat="desk", key=key, text=key, now=NOW
    )


async def test_a_dead_replicas_relay_is_sent_once_by_another_once_its_lease_ran_out(
    replicas: tuple[Storage, Storage], tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    one, two = replicas
    await _queue_note(one, "n1")
    clock = Clock(NOW)
    dying = make_core(tmp_path, min_kb, one, clock).core
    living = make_core(tmp_path, min_kb, two, clock).core
    received: list[str] = []
    stuck = asyncio.Event()

    async def hangs(replies: list[Reply]) -> None:
        stuck.set()
        await asyncio.Event().wait()  # the machine went away mid-send

    async def sends(replies: list[Reply]) -> None:
        received.extend(r.text for r in replies)

    dying.register_sender("test", hangs)
    living.register_sender("test", sends)
    gone = asyncio.create_task(relay.tick(dying))
    await stuck.wait()
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    # Another replica starting up must not take the row while the lease holds.
    assert await relay.recover(living) == 0
    assert await relay.tick(living) == 0 and received == []
    clock.advance(seconds=CLAIM_LEASE.total_seconds())
    assert await relay.heartbeat(living) == 1  # taken back within a minute of the death
    assert await relay.tick(living) == 1
    assert received == ["n1"]
    assert await relay.tick(living) == 0 and received == ["n1"]  # sent once


async def test_a_live_replica_renews_its_relay_claim_and_keeps_it(
    replicas: tuple[Storage, Storage], tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    one, two = replicas
    await _queue_note(one, "n1")
    clock = Clock(NOW)
    slow = make_core(tmp_path, min_kb, one, clock).core
    other = make_core(tmp_path, min_kb, two, clock).core
    received: list[str] = []
    sending, finish = asyncio.Event(), asyncio.Event()

    async def slow_platform(replies: list[Reply]) -> None:
        sending.set()
        await finish.wait()  # a send told to retry after a minute
        received.extend(r.text for r in replies)

    async def fast(replies: list[Reply]) -> None:
        received.extend(r.text for r in replies)

    slow.register_sender("test", slow_platform)
    other.register_sender("test", fast)
    running = asyncio.create_task(relay.tick(slow))
    await sending.wait()
    for _ in range(5):  # two and a half leases, renewed every third of one
        clock.advance(seconds=CLAIM_LEASE.total_seconds() / 3)
        assert await relay.heartbeat(slow) == 0
        assert await relay.heartbeat(other) == 0  # never taken from a live replica
        assert await relay.tick(other) == 0
    finish.set()
    assert await running == 1
    assert received == ["n1"]


async def test_a_running_adapter_renews_its_owed_replies_and_looks_for_others(
    tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    """owed.keep, which each adapter runs: renewals of this process's owed replies,
    and beside them the adapter's takeover of a dead replica's, every few seconds."""
    async with SqliteStorage(tmp_path / "bot.sqlite3") as storage:
        core = make_core(tmp_path, min_kb, storage, Clock(NOW)).core
        await core.handle(_question(), route="r")
        renewed, looked = asyncio.Event(), asyncio.Event()
        real = storage.renew_owed

        async def spy(platform: str, owner: str, *args: object, **kwargs: object) -> int:
            assert (platform, owner) == ("test", reminders.owner(core))
            count = await real(platform, owner, *args, **kwargs)  # type: ignore[arg-type]
            assert count == 1
            renewed.set()
            return count

        async def take_over() -> int:
            looked.set()
            return 0

        storage.renew_owed = spy  # type: ignore[method-assign]
        keeping = asyncio.create_task(owed.keep(core, "test", take_over, every=0.01))
        try:
            await asyncio.wait_for(asyncio.gather(renewed.wait(), looked.wait()), 5)
        finally:
            keeping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await keeping


async def test_a_taken_over_poll_redraw_shows_the_tally_of_now_not_of_the_vote(
    replicas: tuple[Storage, Storage], tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    """A vote's reply redraws the poll with the tally of its moment. Sent late by
    another replica, after more votes, it would show an older count (58 against 60
    stored) until the next vote: it is drawn again from the tally when taken over."""
    one, two = replicas
    clock = Clock(NOW)
    dying = make_core(tmp_path, min_kb, one, clock).core
    living = make_core(tmp_path, min_kb, two, clock).core
    group = Chat("g", private=False)
    coordinator = Person("test", "coord", "Cora Ordinator")
    poll = "/poll Which topic first? | Access | Climate"
    await living.handle(Incoming(coordinator, group, text=poll, event_id="post"))

    def vote(user: str, option: int) -> Incoming:
        return Incoming(Person("test", user), group, action=f"pv:1:{option}", event_id=user)

    drawn = await dying.handle(vote("v1", 0), route="the route")  # then kill -9
    assert any(r.key == "poll-1" and "1 voter" in r.text for r in drawn)
    for user in ("v2", "v3"):  # the others go on voting on the live replica
        await living.handle(vote(user, 1))
    clock.advance(seconds=CLAIM_LEASE.total_seconds())  # the dead one's lease ran out
    [(_, _, replies)] = await living.owed("test", mine=False)
    [tally] = [r for r in replies if r.key == "poll-1"]
    assert "3 voters" in tally.text, tally.text
    assert [c.action for c in tally.choices] == ["pv:1:0", "pv:1:1"]
    assert any(r.notice for r in replies)  # the vote's own toast is kept as it was


async def test_the_lease_setting_decides_when_a_dead_replicas_reply_is_taken_over(
    replicas: tuple[Storage, Storage], tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    """NSBOT_LEASE_SECONDS=10: taken over after 10 s, not the default 30."""
    one, two = replicas
    clock = Clock(NOW)
    dying = make_core(tmp_path, min_kb, one, clock, lease_seconds=10.0).core
    living = make_core(tmp_path, min_kb, two, clock, lease_seconds=10.0).core
    assert await dying.handle(_question(), route="the route")
    clock.advance(seconds=9)
    assert await living.owed("test", mine=False) == []
    clock.advance(seconds=1)
    assert [e for e, _, _ in await living.owed("test", mine=False)] == ["ev-1"]


# --------------------------------------------------------------------------- kill -9 mid-send


class Killed(Exception):
    """The process is gone: nothing it does from now on reaches the database."""


class Dies:
    """A replica's storage until its process is killed: from then on every call fails
    and a unit of work open at that moment never commits (as when the connection
    drops with the process)."""

    def __init__(self, real: Storage) -> None:
        self.real = real
        self.dead = False

    def _alive(self) -> None:
        if self.dead:
            raise Killed

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.real, name)
        if name in {"unit", "transaction", "savepoint"}:
            return self._wrap_block(value)
        if not inspect.iscoroutinefunction(value):
            return value

        async def call(*args: Any, **kw: Any) -> Any:
            self._alive()
            return await value(*args, **kw)

        return call

    def _wrap_block(self, opener: Any) -> Any:
        @asynccontextmanager
        async def block(*args: Any, **kw: Any) -> AsyncIterator[Any]:
            self._alive()
            async with opener(*args, **kw) as inside:
                yield inside
                self._alive()  # killed inside: undone, never committed

        return block


class Platform:
    """Counts each message the platform took; the request that brings the ``kill_at``-th
    one is the last this process makes: the machine goes away while it is in flight."""

    def __init__(self, kill_at: int, dying: Dies) -> None:
        self.kill_at = kill_at
        self.dying = dying
        self.took: Counter[str] = Counter()
        self.killed = asyncio.Event()

    async def dying_send(self, chat_id: str, what: str) -> bool:
        if self.killed.is_set():
            await asyncio.Event().wait()  # nothing leaves a dead machine
        self.took[what] += 1
        if sum(self.took.values()) >= self.kill_at:
            self.killed.set()
            self.dying.dead = True
            await asyncio.Event().wait()  # the answer never comes back
        await asyncio.sleep(0.005)  # the platform's round trip
        return True

    async def living_send(self, chat_id: str, what: str) -> bool:
        self.took[what] += 1
        return True


FAST = Limits(global_per_second=1000.0, per_chat_interval=0.0, group_per_minute=None)


async def test_a_replica_killed_mid_sending_leaves_at_most_one_message_to_repeat(
    replicas: tuple[Storage, Storage], tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    """A replica answering questions (the answers owed, stored with their events)
    while it sends an announcement is killed once the platform took its 4th message:
    the replica taking its work over sends each message the platform did not take and
    at most one the platform took. With concurrent sends whose delivery reports went
    with the next batch, every message since the last commit came twice (4 here)."""
    one, two = replicas
    clock = Clock(NOW)
    await subscribe_many(one, 4)
    job_id = await announce(one)
    dying_storage = Dies(one)
    dying = make_core(tmp_path, min_kb, dying_storage, clock).core  # type: ignore[arg-type]
    living = make_core(tmp_path, min_kb, two, clock).core
    events = [f"ev-{i}" for i in range(8)]
    answers = await asyncio.gather(
        *(
            dying.handle(Incoming(Person("test", f"u{i}"), Chat(f"u{i}"), "/topics", event_id=e), e)
            for i, e in enumerate(events)
        )
    )
    assert all(owed.posts(a) for a in answers)
    platform = Platform(kill_at=4, dying=dying_storage)
    box = Outbox(platform.dying_send, FAST)
    await box.start()

    async def pushed(replies: list[Reply]) -> None:
        await asyncio.gather(*(box.deliver(chat, f"to:{chat}") for chat in chats(replies)))

    async def answer(event_id: str) -> bool:
        await box.deliver(event_id, event_id)
        return True

    dying.register_sender("test", pushed)
    # As an adapter sends what it answered: every event at once, through its outbox.
    sending = [
        asyncio.ensure_future(
            owed.deliver(dying, "test", e, functools.partial(answer, e), posting=owed.posts(a))
        )
        for e, a in zip(events, answers, strict=True)
    ]
    sending.append(asyncio.ensure_future(reminders.tick(dying)))
    await asyncio.wait_for(platform.killed.wait(), 10)
    for task in sending:
        task.cancel()
    await asyncio.gather(*sending, return_exceptions=True)
    await box.stop(drain_seconds=0)
    assert sum(platform.took.values()) == 4

    # The live replica takes over once the dead one's leases ran out.
    clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    again = Outbox(platform.living_send, FAST)
    await again.start()

    async def resend(replies: list[Reply]) -> None:
        await asyncio.gather(*(again.deliver(chat, f"to:{chat}") for chat in chats(replies)))

    living.register_sender("test", resend)
    assert await reminders.heartbeat(living) <= 1  # at most the row in flight was claimed
    for event_id, _, _ in await living.owed("test", mine=False):
        sent = functools.partial(again.deliver, event_id, event_id)
        await owed.deliver(living, "test", event_id, sent, posting=True)
    await reminders.tick(living)
    await living.flush()
    await again.stop()

    wanted = [*events, *(f"to:c{i}" for i in range(4))]
    assert sorted(platform.took) == sorted(wanted)  # nobody missed
    repeated = {what: n for what, n in platform.took.items() if n > 1}
    assert sum(n - 1 for n in repeated.values()) <= 1, repeated
    assert await two.owed_replies("test", NOW) == []
    assert await two.delivery_states(job_id) == {"sent": 4}
