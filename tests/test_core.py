"""The core through the memory adapter: one line per behaviour, as users meet it."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import markup
from bot.adapters.memory import MemoryAdapter
from bot.core import Core
from bot.errors import StorageConflict
from bot.handlers import PIPELINE, timeline
from bot.knowledge import KnowledgeBase
from bot.messages import Chat, Choice, Person
from bot.storage import SqliteStorage

from .conftest import KB_MIN, make_settings, vague_question


async def test_answers_a_question_with_source_and_follow_ups(bot: MemoryAdapter) -> None:
    text = await bot.ask("when was the migration policy adopted")
    assert "November 2009" in text and "General Assembly" in text
    assert "Source:" in text
    assert bot.last[0].choices, "related entries are offered as follow-up buttons"
    follow_up = bot.buttons[0]
    assert await bot.press(follow_up)


async def test_typos_and_acronyms(bot: MemoryAdapter) -> None:
    assert "17 June 2022" in await bot.ask("wen did the mlg meet for the frist time")
    assert "Platform for European Red Cross Cooperation" in await bot.ask("what is perco")


async def test_out_of_scope_falls_back_and_is_logged_without_identity(
    bot: MemoryAdapter, core: Core
) -> None:
    text = await bot.ask("how do I reset my email password")
    assert "I don't have an answer" in text
    assert bot.buttons == ["Browse topics", "Timeline"]
    gaps = await core.storage.gaps()
    assert gaps[0].question == "how do I reset my email password"
    assert gaps[0].status == "fallback"
    assert "u1" not in repr(gaps)


async def test_did_you_mean_and_fallback_are_worded_in_the_question_language(
    bot: MemoryAdapter, core: Core
) -> None:
    """An Arabic or French question typed in an English chat app: "did you mean", its
    "None of these" and the thanks after it, and the fallback, all in the question's
    language, as an answer would be (never the app's English beside Arabic titles)."""
    ui = core.ui
    unsure = [
        (q, r.language)
        for q in ("الاجتماع", "ما هو الطقس في نيروبي", "politique", "quel temps fait-il à Nairobi")
        if (r := core.matcher.match(q)).status == "suggest" and r.language in ("ar", "fr")
    ]
    assert unsure, "no Arabic or French question gets suggestions: pick others"
    question, language = unsure[0]
    text = await bot.ask(question)
    assert text == markup.to_plain(ui.t("suggest", language)) != ui.t("suggest", "en")
    assert bot.buttons[-1] == ui.t("suggest_none", language)
    thanks = await bot.press(ui.t("suggest_none", language))
    assert thanks == markup.to_plain(ui.t("suggest_none_reply", language))

    assert core.matcher.match("comment réinitialiser mon mot de passe").status == "fallback"
    text = await bot.ask("comment réinitialiser mon mot de passe")
    assert text == markup.to_plain(ui.t("fallback", "fr"))
    assert bot.buttons == [ui.t("button_topics", "fr"), ui.t("button_timeline", "fr")]

    # Where the question does not tell its language ("ok"), the chat app's words.
    assert core.matcher.match("ok").language is None


async def test_unsure_question_offers_suggestions_as_buttons(
    bot: MemoryAdapter, core: Core
) -> None:
    text = await bot.ask(vague_question(core.matcher))
    assert "Did you mean" in text
    assert 2 <= len(bot.buttons) <= 4 and bot.buttons[-1] == "None of these"
    chosen = bot.buttons[0]
    answer = await bot.press(chosen)
    assert answer and "Did you mean" not in answer
    assert (await core.storage.gaps())[0].status == "suggest"


async def test_redelivered_event_changes_nothing(bot: MemoryAdapter, core: Core) -> None:
    first = await bot.send("what is the weather", event_id="tg-42")
    again = await bot.send("what is the weather", event_id="tg-42")
    assert first and again == []
    assert (await core.storage.gaps())[0].count == 1


async def test_commands(bot: MemoryAdapter) -> None:
    assert "migration assistant" in await bot.ask("/start")
    assert bot.buttons == ["Browse topics", "Timeline", "Help"]
    assert "/topics" in await bot.ask("/help")
    assert "I don't know the command /frobnicate" in await bot.ask("/frobnicate")
    assert "Type your question after the command" in await bot.ask("/ask")
    assert "November 2009" in await bot.ask("/ask@nsbot_bot when was the migration policy adopted")
    assert "/topics" in await bot.ask("help")  # the bare word works too


async def test_topics_browse_to_an_answer(bot: MemoryAdapter, shipped_kb: KnowledgeBase) -> None:
    await bot.ask("/topics")
    titles = {t.title for t in shipped_kb.topics.values()}
    assert set(bot.buttons) <= titles and len(bot.buttons) >= 5
    policy_title = shipped_kb.topics["policy"].title
    text = await bot.press(policy_title)
    assert policy_title in text
    assert bot.buttons
    assert await bot.press(bot.buttons[0])


async def test_timeline_oldest_first_with_next_marked(
    tmp_path: Path, min_kb: KnowledgeBase
) -> None:
    async with SqliteStorage(tmp_path / "t.sqlite3") as storage:
        before = Core(
            make_settings(tmp_path, KB_MIN),
            min_kb,
            storage,
            clock=lambda: datetime(2022, 6, 1, tzinfo=UTC),
        )
        text = await MemoryAdapter(before).ask("/timeline")
        assert text.index("November 2009") < text.index("22–23 June 2022")
        assert "22–23 June 2022: Council of Delegates 2022 (Geneva), in 21 days ⏭ next" in text
        after = Core(
            make_settings(tmp_path, KB_MIN),
            min_kb,
            storage,
            clock=lambda: datetime(2023, 1, 1, tzinfo=UTC),
        )
        text = await MemoryAdapter(after).ask("/timeline")
        assert "⏭" not in text and "No upcoming event" in text
        assert "2009" not in await MemoryAdapter(after).ask("/timeline 2022")


async def test_shipped_timeline_is_complete_and_ordered(
    bot: MemoryAdapter, shipped_kb: KnowledgeBase
) -> None:
    text = await bot.ask("/timeline")
    positions = [text.index(e.title) for e in shipped_kb.events]
    assert positions == sorted(positions)


async def test_small_talk(bot: MemoryAdapter) -> None:
    assert "Hello, Test!" in await bot.ask("Hello!")
    assert "welcome" in await bot.ask("thanks a lot")
    assert "Goodbye" in await bot.ask("bye")


async def test_stale_or_unknown_buttons_change_nothing(bot: MemoryAdapter) -> None:
    # A button from before the knowledge base changed answers like an unknown one: a
    # notice (a toast on platforms that have them), not a message in the chat.
    for action in ("faq:no-such-entry", "topic:no-such-topic", "ics:no-such-event", "zzz:1"):
        (reply,) = await bot.send(action=action)
        assert reply.notice and "no longer active" in reply.text, action


async def test_one_failing_handler_gets_an_apology_not_the_exception(
    bot: MemoryAdapter, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(ctx: object) -> None:
        raise ValueError("secret internal detail")

    monkeypatch.setattr("bot.core.PIPELINE", [boom, *PIPELINE])
    with caplog.at_level(logging.ERROR):
        text = await bot.ask("hello")
    assert "something went wrong" in text and "secret internal detail" not in text
    assert "secret internal detail" in caplog.text  # logged with the traceback


async def test_person_supplied_text_cannot_inject_markup(bot: MemoryAdapter) -> None:
    weird = Person("test", "u9", "**Admin** [x](https://evil.example)")
    replies = await bot.send("/start", person=weird)
    assert "\\*\\*Admin\\*\\*" in replies[0].text


async def test_group_chat_answers_ask(bot: MemoryAdapter) -> None:
    group = Chat("-100", private=False)
    assert "November 2009" in MemoryAdapter.plain(
        await bot.send("/ask when was the migration policy adopted", chat=group)
    )
    assert "In a group" in MemoryAdapter.plain(await bot.send("/help", chat=group))


def test_button_actions_are_short_ascii() -> None:
    with pytest.raises(ValueError):
        Choice("x", "faq:" + "é" * 40)
    with pytest.raises(ValueError):
        Choice("x", "a" * 65)
    assert Choice("Réunion à Genève", "faq:cod-2022").action == "faq:cod-2022"


async def test_every_answer_button_of_the_knowledge_base_fits(shipped_kb: KnowledgeBase) -> None:
    for entry in shipped_kb.entries.values():
        Choice(entry.title, f"faq:{entry.id}")  # raises if an id ever grows too long


async def test_mydata_summary_lists_reminders_and_time_zone(bot: MemoryAdapter) -> None:
    await bot.ask("/subscribe 3")
    await bot.ask("/timezone Africa/Nairobi")
    text = await bot.ask("/mydata")
    assert "Reminders: subscribed, 3 days before each event" in text
    assert "Time zone: Africa/Nairobi" in text
    await bot.ask("/unsubscribe")
    assert "Reminders: subscribed" not in await bot.ask("/mydata")


async def test_coordinators_see_their_commands_in_help(
    tmp_path: Path, shipped_kb: KnowledgeBase
) -> None:
    async with SqliteStorage(tmp_path / "h.sqlite3") as storage:
        settings = make_settings(tmp_path, coordinators=frozenset({"test:boss"}))
        core = Core(settings, shipped_kb, storage)
        boss = MemoryAdapter(core, Person("test", "boss", "Boss"))
        staff = MemoryAdapter(core, Person("test", "u1", "Staff"))
        assert "/announce" in await boss.ask("/help")
        assert "/announce" not in await staff.ask("/help")


async def test_a_batch_undone_by_a_deadlock_is_stored_again_not_apologised_for(
    min_bot: MemoryAdapter, min_core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL undid a statement to let another replica's batch through: the event
    is handled again in a unit of its own, and answered (before, it got the apology and
    its claim stayed, so the vote or answer was lost for good)."""
    storage = min_core.storage
    real = storage.savepoint
    conflicts = [StorageConflict("deadlock detected")]

    @contextlib.asynccontextmanager
    async def once_in_conflict() -> AsyncIterator[None]:
        async with real():
            if conflicts:
                raise conflicts.pop()
            yield

    monkeypatch.setattr(storage, "savepoint", once_in_conflict)
    answer = await min_bot.send("when was the migration policy adopted", event_id="sl-7")
    assert conflicts == []  # the conflict did happen
    assert "November 2009" in " ".join(r.text for r in answer)
    assert await min_bot.send("when was the migration policy adopted", event_id="sl-7") == []


async def test_people_answered_by_one_batch_join_the_next_one_with_those_waiting(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: 20 people are being answered when 20 more write; each then sends
    two more messages as soon as answered. The answered ones join the next transaction
    with those who waited, instead of the two groups taking turns (one commit each)."""
    import asyncio

    units = 0
    real_unit = core.storage.unit
    later: list[asyncio.Task[None]] = []

    def counted() -> contextlib.AbstractAsyncContextManager[None]:
        nonlocal units
        units += 1
        if units == 1:  # the second group writes while the first one is handled
            later.extend(asyncio.create_task(person(i)) for i in range(20, 40))
        return real_unit()

    monkeypatch.setattr(core.storage, "unit", counted)

    async def person(i: int) -> None:
        bot = MemoryAdapter(core, Person("test", f"u{i}"))
        for _ in range(3):
            assert await bot.ask("/help")

    await asyncio.gather(*(person(i) for i in range(20)))
    await asyncio.gather(*later)
    # First group, then everyone together for the rounds left (taking turns: 6 or more).
    assert units <= 4, units


async def test_settle_keeps_the_loaded_content_out_of_the_collectors_passes(
    core: Core, shipped_kb: KnowledgeBase
) -> None:
    """The process's start calls settle(): a full pass of the collector would otherwise
    walk the whole knowledge base and index while events wait. A reload settles again."""
    try:
        core.settle()
        assert gc.get_freeze_count() > 0
        assert not any(o is shipped_kb for o in gc.get_objects())  # in no generation: frozen
        known = timeline._words_of(core.matcher)[1]  # every event's words worked out already
        assert all(known[id(e)][0] is e for e in shipped_kb.events)
        core.use(core.content)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
