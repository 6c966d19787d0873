"""Background work done again and again while the bot runs (renewing claims, taking
over a dead replica's work, purging old rows): one loop, so each caller says only what
it does, how often, and what a failure means."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable


async def repeat(
    step: Callable[[], Awaitable[object]],
    interval: float,
    log: logging.Logger,
    failure: str,
    *,
    now: bool = False,
    brief: bool = False,
) -> None:
    """Await ``step()`` every ``interval`` seconds until cancelled, the first time at
    once when ``now``. A failure (a database hiccup) is logged as ``failure`` plus "will
    retry", as one warning line when ``brief``, else with its traceback; the next round
    tries again."""
    wait = not now
    while True:
        if wait:
            await asyncio.sleep(interval)
        wait = True
        try:
            await step()
        except Exception:
            (log.warning if brief else log.exception)("%s; will retry", failure)
