"""Quick polls: posting from chat, voting with buttons, live tallies, closing."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot import polls
from bot.adapters.memory import MemoryAdapter
from bot.knowledge import KnowledgeBase
from bot.messages import Chat, Incoming, Person, Reply
from bot.storage import SqliteStorage
from tests.consult_helpers import COORDINATOR, NOW, Setup, database_bytes, make_core

POLL = "/poll Which topic first? | Access to services | Climate displacement | Missing migrants"


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    return make_core(tmp_path, min_kb, storage)


# --------------------------------------------------------------------------- parsing


def test_parse_a_poll_with_its_options() -> None:
    spec = polls.parse_poll(POLL.removeprefix("/poll ") + " --closes 48h --multi", NOW)
    assert spec.question == "Which topic first?"
    assert spec.options == ("Access to services", "Climate displacement", "Missing migrants")
    assert spec.multi and spec.anonymous
    assert spec.closes_at == NOW + timedelta(hours=48)
    named = polls.parse_poll("Q? | a | b --named --closes 2026-12-01", NOW)
    assert not named.anonymous and not named.multi
    assert (
        named.closes_at is not None and named.closes_at.isoformat() == "2026-12-02T00:00:00+00:00"
    )


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ("", "poll_usage"),
        ("Only a question?", "poll_usage"),
        ("Q? | one", "poll_option_count"),
        ("Q? | a | A", "poll_option_twice"),
        ("Q? | " + " | ".join(str(i) for i in range(11)), "poll_option_count"),
        ("Q? | a | " + "b" * 101, "poll_option_too_long"),
        ("Q" * 301 + " | a | b", "poll_question_too_long"),
        ("Q? | a | b --closes soon", "poll_bad_closes"),
        ("Q? | a | b --closes 200d", "poll_closes_range"),
        ("Q? | a | b --closes 2020-01-01", "poll_closes_range"),
    ],
)
def test_bad_polls_say_what_is_wrong(args: str, key: str) -> None:
    with pytest.raises(polls.PollUsageError) as info:
        polls.parse_poll(args, NOW)
    assert info.value.key == key


def test_poll_ids() -> None:
    assert polls.parse_poll_id("12") == 12
    assert polls.parse_poll_id("poll-12") == 12
    assert polls.parse_poll_id("#7") == 7
    assert polls.parse_poll_id("movement-strategy-input") is None


# --------------------------------------------------------------------------- in chat


async def test_only_coordinators_post_polls_and_refusals_are_logged(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    member = setup.person("m1", group="group-1")
    with caplog.at_level(logging.WARNING):
        text = await member.ask(POLL)
    assert "Only the consultation coordinators" in text
    assert "refused /poll" in caplog.text
    assert await setup.core.storage.recent_polls() == []


async def test_post_vote_change_and_tally(setup: Setup) -> None:
    coord = setup.coordinator(group="group-1")
    replies = await coord.send(POLL + " --closes 48h")
    assert len(replies) == 1
    posted = replies[0]
    assert posted.key == "poll-1" and posted.chat is None
    assert [c.label for c in posted.choices] == [
        "Access to services",
        "Climate displacement",
        "Missing migrants",
    ]
    assert [c.action for c in posted.choices] == ["pv:1:0", "pv:1:1", "pv:1:2"]
    assert (
        "0 voters" in posted.text
        and "anonymous" in posted.text
        and "closes 25 November 2026" in posted.text
    )

    alice, bob = (
        setup.person("a", "Alice", group="group-1"),
        setup.person("b", "Bob", group="group-1"),
    )
    for member in (alice, bob):
        member.last = [posted]
    await alice.press("Climate displacement")
    tally, ack = alice.last
    assert tally.key == "poll-1" and "Climate displacement\n██████████ 1 · 100%" in tally.text
    assert ack.notice and "Your vote: Climate displacement" in ack.text
    await bob.press("Climate displacement")
    alice.last = [posted]
    await alice.press("Access to services")  # a changed vote replaces the first
    tally = alice.last[0]
    assert "Access to services\n█████░░░░░ 1 · 50%" in tally.text
    assert "Climate displacement\n█████░░░░░ 1 · 50%" in tally.text
    assert "2 voters" in tally.text
    counts = await setup.core.storage.poll_tally(1)
    assert counts.counts == {0: 1, 1: 1} and counts.voters == 2 and counts.names == {}


async def test_multiple_choice_polls_toggle(setup: Setup) -> None:
    coord = setup.coordinator(group="g")
    posted = (await coord.send(POLL + " --multi"))[0]
    member = setup.person("m", group="g")
    member.last = [posted]
    await member.press("Access to services")
    member.last = [posted]
    await member.press("Missing migrants")
    assert "Your vote: Access to services, Missing migrants" in member.last[1].text
    setup.clock.advance(seconds=5)  # a deliberate second press, not a double tap
    member.last = [posted]
    await member.press("Access to services")
    assert "Your vote: Missing migrants" in member.last[1].text
    assert (await setup.core.storage.poll_tally(1)).counts == {2: 1}


async def test_a_double_tap_on_a_multiple_choice_button_keeps_the_vote(setup: Setup) -> None:
    coord = setup.coordinator(group="g")
    posted = (await coord.send(POLL + " --multi"))[0]
    member = setup.person("m", group="g")
    member.last = [posted]
    await member.press("Access to services")
    setup.clock.advance(seconds=0.4)
    member.last = [posted]
    await member.press("Access to services")
    assert "Your vote: Access to services" in member.last[1].text
    assert (await setup.core.storage.poll_tally(1)).counts == {0: 1}


async def test_a_vote_from_another_chat_is_not_counted(setup: Setup) -> None:
    coord = setup.coordinator(group="g")
    await coord.send(POLL)
    outsider = setup.person("x", group="another-group")
    replies = await outsider.send(action="pv:1:0")
    assert all(r.key is None for r in replies), "the tally is not shown elsewhere"
    private = setup.person("y")
    await private.send(action="pv:1:1")
    assert (await setup.core.storage.poll_tally(1)).counts == {}


async def test_a_retried_vote_counts_once(setup: Setup) -> None:
    coord = setup.coordinator(group="g")
    await coord.send(POLL + " --multi")
    member = setup.person("m", group="g")
    vote = Incoming(member.person, member.chat, action="pv:1:0", event_id="retry-1")
    assert await setup.core.handle(vote)
    assert await setup.core.handle(vote) == []
    assert (await setup.core.storage.poll_tally(1)).counts == {0: 1}


async def test_anonymous_votes_store_no_identity(setup: Setup, tmp_path: Path) -> None:
    coord = setup.coordinator(group="g")
    posted = (await coord.send(POLL))[0]
    member = setup.person("secret-user-4242", "Secret Name", group="g")
    member.last = [posted]
    await member.press("Missing migrants")
    raw = database_bytes(tmp_path)
    assert b"secret-user-4242" not in raw and b"Secret Name" not in raw


async def test_past_closing_time_no_votes_and_final_results(setup: Setup) -> None:
    coord = setup.coordinator(group="g")
    posted = (await coord.send(POLL + " --closes 1h"))[0]
    member = setup.person("m", group="g")
    member.last = [posted]
    await member.press("Access to services")
    setup.clock.advance(hours=2)
    member.last = [posted]
    replies = await member.send(action="pv:1:1")
    final, notice = replies
    assert final.key == "poll-1" and final.choices == ()
    assert (
        "Final results: Which topic first?" in final.text
        and "closed 23 November 2026, 13:00" in final.text
    )
    assert "Access to services\n██████████ 1 · 100%" in final.text
    assert notice.notice and "closed" in notice.text
    assert (await setup.core.storage.poll_tally(1)).counts == {0: 1}


async def test_close_shows_final_results_with_names_for_named_polls(setup: Setup) -> None:
    coord = setup.coordinator(group="g")
    posted = (await coord.send(POLL + " --named"))[0]
    member = setup.person("m", "Amina", group="g")
    member.last = [posted]
    await member.press("Missing migrants")
    replies = await coord.send("/close 1")
    final, confirm = replies
    assert final.key == "poll-1" and not final.choices and "Amina" in final.text
    assert "Poll 1 is closed" in confirm.text
    member.last = [posted]
    await member.press("Access to services")
    assert (await setup.core.storage.poll_tally(1)).counts == {
        2: 1
    }  # nothing changed after closing


async def test_closing_from_a_private_chat_edits_the_group_message(setup: Setup) -> None:
    coord_group = setup.coordinator(group="g")
    await coord_group.send(POLL)
    private = setup.coordinator()
    final, confirm = await private.send("/close poll-1")
    assert final.key == "poll-1" and final.chat is not None and final.chat.chat_id == "g"
    assert "closed" in confirm.text


async def test_polls_close_on_time_in_the_background(setup: Setup) -> None:
    coord = setup.coordinator(group="g")
    await coord.send(POLL + " --closes 30m")
    sent: list[list[Reply]] = []

    async def sender(replies: list[Reply]) -> None:
        sent.append(replies)

    assert await polls.close_due_polls(setup.core) == 0  # no adapter for "test" yet
    setup.core.register_sender("test", sender)
    assert await polls.close_due_polls(setup.core) == 0  # not due yet
    setup.clock.advance(minutes=31)
    assert await polls.close_due_polls(setup.core) == 1
    assert await polls.close_due_polls(setup.core) == 0  # shown once
    (final,) = sent[0]
    assert final.key == "poll-1" and final.chat is not None and final.chat.chat_id == "g"
    assert "Final results" in final.text and "closed 23 November 2026, 12:30" in final.text


async def test_poll_usage_and_bad_input(setup: Setup) -> None:
    coord = setup.coordinator(group="g")
    assert "To post a poll" in await coord.ask("/poll")
    text = await coord.ask("/poll Q? | a | a")
    assert "Two options are the same" in text and "To post a poll" in text
    text = await coord.ask("/poll Is *this* ok? | [x](https://evil.example) | _y_")
    # a person's text is shown literally: no bold, no link
    assert "📊 Is *this* ok?" in text and "[x](https://evil.example)" in text and "_y_" in text


async def test_the_posted_tally_stays_in_the_language_of_whoever_posted_it(setup: Setup) -> None:
    """Voters with other languages press the buttons: the group's message keeps the
    coordinator's language (it would flip with each vote otherwise); each voter's own
    confirmation is in the voter's language. Closing in the background keeps it too."""
    french = Person(COORDINATOR.platform, COORDINATOR.user_id, "Cora", language="fr")
    coord = MemoryAdapter(setup.core, french, Chat("g", private=False))
    posted = (await coord.send(POLL + " --closes 48h"))[0]
    assert "0 votant ·" in posted.text and "clôture le 25 novembre 2026 à 12:00" in posted.text
    stored = await setup.core.storage.get_poll(1)
    assert stored is not None and stored.language == "fr"
    english = setup.person("a", "Alice", group="g")
    arabic = MemoryAdapter(setup.core, Person("test", "b", "Bilal", language="ar"), english.chat)
    for voter, toast in ((english, "Your vote: Missing migrants"), (arabic, "صوتكم")):
        voter.last = [posted]
        tally, ack = await voter.send(action="pv:1:2")
        assert tally.key == "poll-1" and "votant" in tally.text and "voter" not in tally.text
        assert ack.notice and toast in ack.text
    assert "2 votants" in tally.text

    sent: list[list[Reply]] = []

    async def sender(replies: list[Reply]) -> None:
        sent.append(replies)

    setup.core.register_sender("test", sender)
    setup.clock.advance(hours=49)
    assert await polls.close_due_polls(setup.core) == 1
    (final,) = sent[0]
    assert "Résultats définitifs" in final.text and "clôturé le 25 novembre 2026" in final.text


# --------------------------------------------------------------------------- coordinators' view


async def test_a_posted_poll_shows_its_id(setup: Setup) -> None:
    coord = setup.coordinator(group="g")
    posted = (await coord.send(POLL))[0]
    assert "poll-1" in posted.text  # what /results, /export and /close take


async def test_a_poll_with_one_option_says_it_needs_two(setup: Setup) -> None:
    text = await setup.coordinator(group="g").ask("/poll Only one? | Yes")
    assert "A poll needs 2 to 10 options" in text and "To post a poll" in text


async def test_the_usage_example_date_is_ahead(setup: Setup) -> None:
    text = await setup.coordinator(group="g").ask("/poll")
    (example,) = [w.strip("()., ") for w in text.split() if w[:2] == "20" and "-" in w]
    assert example > NOW.date().isoformat(), example


async def test_a_poll_exports_as_csv_xlsx_and_json(setup: Setup) -> None:
    import csv
    import io
    import json

    from openpyxl import load_workbook

    group = setup.coordinator(group="g")
    await group.send(POLL + " --named")
    for user in ("a", "b"):
        voter = setup.person(user, f"Voter {user}", group="g")
        voter.last = group.last
        await voter.press("Climate displacement")
    coord = setup.coordinator()
    assert "poll-1" in await coord.ask("/export poll-1 csv")
    (file,) = coord.last[0].attachments
    assert file.filename.startswith("poll-1-") and file.filename.endswith(".csv")
    labels, ids, *rows = list(csv.reader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert labels == ["Option", "Votes", "Share of voters", "Voters"]
    assert ids == ["option", "votes", "percent_of_voters", "voters"]
    assert rows[1] == ["Climate displacement", "2", "100%", "Voter a; Voter b"]
    await coord.ask("/export poll-1 xlsx")
    (book_file,) = coord.last[0].attachments
    book = load_workbook(io.BytesIO(book_file.content))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == labels
    assert [c.value for c in sheet[3]][:2] == ["Climate displacement", "2"]
    await coord.ask("/export poll-1 json")
    document = json.loads(coord.last[0].attachments[0].content)
    assert document["poll"]["id"] == "poll-1" and document["voters"] == 2
    assert document["results"][1] == {
        "option": "Climate displacement",
        "votes": 2,
        "voters": ["Voter a", "Voter b"],
    }
