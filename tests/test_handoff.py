"""Asking a person: the handoff flow through the core, with two recording platforms.

The asker is on "telegram", the desk a Slack channel; each platform is a sender that
records what it is given and, like the real adapters, keeps the reference of each
keyed message it posts. Platform wire formats are tested in test_handoff_e2e.py.
"""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot import relay
from bot.adapters.memory import MemoryAdapter
from bot.config import Desk
from bot.core import Core
from bot.knowledge import KnowledgeBase
from bot.messages import Chat, Incoming, Person, Reply
from bot.storage import SqliteStorage
from tests.consult_helpers import Clock, settings_for

DESK = Desk("slack", "CDESK")
ASKER = Person("telegram", "111", "Amina Test", language="en")
DESK_MEMBER = Person("slack", "U0DESK", "Dana Desk")


class Platform:
    """A chat platform as the core sees it: keyed messages posted once, then edited."""

    def __init__(self, core: Core, name: str) -> None:
        self.core, self.name = core, name
        self.posted: list[Reply] = []  # every new message, in order
        self.edits: list[Reply] = []
        self.state: dict[str, str] = {}  # message ref -> its text now
        self._ids = itertools.count(1)
        core.register_sender(name, self.send)

    async def send(self, replies: list[Reply]) -> None:
        storage = self.core.storage
        for reply in replies:
            assert reply.key is not None and reply.chat is not None
            known = await storage.get_message_ref(self.name, reply.key)
            if known is not None:
                self.edits.append(reply)
                self.state[f"{known[0]}:{known[1]}"] = reply.text
                continue
            ref = str(next(self._ids))
            self.posted.append(reply)
            self.state[f"{reply.chat.chat_id}:{ref}"] = reply.text
            await storage.set_message_ref(self.name, reply.key, reply.chat.chat_id, ref)

    def ref_of(self, reply: Reply) -> str:
        index = self.posted.index(reply) + 1
        assert reply.chat is not None
        return f"{reply.chat.chat_id}:{index}"


class World:
    def __init__(self, core: Core, clock: Clock) -> None:
        self.core, self.clock = core, clock
        self.telegram = Platform(core, "telegram")
        self.slack = Platform(core, "slack")
        self.asker = MemoryAdapter(core, ASKER, Chat("111", private=True))
        self._events = itertools.count(1)

    async def desk_says(self, text: str, reply_to: str) -> list[Reply]:
        return await self.core.handle(
            Incoming(
                DESK_MEMBER,
                Chat(DESK.chat, private=False),
                text=text,
                event_id=f"desk-{next(self._events)}",
                reply_to=reply_to,
            )
        )

    async def desk_presses(self, action: str, origin: str) -> list[Reply]:
        return await self.core.handle(
            Incoming(
                DESK_MEMBER,
                Chat(DESK.chat, private=False),
                action=action,
                event_id=f"desk-{next(self._events)}",
                origin=origin,
            )
        )

    async def relay(self) -> None:
        self.clock.advance(seconds=10)
        await relay.tick(self.core)

    def question_post(self) -> Reply:
        return next(r for r in self.slack.posted if "Question for the secretariat" in r.text)


@pytest.fixture
def world(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> World:
    clock = Clock()
    settings = settings_for(tmp_path, handoff=DESK)
    return World(Core(settings, min_kb, storage, clock=clock), clock)


async def send_question(world: World, question: str = "how do I book a hotel in Geneva") -> str:
    """The asker's unanswered question, sent anonymously; its reference."""
    await world.asker.send(question)
    assert "Ask the secretariat" in world.asker.buttons
    await world.asker.press("Ask the secretariat")
    assert "how do I book a hotel in Geneva" in world.asker.plain(world.asker.last)
    text = await world.asker.press("Send anonymously")
    ref = text.split("reference ")[1].split(")")[0]
    await world.relay()
    return ref


async def test_an_unanswered_question_reaches_the_desk_and_the_answer_comes_back(
    world: World,
) -> None:
    ref = await send_question(world)
    card = world.question_post()
    assert card.chat == Chat(DESK.chat, private=False)
    assert ref in card.text and "how do I book a hotel in Geneva" in card.text
    assert "Language: English" in card.text
    assert "Amina" not in card.text and "111" not in card.text  # anonymous: the reference only
    assert [c.label for c in card.choices] == ["Close"]

    assert (
        await world.desk_says("Ask the travel unit, extension 42.", world.slack.ref_of(card)) == []
    )
    await world.relay()
    answer = world.telegram.posted[-1]
    assert answer.chat is not None and answer.chat.chat_id == "111"
    assert "From the secretariat" in answer.text and "extension 42" in answer.text
    assert "Dana" not in answer.text  # marked as from the secretariat, not by whom
    assert "Did this help?" in answer.text
    assert [c.label for c in answer.choices] == ["👍 Yes", "👎 No", "Close the question"]

    # The asker's follow-up goes to the thread, under the question.
    said = await world.asker.ask("And for two nights?")
    assert ref in said
    await world.relay()
    follow = world.slack.posted[-1]
    assert "two nights" in follow.text and follow.thread == world.slack.ref_of(card)

    # Closed from the desk's button: the asker is told, the card loses its button.
    close = next(c.action for c in card.choices)
    notice = await world.desk_presses(close, world.slack.ref_of(card))
    assert notice[0].notice
    await world.relay()
    assert "closed your question" in world.telegram.posted[-1].text
    assert "Closed by the secretariat" in world.slack.state[world.slack.ref_of(card)]
    # Now the asker's messages go to the bot again, and late desk replies are refused.
    assert "two nights" not in (await world.asker.ask("what is PERCO"))
    late = await world.desk_says("one more thing", world.slack.ref_of(card))
    assert "closed" in late[0].text
    await world.relay()
    assert "one more thing" not in world.telegram.posted[-1].text


async def test_human_with_name_shows_name_and_society_only_when_agreed(world: World) -> None:
    await world.core.storage.set_profile(
        ASKER.key, "Kenya Red Cross Society", "Africa", world.clock()
    )
    await world.asker.send("/human who approves travel")
    await world.asker.press("Send with my name")
    await world.relay()
    card = world.question_post()
    assert "Amina Test, Kenya Red Cross Society" in card.text


async def test_a_second_press_or_a_redelivered_reply_sends_once(world: World) -> None:
    await world.asker.send("/human who approves travel")
    send = next(a for a in world.asker.actions if a.endswith(":a"))
    await world.asker.send(action=send)
    again = await world.asker.send(action=send)
    assert again[0].notice and "already" in again[0].text
    await world.relay()
    assert len([r for r in world.slack.posted if "Question for" in r.text]) == 1
    card = world.question_post()
    event = Incoming(
        DESK_MEMBER,
        Chat(DESK.chat, private=False),
        text="the answer",
        event_id="slack-ev-1",
        reply_to=world.slack.ref_of(card),
    )
    await world.core.handle(event)
    await world.core.handle(event)  # Slack re-sends it
    await world.relay()
    assert [r for r in world.telegram.posted if "the answer" in r.text] and len(
        [r for r in world.telegram.posted if "the answer" in r.text]
    ) == 1


async def test_a_resent_relay_edits_rather_than_posting_twice(world: World) -> None:
    """Killed after the platform took the message and its reference was recorded,
    before the row was marked sent: the next attempt edits the same message."""
    await world.asker.send("/human who approves travel")
    await world.asker.press("Send anonymously")
    rows = await world.core.storage.pending_relays(["slack"], world.clock() + timedelta(1))
    assert await world.core.storage.claim_relay(rows[0].id, world.clock())
    await world.slack.send([Reply(rows[0].text, chat=Chat(DESK.chat), key=rows[0].key)])
    assert await world.core.storage.recover_relays() == 1  # the restart
    await world.relay()
    assert len(world.slack.posted) == 1 and len(world.slack.edits) == 1
    assert (await world.core.storage.relays_of(rows[0].id))[0].state == "sent"


async def test_the_asker_closes_with_a_command_and_the_desk_is_told(world: World) -> None:
    ref = await send_question(world)
    card = world.question_post()
    said = await world.asker.ask("/close")
    assert ref in said and "closed" in said
    await world.relay()
    assert "Closed by the asker" in world.slack.posted[-1].text
    assert world.slack.posted[-1].thread == world.slack.ref_of(card)
    assert "Closed by the asker" in world.slack.state[world.slack.ref_of(card)]
    assert "no open question" in await world.asker.ask("/close")


async def test_the_desk_closes_with_close_in_a_reply(world: World) -> None:
    await send_question(world)
    card = world.question_post()
    await world.desk_says("/close", world.slack.ref_of(card))
    await world.relay()
    assert "closed your question" in world.telegram.posted[-1].text


async def test_helpful_is_recorded(world: World) -> None:
    await send_question(world)
    await world.desk_says("Here it is.", world.slack.ref_of(world.question_post()))
    await world.relay()
    answer = world.telegram.posted[-1]
    helped = next(c.action for c in answer.choices if "Yes" in c.label)
    await world.asker.send(action=helped)
    rows = await world.core.storage.handoffs_of(ASKER.key)
    assert rows[0].helpful is True and rows[0].first_reply_at is not None


async def test_myquestions_lists_them_with_their_state(world: World) -> None:
    assert "not sent any question" in await world.asker.ask("/myquestions")
    ref = await send_question(world)
    assert "waiting for an answer" in await world.asker.ask("/myquestions")
    await world.desk_says("Answer.", world.slack.ref_of(world.question_post()))
    listed = await world.asker.ask("/myquestions")
    assert ref in listed and "answered" in listed


async def test_the_desk_is_reminded_once_after_the_delay(world: World) -> None:
    ref = await send_question(world)
    world.clock.advance(hours=23)
    await relay.tick(world.core)
    assert not any("Reminder" in r.text for r in world.slack.posted)
    world.clock.advance(hours=2)
    await relay.tick(world.core)
    await relay.tick(world.core)
    reminders = [r for r in world.slack.posted if "Reminder" in r.text]
    assert len(reminders) == 1 and ref in reminders[0].text
    assert reminders[0].thread == world.slack.ref_of(world.question_post())


async def test_mydata_lists_and_forget_erases_the_desk_copies(world: World) -> None:
    await send_question(world)
    card = world.question_post()
    await world.desk_says("Answer one.", world.slack.ref_of(card))
    await world.asker.send("a follow-up with my phone number")
    await world.relay()
    mydata = await world.asker.send("/mydata")
    assert "Questions to the secretariat:** 1" in mydata[0].text
    document = mydata[0].attachments[0].content.decode()
    assert "how do I book a hotel in Geneva" in document and "Answer one." in document
    await world.asker.send("/forget")
    await world.asker.press("Yes, delete")
    await world.relay()
    assert await world.core.storage.handoffs_of(ASKER.key) == []
    erased = "[deleted at the asker's request]"
    desk_texts = [t for ref, t in world.slack.state.items() if ref.startswith(DESK.chat)]
    assert desk_texts and all(t == erased for t in desk_texts)
    assert "phone number" not in " ".join(world.slack.state.values())


async def test_mydata_says_which_way_each_message_went(world: World) -> None:
    await send_question(world)
    card = world.question_post()
    await world.desk_says("Answer one.", world.slack.ref_of(card))
    await world.asker.send("a follow-up")
    await world.desk_says("/close", world.slack.ref_of(card))
    await world.relay()
    mydata = await world.asker.send("/mydata")
    (question,) = json.loads(mydata[0].attachments[0].content)["questions_to_the_secretariat"]
    ways = [(m["kind"], m["to"]) for m in question["messages"]]
    # The desk's closing note came to the asker; its edit of the card is not listed.
    assert ways == [
        ("question", "secretariat"),
        ("reply", "you"),
        ("follow-up", "secretariat"),
        ("note", "you"),
    ], ways
    assert "closed your question" in question["messages"][-1]["text"]


async def test_off_by_default(
    tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage
) -> None:
    core = Core(settings_for(tmp_path), min_kb, storage, clock=Clock())
    bot = MemoryAdapter(core, ASKER)
    await bot.send("how do I book a hotel in Geneva")
    assert "Ask the secretariat" not in bot.buttons
    assert "not set up" in await bot.ask("/human anything")


async def test_not_offered_in_groups(world: World) -> None:
    group = MemoryAdapter(world.core, ASKER, Chat("-5", private=False))
    await group.send("/ask how do I book a hotel in Geneva")
    assert "Ask the secretariat" not in group.buttons
    assert "private chat" in await group.ask("/human anything")


async def test_other_threads_in_the_desk_channel_are_left_alone(world: World) -> None:
    """A thread among desk members is not a question to the bot."""
    assert await world.desk_says("who takes the Geneva trip?", f"{DESK.chat}:999") == []
    await world.relay()
    assert world.telegram.posted == [] and world.slack.posted == []
