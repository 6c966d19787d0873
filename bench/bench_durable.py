"""Durable throughput of the core, beside a naive peer measured in the same run.

    python bench/bench_durable.py                 # 300 respondents, 50 in flight
    python bench/bench_durable.py --people 600 --in-flight 100

Prints figures, asserts nothing (tests never time things). Both sides write a real
SQLite file in WAL mode with synchronous=FULL: every acknowledged event survives
``kill -9``.

- consultation: each respondent answers the fixture consultation through
  ``Core.handle`` (start, consent, six answers, submit: nine events), 50 at a time.
- questions: free-text questions through ``Core.handle`` (matching, the claim, the gap log).
- naive peer: the same durable work written by hand, one transaction per event on one
  aiosqlite connection: claim the event, upsert the answer, move the position
  (answers); match, claim, log (questions).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import wordlists  # noqa: E402
from bot.config import shipped_knowledge_dir  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.matcher import Matcher  # noqa: E402
from bot.messages import Chat, Incoming, Person  # noqa: E402
from bot.storage import SqliteStorage  # noqa: E402
from tests.consult_helpers import Setup, make_core, settings_for  # noqa: E402
from tests.test_consult_durability import answer_as  # noqa: E402

QUESTIONS = [
    "when was the migration policy adopted",
    "what is perco",
    "who chairs the migration reference group",
    "what is a humanitarian service point",
    "when is the next council of delegates",
    "what's the weather in Nairobi tomorrow",
]


def report(name: str, events: int, seconds: float, latencies: list[float], cpu: float) -> None:
    """``cpu``: the process's CPU seconds over the run (every thread), per event: the
    figure the machine's other load disturbs least."""
    latencies = sorted(latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    print(
        f"  {name:<34} {events / seconds:>8.0f} events/s   p50 {p50:6.1f} ms   "
        f"p99 {p99:6.1f} ms   cpu {cpu / events * 1000:5.2f} ms/event   "
        f"({events} events in {seconds:.2f} s)"
    )


async def bounded(n: int, in_flight: int, work: Callable[[int], Awaitable[None]]) -> None:
    gate = asyncio.Semaphore(in_flight)

    async def one(i: int) -> None:
        async with gate:
            await work(i)

    await asyncio.gather(*(one(i) for i in range(n)))


def timed(core: Core, latencies: list[float]) -> None:
    real = core.handle

    async def handle(message: Incoming) -> Any:
        started = time.perf_counter()
        try:
            return await real(message)
        finally:
            latencies.append(time.perf_counter() - started)

    core.handle = handle  # type: ignore[method-assign,assignment]


async def core_answers(folder: Path, people: int, in_flight: int) -> None:
    kb = load_knowledge(settings_for(folder).knowledge_dir)
    async with SqliteStorage(folder / "bot.sqlite3") as storage:
        setup: Setup = make_core(folder, kb, storage)
        setup.core.settle()  # as the process's start does (bot.app.running_core)
        latencies: list[float] = []
        timed(setup.core, latencies)
        started, cpu = time.perf_counter(), time.process_time()
        await bounded(people, in_flight, lambda i: answer_as(setup, i))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        rows = await storage.responses("sample")
        assert len(rows) == people and all(r.status == "submitted" for r in rows)
    report("core: consultation events", len(latencies), seconds, latencies, cpu)


async def naive_answers(folder: Path, people: int, in_flight: int, per_person: int) -> None:
    db = await aiosqlite.connect(str(folder / "naive.sqlite3"), isolation_level=None)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=FULL")
    await db.executescript(
        """CREATE TABLE seen (event TEXT PRIMARY KEY);
           CREATE TABLE responses (id INTEGER PRIMARY KEY, position TEXT);
           CREATE TABLE answers (response INTEGER, question TEXT, value TEXT,
                                 PRIMARY KEY (response, question));"""
    )
    lock = asyncio.Lock()
    latencies: list[float] = []
    ids = itertools.count()

    async def person(i: int) -> None:
        for q in range(per_person):
            started = time.perf_counter()
            async with lock:
                await db.execute("BEGIN IMMEDIATE")
                await db.execute("INSERT INTO seen VALUES (?)", (f"e{next(ids)}",))
                await db.execute(
                    "INSERT OR REPLACE INTO answers VALUES (?, ?, ?)", (i, f"q{q}", '"x"')
                )
                await db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)", (i, f"q{q + 1}"))
                await db.execute("COMMIT")
            latencies.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), time.process_time()
    await bounded(people, in_flight, person)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    await db.close()
    report("naive peer: answers", len(latencies), seconds, latencies, cpu)


async def core_questions(folder: Path, n: int, in_flight: int) -> None:
    kb = load_knowledge(shipped_knowledge_dir())
    settings = settings_for(folder, knowledge_dir=shipped_knowledge_dir())
    async with SqliteStorage(folder / "q.sqlite3") as storage:
        core = Core(settings, kb, storage)
        core.settle()  # as the process's start does (bot.app.running_core)
        wordlists.preload()  # as a bot running for a second has (bot.app: read soon after start)
        latencies: list[float] = []
        timed(core, latencies)

        async def ask(i: int) -> None:
            person = Person("bench", f"u{i}")
            await core.handle(
                Incoming(
                    person,
                    Chat(person.user_id),
                    text=QUESTIONS[i % len(QUESTIONS)],
                    event_id=f"q{i}",
                )
            )

        started, cpu = time.perf_counter(), time.process_time()
        await bounded(n, in_flight, ask)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    report("core: questions", n, seconds, latencies, cpu)


async def naive_questions(folder: Path, n: int, in_flight: int) -> None:
    matcher = Matcher(load_knowledge(shipped_knowledge_dir()))
    db = await aiosqlite.connect(str(folder / "naive-q.sqlite3"), isolation_level=None)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=FULL")
    await db.executescript(
        "CREATE TABLE seen (event TEXT PRIMARY KEY); CREATE TABLE gaps (q TEXT, at TEXT);"
    )
    lock = asyncio.Lock()
    latencies: list[float] = []

    async def ask(i: int) -> None:
        started = time.perf_counter()
        text = QUESTIONS[i % len(QUESTIONS)]
        result = matcher.match(text)
        async with lock:
            await db.execute("BEGIN IMMEDIATE")
            await db.execute("INSERT INTO seen VALUES (?)", (f"q{i}",))
            if result is None or not getattr(result, "entry", None):
                await db.execute("INSERT INTO gaps VALUES (?, ?)", (text, "now"))
            await db.execute("COMMIT")
        latencies.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), time.process_time()
    await bounded(n, in_flight, ask)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    await db.close()
    report("naive peer: questions", n, seconds, latencies, cpu)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=50)
    args = parser.parse_args()
    print(f"durable throughput, {args.in_flight} in flight (synchronous=FULL, WAL):")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        await core_answers(folder / "core", args.people, args.in_flight)
        await naive_answers(folder, args.people, args.in_flight, per_person=9)
        await core_questions(folder / "core-q", args.questions, args.in_flight)
        await naive_questions(folder, args.questions, args.in_flight)


if __name__ == "__main__":
    asyncio.run(main())
