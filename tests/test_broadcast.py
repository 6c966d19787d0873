"""Broadcasts to many people: paced by the adapter's outbox, durable across a crash,
each person reached exactly once (but for the one message in flight at a crash)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
import textwrap
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import reminders
from bot.adapters.memory import MemoryAdapter
from bot.adapters.slack import SlackAdapter
from bot.app import running_core
from bot.core import Core
from bot.errors import RecipientGone
from bot.knowledge import KnowledgeBase
from bot.messages import Person, Reply
from bot.outbox import Limits, Outbox
from bot.storage import SqliteStorage
from bot.storage.base import CLAIM_LEASE
from tests.consult_helpers import COORDINATOR as COORDINATOR_PERSON
from tests.consult_helpers import KB_MIN, Clock, make_core, settings_for
from tests.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, sign

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
COORDINATOR = "test:coord"


class Crash(BaseException):
    """The process dies: nothing after it runs, no handler catches it."""


async def subscribe_many(storage: SqliteStorage, count: int, platform: str = "test") -> None:
    for i in range(count):
        await storage.subscribe(
            f"{platform}:p{i}",
            platform=platform,
            chat=f"c{i}",
            days=(7, 1),
            language=None,
            tz_hint=None,
            now=NOW,
        )


async def announce(
    storage: SqliteStorage, text: str = "Regional call on Thursday", now: datetime = NOW
) -> int:
    job, _ = await storage.ensure_job(
        "announce:test", kind="announce", text=text, status="draft", created_by=COORDINATOR, now=now
    )
    assert await storage.activate_announcement(job.id, COORDINATOR, now) is not None
    return job.id


def chats(replies: list[Reply]) -> list[str]:
    return [r.chat.chat_id for r in replies if r.chat is not None]


async def test_a_restart_mid_broadcast_to_1000_reaches_each_subscriber_once(
    tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    db = tmp_path / "bot.sqlite3"
    received: Counter[str] = Counter()

    async with SqliteStorage(db) as storage:
        await subscribe_many(storage, 1000)
        job_id = await announce(storage)
        setup = make_core(tmp_path, min_kb, storage, Clock(NOW))

        async def dies_at_401(replies: list[Reply]) -> None:
            if sum(received.values()) == 400:
                raise Crash  # the process dies before this message leaves
            received.update(chats(replies))

        setup.core.register_sender("test", dies_at_401)
        with pytest.raises(Crash):
            await reminders.tick(setup.core)
        # The one being sent is claimed, never confirmed: its fate is for the restart.
        assert await storage.delivery_states(job_id) == {"sent": 400, "claimed": 1, "pending": 599}

    async with SqliteStorage(db) as storage:  # a fresh process on the same file
        setup = make_core(tmp_path, min_kb, storage, Clock(NOW + timedelta(minutes=5)))

        async def sender(replies: list[Reply]) -> None:
            received.update(chats(replies))

        setup.core.register_sender("test", sender)
        assert await reminders.recover(setup.core) == 1
        report = await reminders.tick(setup.core)
        assert report.sent == 600
        assert await storage.delivery_states(job_id) == {"sent": 1000}
        assert (await reminders.tick(setup.core)).sent == 0

    assert len(received) == 1000 and set(received.values()) == {1}


CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from pathlib import Path
    from bot import reminders
    from bot.config import Settings
    from bot.core import Core
    from bot.knowledge import load_knowledge
    from bot.storage import SqliteStorage

    db, log, kill_at, when = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    kb_dir = Path(sys.argv[5])

    async def main():
        settings = Settings(db_path=db, knowledge_dir=kb_dir, hash_key="child-key-not-secret-123")
        async with SqliteStorage(db) as storage:
            core = Core(settings, load_knowledge(kb_dir), storage)
            count = 0
            with open(log, "a", encoding="utf-8") as out:
                async def platform(replies):
                    nonlocal count
                    count += 1
                    if count == kill_at and when == "before":
                        os.kill(os.getpid(), signal.SIGKILL)
                    for reply in replies:
                        out.write(reply.chat.chat_id + "\\n")
                    out.flush()
                    os.fsync(out.fileno())  # what the platform accepted, durably
                    if count == kill_at and when == "after":
                        os.kill(os.getpid(), signal.SIGKILL)

                core.register_sender("test", platform)
                await reminders.tick(core)

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("when", ["before", "after"])
async def test_a_killed_process_resumes_with_those_not_yet_reached(
    tmp_path: Path, min_kb: KnowledgeBase, when: str
) -> None:
    """kill -9 in the middle of a broadcast to 1,000 people, then a fresh process.

    "before": killed while the 300th message was about to leave. "after": killed
    once the platform had it, before the bot could mark it sent: that one message is
    the ambiguous one, and the documented trade-off sends it again (one duplicate,
    never a loss). Everyone else gets exactly one copy either way.
    """
    db, log = tmp_path / "bot.sqlite3", tmp_path / "platform.log"
    async with SqliteStorage(db) as storage:
        await subscribe_many(storage, 1000)
        job_id = await announce(storage)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        str(db),
        str(log),
        "300",
        when,
        str(KB_MIN),
        cwd=str(REPO),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    received = Counter(log.read_text(encoding="utf-8").split())
    assert sum(received.values()) == (299 if when == "before" else 300)

    async with SqliteStorage(db) as storage:
        states = await storage.delivery_states(job_id)
        assert states == {"sent": 299, "claimed": 1, "pending": 700}
        # The child ran on the real clock: its claim is taken over once its lease ran out.
        after_lease = datetime.now(UTC) + CLAIM_LEASE
        setup = make_core(tmp_path, min_kb, storage, Clock(after_lease))

        async def sender(replies: list[Reply]) -> None:
            received.update(chats(replies))

        setup.core.register_sender("test", sender)
        await reminders.recover(setup.core)
        assert (await reminders.tick(setup.core)).sent == 701
        assert await storage.delivery_states(job_id) == {"sent": 1000}

    assert len(received) == 1000
    if when == "before":
        assert set(received.values()) == {1}
    else:
        assert sorted(received.values())[-2:] == [1, 2]  # only the one in flight, twice
        assert received["c299"] == 2


class VirtualTime:
    """The outbox's clock and sleep on virtual time: pacing is measured, never waited."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        self.now += max(0.0, seconds)


async def test_a_broadcast_is_paced_by_the_outbox_and_each_send_awaited(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    await subscribe_many(storage, 50)
    job_id = await announce(storage)
    setup = make_core(tmp_path, min_kb, storage, Clock(NOW))
    vt = VirtualTime()
    sent_at: list[float] = []
    states_at_send: list[dict[str, int]] = []

    async def platform_call(chat_id: str, payload: Any) -> dict[str, bool]:
        states_at_send.append(await storage.delivery_states(job_id))
        sent_at.append(vt.now)
        return {"ok": True}

    outbox = Outbox(platform_call, Limits(global_per_second=10.0), clock=vt.clock, sleep=vt.sleep)
    await outbox.start()

    async def adapter_push(replies: list[Reply]) -> None:  # what an adapter's push does
        for reply in replies:
            assert reply.chat is not None and reply.chat.private
            await outbox.deliver(reply.chat.chat_id, reply.text)

    setup.core.register_sender("test", adapter_push)
    try:
        assert (await reminders.tick(setup.core)).sent == 50
    finally:
        await outbox.stop()
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert min(gaps) >= 0.1 - 1e-9  # 10 a second, as the platform allows
    # Claimed before each send, marked sent only once the outbox had sent it.
    for k, states in enumerate(states_at_send):
        assert states.get("claimed") == 1 and states.get("sent", 0) == k


async def test_failed_sends_are_retried_later_then_given_up(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    await subscribe_many(storage, 3)
    job_id = await announce(storage)
    setup = make_core(tmp_path, min_kb, storage, Clock(NOW))
    received: Counter[str] = Counter()
    flaky = {"c1": 1}  # fails once, then works

    async def sender(replies: list[Reply]) -> None:
        for chat in chats(replies):
            if chat == "c2" or flaky.get(chat, 0) > 0:
                flaky[chat] = flaky.get(chat, 0) - 1
                raise RuntimeError("platform error")
            received[chat] += 1

    setup.core.register_sender("test", sender)
    report = await reminders.tick(setup.core)
    assert (report.sent, report.retrying) == (1, 2)
    assert (await reminders.tick(setup.core)).sent == 0  # not before the backoff
    for _ in range(reminders.MAX_ATTEMPTS):
        setup.clock.advance(hours=1)
        await reminders.tick(setup.core)
    assert received == Counter({"c0": 1, "c1": 1})
    assert await storage.delivery_states(job_id) == {"sent": 2, "failed": 1}


async def test_an_adapter_stopping_mid_broadcast_leaves_the_rest_pending(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    await subscribe_many(storage, 30)
    job_id = await announce(storage)
    setup = make_core(tmp_path, min_kb, storage, Clock(NOW))
    received: Counter[str] = Counter()

    async def stops_after_ten(replies: list[Reply]) -> None:
        received.update(chats(replies))
        if sum(received.values()) == 10:
            del setup.core.senders["test"]  # the adapter stops (unregisters itself)

    setup.core.register_sender("test", stops_after_ten)
    report = await reminders.tick(setup.core)
    assert report.sent == 10 and await storage.delivery_states(job_id) == {
        "sent": 10,
        "pending": 20,
    }

    async def sender(replies: list[Reply]) -> None:
        received.update(chats(replies))

    setup.core.register_sender("test", sender)
    assert (await reminders.tick(setup.core)).sent == 20
    assert len(received) == 30 and set(received.values()) == {1}


async def test_delivery_rows_move_through_their_states_once(storage: SqliteStorage) -> None:
    await subscribe_many(storage, 2)
    job_id = await announce(storage)
    assert await storage.activate_announcement(job_id, COORDINATOR, NOW) is None  # once
    assert await storage.claim_delivery(job_id, "test:p0", NOW)
    assert not await storage.claim_delivery(job_id, "test:p0", NOW)  # already claimed
    await storage.finish_delivery(job_id, "test:p1", "sent", NOW)  # not claimed: no change
    assert await storage.delivery_states(job_id) == {"claimed": 1, "pending": 1}
    await storage.finish_delivery(job_id, "test:p0", "sent", NOW)
    assert await storage.recover_claimed() == 0
    assert await storage.delivery_states(job_id) == {"sent": 1, "pending": 1}
    with pytest.raises(ValueError):
        await storage.finish_delivery(job_id, "test:p1", "pending", NOW)
    # Unsubscribing cancels what is still queued for the person.
    assert await storage.unsubscribe("test:p1", NOW)
    assert await storage.delivery_states(job_id) == {"sent": 1, "cancelled": 1}


async def test_the_running_bot_recovers_then_sends_a_confirmed_announcement_at_once(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    async with SqliteStorage(settings.db_path) as storage:  # what a killed process left
        await subscribe_many(storage, 1)
        job_id = await announce(storage, "Left over")
        assert await storage.claim_delivery(job_id, "test:p0", NOW)
    received: list[Reply] = []
    arrived = asyncio.Event()

    async def sender(replies: list[Reply]) -> None:
        received.extend(replies)
        if len(received) >= 3:
            arrived.set()

    async with running_core(settings) as core:  # the scheduler runs in the background
        core.register_sender("test", sender)
        await MemoryAdapter(core, Person("test", "u1", "U")).ask("/subscribe")
        coordinator = MemoryAdapter(core, COORDINATOR_PERSON)
        await coordinator.ask("/announce Meeting moved")
        assert "Sending to 2" in await coordinator.press("📣 Send to 2")
        await asyncio.wait_for(arrived.wait(), 20)  # woken at once, not after the timer
    texts = sorted(r.text.split("\n\n")[1] for r in received)
    assert texts == ["Left over", "Meeting moved", "Meeting moved"]


# --------------------------------------------------------------------------- through Slack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    yield server
    await server.stop()


async def test_a_subscriber_on_slack_gets_the_announcement_in_their_dm(
    min_core: Core, fake: FakeSlack
) -> None:
    settings = replace(
        min_core.settings,
        platform={
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "SLACK_HTTP_HOST": "127.0.0.1",
            "SLACK_HTTP_PORT": "0",
        },
    )
    unpaced = Limits(global_per_second=0, per_chat_interval=0.0, group_per_minute=None)
    adapter = SlackAdapter(min_core, settings, process_before_response=True, limits=unpaced)
    await adapter.start()
    try:
        payload = json.loads((REPO / "tests/fixtures/slack/event_dm.json").read_text())
        payload["event"].update(text="/subscribe", user="U0001", channel="D0001")
        body = json.dumps(payload)
        headers = {"Content-Type": "application/json", **sign(body)}
        url = f"http://127.0.0.1:{adapter.port}/slack/events"
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body.encode(), headers=headers) as response,
        ):
            assert response.status == 200
        subscription = await min_core.storage.get_subscription("slack:U0001")
        assert subscription is not None and subscription.chat == "D0001"

        fake.fail("chat.postMessage", 429, retry_after=0.1)  # waited out by the outbox
        await announce(min_core.storage, "Regional call on Thursday", min_core.clock())
        assert (await reminders.tick(min_core)).sent == 1
        posts = [m for m in fake.posted("D0001") if "Regional call" in m["text"]]
        assert len(posts) == 1
    finally:
        await adapter.stop()


async def test_a_person_who_blocked_the_bot_is_unsubscribed_after_one_try(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    await subscribe_many(storage, 2)
    job_id = await announce(storage)
    setup = make_core(tmp_path, min_kb, storage, Clock(NOW))
    tries: Counter[str] = Counter()

    async def sender(replies: list[Reply]) -> None:
        for chat in chats(replies):
            tries[chat] += 1
            if chat == "c1":
                raise RecipientGone("Telegram: Forbidden: bot was blocked by the user")

    setup.core.register_sender("test", sender)
    report = await reminders.tick(setup.core)
    assert (report.sent, report.failed, report.retrying) == (1, 1, 0)
    for _ in range(3):
        setup.clock.advance(hours=2)
        await reminders.tick(setup.core)
    assert tries == Counter({"c0": 1, "c1": 1})  # not five times
    assert await storage.delivery_states(job_id) == {"sent": 1, "failed": 1}
    assert await storage.get_subscription("test:p1") is None
    assert await storage.get_subscription("test:p0") is not None
    data = await storage.person_data("test:p1")
    assert data["reminders_stopped"]["reason"] == "unreachable"
    # Subscribing again clears the note; /forget deletes it too.
    await storage.subscribe(
        "test:p1", platform="test", chat="c1", days=None, language=None, tz_hint=None, now=NOW
    )
    assert (await storage.person_data("test:p1"))["reminders_stopped"] is None
