"""Timers with several replicas on one database: every replica runs the reminder ticks
and the poll sweep, and each reminder and each poll's final results go out once. A
replica that dies while showing a poll's results loses its lease, and another shows
them. On SQLite (two processes on one file) and on PostgreSQL alike."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import leases, polls, reminders
from bot.knowledge import KnowledgeBase
from bot.messages import Reply
from bot.storage import Storage
from tests.consult_helpers import Clock, Setup, make_core
from tests.test_broadcast import chats
from tests.test_replica_claims import replicas as replicas  # the two-storage fixture

# kb_min's "Council of Delegates 2022" is on 22-23 June 2022.
JUNE_1 = datetime(2022, 6, 1, 12, 0, tzinfo=UTC)
SEVEN_DAYS_BEFORE = datetime(2022, 6, 15, 9, 0, tzinfo=UTC)
ONE_DAY_BEFORE = datetime(2022, 6, 21, 9, 0, tzinfo=UTC)
PEOPLE = 30


def two_cores(
    tmp_path: Path, kb: KnowledgeBase, one: Storage, two: Storage, clock: Clock
) -> tuple[Setup, Setup]:
    return make_core(tmp_path, kb, one, clock), make_core(tmp_path, kb, two, clock)


def four_cores(
    tmp_path: Path, kb: KnowledgeBase, one: Storage, two: Storage, clock: Clock
) -> tuple[Setup, ...]:
    """Four replicas (each its own process, as far as leases go), two per connection."""
    return two_cores(tmp_path, kb, one, two, clock) + two_cores(tmp_path, kb, one, two, clock)


async def test_two_replicas_ticking_together_send_each_reminder_once(
    replicas: tuple[Storage, Storage], tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    one, two = replicas
    for i in range(PEOPLE):
        await one.subscribe(
            f"test:p{i}",
            platform="test",
            chat=f"c{i}",
            days=(7, 1),
            language=None,
            tz_hint=None,
            now=JUNE_1,
        )
    clock = Clock(SEVEN_DAYS_BEFORE)
    received: Counter[str] = Counter()

    async def platform(replies: list[Reply]) -> None:
        await asyncio.sleep(0)  # let the other replica's tick run between sends
        received.update(chats(replies))

    cores = four_cores(tmp_path, min_kb, one, two, clock)
    for setup in cores:
        setup.core.register_sender("test", platform)
    for moment in (SEVEN_DAYS_BEFORE, ONE_DAY_BEFORE):
        clock.now = moment
        reports = await asyncio.gather(*(reminders.tick(s.core) for s in cores))
        assert sum(r.sent for r in reports) == PEOPLE  # shared out, never twice
    assert received == Counter({f"c{i}": 2 for i in range(PEOPLE)})  # 7 and 1 day before


async def new_due_poll(storage: Storage, now: datetime) -> int:
    poll = await storage.create_poll(
        platform="test",
        chat="group",
        question="Which day?",
        options=("Mon", "Tue"),
        multi=False,
        anonymous=False,
        created_by="test:coord",
        closes_at=now - timedelta(minutes=1),
        now=now - timedelta(hours=1),
    )
    return poll.id


async def test_two_replicas_sweeping_together_show_a_closed_poll_once(
    replicas: tuple[Storage, Storage], tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    one, two = replicas
    clock = Clock(JUNE_1)
    poll_ids = [await new_due_poll(one, JUNE_1) for _ in range(3)]
    shown: list[Reply] = []

    async def platform(replies: list[Reply]) -> None:
        await asyncio.sleep(0)
        shown.extend(replies)

    cores = four_cores(tmp_path, min_kb, one, two, clock)
    for setup in cores:
        setup.core.register_sender("test", platform)
    counts = await asyncio.gather(*(polls.close_due_polls(s.core) for s in cores))
    assert sum(counts) == 3 and len(shown) == 3
    assert sorted(r.key or "" for r in shown) == sorted(polls.poll_key(i) for i in poll_ids)
    assert await polls.close_due_polls(cores[0].core) == 0
    for poll_id in poll_ids:
        row = await two.get_poll(poll_id)
        assert row is not None and row.final_shown


async def test_a_dead_replicas_poll_closing_is_done_by_another_after_its_lease(
    replicas: tuple[Storage, Storage], tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    one, two = replicas
    clock = Clock(JUNE_1)
    poll_id = await new_due_poll(one, JUNE_1)
    dying, living = two_cores(tmp_path, min_kb, one, two, clock)
    stuck = asyncio.Event()
    shown: list[Reply] = []

    async def hangs(replies: list[Reply]) -> None:
        stuck.set()
        await asyncio.Event().wait()  # the machine went away mid-send

    async def sends(replies: list[Reply]) -> None:
        shown.extend(replies)

    dying.core.register_sender("test", hangs)
    living.core.register_sender("test", sends)
    gone = asyncio.create_task(polls.close_due_polls(dying.core))
    try:
        await stuck.wait()
        assert await polls.close_due_polls(living.core) == 0  # its lease holds
        clock.advance(seconds=leases.ROLE_LEASE.total_seconds() - 1)
        assert await polls.close_due_polls(living.core) == 0
        clock.advance(seconds=1)  # never renewed: the dead replica's lease ran out
        assert await polls.close_due_polls(living.core) == 1
        assert [r.key for r in shown] == [polls.poll_key(poll_id)]
        assert await polls.close_due_polls(living.core) == 0
    finally:
        gone.cancel()
