"""The terminal chat: typed answers and button keys, saved files, and pushed messages."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import pytest

from bot import reminders
from bot.adapters.memory import MemoryAdapter
from bot.adapters.terminal import TerminalChat, files_folder, unique_path
from bot.knowledge import KnowledgeBase
from bot.messages import Choice, Person, Reply
from bot.storage import SqliteStorage
from tests.consult_helpers import NOW, Setup, make_core

ME = Person("terminal", "me", "Me")


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    return make_core(tmp_path, min_kb, storage)


def chat_for(setup: Setup, folder: Path | None = None) -> TerminalChat:
    return TerminalChat(setup.core, io.StringIO(), io.StringIO(), ME, files_dir=folder)


async def say(chat: TerminalChat, line: str) -> str:
    message = chat.inbound(line)
    assert message is not None
    return chat.outbound(await chat.core.handle(message))


async def at_the_scale(chat: TerminalChat) -> str:
    await say(chat, "/consult sample")
    await say(chat, "1")  # I agree, start
    await say(chat, "skip")  # the one-time profile
    await say(chat, "skip")
    return await say(chat, "PERCO")


async def test_a_number_past_the_scale_is_an_answer_not_the_back_button(setup: Setup) -> None:
    chat = chat_for(setup)
    shown = await at_the_scale(chat)
    assert "Question 2 of 6" in shown
    assert "\n  5\n" in shown and "  a. ⬅ Back" in shown  # Back has a letter, not "6"
    text = await say(chat, "6")
    assert "Question 2 of 6" in text and "Question 1 of 6" not in text
    assert "1" in text and "5" in text  # says which numbers are valid
    assert "Question 3 of 6" in await say(chat, "4")


async def test_a_scale_label_can_be_typed(setup: Setup) -> None:
    chat = chat_for(setup)
    await at_the_scale(chat)
    assert "Question 3 of 6" in await say(chat, "very useful")
    (row,) = await setup.core.storage.responses("sample")
    assert row.answers["usefulness"] == 5


async def test_letters_press_the_other_buttons(setup: Setup) -> None:
    chat = chat_for(setup)
    await at_the_scale(chat)
    assert "Question 1 of 6" in await say(chat, "a")  # ⬅ Back


def test_buttons_are_numbered_where_no_number_is_an_answer(setup: Setup) -> None:
    chat = chat_for(setup)
    text = chat.outbound([Reply("Pick", choices=(Choice("APMN", "x:1"), Choice("PERCO", "x:2")))])
    assert "  1. APMN" in text and "  2. PERCO" in text
    message = chat.inbound("2")
    assert message is not None and message.action == "x:2"


def test_the_footer_row_is_one_line_and_its_buttons_are_typed_as_numbers(setup: Setup) -> None:
    chat = chat_for(setup)
    reply = Reply(
        "An answer",
        choices=(Choice("Who chairs it?", "faq:chair"),),
        footer=(Choice("👍", "fb:u:abc"), Choice("👎", "fb:d:abc")),
    )
    text = chat.outbound([reply])
    assert "  1. Who chairs it?" in text and "  2. 👍   3. 👎" in text
    message = chat.inbound("3")
    assert message is not None and message.action == "fb:d:abc"


async def test_files_go_under_one_folder_and_never_replace_each_other(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    chat = chat_for(setup)
    assert chat.files_dir == files_folder(setup.settings.db_path)
    shown = await say(chat, "/calendar") + "\n" + await say(chat, "/calendar")
    paths = [
        line.split("[file saved: ")[1].rstrip("]")
        for line in shown.splitlines()
        if "[file saved: " in line
    ]
    assert len(paths) == 2 and paths[0] != paths[1], paths
    check_saved(paths, files_folder(setup.settings.db_path), tmp_path)


def check_saved(paths: list[str], folder: Path, cwd: Path) -> None:
    assert all(Path(p).parent == folder and Path(p).exists() for p in paths)
    assert not list(cwd.glob("*.ics"))  # nothing in the current folder


def test_unique_path_counts_up(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("1")
    (tmp_path / "a-2.csv").write_text("2")
    assert unique_path(tmp_path, "a.csv") == tmp_path / "a-3.csv"
    assert unique_path(tmp_path, "../escape.csv") == tmp_path / "escape.csv"


async def test_an_announcement_reaches_the_terminal_chat(setup: Setup) -> None:
    """The chat registers itself as the terminal's sender: a delivery is shown and
    marked sent, and /mydata counts it as sent, not merely kept."""
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r", encoding="utf-8")
    typed = os.fdopen(write_fd, "w", encoding="utf-8")
    out = io.StringIO()
    chat = TerminalChat(setup.core, stdin, out, ME, files_dir=setup.settings.db_path.parent)
    typed.write("/subscribe\n")
    typed.flush()
    running = asyncio.create_task(chat.run())
    for _ in range(200):
        if "subscribed" in out.getvalue().lower():
            break
        await asyncio.sleep(0.01)
    assert "terminal" in setup.core.senders
    coordinator = setup.coordinator()
    await coordinator.ask("/announce The call moves to Thursday.")
    sending = await coordinator.press(coordinator.buttons[0])
    assert "Sending to 1 subscriber now" in sending and "not running" not in sending
    report = await reminders.tick(setup.core)
    assert report.sent == 1
    assert "The call moves to Thursday." in out.getvalue()
    typed.write("/mydata\n")
    typed.flush()
    for _ in range(200):
        if "sent to you" in out.getvalue():
            break
        await asyncio.sleep(0.01)
    assert "1 sent to you, 0 waiting" in out.getvalue()
    typed.write("quit\n")
    typed.close()
    await asyncio.wait_for(running, 10)
    assert "terminal" not in setup.core.senders
    stdin.close()


async def test_an_announcement_says_who_must_wait_for_their_platform(setup: Setup) -> None:
    await setup.person("u1").ask("/subscribe")  # platform "test": no adapter running here
    coordinator = setup.coordinator()
    await coordinator.ask("/announce Hello")
    text = await coordinator.press(coordinator.buttons[0])
    assert "1 of them uses test, which is not running" in text
    await reminders.tick(setup.core)
    mydata = await setup.person("u1").ask("/mydata")
    assert "0 sent to you, 1 waiting to be sent" in mydata


def test_a_free_text_answer_never_presses_a_button(setup: Setup) -> None:
    chat = chat_for(setup)
    back = Choice("⬅ Back", "cn:sample:5:b")
    text = chat.outbound([Reply("Your story?", choices=(back,), expects="text")])
    assert "1." not in text and "a." not in text
    for typed in ("1", "a"):
        message = chat.inbound(typed)
        assert message is not None and message.action is None and message.text == typed
    pressed = chat.inbound("⬅ Back")
    assert pressed is not None and pressed.action == back.action


async def test_a_pushed_message_keeps_the_buttons_on_screen(setup: Setup) -> None:
    chat = chat_for(setup)
    chat.outbound([Reply("Pick", choices=(Choice("APMN", "x:1"), Choice("PERCO", "x:2")))])
    await chat.push([Reply("📣 An announcement")])
    message = chat.inbound("2")
    assert message is not None and message.action == "x:2"


async def test_a_terminal_chat_beside_a_running_bot_leaves_its_deliveries_alone(
    tmp_path: Path,
) -> None:
    """The terminal delivers its own pushes, but a row another process has claimed (a
    running bot, mid-send) is not taken back by the terminal's scheduler."""
    from bot.app import running_core
    from tests.consult_helpers import COORDINATOR, settings_for

    settings = settings_for(tmp_path, coordinators=frozenset({COORDINATOR.key, ME.key}))
    async with SqliteStorage(settings.db_path) as storage:
        await storage.subscribe(
            "test:p0", platform="test", chat="p0", days=(7, 1), language=None, tz_hint=None, now=NOW
        )
        job, _ = await storage.ensure_job(
            "announce:other",
            kind="announce",
            text="Theirs",
            status="draft",
            created_by="x",
            now=NOW,
        )
        assert await storage.activate_announcement(job.id, "x", NOW) == 1
        assert await storage.claim_delivery(job.id, "test:p0", NOW)  # being sent elsewhere
    shown: list[Reply] = []
    arrived = asyncio.Event()

    async def terminal(replies: list[Reply]) -> None:
        shown.extend(replies)
        arrived.set()

    async with running_core(settings) as core:
        core.register_sender("terminal", terminal)
        me = MemoryAdapter(core, ME)
        await me.ask("/subscribe")
        await me.ask("/announce Mine")
        await me.press(me.buttons[0])
        await asyncio.wait_for(arrived.wait(), 20)
        assert await core.storage.delivery_states(job.id) == {"claimed": 1}
    assert any("Mine" in r.text for r in shown)


async def test_the_secretariats_answers_reach_the_terminal_chat_while_it_runs(
    setup: Setup,
) -> None:
    """The desk's answer is stored by the process that serves the desk; a chat whose
    only platform is the terminal shows it without being asked, with its buttons. A row
    for another account's terminal chat on the same database stays for that chat."""
    storage = setup.core.storage
    for chat_id, text in (("terminal-me", "From the secretariat: yes"), ("terminal-x", "Theirs")):
        await storage.queue_relay(
            handoff_id=None,
            kind="reply",
            platform="terminal",
            chat=chat_id,
            key=f"ho:test:{chat_id}",
            text=text,
            now=NOW,
            choices=(("👍 Yes", "ho:h:1:y"),),
        )
    read_end, write_end = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_end) as stdin, os.fdopen(write_end, "w") as typing:
        chat = TerminalChat(setup.core, stdin, out, ME)
        running = asyncio.create_task(chat.run(relay_interval=0.01))
        async with asyncio.timeout(20):
            while "From the secretariat: yes" not in out.getvalue():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        pressed = chat.inbound("👍 Yes")
        typing.write("quit\n")
        typing.flush()
        await asyncio.wait_for(running, 20)
    assert pressed is not None and pressed.action == "ho:h:1:y"
    assert "Theirs" not in out.getvalue()
    (left,) = await storage.pending_relays(["terminal"], NOW)
    assert left.chat == "terminal-x"


async def test_odd_digits_typed_while_buttons_are_shown_neither_crash_nor_end_the_chat(
    setup: Setup,
) -> None:
    """ "²" and "①" are digits to str.isdigit but not numbers to int(), and a 400-digit
    number overflows a float: `nsbot chat` exited with a traceback on them."""
    lines = ["/consult sample", "1", "skip", "skip"]  # at question 1: three buttons
    lines += ["²", "①", "9" * 400, "٢"]  # "٢" is the key 2: the second button, PERCO
    lines += ["²", "①", "9" * 400, "/help"]  # at the scale: buttons 1-5
    out = io.StringIO()
    chat = TerminalChat(setup.core, io.StringIO("\n".join(lines) + "\n"), out, ME)
    await chat.run()  # to the end of the input, not an exception
    text = out.getvalue()
    assert "went wrong" not in text
    assert "Question 2 of 6" in text  # "٢" pressed PERCO: the scale follows
    assert "That number is too long" in text  # the 400 digits at the scale
    assert "You are answering a consultation" in text  # /help, the last line, was read
