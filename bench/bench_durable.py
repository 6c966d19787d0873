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

Under each core figure, the writer's batches (one transaction each, group commit): their
size, the time handling their events took on the event loop (wall, and the loop
thread's CPU), and the COMMIT (the WAL write and its fsync, in the worker thread). At 50
in flight every event of a batch waits for the whole batch, so the p99 is the slowest
batch: this line says whether that was the disk (commit), the work (CPU), or the
machine taking the CPU away (wall above CPU). See README, "Durable throughput".
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
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
from bot.storage import SqliteStorage, Storage  # noqa: E402
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
    """``work(0)`` to ``work(n - 1)``, ``in_flight`` at a time: that many clients, each
    starting its next as soon as its last returned. Not a task per item behind a
    semaphore: starting 3,000 tasks at once held the loop for 11-16 ms after the first
    50 events were sent, which the first batch's latencies then counted (50 of 3,000
    events are more than the 1% the p99 leaves out)."""
    items = iter(range(n))

    async def client() -> None:
        for i in items:
            await work(i)

    await asyncio.gather(*(client() for _ in range(min(in_flight, n))))


def timed(core: Core, latencies: list[float]) -> None:
    real = core.handle

    async def handle(message: Incoming) -> Any:
        started = time.perf_counter()
        try:
            return await real(message)
        finally:
            latencies.append(time.perf_counter() - started)

    core.handle = handle  # type: ignore[method-assign,assignment]


class Batches:
    """Times each batch of the core's writer: handling (from BEGIN to COMMIT, wall and
    the loop thread's CPU) and the COMMIT itself (write and fsync, awaited)."""

    def __init__(self, storage: Storage) -> None:
        assert isinstance(storage, SqliteStorage)
        self.handling: list[float] = []
        self.cpu: list[float] = []
        self.commit: list[float] = []
        self.sizes: list[int] = []
        self.whole: list[float] = []  # from taking the batch to its results
        self.collecting: list[float] = []  # the garbage collector's time in each batch
        self._depth = 0
        self._collected = 0.0
        self._collecting_since = 0.0

        def collector(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                self._collecting_since = time.perf_counter()
            else:
                self._collected += time.perf_counter() - self._collecting_since

        gc.callbacks.append(collector)
        self._started = (0.0, 0.0)
        real_unit, db = storage.unit, storage.db
        real_execute = db.execute

        @asynccontextmanager
        async def unit() -> AsyncIterator[None]:
            self._depth += 1
            if self._depth == 1:
                self._started = (time.perf_counter(), time.thread_time())
                self._collected = 0.0
            try:
                async with real_unit():
                    yield
            finally:
                self._depth -= 1

        def execute(sql: str, params: Any = ()) -> Any:
            if self._depth != 1 or sql.strip().upper() != "COMMIT":
                return real_execute(sql, params)
            wall, cpu = self._started
            self.handling.append(time.perf_counter() - wall)
            self.cpu.append(time.thread_time() - cpu)
            self.collecting.append(self._collected)
            operation = real_execute(sql, params)

            async def timed_commit() -> Any:
                started = time.perf_counter()
                cursor = await operation
                self.commit.append(time.perf_counter() - started)
                return cursor

            return timed_commit()

        storage.unit = unit  # type: ignore[method-assign]
        db.execute = execute  # type: ignore[method-assign]

    def report(self) -> None:
        def ms(values: list[float]) -> str:
            ordered = sorted(values)
            return f"{statistics.median(ordered) * 1000:.1f}/{ordered[-1] * 1000:.1f}"

        if not self.commit:
            return
        off = max(w - c for w, c in zip(self.handling, self.cpu, strict=True))
        print(
            f"    writer: {len(self.commit)} batches (median {statistics.median(self.sizes):.0f}"
            f" events); p50/max per batch: {ms(self.whole)} ms in all; handling {ms(self.handling)} ms wall,"
            f" {ms(self.cpu)} ms CPU (off the CPU up to {off * 1000:.1f} ms,"
            f" collecting garbage up to {max(self.collecting) * 1000:.1f} ms);"
            f" commit (write + fsync) {ms(self.commit)} ms"
        )


def probe(rounds: int = 60) -> None:
    """The machine's own jitter: the same pure-Python work, ``rounds`` times. A slowest
    round well above the median is the machine (a neighbour on the host, another
    process here), which slows the core's batches alike."""

    def work() -> int:
        table = {str(i): i for i in range(20_000)}
        return sum(table.values())

    cpu: list[float] = []
    for _ in range(rounds):
        started = time.thread_time()
        work()
        cpu.append(time.thread_time() - started)
    cpu.sort()
    p50 = statistics.median(cpu)
    print(
        f"  machine: the same pure-Python work {rounds} times: p50 {p50 * 1000:.1f} ms CPU, "
        f"max {cpu[-1] * 1000:.1f} ms ({cpu[-1] / p50:.2f}x)"
    )


def counted(core: Core, batches: Batches) -> None:
    """Batch sizes, as the core's writer takes them."""
    real = core._store_batch

    async def store_batch(batch: Any, paid: Any, taken: Any) -> Any:
        batches.sizes.append(len(batch))
        started = time.perf_counter()
        try:
            return await real(batch, paid, taken)
        finally:
            batches.whole.append(time.perf_counter() - started)

    core._store_batch = store_batch  # type: ignore[method-assign]


async def core_answers(folder: Path, people: int, in_flight: int) -> None:
    kb = load_knowledge(settings_for(folder).knowledge_dir)
    async with SqliteStorage(folder / "bot.sqlite3") as storage:
        setup: Setup = make_core(folder, kb, storage)
        setup.core.settle()  # as the process's start does (bot.app.running_core)
        latencies: list[float] = []
        timed(setup.core, latencies)
        batches = Batches(storage)
        counted(setup.core, batches)
        started, cpu = time.perf_counter(), time.process_time()
        await bounded(people, in_flight, lambda i: answer_as(setup, i))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        rows = await storage.responses("sample")
        assert len(rows) == people and all(r.status == "submitted" for r in rows)
    report("core: consultation events", len(latencies), seconds, latencies, cpu)
    batches.report()


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
        batches = Batches(storage)
        counted(core, batches)

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
    batches.report()


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
    probe()


if __name__ == "__main__":
    asyncio.run(main())
