"""Three replicas of ``nsbot run`` (Telegram webhook mode) on one PostgreSQL, behind a
round-robin balancer, against the fake Bot API enforcing Telegram's limits.

The load: votes on a group poll, questions in private chats and an announcement to
every subscriber, all at once. Some events are delivered again to another replica (as
Telegram does when its request timed out), and one replica is killed with SIGKILL in
the middle of sending the announcement; what it was sent stays unanswered and the
balancer sends it to the others. Another replica takes over its claimed delivery and
the answers it had stored but not sent when their leases run out, before the killed
one is started again (as an orchestrator does), which then sends nothing twice. Then:
every vote counted once, every question answered, every subscriber reached, at most
one message repeated for the killed replica, and not one 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.storage.postgres import PostgresStorage
from tests.bot_process import WEBHOOK_SECRET, BotProcess, bot_env, free_port, telegram_webhook_env
from tests.fake_telegram import FakeTelegram, RateLimits, fixture, user
from tests.pg_server import throwaway_schema

KB_MIN = Path(__file__).parent / "fixtures" / "kb_min" / "knowledge"
GROUP = fixture("group_message")["message"]["chat"]
CORA = user(999, "Cora")  # a coordinator
REPLICAS = 3
VOTERS = 150
ASKERS = 30
SUBSCRIBERS = 80
QUESTION = "When was the migration policy adopted?"
ANNOUNCEMENT = "Regional call on Thursday"
# The balancer's patience with one replica: Telegram waits longer, but a replica that
# does not answer within this is as good as dead to the test.
POST_TIMEOUT = 20.0


class Balancer:
    """Round-robin over the replicas that are up; an update whose request fails (the
    replica died) goes to the next one, until one answers 200, as Telegram retries."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.down: set[int] = set()
        self._turn = itertools.count()
        self._ids = itertools.count(1)
        self.http: aiohttp.ClientSession | None = None

    async def post_to(self, index: int, update: dict[str, Any]) -> bool:
        assert self.http is not None
        try:
            async with self.http.post(
                f"http://127.0.0.1:{self.ports[index]}/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT),
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def deliver(self, update: dict[str, Any], first: int | None = None) -> int:
        """The replica that took it. An update without an id gets the next one."""
        if not update.get("update_id"):
            update["update_id"] = next(self._ids)
        start = next(self._turn) if first is None else first
        for attempt in range(60):
            index = (start + attempt) % len(self.ports)
            if index in self.down:
                continue
            if await self.post_to(index, update):
                return index
            await asyncio.sleep(0.1)
        raise AssertionError(f"no replica took update {update['update_id']}")


async def wait_until(what: str, check: Callable[[], bool | Awaitable[bool]], within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        done = check()
        if done if isinstance(done, bool) else await done:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def texts_to(fake: FakeTelegram, chat: int, needle: str) -> int:
    return sum(1 for c in fake.of("sendMessage", chat) if needle in str(c["text"]))


async def test_three_replicas_lose_nothing_count_once_and_stay_under_the_limits(
    tmp_path: Path,
) -> None:
    async with throwaway_schema() as url:
        await run_replicas(tmp_path, url)


async def run_replicas(tmp_path: Path, url: str) -> None:
    subscribers = [50_000 + i for i in range(SUBSCRIBERS)]
    async with PostgresStorage(url) as store:
        for chat in subscribers:
            await store.subscribe(
                f"telegram:{chat}",
                platform="telegram",
                chat=str(chat),
                days=(7, 1),
                language="en",
                tz_hint=None,
                now=datetime.now(UTC),
            )
    # A little latency per message: the announcement takes a few seconds to send, so
    # the kill lands in the middle of it.
    fake = FakeTelegram(clock=time.monotonic, limits=RateLimits(), latency=0.03)
    await fake.start()
    ports = [free_port() for _ in range(REPLICAS)]
    processes = []
    for i, port in enumerate(ports):
        folder = tmp_path / f"replica{i}"
        folder.mkdir()
        env = bot_env(
            folder,
            NSBOT_DATABASE_URL=url,
            NSBOT_KNOWLEDGE=str(KB_MIN),
            NSBOT_CACHE_DIR=str(tmp_path / "cache"),
            NSBOT_COORDINATORS=f"telegram:{CORA['id']}",
            **telegram_webhook_env(port, fake.base_url, fake.token),
        )
        processes.append(BotProcess(folder, env))
    balancer = Balancer(ports)
    victim = REPLICAS - 1
    try:
        async with contextlib.AsyncExitStack() as stack:
            for process in processes:
                await stack.enter_async_context(process)
            balancer.http = await stack.enter_async_context(aiohttp.ClientSession())
            await asyncio.gather(
                *(
                    p.wait_status(port, "/readyz", 200, within=90)
                    for p, port in zip(processes, ports, strict=True)
                )
            )

            # What the orchestrator does with a dead container: start it again.
            async def restart() -> None:
                folder = processes[victim].log.parent / "restarted"
                folder.mkdir()
                again = BotProcess(folder, processes[victim].env)
                await stack.enter_async_context(again)
                processes.append(again)
                await again.wait_status(ports[victim], "/readyz", 200, within=90)
                balancer.down.discard(victim)

            await load(fake, balancer, processes, subscribers, victim, url, restart)
            # Stopped side by side: each drains its outbox for a few seconds.
            await asyncio.gather(*(p.stop() for p in processes))
    finally:
        await fake.stop()


async def load(
    fake: FakeTelegram,
    balancer: Balancer,
    processes: list[BotProcess],
    subscribers: list[int],
    victim: int,
    url: str,
    restart: Callable[[], Awaitable[None]],
) -> None:
    # The poll, posted by one replica; the announcement's preview, by another.
    await balancer.deliver(
        fake.message(CORA, "/poll Which topic first? | Access | Climate --multi", chat=GROUP), 0
    )
    posted = await fake.wait_for(
        lambda: next(
            (c for c in fake.of("sendMessage", GROUP["id"]) if c.get("reply_markup")), None
        )
    )
    poll_message = fake.message_of(posted)
    options = [data for _, data in posted.buttons]
    poll_id = int(options[0].split(":")[1])
    await balancer.deliver(fake.message(CORA, f"/announce {ANNOUNCEMENT}"), 1)
    preview = await fake.wait_for(
        lambda: next((c for c in fake.of("sendMessage", CORA["id"]) if c.get("reply_markup")), None)
    )
    confirm = next(data for _, data in preview.buttons if data.startswith("an:y:"))
    job_id = int(confirm.split(":")[2])

    updates: list[dict[str, Any]] = []
    for i in range(VOTERS):
        update = fake.press(user(10_000 + i, f"V{i}"), poll_message, options[i % 2])
        updates.append(update)
    for i in range(ASKERS):
        updates.append(fake.message(user(20_000 + i, f"A{i}"), QUESTION))
    for n, update in enumerate(updates):
        update["update_id"] = 100_000 + n  # fake.press numbered its own: renumbered here
    gate = asyncio.Semaphore(12)
    taken_by: dict[int, int] = {}

    async def one(update: dict[str, Any]) -> None:
        async with gate:
            taken_by[update["update_id"]] = await balancer.deliver(update)

    # The announcement goes out from the victim, which is killed while sending it.
    await balancer.deliver(fake.press(CORA, fake.message_of(preview), confirm), victim)

    def reached() -> int:
        return sum(1 for chat in subscribers if texts_to(fake, chat, ANNOUNCEMENT))

    async def kill_mid_announcement() -> None:
        await wait_until("the announcement to start", lambda: reached() >= 3, 30)
        processes[victim].signal(signal.SIGKILL)
        balancer.down.add(victim)

    await asyncio.gather(kill_mid_announcement(), *(one(u) for u in updates))
    assert processes[victim].proc is not None
    await processes[victim].proc.wait()
    # Telegram re-sends an update whose answer it did not get, to whichever replica
    # the balancer picks: every fifth one here, to another replica than the first
    # (and after the double-tap window, so a second handling would untick a vote).
    await asyncio.sleep(2.5)
    again = updates[::5]
    await asyncio.gather(
        *(balancer.deliver(u, (taken_by[u["update_id"]] + 1) % REPLICAS) for u in again)
    )

    async with PostgresStorage(url) as store:

        async def votes_counted() -> bool:
            tally = await store.poll_tally(poll_id)
            return tally.voters >= VOTERS

        await wait_until("every vote", votes_counted, 30)
        tally = await store.poll_tally(poll_id)
    assert tally.voters == VOTERS  # 0 lost, 0 counted twice (a second handling unticks)
    assert tally.counts == {0: VOTERS // 2, 1: VOTERS - VOTERS // 2}
    # The answers the killed replica had committed but not sent yet are owed, under its
    # lease: once that ran out, a live replica takes them over and sends them (bot.owed).
    # Re-deliveries of those events to other replicas did not cancel them.
    askers = [20_000 + i for i in range(ASKERS)]
    # Generous: a loaded 2-core CI machine takes far longer than a quiet one.
    await wait_until("every answer", lambda: all(texts_to(fake, a, "2009") for a in askers), 150)
    # The killed replica's claim lapses within CLAIM_LEASE; another replica sends it.
    async with PostgresStorage(url) as store:

        async def all_sent() -> bool:
            return await store.delivery_states(job_id) == {"sent": SUBSCRIBERS}

        async def none_owed() -> bool:
            since = datetime.now(UTC) - timedelta(hours=1)
            return await store.owed_replies("telegram", since) == []

        await wait_until("every delivery row sent", all_sent, 150)
        # All sent and recorded: the restart must find nothing left to send.
        await wait_until("every owed reply paid", none_owed, 30)
    await restart()
    await asyncio.sleep(1.0)  # what a restart would send (wrongly) has reached the fake
    assert reached() == SUBSCRIBERS  # 0 reminders skipped
    announced = Counter({chat: texts_to(fake, chat, ANNOUNCEMENT) for chat in subscribers})
    answered = Counter({chat: texts_to(fake, chat, "2009") for chat in askers})
    repeats = sum(n - 1 for n in announced.values()) + sum(n - 1 for n in answered.values())
    assert repeats <= 1, (announced, answered)  # at most the message in flight at the kill
    assert fake.refused == []  # the limits held for the three together
    for index, process in enumerate(processes):
        if index != victim:
            assert "Traceback" not in process.stderr(), process.stderr()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
