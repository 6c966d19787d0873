"""Three replicas of ``nsbot run`` (Telegram webhook mode and Slack HTTP mode in each)
on one PostgreSQL, behind a round-robin balancer per platform, against the fake Bot
API and the fake Slack, both enforcing their platform's limits.

The load: votes on a group poll and on a Slack channel poll (button presses, sent as
Slack's signed interactive payloads), questions in private chats and Slack DMs (signed
Events API callbacks), and an announcement to every subscriber on both platforms, all
at once. Some events are delivered again to another replica (as Telegram does when its
request timed out; Slack's retries carry X-Slack-Retry-Num), and one replica is killed
with SIGKILL in
the middle of sending the announcement; what it was sent stays unanswered and the
balancer sends it to the others. Another replica takes over its claimed delivery and
the answers it had stored but not sent when their leases run out, before the killed
one is started again (as an orchestrator does), which then sends nothing twice. Then:
every vote counted once, every question answered, every subscriber reached, at most
one message repeated for the killed replica on each platform, and not one 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.storage.postgres import PostgresStorage
from tests.bot_process import WEBHOOK_SECRET, BotProcess, bot_env, free_port, telegram_webhook_env
from tests.fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    SlackLimits,
    command_fields,
    dm_event,
    form_body,
    press_payload,
    sign,
)
from tests.fake_telegram import FakeTelegram, RateLimits, fixture, user
from tests.pg_server import throwaway_schema

KB_MIN = Path(__file__).parent / "fixtures" / "kb_min" / "knowledge"
GROUP = fixture("group_message")["message"]["chat"]
CORA = user(999, "Cora")  # a coordinator
REPLICAS = 3
VOTERS = 150
ASKERS = 30
SUBSCRIBERS = 80
SLACK_VOTERS = 60
SLACK_ASKERS = 20
SLACK_SUBSCRIBERS = 20
SLACK_COORDINATOR = "U0009"
SLACK_CHANNEL = "C0001"
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


@dataclass(frozen=True)
class SlackRequest:
    """One request as Slack sends it to the app's Request URL: an Events API callback
    (JSON) or an interactive payload / slash command (form fields)."""

    key: str  # the test's name for it
    body: str
    content_type: str
    event: bool  # Events API: Slack retries these, saying so in X-Slack-Retry-Num


def slack_event(key: str, payload: dict[str, Any]) -> SlackRequest:
    return SlackRequest(key, json.dumps(payload), "application/json", event=True)


def slack_form(key: str, fields: dict[str, Any]) -> SlackRequest:
    return SlackRequest(key, form_body(fields), "application/x-www-form-urlencoded", event=False)


class SlackBalancer:
    """Round-robin over the replicas' Slack ports, as a load balancer in front of the
    Request URL. A request that fails (the replica died) is sent again to the next
    replica, signed afresh as Slack does, with X-Slack-Retry-Num for an event."""

    def __init__(self, ports: list[int], down: set[int]) -> None:
        self.ports = ports
        self.down = down  # shared with the Telegram balancer: the same replicas
        self._turn = itertools.count()
        self.http: aiohttp.ClientSession | None = None
        self.tried: dict[str, set[int]] = {}  # request key -> the replicas it was sent to

    async def post_to(self, index: int, request: SlackRequest, retry: int) -> bool:
        assert self.http is not None
        self.tried.setdefault(request.key, set()).add(index)
        headers = {"Content-Type": request.content_type, **sign(request.body)}
        if retry and request.event:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        try:
            async with self.http.post(
                f"http://127.0.0.1:{self.ports[index]}/slack/events",
                data=request.body.encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT),
            ) as response:
                await response.read()
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def deliver(self, request: SlackRequest, first: int | None = None, retry: int = 0) -> int:
        """The replica that took it; ``retry``: how many times Slack sent it before."""
        start = next(self._turn) if first is None else first
        for attempt in range(60):
            index = (start + attempt) % len(self.ports)
            if index in self.down:
                continue
            if await self.post_to(index, request, retry):
                return index
            retry += 1
            await asyncio.sleep(0.1)
        raise AssertionError(f"no replica took Slack request {request.key}")


async def wait_until(
    what: str,
    check: Callable[[], bool | Awaitable[bool]],
    within: float,
    hint: Callable[[], str] = str,
) -> None:
    deadline = time.monotonic() + within
    while True:
        done = check()
        if done if isinstance(done, bool) else await done:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}{hint()}")
        await asyncio.sleep(0.2)


def texts_to(fake: FakeTelegram, chat: int, needle: str) -> int:
    return sum(1 for c in fake.of("sendMessage", chat) if needle in str(c["text"]))


def slack_posts_to(fake: FakeSlack, channel: str, needle: str) -> int:
    """Messages posted in ``channel`` whose text or blocks say ``needle``."""
    return sum(
        1 for m in fake.posted(channel) if needle in m["text"] or needle in json.dumps(m["blocks"])
    )


def slack_toasts(fake: FakeSlack, name: str) -> int:
    """Posts to the response_url named ``name`` (a voter's press)."""
    return sum(1 for n, _ in fake.responses if n == name)


def slack_env(port: int, api: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api,
        "SLACK_HTTP_HOST": "127.0.0.1",
        "SLACK_HTTP_PORT": str(port),
    }


async def test_three_replicas_lose_nothing_count_once_and_stay_under_the_limits(
    tmp_path: Path,
) -> None:
    async with throwaway_schema() as url:
        await run_replicas(tmp_path, url)


async def run_replicas(tmp_path: Path, url: str) -> None:
    subscribers = [50_000 + i for i in range(SUBSCRIBERS)]
    slack_subscribers = [f"U5{i:04d}" for i in range(SLACK_SUBSCRIBERS)]
    async with PostgresStorage(url) as store:
        for platform, person, chat in [
            *(("telegram", str(c), str(c)) for c in subscribers),
            *(("slack", u, dm_of(u)) for u in slack_subscribers),
        ]:
            await store.subscribe(
                f"{platform}:{person}",
                platform=platform,
                chat=chat,
                days=(7, 1),
                language="en",
                tz_hint=None,
                now=datetime.now(UTC),
            )
    # A little latency per message: the announcement takes a few seconds to send, so
    # the kill lands in the middle of it.
    fake = FakeTelegram(clock=time.monotonic, limits=RateLimits(), latency=0.03)
    await fake.start()
    slack = FakeSlack(limits=SlackLimits(), latency=0.03)
    await slack.start()
    ports = [free_port() for _ in range(REPLICAS)]
    slack_ports = [free_port() for _ in range(REPLICAS)]
    processes = []
    for i, port in enumerate(ports):
        folder = tmp_path / f"replica{i}"
        folder.mkdir()
        env = bot_env(
            folder,
            NSBOT_DATABASE_URL=url,
            NSBOT_KNOWLEDGE=str(KB_MIN),
            NSBOT_CACHE_DIR=str(tmp_path / "cache"),
            # A third of the default: the killed replica's work is taken over in about 13 s,
            # not 40 (the guarantees are the same; CI waits less).
            NSBOT_LEASE_SECONDS="10",
            NSBOT_COORDINATORS=f"telegram:{CORA['id']},slack:{SLACK_COORDINATOR}",
            **telegram_webhook_env(port, fake.base_url, fake.token),
            **slack_env(slack_ports[i], slack.api_url),
        )
        processes.append(BotProcess(folder, env))
    balancer = Balancer(ports)
    slack_balancer = SlackBalancer(slack_ports, balancer.down)
    victim = REPLICAS - 1
    try:
        async with contextlib.AsyncExitStack() as stack:
            for process in processes:
                await stack.enter_async_context(process)
            balancer.http = await stack.enter_async_context(aiohttp.ClientSession())
            slack_balancer.http = balancer.http
            await asyncio.gather(
                *(
                    p.wait_status(port, "/readyz", 200, within=90)
                    for p, port in [
                        *zip(processes, ports, strict=True),
                        *zip(processes, slack_ports, strict=True),
                    ]
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
                await again.wait_status(slack_ports[victim], "/readyz", 200, within=90)
                balancer.down.discard(victim)

            slack_load = SlackLoad(slack, slack_balancer, slack_subscribers)
            await load(fake, balancer, processes, subscribers, victim, url, restart, slack_load)
            # Stopped side by side: each drains its outbox for a few seconds.
            await asyncio.gather(*(p.stop() for p in processes))
    finally:
        await slack.stop()
        await fake.stop()


def dm_of(user: str) -> str:
    """The fake's DM channel with a Slack user (as conversations.open names it)."""
    return "D" + user.lstrip("U")


class SlackLoad:
    """The Slack half of the load: a channel poll voted on by button presses and
    questions in DMs, delivered as Slack does, beside the Telegram half."""

    def __init__(self, fake: FakeSlack, balancer: SlackBalancer, subscribers: list[str]) -> None:
        self.fake = fake
        self.balancer = balancer
        self.subscribers = subscribers
        self.voters = [f"U1{i:04d}" for i in range(SLACK_VOTERS)]
        self.askers = [f"U2{i:04d}" for i in range(SLACK_ASKERS)]
        self.requests: list[SlackRequest] = []
        self.taken_by: dict[str, int] = {}
        self.poll_id = 0
        self.poll_ts = ""

    async def post_poll(self, first: int) -> None:
        """The coordinator's slash command in the channel; the poll is posted there."""
        fields = command_fields(
            "poll Which topic first? | Access | Climate --multi",
            SLACK_COORDINATOR,
            SLACK_CHANNEL,
            "trigger-poll",
            self.fake.response_url("poll"),
        )
        await self.balancer.deliver(slack_form("poll", fields), first)

        def poll() -> dict[str, Any] | None:
            return next((m for m in self.fake.posted(SLACK_CHANNEL) if m["blocks"]), None)

        async with asyncio.timeout(30):
            await self.fake.wait_for(lambda: poll() is not None)
        message = poll()
        assert message is not None
        values = [
            el["value"] for b in message["blocks"] if b["type"] == "actions" for el in b["elements"]
        ]
        assert len(values) == 2, message["blocks"]
        self.poll_id = int(values[0].split(":")[1])
        self.poll_ts = message["ts"]
        for i, voter in enumerate(self.voters):
            payload = press_payload(
                message,
                values[i % 2],
                voter,
                f"trigger-vote-{i}",
                self.fake.response_url(f"vote-{i}"),
                f"1700002000.{i:06d}",
            )
            self.requests.append(slack_form(f"vote-{i}", {"payload": payload}))
        for i, asker in enumerate(self.askers):
            event = dm_event(QUESTION, asker, dm_of(asker), f"EvQ{i:04d}", f"1700001000.{i:06d}")
            self.requests.append(slack_event(f"ask-{i}", event))

    async def send(self, gate: asyncio.Semaphore) -> None:
        async def one(request: SlackRequest) -> None:
            async with gate:
                self.taken_by[request.key] = await self.balancer.deliver(request)

        await asyncio.gather(*(one(r) for r in self.requests))

    async def send_again(self) -> None:
        """Every fifth request again, to another replica than the one that took it:
        events as Slack's retries, presses as a balancer's."""
        await asyncio.gather(
            *(
                self.balancer.deliver(r, (self.taken_by[r.key] + 1) % REPLICAS, retry=1)
                for r in self.requests[::5]
            )
        )

    def unanswered(self, victim: int) -> list[str]:
        """The askers without an answer, and the voters without their vote's toast
        ("Your vote: ..."), except those whose press reached the killed replica: a
        notice is not sent again after a crash (bot.owed), the tally shows the vote."""
        return [
            *(a for a in self.askers if not slack_posts_to(self.fake, dm_of(a), "2009")),
            *(
                f"vote-{i}"
                for i in range(SLACK_VOTERS)
                if not slack_toasts(self.fake, f"vote-{i}")
                and victim not in self.balancer.tried[f"vote-{i}"]
            ),
        ]

    def reached(self) -> int:
        return sum(1 for u in self.subscribers if slack_posts_to(self.fake, dm_of(u), ANNOUNCEMENT))

    def repeats(self) -> int:
        """Messages a person got more than once: answers, vote toasts, announcements."""
        counts = [
            *(slack_posts_to(self.fake, dm_of(a), "2009") for a in self.askers),
            *(slack_toasts(self.fake, f"vote-{i}") for i in range(SLACK_VOTERS)),
            *(slack_posts_to(self.fake, dm_of(u), ANNOUNCEMENT) for u in self.subscribers),
        ]
        return sum(n - 1 for n in counts if n > 1)


async def load(
    fake: FakeTelegram,
    balancer: Balancer,
    processes: list[BotProcess],
    subscribers: list[int],
    victim: int,
    url: str,
    restart: Callable[[], Awaitable[None]],
    slack: SlackLoad,
) -> None:
    # The polls, posted by one replica each; the announcement's preview, by another.
    await balancer.deliver(
        fake.message(CORA, "/poll Which topic first? | Access | Climate --multi", chat=GROUP), 0
    )
    await slack.post_poll(2)
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
    slack_gate = asyncio.Semaphore(8)
    taken_by: dict[int, int] = {}

    async def one(update: dict[str, Any]) -> None:
        async with gate:
            taken_by[update["update_id"]] = await balancer.deliver(update)

    # The announcement goes out from the victim, which is killed while sending it.
    await balancer.deliver(fake.press(CORA, fake.message_of(preview), confirm), victim)

    def reached() -> int:
        return (
            sum(1 for chat in subscribers if texts_to(fake, chat, ANNOUNCEMENT)) + slack.reached()
        )

    async def kill_mid_announcement() -> None:
        await wait_until("the announcement to start", lambda: reached() >= 3, 30)
        processes[victim].signal(signal.SIGKILL)
        balancer.down.add(victim)

    await asyncio.gather(
        kill_mid_announcement(), slack.send(slack_gate), *(one(u) for u in updates)
    )
    killed = processes[victim].proc
    assert killed is not None
    await killed.wait()
    # Telegram re-sends an update whose answer it did not get, to whichever replica
    # the balancer picks: every fifth one here, to another replica than the first
    # (and after the double-tap window, so a second handling would untick a vote).
    await asyncio.sleep(2.5)
    again = updates[::5]
    await asyncio.gather(
        *(balancer.deliver(u, (taken_by[u["update_id"]] + 1) % REPLICAS) for u in again),
        slack.send_again(),
    )

    async with PostgresStorage(url) as store:

        async def votes_counted() -> bool:
            tally = await store.poll_tally(poll_id)
            return tally.voters >= VOTERS

        async def slack_votes_counted() -> bool:
            tally = await store.poll_tally(slack.poll_id)
            return tally.voters >= SLACK_VOTERS

        await wait_until("every vote", votes_counted, 30)
        await wait_until("every Slack vote", slack_votes_counted, 30)
        tally = await store.poll_tally(poll_id)
        slack_tally = await store.poll_tally(slack.poll_id)
    assert tally.voters == VOTERS  # 0 lost, 0 counted twice (a second handling unticks)
    assert tally.counts == {0: VOTERS // 2, 1: VOTERS - VOTERS // 2}
    assert slack_tally.voters == SLACK_VOTERS
    assert slack_tally.counts == {0: SLACK_VOTERS // 2, 1: SLACK_VOTERS - SLACK_VOTERS // 2}
    # The answers the killed replica had committed but not sent yet are owed, under its
    # lease: once that ran out, a live replica takes them over and sends them (bot.owed).
    # Re-deliveries of those events to other replicas did not cancel them.
    askers = [20_000 + i for i in range(ASKERS)]
    # Generous: a loaded 2-core CI machine takes far longer than a quiet one.
    await wait_until("every answer", lambda: all(texts_to(fake, a, "2009") for a in askers), 150)
    await wait_until(
        "every Slack answer and vote toast",
        lambda: not slack.unanswered(victim),
        60,
        lambda: f": {slack.unanswered(victim)}",
    )
    # The killed replica's claim lapses within CLAIM_LEASE; another replica sends it.
    async with PostgresStorage(url) as store:

        async def all_sent() -> bool:
            return await store.delivery_states(job_id) == {"sent": SUBSCRIBERS + SLACK_SUBSCRIBERS}

        async def none_owed() -> bool:
            since = datetime.now(UTC) - timedelta(hours=1)
            return (
                await store.owed_replies("telegram", since) == []
                and await store.owed_replies("slack", since) == []
            )

        await wait_until("every delivery row sent", all_sent, 150)
        # All sent and recorded: the restart must find nothing left to send.
        await wait_until("every owed reply paid", none_owed, 30)
    await restart()
    await asyncio.sleep(1.0)  # what a restart would send (wrongly) has reached the fake
    assert reached() == SUBSCRIBERS + SLACK_SUBSCRIBERS  # 0 reminders skipped
    announced = Counter({chat: texts_to(fake, chat, ANNOUNCEMENT) for chat in subscribers})
    answered = Counter({chat: texts_to(fake, chat, "2009") for chat in askers})
    repeats = sum(n - 1 for n in announced.values()) + sum(n - 1 for n in answered.values())
    assert repeats <= 1, (announced, answered)  # at most the message in flight at the kill
    assert slack.repeats() <= 1, slack.fake.responses
    assert fake.refused == []  # the limits held for the three together
    assert slack.fake.refused == []
    for index, process in enumerate(processes):
        if index != victim:
            assert "Traceback" not in process.stderr(), process.stderr()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
