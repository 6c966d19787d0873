"""Matching in turns on the event loop.

Matching is pure Python and holds the GIL, so a thread does not help (it only adds
contention), and it runs on the loop. A match takes a fraction of a millisecond, but
eight chats asking at once would each run theirs in the same turn of the loop and hold
timers, I/O and acknowledgements back for the sum of them. Taking turns bounds that to one
match per loop turn: throughput is the same, the loop's lag is one match, not eight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Turns:
    """Runs CPU-bound calls one per loop turn, in the order they were asked."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()  # fair (FIFO), and bound to no loop until first used

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._lock:
            result = fn(*args, **kwargs)
            # Hand the loop back before the next call starts: timers and I/O run between.
            await asyncio.sleep(0)
        return result
