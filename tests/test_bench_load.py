"""The load of bench/bench_durable.py: ``in_flight`` clients, not a task per event.

With a task per event behind a semaphore, starting 3,000 tasks held the event loop for
11-16 ms after the first 50 events were sent: the first batch's latencies counted the
load generator's own work, and being 50 of 3,000 they set the p99 (issue #12). No
timing here: the test counts the tasks alive while the work runs.
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_durable.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_durable", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_bench_keeps_in_flight_clients_and_no_task_per_event() -> None:
    bounded = _bench().bounded
    done: list[int] = []
    alive: list[int] = []
    running = 0
    most = 0

    async def work(i: int) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        alive.append(len(asyncio.all_tasks()))
        await asyncio.sleep(0)
        done.append(i)
        running -= 1

    await bounded(300, 5, work)
    assert sorted(done) == list(range(300))  # every item once
    assert most == 5  # five in flight, as asked
    assert max(alive) <= 5 + 1  # the clients and the test's own task, never 300
