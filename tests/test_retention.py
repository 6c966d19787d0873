"""Votes on answers and their comments go when NSBOT_FEEDBACK_RETENTION has passed."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from bot import retention
from bot.adapters.memory import MemoryAdapter
from bot.config import DEFAULT_FEEDBACK_RETENTION, Settings
from bot.errors import ConfigError
from bot.knowledge import KnowledgeBase
from bot.messages import Chat, Person
from bot.storage import SqliteStorage
from tests.consult_helpers import make_core


def test_the_retention_setting_has_a_default_and_a_floor() -> None:
    assert Settings.from_env({}).feedback_retention == timedelta(days=180)  # as the README says
    assert Settings.from_env({"NSBOT_FEEDBACK_RETENTION": "90d"}).feedback_retention == timedelta(
        days=90
    )
    # Shorter than the week an answer can be voted on: a deleted vote could count twice.
    for wrong in ("3d", "0", "ninety days", "-5d"):
        with pytest.raises(ConfigError, match="NSBOT_FEEDBACK_RETENTION"):
            Settings.from_env({"NSBOT_FEEDBACK_RETENTION": wrong})


async def vote_down(bot: MemoryAdapter, comment: str) -> None:
    await bot.ask("when was the migration policy adopted")
    await bot.press("👎")
    await bot.ask(comment)


async def test_votes_and_comments_past_the_retention_are_deleted(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup = make_core(tmp_path, min_kb, storage)
    setup.core.settings = dataclasses.replace(
        setup.core.settings, feedback_retention=timedelta(days=30)
    )
    bot = MemoryAdapter(setup.core, Person("telegram", "1", "A"), Chat("1"))
    await vote_down(bot, "I asked for the month")
    setup.clock.now += timedelta(days=20)
    await vote_down(bot, "still not the month")
    assert len(await storage.feedback_since()) == 2
    assert await retention.purge(setup.core) == 0  # 20 days: both kept
    setup.clock.now += timedelta(days=11)
    assert await retention.purge(setup.core) == 1  # the first is 31 days old
    (left,) = await storage.feedback_since()
    assert left.comment == "still not the month"


async def test_a_running_bot_purges_at_its_start_and_then_on_schedule(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    setup = make_core(tmp_path, min_kb, storage)
    bot = MemoryAdapter(setup.core, Person("telegram", "1", "A"), Chat("1"))
    await vote_down(bot, "wrong")
    setup.clock.now += DEFAULT_FEEDBACK_RETENTION + timedelta(days=1)
    task = asyncio.create_task(retention.run_forever(setup.core, interval=0.01))
    try:
        async with asyncio.timeout(10):
            while await storage.feedback_since():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await vote_down(bot, "wrong again")  # a vote of today, while it keeps running
        await asyncio.sleep(0.05)
        assert [v.comment for v in await storage.feedback_since()] == ["wrong again"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
