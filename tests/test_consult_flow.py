"""Answering a consultation through the core, as every adapter drives it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.knowledge import KnowledgeBase
from bot.messages import MAX_ACTION_BYTES, Incoming, Person
from bot.storage import SqliteStorage
from tests.consult_helpers import (
    Setup,
    action_of,
    agree,
    make_core,
    press_with_origin,
    start_sample,
)


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    return make_core(tmp_path, min_kb, storage)


@pytest.fixture
def bot(setup: Setup) -> MemoryAdapter:
    return setup.person()


async def answers_of(
    setup: Setup, bot: MemoryAdapter, consultation: str = "sample"
) -> dict[str, object]:
    c = setup.core.consultations.get(consultation)
    assert c is not None
    key = setup.core.pseudonyms.respondent(c.id, bot.person.key) if c.anonymous else bot.person.key
    row = await setup.core.storage.get_response(c.id, key)
    assert row is not None
    return {"status": row.status, "position": row.position, **row.answers}


async def test_the_profile_is_asked_once_after_the_introduction_and_consent(
    bot: MemoryAdapter,
) -> None:
    text = await bot.ask("/consult")
    assert "Sample consultation" in text and "Named check-in" in text
    assert "An old survey" not in text  # closed: not listed
    assert set(bot.buttons) == {"Sample consultation", "Named check-in"}
    text = await bot.press("Sample consultation")
    assert "Do you agree to take part?" in text and "Which National Society" not in text
    text = await bot.press("I agree, start")
    assert "National Society" in text and bot.buttons == ["Skip"]
    text = await bot.ask("Kenya Red Cross Society")
    assert "region" in text and "Africa" in bot.buttons
    text = await bot.press("Africa")
    assert "Kenya Red Cross Society" in text and "Africa" in text
    assert "Question 1 of 6" in text
    # the profile is asked once: the next consultation goes straight to its questions
    await bot.ask("cancel")
    await bot.ask("/consult named-check")
    assert "Question 1" in await bot.press("I agree, start")


async def test_not_now_saves_nothing_and_says_so_truthfully(
    setup: Setup, bot: MemoryAdapter
) -> None:
    """Declining comes before any question, the profile's included: nothing was saved."""
    await bot.ask("/consult")
    await bot.press("Sample consultation")
    text = await bot.press("Not now")
    assert "nothing was saved" in text
    assert await setup.core.storage.get_profile(bot.person.key) is None


async def test_a_whole_consultation_with_buttons_typed_answers_and_review(
    setup: Setup, bot: MemoryAdapter
) -> None:
    await bot.ask("/consult")
    text = await bot.press("Sample consultation")
    assert "Do you agree to take part?" in text and "Anonymous" in text
    text = await agree(bot)
    assert "Question 1 of 6" in text and bot.buttons == ["APMN", "PERCO", "None or other"]
    text = await bot.ask("PERC0")  # a close misspelling of a label
    assert "Question 2 of 6" in text and "1 = not useful … 5 = very useful" in text
    assert bot.buttons == ["1", "2", "3", "4", "5", "⬅ Back"]
    text = await bot.press("4")
    assert "Question 3 of 6" in text
    await bot.press("☐ Access to services")
    assert bot.buttons[:2] == ["☑ Access to services", "☐ Climate displacement"]
    await bot.press("☐ Missing migrants")
    question = bot.last
    replies = await bot.send(action=action_of(bot, "☐ Inclusion"))  # a third pick is one too many
    assert replies[0].notice and "up to 2" in replies[0].text
    bot.last = question  # the question message still shows its buttons
    text = await bot.ask("done")  # typed, like the Done button
    assert "Question 4 of 6" in text and bot.buttons == ["Yes", "No", "⬅ Back"]
    text = await bot.ask("2")  # typed number of an option: No
    assert "Question 5 of 6" in text and "Skip" in bot.buttons
    text = await bot.ask("skip")
    assert "Question 6 of 6" in text
    text = await bot.ask("They need safe routes; “clinics” & legal aid 💬")
    assert "Your answers" in text and "safe routes" in text and "skipped" in text
    assert "✅ Send my answers" in bot.buttons
    text = await bot.press("✅ Send my answers")
    assert "Thank you!" in text and "Reference:" in text and "Questions answered: 5 of 6" in text
    assert "without your name" in text
    saved = await answers_of(setup, bot)
    assert saved == {
        "status": "submitted",
        "position": "done",
        "network": "perco",
        "usefulness": 4,
        "priorities": ["services", "missing"],
        "hsp": "no",
        "staff": None,
        "story": "They need safe routes; “clinics” & legal aid 💬",
    }
    assert await setup.core.storage.get_state(bot.person.key, bot.chat.chat_id) is None


async def test_back_skip_cancel_and_help_at_a_question(setup: Setup, bot: MemoryAdapter) -> None:
    await start_sample(bot)
    await bot.press("APMN")
    text = await bot.ask("help")
    assert "back" in text and "cancel" in text and "Question 2 of 6" in text
    text = await bot.ask("skip")
    assert "cannot be skipped" in text and "Question 2 of 6" in text
    text = await bot.ask("back")
    assert "Question 1 of 6" in text and "Your current answer: APMN" in text
    text = await bot.ask("none")  # the scale question disappears with this answer
    assert "Question 2 of 5" in text and "priorities" in text.lower()
    text = await bot.ask("cancel")
    assert "Paused" in text
    assert await setup.core.storage.get_state(bot.person.key, bot.chat.chat_id) is None
    # after cancel, typed text is a question for the knowledge base again
    assert "IFRC" in await bot.ask("Who chairs the Migration Reference Group?")
    text = await bot.ask("/consult sample")
    assert (
        "Welcome back" in text
        and "answered 1 question so far" in text
        and "Question 2 of 5" in text
    )


async def test_a_question_asked_in_the_middle_keeps_the_place(bot: MemoryAdapter) -> None:
    await start_sample(bot)
    text = await bot.ask("When was the migration policy adopted?")
    assert "November 2009" in text  # answered from the knowledge base
    assert "Back to the consultation" in text and "Question 1 of 6" in text
    assert bot.buttons == ["APMN", "PERCO", "None or other"]
    text = await bot.ask("What is the weather like in Geneva?")
    assert "type cancel to pause" in text.lower() and "Question 1 of 6" in text
    text = await bot.ask("🙂")
    assert "did not recognise" in text and "Question 1 of 6" in text


async def test_other_commands_pass_through_and_keep_the_place(bot: MemoryAdapter) -> None:
    await start_sample(bot)
    await bot.press("PERCO")
    assert "Topics" in await bot.ask("/topics") or bot.buttons
    text = await bot.ask("3")
    assert "Question 3 of 6" in text


async def test_free_text_takes_any_text_and_refuses_too_long(
    setup: Setup, bot: MemoryAdapter
) -> None:
    await start_sample(bot)
    for answer in ("None or other", "1", "yes", "0"):
        await bot.ask(answer)
    assert "Question 5 of 5" in bot.plain(bot.last)
    text = await bot.ask("x" * 10_000)
    assert "10000 characters; the limit is 200" in text and "Question 5 of 5" in text
    tricky = '\'; DROP TABLE responses; -- =HYPERLINK("x") مرحبا بكم'
    text = await bot.ask(tricky)
    assert "Your answers" in text
    assert (await answers_of(setup, bot))["story"] == tricky
    assert (await answers_of(setup, bot))["staff"] == 0


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5", "from 0 to 1000"),
        ("5000", "from 0 to 1000"),
        ("2.5", "whole number"),
        ("many", "type a number"),
        ("🙂🙂", "type a number"),
        ("12 people", "type a number"),
    ],
)
async def test_bad_numbers_get_a_clear_message(
    bot: MemoryAdapter, typed: str, message: str
) -> None:
    await start_sample(bot)
    for answer in ("None or other", "1", "yes"):
        await bot.ask(answer)
    text = await bot.ask(typed)
    assert message in text.lower() or message in text
    assert "Question 4 of 5" in text


async def test_arabic_indic_digits_are_numbers_too(setup: Setup, bot: MemoryAdapter) -> None:
    await start_sample(bot)
    for answer in ("None or other", "1", "yes", "١٢"):
        await bot.ask(answer)
    assert (await answers_of(setup, bot))["staff"] == 12


async def test_choice_buttons_are_short_and_opaque(bot: MemoryAdapter) -> None:
    await start_sample(bot)
    actions = [c.action for r in bot.last for c in r.choices]
    assert actions == ["ca:sample:0:0", "ca:sample:0:1", "ca:sample:0:2"]
    assert all(len(a.encode()) <= MAX_ACTION_BYTES for a in actions)


async def test_pressing_a_choice_edits_the_pressed_message_then_asks_the_next(
    bot: MemoryAdapter,
) -> None:
    await start_sample(bot)
    replies = await press_with_origin(bot, "PERCO", origin="tg:42")
    assert replies[0].edit == "tg:42" and replies[0].choices == ()
    assert "Which regional network" in replies[0].text and "PERCO" in replies[0].text
    assert "Question 2 of 6" in replies[1].text and replies[1].edit is None


async def test_a_stale_button_changes_nothing_and_says_so(setup: Setup, bot: MemoryAdapter) -> None:
    await start_sample(bot)
    first_question = bot.last
    await bot.press("PERCO")
    bot.last = first_question
    replies = await bot.send(action=action_of(bot, "APMN"))
    assert len(replies) == 1 and replies[0].notice and "nothing was changed" in replies[0].text
    saved = await answers_of(setup, bot)
    assert saved["network"] == "perco" and saved["position"] == "usefulness"


async def test_the_same_delivery_twice_changes_nothing(setup: Setup, bot: MemoryAdapter) -> None:
    await start_sample(bot)
    event = Incoming(bot.person, bot.chat, action="ca:sample:0:1", event_id="tg-update-777")
    first = await setup.core.handle(event)
    assert "Question 2 of 6" in bot.plain(first)
    assert await setup.core.handle(event) == []  # a platform retry
    typed = Incoming(bot.person, bot.chat, text="3", event_id="tg-update-778")
    await setup.core.handle(typed)
    assert await setup.core.handle(typed) == []
    saved = await answers_of(setup, bot)
    assert saved == {
        "status": "draft",
        "position": "priorities",
        "network": "perco",
        "usefulness": 3,
    }


async def test_resume_the_draft_and_change_after_submitting(
    setup: Setup, bot: MemoryAdapter
) -> None:
    await start_sample(bot)
    for answer in ("APMN", "2", "1, 2", "yes", "12", "ok"):
        await bot.ask(answer)
    await bot.press("✅ Send my answers")
    text = await bot.ask("/consult sample")
    assert "You sent your answers" in text and "✏ 1" in bot.buttons
    await bot.press("✏ 1")
    text = await bot.press("None or other")  # hides question 2: its answer is dropped
    assert "Your answers" in text and "How useful" not in text
    text = await bot.press("✅ Done")
    assert "changes are saved" in text
    saved = await answers_of(setup, bot)
    assert (
        saved["status"] == "submitted" and saved["network"] == "none" and "usefulness" not in saved
    )
    assert saved["staff"] == 12


async def test_one_response_per_person_and_consultation(setup: Setup, bot: MemoryAdapter) -> None:
    await start_sample(bot)
    await bot.press("PERCO")
    await bot.ask("/consult sample")
    assert "Welcome back" in bot.plain(bot.last)
    rows = await setup.core.storage.responses("sample")
    assert len(rows) == 1


async def test_a_closed_consultation_accepts_nothing(setup: Setup, bot: MemoryAdapter) -> None:
    text = await bot.ask("/consult old-survey")
    assert "was open until" in text and "no longer accepts answers" in text
    await start_sample(bot)
    question = bot.last
    await setup.core.storage.close_consultation("sample", "test:coord", setup.clock.now)
    bot.last = question
    text = await bot.press("PERCO")
    assert "no longer accepts answers" in text
    assert "no longer accepts answers" in await bot.ask("perco")
    assert (await answers_of(setup, bot)).get("network") is None
    assert "no longer accepts answers" in await bot.ask("/consult sample")


async def test_closing_time_passing_mid_consultation(setup: Setup, bot: MemoryAdapter) -> None:
    await start_sample(bot)
    setup.clock.now = setup.clock.now.replace(year=2100)
    assert "no longer accepts answers" in await bot.ask("perco")


async def test_named_consultation_for_registered_people_asks_the_national_society_first(
    setup: Setup, bot: MemoryAdapter
) -> None:
    text = await bot.ask("/consult named-check")
    assert "registered their National Society" in text
    await bot.ask("Philippine Red Cross")
    text = await bot.press("Asia Pacific")
    assert "Named check-in" in text and "Named:" in text
    await bot.press("I agree, start")
    await bot.press("Yes")
    await bot.ask("skip")
    await bot.ask("send")
    assert "Thank you" in bot.plain(bot.last) and "Your name is stored" in bot.plain(bot.last)
    row = await setup.core.storage.get_response("named-check", bot.person.key)
    assert row and row.person == bot.person.key and row.display_name == "Test User"
    assert row.national_society == "Philippine Red Cross" and row.region == "asia-pacific"


async def test_consent_can_be_declined_or_typed(setup: Setup, bot: MemoryAdapter) -> None:
    await bot.ask("/consult sample")
    text = await bot.press("Not now")
    assert "nothing was saved" in text
    assert await setup.core.storage.responses("sample") == []
    await bot.ask("/consult sample")
    assert "press **I agree" in (await bot.ask("maybe later")).replace(
        "press I agree", "press **I agree"
    )
    assert "Which National Society" in await bot.ask("I agree")  # asked once, after consent
    await bot.ask("skip")
    assert "Question 1 of 6" in await bot.ask("skip")


async def test_consultations_are_private(setup: Setup) -> None:
    member = setup.person("g1", group="group-1")
    assert "private chat" in await member.ask("/consult")


async def test_unknown_consultation(bot: MemoryAdapter) -> None:
    assert "no consultation called" in await bot.ask("/consult nope")


@pytest.mark.parametrize(
    ("language", "typed", "value", "labels", "closes"),
    [
        ("fr", "oui", "yes", ["Oui", "Non"], "jusqu'au 31 décembre 2099 inclus"),
        ("fr", "Non !", "no", ["Oui", "Non"], "jusqu'au 31 décembre 2099 inclus"),
        ("es", "Sí", "yes", ["Sí", "No"], "hasta el 31 de diciembre de 2099 inclusive"),
        ("es", "si", "yes", ["Sí", "No"], "hasta el 31 de diciembre de 2099 inclusive"),
        ("ar", "لا", "no", ["نعم", "لا"], "نهاية يوم 31 ديسمبر 2099"),
        ("ar", "نعم", "yes", ["نعم", "لا"], "نهاية يوم 31 ديسمبر 2099"),
        # An app in English, an answer typed in French: accepted, shown in English.
        ("en", "oui", "yes", ["Yes", "No"], "the end of 31 December 2099"),
    ],
)
async def test_yes_no_questions_take_every_languages_words_and_show_the_persons(
    setup: Setup, language: str, typed: str, value: str, labels: list[str], closes: str
) -> None:
    person = MemoryAdapter(setup.core, Person("test", f"u-{language}", "Test", language=language))
    setup.adapters.append(person)
    assert closes in await person.ask("/consult sample")  # when it closes, in their words
    await person.ask("yes")  # consent
    for answer in ("skip", "skip", "None or other", "1"):  # no profile, then two answers
        await person.ask(answer)
    assert person.buttons[:2] == labels
    await person.ask(typed)
    assert (await answers_of(setup, person))["hsp"] == value
    for _ in range(2):
        await person.ask("skip")
    review = person.plain(person.last)
    shown = labels[0] if value == "yes" else labels[1]
    assert f"Do you run Humanitarian Service Points?\n{shown}" in review


async def test_consultation_screens_use_the_persons_time_zone(
    setup: Setup, bot: MemoryAdapter
) -> None:
    """The old survey closed at midnight in Zurich (23:00 UTC): each person reads the
    moment in their own zone, as /next and /timeline show it, not in the file's."""
    assert "31 January 2021, 23:00 UTC" in await bot.ask("/consult old-survey")
    await bot.ask("/timezone Africa/Nairobi")
    text = await bot.ask("/consult old-survey")
    assert "1 February 2021, 02:00 EAT" in text and "CET" not in text


async def test_the_receipt_is_in_the_persons_time_zone(setup: Setup, bot: MemoryAdapter) -> None:
    await bot.ask("/timezone Africa/Nairobi")
    await start_sample(bot)
    for answer in ("none", "1", "yes", "3", "a story"):
        await bot.ask(answer)
    text = await bot.ask("send")
    assert "23 November 2026, 15:00 EAT" in text and "UTC" not in text  # sent at 12:00 UTC


async def test_two_quick_ticks_in_a_multiple_choice_both_count(
    setup: Setup, bot: MemoryAdapter
) -> None:
    """Slack delivers two presses at once (nothing serialises them on the way in)."""
    await start_sample(bot)
    for answer in ("APMN", "2"):
        await bot.ask(answer)
    assert "Which priorities" in bot.plain(bot.last)
    first, second = (
        action_of(bot, "☐ Access to services"),
        action_of(bot, "☐ Climate displacement"),
    )
    for trial in range(5):
        presses = [
            Incoming(bot.person, bot.chat, action=action, event_id=f"tick-{trial}-{n}")
            for n, action in enumerate((first, second))
        ]
        await asyncio.gather(*(setup.core.handle(p) for p in presses))
        saved = await answers_of(setup, bot)
        expected = ["services", "climate"] if trial % 2 == 0 else None
        assert saved.get("priorities") == expected, trial
