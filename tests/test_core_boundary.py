"""The core's error boundary and input bounds: what holds whatever the input or storage."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.core import GAPS_PER_HOUR, MAX_INPUT_CHARS, Core
from bot.matcher import Matcher
from bot.messages import Person

from .conftest import FIXED_NOW


async def test_a_locked_database_at_the_claim_gets_an_apology_not_an_exception(
    bot: MemoryAdapter, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def locked(platform: str, event_id: str, now: datetime) -> bool:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(core.storage, "claim_event", locked)
    replies = await bot.send("what is the migration policy")
    assert [r.text for r in replies] == [core.ui.t("error", "en")]


async def test_a_locked_database_at_one_claim_leaves_the_others_of_its_batch_alone(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim is inside the handler's own boundary: only that event gets the apology.
    Outside it, the error undid the whole batch and everyone in it got the apology."""
    real = core.storage.claim_event
    amina, bruno = MemoryAdapter(core, Person("test", "amina")), MemoryAdapter(core)

    async def locked_for_amina(platform: str, event_id: str, now: datetime) -> bool:
        if event_id == "locked":
            raise sqlite3.OperationalError("database is locked")
        return await real(platform, event_id, now)

    monkeypatch.setattr(core.storage, "claim_event", locked_for_amina)
    first, second = await asyncio.gather(  # one batch: both wait for the same commit
        amina.send("when was the migration policy adopted", event_id="locked"),
        bruno.send("when was the migration policy adopted"),
    )
    assert [r.text for r in first] == [core.ui.t("error", "en")]
    assert "2009" in MemoryAdapter.plain(second)


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


async def test_an_event_is_claimed_only_with_its_effects(
    bot: MemoryAdapter, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The power goes between the handler's writes and the commit: nothing of the event
    stays, so the platform's re-delivery is handled instead of ignored as a duplicate."""
    real_unit = core.storage.unit

    @contextlib.asynccontextmanager
    async def cut_before_commit() -> AsyncIterator[None]:
        async with real_unit():
            yield
            raise OSError("power cut")

    monkeypatch.setattr(core.storage, "unit", cut_before_commit)
    replies = await bot.send("/subscribe", event_id="ev-1")
    assert [r.text for r in replies] == [core.ui.t("error", "en")]
    assert await core.storage.get_subscription(bot.person.key) is None
    monkeypatch.undo()
    again = await bot.send("/subscribe", event_id="ev-1")  # the platform re-delivers
    assert again, "the re-delivery is handled, not dropped as already seen"
    assert await core.storage.get_subscription(bot.person.key) is not None
    assert await bot.send("/subscribe", event_id="ev-1") == []  # now it is done: once


async def test_a_failing_handler_leaves_no_half_written_state(
    bot: MemoryAdapter, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_subscribe = core.storage.subscribe

    async def subscribe_then_fail(*args: object, **kwargs: object) -> object:
        await real_subscribe(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("a bug after the first write")

    monkeypatch.setattr(core.storage, "subscribe", subscribe_then_fail)
    replies = await bot.send("/subscribe", event_id="ev-2")
    assert [r.text for r in replies] == [core.ui.t("error", "en")]
    assert await core.storage.get_subscription(bot.person.key) is None


async def test_a_flood_gets_one_notice_and_others_are_not_held_up(
    bot: MemoryAdapter, core: Core
) -> None:
    flood = [await bot.send(f"what about {i}") for i in range(core.flood.burst + 200)]
    notice = core.ui.t("flood_notice", "en")
    answered = [r for r in flood if r and r[0].text != notice]
    notices = [r for r in flood if r and r[0].text == notice]
    assert len(answered) == core.flood.burst and len(notices) == 1
    assert sum(1 for r in flood if r == []) == 199  # the rest: not read, no reply queued
    other = MemoryAdapter(core, Person("test", "u2", "Someone else"))
    assert "November 2009" in await other.ask("when was the migration policy adopted")


async def test_one_person_cannot_fill_the_gap_log(
    bot: MemoryAdapter, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(100):
        clock_now = FIXED_NOW + timedelta(seconds=2 * i)  # slow enough not to be a flood
        monkeypatch.setattr(core, "clock", lambda moment=clock_now: moment)
        await bot.send(f"what is the weather like on planet {i}")
    assert sum(g.count for g in await core.storage.gaps(limit=500)) <= GAPS_PER_HOUR


async def test_replies_survive_in_storage_until_the_adapter_says_they_went_out(
    core: Core,
) -> None:
    from bot.messages import Chat, Choice, Incoming

    message = Incoming(Person("test", "u9"), Chat("u9"), text="/topics", event_id="ev-owed")
    replies = await core.handle(message, route="the adapter's note")
    assert replies and any(r.choices for r in replies)
    [(event_id, route, owed)] = await core.owed("test")  # a crash now: still owed
    assert (event_id, route) == ("ev-owed", "the adapter's note") and owed == replies
    assert all(isinstance(c, Choice) for r in owed for c in r.choices)
    core.paid("test", "ev-owed")
    await core.flush()
    assert await core.owed("test") == []


async def test_a_repeat_reported_before_the_first_answer_went_out_leaves_it_owed(
    core: Core,
) -> None:
    """The platform re-delivers an event while its answer still waits in the outbox:
    the repeat is answered with nothing, and its report must not delete the answer (a
    crash would then lose it). The two reports look alike: the later one deletes it."""
    from bot.messages import Chat, Incoming

    message = Incoming(Person("test", "u9"), Chat("u9"), text="/topics", event_id="ev-9")
    assert await core.handle(message, route="r")  # its answer waits for the outbox
    assert await core.handle(message, route="r") == []  # the repeat
    core.paid("test", "ev-9")  # the repeat's report
    await core.flush()
    assert [e for e, *_ in await core.storage.owed_replies("test", FIXED_NOW)] == ["ev-9"]
    core.paid("test", "ev-9")  # the answer went out
    await core.flush()
    assert await core.storage.owed_replies("test", FIXED_NOW) == []
