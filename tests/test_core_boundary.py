"""The core's error boundary and input bounds: what holds whatever the input or storage."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.core import MAX_INPUT_CHARS, Core
from bot.matcher import Matcher


async def test_a_locked_database_at_the_claim_gets_an_apology_not_an_exception(
    bot: MemoryAdapter, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def locked(platform: str, event_id: str, now: datetime) -> bool:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(core.storage, "claim_event", locked)
    replies = await bot.send("what is the migration policy")
    assert [r.text for r in replies] == [core.ui.t("error", "en")]


async def test_no_handler_sees_more_than_the_input_bound(
    bot: MemoryAdapter, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real = Matcher.normalise_words

    def spy(self: Matcher, text: str) -> list[str]:
        seen.append(len(text))
        return real(self, text)

    monkeypatch.setattr(Matcher, "normalise_words", spy)
    await bot.send("when is the next meeting " + "x" * 100_000)
    assert seen, "the question reached the matcher"
    assert max(seen) <= MAX_INPUT_CHARS
