"""The loop behind the bot's background work (bot/periodic.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.periodic import repeat


async def test_a_failed_round_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds: list[int] = []
    third = asyncio.Event()

    async def step() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("database is locked")
        if len(rounds) == 3:
            third.set()

    log = logging.getLogger("test.periodic")
    task = asyncio.create_task(repeat(step, 0.01, log, "could not do it", brief=True))
    await asyncio.wait_for(third.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [r.getMessage() for r in caplog.records] == ["could not do it; will retry"]
    assert caplog.records[0].levelno == logging.WARNING and caplog.records[0].exc_info is None


async def test_now_runs_the_first_round_at_once_and_cancelling_stops_it() -> None:
    rounds: list[str] = []

    async def step() -> None:
        rounds.append("ran")

    task = asyncio.create_task(repeat(step, 3600, logging.getLogger("t"), "x", now=True))
    await asyncio.sleep(0.05)
    assert rounds == ["ran"]  # the next round is an hour away
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
