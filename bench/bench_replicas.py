"""Several replicas of ``nsbot run`` on one PostgreSQL, beside SQLite with one process.

    python bench/bench_replicas.py        # needs PostgreSQL (see --url)
    python bench/bench_replicas.py --questions 400 --votes 1000
    python bench/bench_replicas.py --latency 0.05   # the platform answering in 50 ms

Every bot here is a real ``nsbot run`` process in Telegram webhook mode, against the
fake Bot API on 127.0.0.1 (tests/fake_telegram.py), fed by a round-robin balancer.
Prints, asserting nothing:

- durable answers/s: questions from distinct people posted 48 at a time; a question
  counts once its webhook request got its 200, which the bot sends only after the
  event and the answer it owes are committed (they survive ``kill -9``). Also when
  the last answer reached the fake: Telegram lets a bot send about 30 messages a
  second, whatever the number of replicas. For SQLite with one process, PostgreSQL
  with one replica and with three. An answer is a stored delivery: a process sends
  one at a time, the next once the one before is recorded (a ``kill -9`` repeats at
  most one), so with ``--latency`` one process sends about 1 / (latency + a write).
- takeover after ``kill -9``: an announcement to subscribers is being sent by one of
  two replicas when it is killed; how long until the row it had claimed is sent by
  the other (the claim's lease is 30 s, renewals every 10 s). Likewise an answer the
  killed one had stored but not sent (the platform told it to retry in a few
  seconds): how long until the other sends it (bot.owed; taken over every 10 s).
- the 2,000-vote burst across three replicas: every vote counted, the fake enforcing
  Telegram's limits (a 429 for any message over them), how many edits of the posted
  tally, and when it showed the final count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_poll_burst import shows_voters  # noqa: E402
from bot.storage.postgres import PostgresStorage  # noqa: E402
from tests.bot_process import BotProcess, bot_env, free_port, telegram_webhook_env  # noqa: E402
from tests.fake_telegram import FakeTelegram, RateLimits, fixture, user  # noqa: E402
from tests.test_replicas import Balancer  # noqa: E402

KB_MIN = ROOT / "tests" / "fixtures" / "kb_min" / "knowledge"
GROUP = fixture("group_message")["message"]["chat"]
CORA = user(999, "Cora")
QUESTION = "When was the migration policy adopted?"
IN_FLIGHT = 48
ASKER = 70_000  # whose answer the killed replica owes in the takeover


@contextlib.asynccontextmanager
async def bench_database(url: str) -> AsyncIterator[str]:
    """A database of this run's own on the server at ``url``, dropped at the end."""
    name = f"nsbot_bench_{os.getpid()}_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.close()


@contextlib.asynccontextmanager
async def schema(database: str) -> AsyncIterator[str]:
    name = f"run_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(database)
    await conn.execute(f"CREATE SCHEMA {name}")
    try:
        parts = urlsplit(database)
        yield urlunsplit(parts._replace(query=urlencode({"search_path": name})))
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def replicas(
    folder: Path, fake: FakeTelegram, count: int, database: str | None
) -> AsyncIterator[tuple[list[BotProcess], Balancer]]:
    """``count`` bots, ready; on PostgreSQL at ``database``, else one SQLite file."""
    ports = [free_port() for _ in range(count)]
    processes = []
    for i, port in enumerate(ports):
        home = folder / f"r{i}-{secrets.token_hex(2)}"
        home.mkdir(parents=True)
        extra = {"NSBOT_DATABASE_URL": database} if database else {}
        env = bot_env(
            folder if database is None else home,
            NSBOT_KNOWLEDGE=str(KB_MIN),
            NSBOT_CACHE_DIR=str(folder / "cache"),
            NSBOT_COORDINATORS=f"telegram:{CORA['id']}",
            NSBOT_LOG_LEVEL="WARNING",
            **extra,
            **telegram_webhook_env(port, fake.base_url, fake.token),
        )
        processes.append(BotProcess(home, env))
    balancer = Balancer(ports)
    async with contextlib.AsyncExitStack() as stack:
        for process in processes:
            await stack.enter_async_context(process)
        balancer.http = await stack.enter_async_context(
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT * 2))
        )
        await asyncio.gather(
            *(
                p.wait_status(port, "/readyz", 200, within=120)
                for p, port in zip(processes, ports, strict=True)
            )
        )
        try:
            yield processes, balancer
        finally:
            await asyncio.gather(*(p.stop() for p in processes))


async def deliver_all(balancer: Balancer, updates: list[dict[str, Any]]) -> float:
    """Post every update, IN_FLIGHT at a time; the seconds until the last 200."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(update: dict[str, Any]) -> None:
        async with gate:
            await balancer.deliver(update)

    started = time.monotonic()
    await asyncio.gather(*(one(u) for u in updates))
    return time.monotonic() - started


async def answers(
    folder: Path, label: str, count: int, database: str | None, n: int, latency: float = 0.0
) -> None:
    fake = FakeTelegram(clock=time.monotonic, latency=latency)
    await fake.start()
    try:
        async with replicas(folder, fake, count, database) as (_, balancer):
            updates = [fake.message(user(30_000 + i, f"P{i}"), QUESTION) for i in range(n)]
            for i, update in enumerate(updates):
                update["update_id"] = 1_000 + i
            started = time.monotonic()
            acked = await deliver_all(balancer, updates)
            await fake.wait_for(lambda: len(fake.of("sendMessage")) >= n, within=600)
            sent = max(c.at for c in fake.of("sendMessage")) - started
        print(
            f"  {label:<34} {n / acked:7.1f} durable answers/s   "
            f"(all {n} answered after {sent:5.1f} s: {n / sent:5.1f}/s)"
        )
    finally:
        await fake.stop()


async def takeover(folder: Path, database: str, subscribers: int) -> None:
    async with schema(database) as url:
        async with PostgresStorage(url) as store:
            for i in range(subscribers):
                await store.subscribe(
                    f"telegram:{60_000 + i}",
                    platform="telegram",
                    chat=str(60_000 + i),
                    days=(7, 1),
                    language="en",
                    tz_hint=None,
                    now=datetime.now(UTC),
                )
        fake = FakeTelegram(clock=time.monotonic, latency=0.05)  # a slow network: it takes a while
        await fake.start()
        try:
            async with replicas(folder, fake, 2, url) as (processes, balancer):
                await balancer.deliver(fake.message(CORA, "/announce Regional call"), 0)
                preview = await fake.wait_for(
                    lambda: next((c for c in fake.of("sendMessage") if c.get("reply_markup")), None)
                )
                confirm = next(d for _, d in preview.buttons if d.startswith("an:y:"))
                await balancer.deliver(fake.press(CORA, fake.message_of(preview), confirm), 1)
                await fake.wait_for(lambda: len(fake.of("sendMessage")) >= 10, within=60)
                # An answer it owes: told to retry in 5 s, it is still unsent at the kill.
                fake.fail("sendMessage", 429, retry_after=5, when=lambda p: p["chat_id"] == ASKER)
                await balancer.deliver(fake.message(user(ASKER, "Q"), QUESTION), 1)
                await fake.wait_for(lambda: fake.of("sendMessage", ASKER, ok_only=False), within=60)
                # Killed with a message in flight: the platform holds its answer back.
                fake.hold("sendMessage")
                await fake.wait_for(lambda: fake.held, within=30)
                conn = await asyncpg.connect(url)
                try:
                    processes[1].signal(signal.SIGKILL)
                    killed = time.monotonic()
                    balancer.down.add(1)
                    await asyncio.sleep(0.2)
                    fake.release("sendMessage")
                    claimed = await conn.fetch(
                        "SELECT job_id, person FROM deliveries WHERE state = 'claimed'"
                    )
                    while claimed:
                        unsent = await conn.fetchval(
                            """SELECT count(*) FROM deliveries WHERE state <> 'sent' AND
                               (job_id, person) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))""",
                            [r[0] for r in claimed],
                            [r[1] for r in claimed],
                        )
                        if not unsent:
                            break
                        await asyncio.sleep(0.1)
                    taken = time.monotonic() - killed
                    reply = await fake.wait_for(lambda: fake.of("sendMessage", ASKER), within=120)
                    answered = reply[0].at - killed
                finally:
                    await conn.close()
        finally:
            await fake.stop()
    what = (
        f"{len(claimed)} claimed row(s) sent by the other replica" if claimed else "no claim held"
    )
    print(f"  takeover after kill -9: {taken:5.1f} s ({what})")
    print(f"    its owed answer sent by the other replica after {answered:5.1f} s")


async def vote_burst(folder: Path, database: str, votes: int) -> None:
    async with schema(database) as url:
        fake = FakeTelegram(clock=time.monotonic, limits=RateLimits())
        await fake.start()
        try:
            async with replicas(folder, fake, 3, url) as (_, balancer):
                await balancer.deliver(
                    fake.message(CORA, "/poll Which topic first? | Access | Climate", chat=GROUP), 0
                )
                posted = await fake.wait_for(
                    lambda: next(
                        (c for c in fake.of("sendMessage", GROUP["id"]) if c.get("reply_markup")),
                        None,
                    )
                )
                message = fake.message_of(posted)
                options = [d for _, d in posted.buttons]
                poll_id = int(options[0].split(":")[1])
                updates = [
                    fake.press(user(10_000 + i, f"V{i}"), message, options[i % 2])
                    for i in range(votes)
                ]
                for i, update in enumerate(updates):
                    update["update_id"] = 5_000 + i
                acked = await deliver_all(balancer, updates)
                last = time.monotonic()

                def shows_all() -> bool:
                    return shows_voters(str(message.get("text", "")), votes)

                with contextlib.suppress(TimeoutError):
                    await fake.wait_for(shows_all, within=120)
                final = time.monotonic() - last if shows_all() else None
                async with PostgresStorage(url) as store:
                    tally = await store.poll_tally(poll_id)
        finally:
            await fake.stop()
    edits = len(fake.of("editMessageText", GROUP["id"]))
    shown = f"{final:.1f} s after the last vote" if final is not None else "not within 120 s"
    print(f"  {votes}-vote burst, 3 replicas: {votes / acked:.0f} votes/s acknowledged")
    print(f"    votes counted            {tally.voters} of {votes}")
    print(f"    tally edits in the group {edits}   final count shown {shown}")
    print(f"    429s from the fake       {len(fake.refused)}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "NSBOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--votes", type=int, default=2000)
    # Each answer is a stored delivery: a process sends one at a time, the next once the
    # one before is recorded (bot.outbox.Gate), so the platform's round trip counts.
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per message call")
    args = parser.parse_args()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)
    print(
        f"replicas: {args.questions} questions, {IN_FLIGHT} in flight, on {os.cpu_count()} "
        f"cores; the fake Bot API takes {args.latency:g} s per message"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with bench_database(args.url) as database:
            n, latency = args.questions, args.latency
            await answers(folder / "a", "SQLite, one process", 1, None, n, latency)
            async with schema(database) as url:
                await answers(folder / "b", "PostgreSQL, 1 replica", 1, url, n, latency)
            async with schema(database) as url:
                await answers(folder / "c", "PostgreSQL, 3 replicas", 3, url, n, latency)
            await takeover(folder / "d", database, args.subscribers)
            if args.votes:
                await vote_burst(folder / "e", database, args.votes)


if __name__ == "__main__":
    asyncio.run(main())
