"""A 2,000-vote burst on a group poll, end to end over a fake Telegram Bot API on
127.0.0.1, beside a naive peer measured in the same run.

    python bench/bench_poll_burst.py              # 2,000 voters
    python bench/bench_poll_burst.py --voters 500

The bot runs as in production (TelegramAdapter, real clock, Telegram's rate limits,
SQLite with synchronous=FULL). All votes are queued at once, as Telegram delivers a
backlog. Printed: votes counted, when the posted tally showed the final count (after
the last vote was delivered), toasts (answerCallbackQuery) latency and how many came
after Telegram's ~15 s expiry, messages posted in the group besides the poll, texts
over the platform limits, calls the fake refused with a 429 (it enforces Telegram's
rates: 1 message/s per chat, 20/min per group, 30/s in all), and how long stop() took. The naive peer handles the same
updates with one transaction per vote, a toast per vote and one tally edit at the end.
Last, ``nsbot run`` as a process of its own takes the same burst and gets SIGTERM once
a tenth of the toasts went out: how long it took to exit, how many votes were counted
and how many were stored to be handled at the next start, then the restart's count.
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import aiosqlite

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.adapters.telegram import TelegramAdapter  # noqa: E402
from bot.app import running_core  # noqa: E402
from bot.config import Settings  # noqa: E402
from tests.fake_telegram import FakeTelegram, RateLimits, fixture, user  # noqa: E402
from tests.test_telegram_durability import Process  # noqa: E402

KB_MIN = ROOT / "tests" / "fixtures" / "kb_min" / "knowledge"
GROUP = fixture("group_message")["message"]["chat"]
CORA = user(999, "Cora")
TOAST_EXPIRY = 15.0


def settings(folder: Path, fake: FakeTelegram) -> Settings:
    return Settings(
        db_path=folder / "bot.sqlite3",
        knowledge_dir=KB_MIN,
        hash_key="bench-key-not-secret-0123456789",
        coordinators=frozenset({f"telegram:{CORA['id']}"}),
        platform={"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url},
    )


def visible(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def shows_voters(text: str, voters: int) -> bool:
    """The tally names this many voters ("2,000 voters": grouped digits, plural)."""
    found = re.search(r"(\d[\d,.\u202f\u00a0 ]*)\s+voters?\b", visible(text))
    return found is not None and int(re.sub(r"\D", "", found.group(1))) == voters


def summary(
    name: str,
    fake: FakeTelegram,
    pushed: dict[str, float],
    last_pushed: float,
    final_at: float | None,
    voters: int,
    counted: int,
    stop_s: float,
) -> None:
    toasts = [c for c in fake.of("answerCallbackQuery")]
    waits = sorted(
        c.at - pushed[c["callback_query_id"]] for c in toasts if c["callback_query_id"] in pushed
    )
    group_messages = len(fake.of("sendMessage", GROUP["id"])) - 1
    too_long = sum(
        1
        for c in fake.calls
        if len(visible(str(c.get("text") or "")))
        > (200 if c.method == "answerCallbackQuery" else 4096)
    )
    p50 = statistics.median(waits) if waits else float("nan")
    p99 = waits[max(0, int(len(waits) * 0.99) - 1)] if waits else float("nan")
    late = sum(1 for w in waits if w > TOAST_EXPIRY)
    final = f"{final_at - last_pushed:.2f} s" if final_at is not None else "never"
    print(f"  {name}")
    print(f"    votes counted            {counted} of {voters}")
    print(f"    final tally shown        {final} after the last vote was delivered")
    print(
        f"    toasts                   {len(waits)}  p50 {p50:.2f} s  p99 {p99:.2f} s  "
        f"after {TOAST_EXPIRY:.0f} s: {late}"
    )
    print(f"    notices posted in group  {group_messages}")
    print(f"    texts over the limits    {too_long}")
    print(f"    refused by rate (429)    {len(fake.refused)}")
    print(f"    stop took                {stop_s:.2f} s")


async def post_poll(fake: FakeTelegram) -> dict[str, Any]:
    fake.send(
        CORA, "/poll Which topic first? | Access to services | Climate displacement", chat=GROUP
    )
    message: dict[str, Any] = await fake.wait_for(
        lambda: next((m for (chat, _), m in fake.messages.items() if chat == GROUP["id"]), None),
        within=30,
    )
    return message


def burst(fake: FakeTelegram, poll: dict[str, Any], voters: int) -> tuple[dict[str, float], float]:
    data = [b["callback_data"] for row in poll["reply_markup"]["inline_keyboard"] for b in row]
    pushed: dict[str, float] = {}
    for i in range(voters):
        update = fake.press(user(10_000 + i, f"Voter{i}"), poll, data[i % 2])
        pushed[update["callback_query"]["id"]] = time.monotonic()
    return pushed, time.monotonic()


async def run_bot(folder: Path, voters: int) -> None:
    fake = FakeTelegram(clock=time.monotonic, limits=RateLimits())
    await fake.start()
    config = settings(folder, fake)
    async with running_core(config) as core:
        adapter = TelegramAdapter(core, config, poll_timeout=1)
        await adapter.start()
        poll = await post_poll(fake)
        key = (GROUP["id"], poll["message_id"])
        pushed, last = burst(fake, poll, voters)
        final_at: float | None = None
        try:
            await fake.wait_for(
                lambda: shows_voters(fake.messages[key].get("text", ""), voters),
                within=120,
            )
            final_at = time.monotonic()
        except TimeoutError:
            pass
        tally = await core.storage.poll_tally(1)
        started = time.monotonic()
        await adapter.stop()
        stop_s = time.monotonic() - started
    await fake.stop()
    summary("nsbot", fake, pushed, last, final_at, voters, tally.voters, stop_s)


async def run_naive(folder: Path, voters: int) -> None:
    """Fetch, one transaction per vote, toast; one edit of the tally when it is quiet."""
    fake = FakeTelegram(clock=time.monotonic, limits=RateLimits())
    await fake.start()
    api = f"{fake.base_url}{fake.token}"
    db = await aiosqlite.connect(str(folder / "naive.sqlite3"), isolation_level=None)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=FULL")
    await db.execute("CREATE TABLE votes (voter TEXT PRIMARY KEY, option INTEGER)")
    async with aiohttp.ClientSession() as http:

        async def call(method: str, **params: Any) -> Any:
            async with http.post(f"{api}/{method}", json=params) as response:
                return (await response.json()).get("result")

        sent = await call(
            "sendMessage",
            chat_id=GROUP["id"],
            text="Which topic first? 0 voters",
            reply_markup={
                "inline_keyboard": [
                    [
                        {"text": "Access", "callback_data": "pv:1:0"},
                        {"text": "Climate", "callback_data": "pv:1:1"},
                    ]
                ]
            },
        )
        poll = fake.messages[(GROUP["id"], sent["message_id"])]
        pushed, last = burst(fake, poll, voters)
        offset, counted = 0, 0
        while counted < voters:
            updates = await call("getUpdates", offset=offset, timeout=1) or []
            for update in updates:
                offset = update["update_id"] + 1
                query = update["callback_query"]
                await db.execute("BEGIN IMMEDIATE")
                await db.execute(
                    "INSERT OR REPLACE INTO votes VALUES (?, ?)",
                    (str(query["from"]["id"]), int(query["data"][-1])),
                )
                await db.execute("COMMIT")
                await call("answerCallbackQuery", callback_query_id=query["id"], text="Voted")
                counted += 1
        async with db.execute("SELECT COUNT(*) FROM votes") as cur:
            row = await cur.fetchone()
        await call(
            "editMessageText",
            chat_id=GROUP["id"],
            message_id=sent["message_id"],
            text=f"Which topic first? {row[0]} voters",
        )
        final_at = time.monotonic()
    await db.close()
    await fake.stop()
    summary("naive peer", fake, pushed, last, final_at, voters, int(row[0]), 0.0)


async def run_sigterm(folder: Path, voters: int) -> None:
    """``nsbot run`` as a process: SIGTERM in the middle of the burst, then a restart."""
    await asyncio.to_thread(folder.mkdir)
    fake = FakeTelegram(clock=time.monotonic)
    await fake.start()
    bot = await Process.start(folder, fake, "-m", "bot", "run")
    await bot.polling(fake)
    poll = await post_poll(fake)
    key = (GROUP["id"], poll["message_id"])
    burst(fake, poll, voters)
    await fake.wait_for(lambda: len(fake.of("answerCallbackQuery")) >= voters // 10, within=120)
    code, took = await bot.terminate(within=120)

    def counted() -> int:
        with sqlite3.connect(folder / "bot.sqlite3") as db:
            return int(db.execute("SELECT COUNT(DISTINCT voter) FROM poll_votes").fetchone()[0])

    def kept() -> int:
        with sqlite3.connect(folder / "bot.sqlite3") as db:
            try:
                return int(db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0])
            except sqlite3.OperationalError:  # a version without an inbox
                return 0

    at_stop, waiting = counted(), kept()
    shown_at_exit = shows_voters(fake.messages[key].get("text", ""), voters)
    restarted = time.monotonic()
    again = await Process.start(folder, fake, "-m", "bot", "run")
    final_s: float | None = None
    try:
        await fake.wait_for(
            lambda: shows_voters(fake.messages[key].get("text", ""), voters), within=120
        )
        final_s = time.monotonic() - restarted
    except TimeoutError:
        pass
    finally:
        await again.terminate(within=120)
    await fake.stop()
    print("  nsbot run, SIGTERM after a tenth of the toasts")
    print(f"    exit after SIGTERM       {took:.2f} s (exit code {code})")
    print(f"    votes counted at exit    {at_stop}, {waiting} stored to handle at the restart")
    print(f"    votes counted, restarted {counted()} of {voters}")
    final = f"{final_s:.2f} s" if final_s is not None else "never"
    if shown_at_exit:
        final = "before the exit"
    else:
        final += " after the restart (process start included)"
    print(f"    final tally shown        {final}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--voters", type=int, default=2000)
    args = parser.parse_args()
    print(f"poll burst: {args.voters} votes queued at once in one group")
    with tempfile.TemporaryDirectory() as tmp:
        await run_bot(Path(tmp), args.voters)
        await run_naive(Path(tmp), args.voters)
        await run_sigterm(Path(tmp) / "sigterm", args.voters)


if __name__ == "__main__":
    asyncio.run(main())
