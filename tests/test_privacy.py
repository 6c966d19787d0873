"""Data protection: keyed pseudonyms, /profile, /mydata and /forget."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.app import running_core
from bot.config import Settings
from bot.errors import ConfigError
from bot.knowledge import KnowledgeBase
from bot.messages import Incoming
from bot.pseudonym import Pseudonyms, key_file, load_or_create_key
from bot.storage import SqliteStorage
from bot.storage import sqlite as sqlite_storage
from tests.consult_helpers import (
    Setup,
    agree,
    database_bytes,
    make_core,
    settings_for,
    start_sample,
)


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    return make_core(tmp_path, min_kb, storage)


# --------------------------------------------------------------------------- pseudonyms


def test_pseudonyms_are_keyed_hashes_per_consultation() -> None:
    p = Pseudonyms(Settings(hash_key="k" * 32))
    code = p.respondent("sample", "telegram:12345")
    expected = hmac.new(
        b"k" * 32, b"respondent\x1fsample\x1ftelegram:12345", hashlib.sha256
    ).hexdigest()
    assert code == expected and "12345" not in code
    assert p.respondent("sample", "telegram:12345") == code  # stable: resume, no double answers
    assert p.respondent("other", "telegram:12345") != code  # not linkable across consultations
    assert p.voter(1, "telegram:12345") != code
    assert Pseudonyms(Settings(hash_key="j" * 32)).respondent("sample", "telegram:12345") != code


def test_a_short_configured_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 16"):
        Pseudonyms(Settings(hash_key="short")).key()


def test_without_a_configured_key_one_is_generated_once_beside_the_database(tmp_path: Path) -> None:
    db = tmp_path / "data" / "nsbot.sqlite3"
    settings = Settings(db_path=db)
    first = Pseudonyms(settings).respondent("c", "slack:U1")
    path = key_file(db)
    assert path == tmp_path / "data" / "nsbot.sqlite3.hashkey"
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Pseudonyms(settings).respondent("c", "slack:U1") == first  # the same key next time
    path.chmod(0o644)
    load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # tightened when found loose
    assert key_file(":memory:") is None


async def test_running_core_creates_the_key_file_at_start(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, hash_key="")
    async with running_core(settings) as core:
        assert (tmp_path / "bot.sqlite3.hashkey").is_file()
        assert len(core.consultations) == 3


async def test_anonymous_answers_never_store_the_platform_id(setup: Setup, tmp_path: Path) -> None:
    bot = setup.person("user-98765", "Fatima Zahra")
    await bot.ask("/consult")
    await bot.press("Sample consultation")
    await agree(bot)
    for answer in ("none", "1", "yes", "3", "a story"):
        await bot.ask(answer)
    await bot.ask("send")
    stored = json.dumps(
        [r.__dict__ for r in await setup.core.storage.responses("sample")], default=str
    )
    assert (
        "user-98765" not in stored and "Fatima" not in stored and '"status": "submitted"' in stored
    )
    assert isinstance(setup.core.storage, SqliteStorage)
    # Into the main file; the cursor is closed, or its statement stays in progress and
    # the next handler's savepoint fails ("SQL statements in progress") when it is
    # not yet collected.
    async with setup.core.storage.db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
        await cur.fetchall()
    assert b"user-98765" in database_bytes(tmp_path)  # profile and conversation hold the account
    await bot.ask("/forget")
    # the profile and conversation rows go; the anonymous response stays
    await bot.press("Yes, delete")
    assert len(await setup.core.storage.responses("sample")) == 1
    # nothing that could name the person is left anywhere in the database files
    raw = database_bytes(tmp_path)
    assert b"user-98765" not in raw and b"Fatima" not in raw


# --------------------------------------------------------------------------- profile


async def test_profile_can_be_changed_kept_or_removed(setup: Setup) -> None:
    bot = setup.person()
    text = await bot.ask("/profile")
    assert "Which National Society" in text
    assert "up to 100 characters" in await bot.ask("🙂")  # not a name
    assert "region" in await bot.ask("Kenya Red Cross Society")
    assert "Kenya Red Cross Society" in await bot.ask("afrika")  # a close misspelling of Africa
    text = await bot.ask("/profile")
    assert "Your National Society:** Kenya" in text.replace(
        "Your National Society: Kenya", "Your National Society:** Kenya"
    )
    assert bot.buttons == ["Keep", "Remove"]
    await bot.press("Keep")
    text = await bot.press("Remove")
    assert "National Society: Kenya Red Cross Society; region: not given" in text
    profile = await setup.core.storage.get_profile(bot.person.key)
    assert (
        profile and profile.national_society == "Kenya Red Cross Society" and profile.region is None
    )


async def test_a_question_during_the_profile_is_answered_not_stored(setup: Setup) -> None:
    bot = setup.person()
    await bot.ask("/profile")
    assert "IFRC" in await bot.ask("Who chairs the Migration Reference Group?")
    profile = await setup.core.storage.get_profile(bot.person.key)
    assert profile is not None and profile.national_society is None


async def test_privacy_commands_are_private_only(setup: Setup) -> None:
    member = setup.person("g", group="group-1")
    for command in ("/mydata", "/forget", "/profile"):
        assert "private chat" in await member.ask(command)


# --------------------------------------------------------------------------- mydata / forget


async def prepare_person(setup: Setup) -> None:
    """A person with a profile, a submitted anonymous response, a named draft and poll votes."""
    bot = setup.person()
    await bot.ask("/profile")
    await bot.ask("Kenya Red Cross Society")
    await bot.press("Africa")
    await start_sample(bot)
    for answer in ("none", "1", "yes", "3", "a story"):
        await bot.ask(answer)
    await bot.ask("send")
    await bot.ask("/consult named-check")
    await bot.press("I agree, start")
    await bot.press("Yes")  # named draft, one answer
    coord = setup.coordinator(group="g")
    posted = (await coord.send("/poll Anonymous? | a | b"))[0]
    posted_named = (await coord.send("/poll Named? | c | d --named"))[0]
    voter = setup.person(group="g")
    voter.last = [posted]
    await voter.press("a")
    voter.last = [posted_named]
    await voter.press("d")


async def test_mydata_shows_everything_held(setup: Setup) -> None:
    await prepare_person(setup)
    bot = setup.person()
    text = await bot.ask("/mydata")
    assert "test:u1" in text and "Kenya Red Cross Society" in text and "Africa" in text
    assert "Sample consultation: sent, anonymous, 5 answers" in text
    assert "Named check-in: not sent yet, named, 1 answer" in text
    assert "“Anonymous?”: a" in text and "“Named?”: d" in text
    (file,) = bot.last[0].attachments
    data = json.loads(file.content)
    assert (
        data["person"] == "test:u1"
        and data["profile"]["national_society"] == "Kenya Red Cross Society"
    )
    assert {r["consultation"] for r in data["responses"]} == {"sample", "named-check"}
    assert {v["option"] for v in data["poll_votes"]} == {"a", "d"}
    # The ids stored, and the labels the person saw on the buttons.
    sample = next(r for r in data["responses"] if r["consultation"] == "sample")
    assert sample["answers"]["network"] == "none"
    assert sample["answers_as_shown"]["network"] == "None or other"
    assert sample["answers_as_shown"]["hsp"] == "Yes"


async def test_forget_after_confirmation_deletes_what_is_linked(setup: Setup) -> None:
    await prepare_person(setup)
    other = setup.person("u2", "Other")
    await other.ask("/profile")
    await other.ask("Nepal Red Cross Society")
    bot = setup.person()
    text = await bot.ask("/forget")
    assert "cannot be undone" in text and bot.buttons == ["Yes, delete", "No, keep"]
    assert "Nothing was deleted" in await bot.press("No, keep")
    assert await setup.core.storage.get_profile(bot.person.key) is not None
    await bot.ask("/forget")
    text = await bot.press("Yes, delete")
    assert "1 response with 1 answer, and 1 named vote" in text
    assert await setup.core.storage.get_profile(bot.person.key) is None
    assert await setup.core.storage.get_response("named-check", bot.person.key) is None
    # the submitted anonymous response stays, counted in the results
    assert [r.status for r in await setup.core.storage.responses("sample")] == ["submitted"]
    assert (await setup.core.storage.poll_tally(1)).counts == {0: 1}  # anonymous vote stays
    assert (await setup.core.storage.poll_tally(2)).counts == {}  # named vote gone
    assert await setup.core.storage.get_profile("test:u2") is not None  # nobody else touched
    after = await bot.ask("/mydata")
    assert "Profile:** none" in after.replace("Profile: none", "Profile:** none")
    assert "Named check-in" not in after


async def test_forget_removes_an_anonymous_draft(setup: Setup) -> None:
    bot = setup.person()
    await start_sample(bot)
    await bot.ask("perco")
    await bot.ask("/forget")
    await bot.press("Yes, delete")
    assert await setup.core.storage.responses("sample") == []


async def test_an_old_forget_confirmation_expires(setup: Setup) -> None:
    bot = setup.person()
    await bot.ask("/profile")
    await bot.ask("Kenya Red Cross Society")
    await bot.ask("/forget")
    setup.clock.advance(hours=1)
    assert "expired" in await bot.press("Yes, delete")
    assert await setup.core.storage.get_profile(bot.person.key) is not None


async def test_forget_leaves_no_private_chat_id_in_the_poll_a_coordinator_posted(
    setup: Setup, tmp_path: Path
) -> None:
    coordinator = setup.coordinator()  # in their private chat: its id is the account id
    await coordinator.ask("/poll Lunch? | Soup | Salad")
    chat_id = coordinator.chat.chat_id
    await setup.core.storage.set_message_ref("test", "poll-1", chat_id, "m-1")
    await coordinator.ask("/forget")
    await coordinator.press("Yes, delete")
    poll = await setup.core.storage.get_poll(1)
    assert poll is not None and poll.chat == "" and poll.created_by == ""
    assert await setup.core.storage.get_message_ref("test", "poll-1") is None


async def test_forget_deletes_the_replies_a_crash_left_owed_to_the_person(setup: Setup) -> None:
    bot = setup.person("p1")
    other = setup.person("p2")
    route = "the adapter's note: it names the account"
    for who, event in ((bot, "ev-p1"), (other, "ev-p2")):
        message = Incoming(who.person, who.chat, text="/topics", event_id=event)
        await setup.core.handle(message, route=route)  # a crash now leaves both owed
    # Someone else's event whose reply goes to p1's private chat (a poll posted there).
    await setup.core.storage.owe_replies(
        "test", "ev-poll", route, "[]", setup.clock(), person="test:p2", chats=[bot.chat.chat_id]
    )
    await bot.ask("/forget")
    await bot.press("Yes, delete")
    assert [event for event, *_ in await setup.core.owed("test")] == ["ev-p2"]


async def test_a_forget_button_pressed_in_a_group_deletes_nothing(setup: Setup) -> None:
    member = setup.person("m1", group="group-1")
    await setup.core.storage.set_profile(
        member.person.key, "Nepal Red Cross", None, setup.clock.now
    )
    stamp = int(setup.clock.now.timestamp())
    await member.send(action=f"fg:y:{stamp}")
    assert await setup.core.storage.get_profile(member.person.key) is not None


async def test_forget_reports_a_write_ahead_log_it_could_not_clear(
    setup: Setup, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = setup.person("u-wal-42")
    await bot.ask("/profile")
    await bot.ask("Nepal Red Cross Society")
    reader = sqlite3.connect(tmp_path / "bot.sqlite3")
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM profiles").fetchone()  # holds a snapshot
        with caplog.at_level(logging.ERROR):
            deleted = await setup.core.storage.forget_person(bot.person.key)
        assert deleted.get("log_pending") == 1
        assert "still in the write-ahead log" in caplog.text
    finally:
        reader.close()
    again = await setup.core.storage.forget_person(bot.person.key)
    assert "log_pending" not in again
    assert b"u-wal-42" not in database_bytes(tmp_path)


async def test_forget_clears_a_blocked_write_ahead_log_once_the_reader_is_gone(
    setup: Setup, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real /forget runs in the core's batch, where the checkpoint waits for the
    commit: a reader blocking it left the deleted rows in the log until the next delete."""
    monkeypatch.setattr(sqlite_storage, "WAL_RETRY_FIRST", 0.01)
    bot = setup.person("u-wal-77")
    await bot.ask("/profile")
    await bot.ask("Nepal Red Cross Society")
    reader = sqlite3.connect(tmp_path / "bot.sqlite3")
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM profiles").fetchone()  # holds a snapshot
        await bot.ask("/forget")
        with caplog.at_level(logging.ERROR):
            assert "deleted" in await bot.press("Yes, delete")
        assert "still in the write-ahead log" in caplog.text
        assert b"u-wal-77" in database_bytes(tmp_path)  # the reader holds it
    finally:
        reader.close()
    for _ in range(500):  # tried again in the background, with nothing else happening
        if b"u-wal-77" not in database_bytes(tmp_path):
            break
        await asyncio.sleep(0.01)
    assert b"u-wal-77" not in database_bytes(tmp_path)


def test_a_typed_society_name_keeps_no_mention_or_angle_bracket() -> None:
    """Found by the hostile-input test: "<!channel" typed as a National Society was
    echoed in the "Saved" reply, a ping once on Slack."""
    from bot.handlers.privacy import _plain_name

    assert _plain_name("<!channel") == "!channel"
    assert "@here" not in _plain_name("Red Cross @here")
    assert _plain_name("  Kenya Red Cross Society ") == "Kenya Red Cross Society"


async def test_mydata_lists_and_forget_deletes_the_persons_updates_kept_unhandled(
    setup: Setup,
) -> None:
    """The inbox keeps raw updates (the account id, the text) until they are handled:
    a crash or a stop can leave some of a person's there for the next start."""
    bot = setup.person("p1")
    kept = [
        ("u-1", '{"message": {"from": {"id": 1}, "text": "my question"}}', "test:p1"),
        ("u-2", '{"message": {"from": {"id": 2}}}', "test:p2"),
        ("u-3", '{"message": {"from": {"id": 1}, "text": "again"}}', "test:p1"),
    ]
    await setup.core.keep("test", kept)
    # This /mydata is kept too, as an adapter that polls would: it is not listed.
    await setup.core.keep("test", [("u-4", '{"text": "/mydata"}', "test:p1")])
    text = await bot.send("/mydata", event_id="u-4")
    assert "Messages received, not handled yet: 2" in bot.plain(text)
    (file,) = bot.last[0].attachments
    listed = json.loads(file.content)["events_not_handled_yet"]
    assert [(e["event"], e["as_received"]) for e in listed] == [(e, p) for e, p, _ in kept[::2]]
    await bot.ask("/forget")
    await bot.press("Yes, delete")
    assert [event for event, _ in await setup.core.kept("test")] == ["u-2"]  # p2's stays
    await bot.ask("/mydata")
    assert "not handled yet" not in bot.plain(bot.last)
