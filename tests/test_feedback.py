"""👍 / 👎 under every answer, through the core (the memory adapter drives it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot import feedback
from bot.adapters.memory import MemoryAdapter
from bot.config import Desk
from bot.knowledge import KnowledgeBase
from bot.messages import Chat, Person
from bot.owed import dumps, loads
from bot.storage import SqliteStorage
from tests.conftest import vague_question
from tests.consult_helpers import Setup, make_core

QUESTION = "when was the migration policy adopted"
ASKER = Person("telegram", "4242", "Amina Test", language="en")


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    return make_core(tmp_path, min_kb, storage, handoff=Desk("slack", "CDESK"))


@pytest.fixture
def asker(setup: Setup) -> MemoryAdapter:
    return MemoryAdapter(setup.core, ASKER, Chat("4242", private=True))


def action(bot: MemoryAdapter, label: str) -> str:
    return next(c.action for r in bot.last for c in r.buttons if c.label == label)


async def test_every_answer_carries_one_compact_row_of_thumbs(asker: MemoryAdapter) -> None:
    await asker.ask(QUESTION)
    answer = asker.last[0]
    assert asker.footer == ["👍", "👎"]
    assert answer.choices, "the follow-up buttons stay, above the row"
    assert all(c.action.startswith("faq:") for c in answer.choices)
    # Within Telegram's 64 bytes, and nothing in them but a random reference.
    for c in answer.footer:
        assert len(c.action.encode()) <= 20 and c.action.isascii()
        assert "4242" not in c.action and "migration" not in c.action
    # A follow-up button's answer is an answer too: its own row.
    await asker.press(answer.choices[0].label)
    assert asker.footer == ["👍", "👎"]


async def test_suggestions_and_the_fallback_carry_no_thumbs(
    asker: MemoryAdapter, setup: Setup
) -> None:
    await asker.ask(vague_question(setup.core.matcher))
    assert asker.footer == []
    await asker.ask("how do I reset my email password")
    assert asker.footer == []


async def test_thumbs_up_thanks_with_a_toast_and_counts_once(
    asker: MemoryAdapter, setup: Setup
) -> None:
    await asker.ask(QUESTION)
    up = action(asker, "👍")
    replies = await asker.send(action=up)
    assert replies[0].notice and "Thank you" in replies[0].text
    again = await asker.send(action=up)  # a double tap
    assert again[0].notice and "Already noted" in again[0].text
    redelivered = await asker.send(action=up, event_id="tg-1")
    assert await asker.send(action=up, event_id="tg-1") == []  # the same event again
    assert redelivered[0].notice
    votes = await setup.core.storage.feedback_since()
    assert len(votes) == 1
    vote = votes[0]
    assert (vote.entry_id, vote.helpful, vote.comment) == ("policy-adopted", True, None)
    assert (vote.question, vote.language, vote.platform) == (QUESTION, "en", "telegram")
    assert (vote.at.hour, vote.at.minute) == (0, 0)  # the day only


async def test_thumbs_down_asks_what_was_wrong_and_offers_the_desk(
    asker: MemoryAdapter, setup: Setup
) -> None:
    await asker.ask(QUESTION)
    down = action(asker, "👎")
    text = await asker.send(action=down)
    assert "What was wrong?" in asker.plain(text)
    assert "without your name" in asker.plain(text)
    assert asker.buttons == ["Skip", "Ask the secretariat"]
    assert asker.footer == []  # a reply to a vote is not an answer: no thumbs of its own
    said = await asker.ask("It talks about 2009 but I asked about the revision")
    assert "Thank you" in said
    [vote] = await setup.core.storage.feedback_since()
    assert not vote.helpful
    assert vote.comment == "It talks about 2009 but I asked about the revision"
    # The next message is a question again.
    assert "November 2009" in await asker.ask(QUESTION)


async def test_the_desk_offer_under_a_thumbs_down_sends_the_question(
    asker: MemoryAdapter, setup: Setup
) -> None:
    await asker.ask(QUESTION)
    await asker.send(action=action(asker, "👎"))
    confirm = await asker.press("Ask the secretariat")
    assert QUESTION in confirm
    [draft] = await setup.core.storage.handoffs_of(ASKER.key)
    assert draft.question == QUESTION and draft.tried == ("policy-adopted",)
    await asker.press("Send anonymously")
    assert [h.status for h in await setup.core.storage.handoffs_of(ASKER.key)] == ["open"]
    # The comment was not asked any more: pressing another button moved on.
    assert await setup.core.storage.get_state(ASKER.key, "4242") is None


async def test_skip_and_commands_leave_no_comment(asker: MemoryAdapter, setup: Setup) -> None:
    await asker.ask(QUESTION)
    await asker.send(action=action(asker, "👎"))
    skipped = await asker.press("Skip")
    assert "Noted" in skipped
    assert "November 2009" in await asker.ask(QUESTION)  # a question, not a comment
    await asker.send(action=action(asker, "👎"))
    await asker.ask("/help")  # a command: the person moved on
    assert await setup.core.storage.get_state(ASKER.key, "4242") is None
    assert [v.comment for v in await setup.core.storage.feedback_since()] == [None, None]


async def test_a_changed_mind_keeps_one_vote(asker: MemoryAdapter, setup: Setup) -> None:
    await asker.ask(QUESTION)
    up, down = action(asker, "👍"), action(asker, "👎")
    await asker.send(action=down)
    await asker.ask("wrong year")
    await asker.send(action=up)  # on second thoughts: helpful
    [vote] = await setup.core.storage.feedback_since()
    assert vote.helpful and vote.comment is None
    assert await setup.core.storage.get_state(ASKER.key, "4242") is None


async def test_two_people_vote_once_each_on_one_answer_each(setup: Setup) -> None:
    a = MemoryAdapter(setup.core, Person("slack", "UA", "A"), Chat("DA"))
    b = MemoryAdapter(setup.core, Person("slack", "UB", "B"), Chat("DB"))
    await a.ask(QUESTION)
    await b.ask(QUESTION)
    up_a = action(a, "👍")
    assert up_a != action(b, "👍")  # one reference per answer message
    await a.send(action=up_a)
    await b.send(action=action(b, "👎"))
    # B pressing A's button (a forwarded message) is B's vote on that answer, once.
    await b.send(action=up_a)
    await b.send(action=up_a)
    votes = await setup.core.storage.feedback_since()
    assert sorted(v.helpful for v in votes) == [False, True, True]


async def test_an_old_or_unknown_answer_is_refused_with_a_toast(
    asker: MemoryAdapter, setup: Setup
) -> None:
    await asker.ask(QUESTION)
    up = action(asker, "👍")
    setup.clock.advance(days=feedback.WINDOW.days + 1)
    replies = await asker.send(action=up)
    assert replies[0].notice and "too old" in replies[0].text
    assert (await asker.send(action="fb:u:nosuchref"))[0].notice
    assert (await asker.send(action="fb:zz"))[0].notice
    assert await setup.core.storage.feedback_since() == []


async def test_no_person_id_in_the_feedback_tables(
    asker: MemoryAdapter, setup: Setup, tmp_path: Path
) -> None:
    await asker.ask(QUESTION)
    ref = action(asker, "👎").rpartition(":")[2]
    await asker.send(action=action(asker, "👎"))
    await asker.ask("not what I asked")
    db = sqlite3.connect(tmp_path / "bot.sqlite3")
    try:
        rows = [
            (table, row)
            for table in ("feedback", "answer_refs", "question_counts")
            for row in db.execute(f"SELECT * FROM {table}")
        ]
    finally:
        db.close()
    assert {t for t, _ in rows} == {"feedback", "answer_refs", "question_counts"}
    cells = " ".join(str(cell) for _, row in rows for cell in row)
    for identity in (ASKER.key, ASKER.user_id, ASKER.display_name, "Amina", "4242"):
        assert identity not in cells
    [vote] = [row for table, row in rows if table == "feedback"]
    assert ref not in cells.replace(ref, "", 1)  # the reference only in answer_refs
    assert ref not in " ".join(map(str, vote))
    assert vote[0] == setup.core.pseudonyms.feedback(ref, ASKER.key)  # a keyed code


async def test_mydata_says_votes_are_kept_without_identity_and_forget_ends_a_pending_comment(
    asker: MemoryAdapter, setup: Setup
) -> None:
    await asker.ask(QUESTION)
    down = action(asker, "👎")
    await asker.send(action=down)
    # The waiting comment's state holds the answer's reference, not the vote's code.
    ref = down.rpartition(":")[2]
    assert await setup.core.storage.get_state(ASKER.key, "4242") == ("feedback", {"ref": ref})
    mydata = await asker.ask("/mydata")
    assert "kept without your name" in mydata
    await asker.ask("/forget")
    await asker.press("Yes, delete")
    # The waiting comment went with the conversations; the anonymous vote stays.
    assert await setup.core.storage.get_state(ASKER.key, "4242") is None
    assert "November 2009" in await asker.ask(QUESTION)
    [vote] = await setup.core.storage.feedback_since()
    assert vote.comment is None


def test_owed_replies_keep_the_footer() -> None:
    from bot.messages import Choice, Reply

    reply = Reply("an answer", footer=(Choice("👍", "fb:u:x"), Choice("👎", "fb:d:x")))
    assert loads(dumps([reply])) == [reply]


async def test_in_a_group_a_thumbs_down_is_noted_without_waiting_for_a_comment(
    setup: Setup,
) -> None:
    group = MemoryAdapter(setup.core, ASKER, Chat("-100", private=False))
    await group.ask(QUESTION)
    replies = await group.send(action=action(group, "👎"))
    assert replies[0].notice and "in private" in replies[0].text
    assert await setup.core.storage.get_state(ASKER.key, "-100") is None
    await group.ask("lunch at noon, everyone?")  # meant for the group: not kept
    [vote] = await setup.core.storage.feedback_since()
    assert not vote.helpful and vote.comment is None


async def test_a_thumbs_down_does_not_replace_another_conversation(
    asker: MemoryAdapter, setup: Setup
) -> None:
    await asker.ask(QUESTION)
    down = action(asker, "👎")
    await setup.core.storage.set_state(ASKER.key, "4242", "profile", {"step": "ns"}, setup.clock())
    replies = await asker.send(action=down)
    assert replies[0].notice and "Noted" in replies[0].text
    assert await setup.core.storage.get_state(ASKER.key, "4242") == ("profile", {"step": "ns"})
    [vote] = await setup.core.storage.feedback_since()
    assert not vote.helpful  # counted all the same
