"""Telegram polling under crashes and stops: the real python-telegram-bot client in a
bot process of its own, against the fake Bot API on 127.0.0.1 (tests/fake_telegram.py).

python-telegram-bot confirms the updates it fetched by asking for the next ones, before
they are handled. An update confirmed and then lost to a ``kill -9`` is gone for good:
Telegram never sends it again. These tests kill the bot exactly there.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.telegram.inbox import answer_of, updates_of
from tests.fake_telegram import ApiCall, FakeTelegram, fixture, user

REPO = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).parent / "telegram_child.py"
KB_MIN = Path(__file__).parent / "fixtures" / "kb_min" / "knowledge"
AMINA = user(111, "Amina")
CORA = user(999, "Cora")  # a coordinator
GROUP = fixture("group_message")["message"]["chat"]
QUESTION = "When was the migration policy adopted?"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(clock=time.monotonic)
    await server.start()
    yield server
    await server.stop()


def bot_env(tmp_path: Path, fake: FakeTelegram) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "NSBOT_"))
    }
    env.update(
        NSBOT_DB=str(tmp_path / "bot.sqlite3"),
        NSBOT_KNOWLEDGE=str(KB_MIN),
        NSBOT_CACHE_DIR=str(tmp_path / "cache"),
        NSBOT_HASH_KEY="k" * 32,
        NSBOT_COORDINATORS=f"telegram:{CORA['id']}",
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.base_url,
        PYTHONPATH=str(REPO),
    )
    return env


class Process:
    """A bot process; its stderr goes to a file the test can read on failure."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc, self.log = proc, log

    @classmethod
    async def start(cls, tmp_path: Path, fake: FakeTelegram, *args: str) -> Process:
        log = tmp_path / f"stderr-{time.monotonic_ns()}.txt"
        with log.open("w") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *args,
                env=bot_env(tmp_path, fake),
                cwd=REPO,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=err,
            )
        return cls(proc, log)

    def stderr(self) -> str:
        return self.log.read_text()

    async def polling(self, fake: FakeTelegram, within: float = 60.0) -> None:
        """Wait until this process polls: it said so, then a getUpdates came. (Not the
        count of getUpdates alone: a process stopped while its long poll was open has
        that call recorded up to a second later.)"""
        for _ in range(int(within * 10)):
            if "Telegram: polling for updates" in self.stderr():
                break
            assert self.proc.returncode is None, f"exited early:\n{self.stderr()}"
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the bot never polled:\n{self.stderr()}")
        before = len(fake.of("getUpdates"))
        await fake.wait_for(lambda: len(fake.of("getUpdates")) > before, within=within)

    async def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def terminate(self, within: float = 30.0) -> tuple[int, float]:
        """SIGTERM; (exit code, seconds it took to exit)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            await self.kill()
            raise AssertionError(f"no exit {within} s after SIGTERM:\n{self.stderr()}") from None
        return code, time.monotonic() - started


def confirmed(fake: FakeTelegram, update: dict[str, Any]) -> bool:
    """Telegram was told the update arrived: a getUpdates with an offset past it."""
    return any(int(c.get("offset") or 0) > update["update_id"] for c in fake.of("getUpdates"))


def answers(fake: FakeTelegram) -> list[ApiCall]:
    return [c for c in fake.of("sendMessage", AMINA["id"]) if "2009" in c["text"]]


async def test_an_update_confirmed_and_then_killed_before_it_was_handled_is_handled_after_restart(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    hung = await Process.start(tmp_path, fake, str(CHILD), "--hang")
    await hung.polling(fake)
    update = fake.send(AMINA, QUESTION)
    await fake.wait_for(lambda: confirmed(fake, update), within=30)
    await hung.kill()  # fetched, confirmed, not handled
    assert answers(fake) == [], hung.stderr()
    assert f"handling {update['update_id']}" in hung.stderr()

    bot = await Process.start(tmp_path, fake, str(CHILD))
    try:
        await fake.wait_for(lambda: answers(fake), within=60)
    except TimeoutError:
        raise AssertionError(f"the update was lost:\n{bot.stderr()}") from None
    fake.push(update)  # Telegram re-sends an update when unsure: still handled once
    await bot.polling(fake)
    await bot.polling(fake)
    code, _ = await bot.terminate()
    assert code == 0, bot.stderr()

    again = await Process.start(tmp_path, fake, str(CHILD))  # nothing left to drain
    await again.polling(fake)
    code, _ = await again.terminate()
    assert code == 0, again.stderr()
    assert len(answers(fake)) == 1
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM inbox").fetchone() == (0,)


async def test_sigterm_under_a_vote_burst_exits_within_10_s_and_loses_no_vote(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    bot = await Process.start(tmp_path, fake, "-m", "bot", "run")
    await bot.polling(fake)
    fake.send(CORA, "/poll Which topic first? | Access | Climate", chat=GROUP)
    await fake.wait_for(lambda: fake.of("sendMessage", GROUP["id"]), within=30)
    [poll] = [m for (chat, _), m in fake.messages.items() if chat == GROUP["id"]]
    data = [b["callback_data"] for row in poll["reply_markup"]["inline_keyboard"] for b in row]
    # A burst draws "too many requests": the tally's edit is told to wait 30 s (until
    # the restart). A stop must not wait it out.
    restarted = False
    fake.fail("editMessageText", 429, retry_after=30, times=10_000, when=lambda _: not restarted)
    voters = 400
    for i in range(voters):
        fake.press(user(10_000 + i, f"Voter{i}"), poll, data[i % 2])
    await fake.wait_for(lambda: len(fake.of("answerCallbackQuery")) >= 20, within=30)
    code, took = await bot.terminate()
    print(f"exit {took:.2f} s after SIGTERM")
    assert code == 0, bot.stderr()
    assert took < 10, f"{took:.1f} s to exit after SIGTERM"
    assert "Traceback" not in bot.stderr()

    restarted = True
    after = await Process.start(tmp_path, fake, "-m", "bot", "run")
    await after.polling(fake)
    key = (GROUP["id"], poll["message_id"])
    try:
        await fake.wait_for(lambda: f"{voters} voters" in fake.messages[key]["text"], within=60)
    except TimeoutError:
        raise AssertionError(f"votes were lost:\n{after.stderr()}") from None
    finally:
        code, _ = await after.terminate()
    assert code == 0, after.stderr()
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        assert db.execute("SELECT COUNT(DISTINCT voter) FROM poll_votes").fetchone() == (voters,)
        assert db.execute("SELECT COUNT(*) FROM inbox").fetchone() == (0,)


def test_each_kept_update_names_its_sender_for_mydata_and_forget() -> None:
    message = fixture("group_message")
    press = {"update_id": 8, "callback_query": {"id": "q", "from": user(222), "data": "x"}}
    blocked = {"update_id": 9, "my_chat_member": {"from": user(333), "chat": {"id": 333}}}
    nobody = {"update_id": 10, "poll": {"id": "p"}}
    answer = {"ok": True, "result": [message, press, blocked, nobody]}
    kept = updates_of(json.dumps(answer).encode())
    assert [(event, sender) for event, _, sender in kept] == [
        (str(message["update_id"]), f"telegram:{message['message']['from']['id']}"),
        ("8", "telegram:222"),
        ("9", "telegram:333"),
        ("10", None),
    ]


def test_a_pressed_button_keeps_only_its_messages_chat_and_id() -> None:
    """A poll's whole text and keyboard come with every vote: parsing them into the
    library's objects cost more than the vote. Kept and handed on: the chat and id."""
    press = fixture("callback_query")
    pressed = press["callback_query"]["message"] = fixture("group_message")["message"] | {
        "message_id": 77,
        "text": "Which topic first?\n\nAccess to services",
        "entities": [{"type": "bold", "offset": 0, "length": 18}],
        "reply_markup": {"inline_keyboard": [[{"text": "Access", "callback_data": "pv:1:0"}]]},
    }
    message = fixture("group_message")
    answer = {"ok": True, "result": [press, message]}
    kept, handed = answer_of(json.dumps(answer).encode())
    slim = {"message_id": 77, "date": pressed["date"], "chat": pressed["chat"]}
    assert json.loads(kept[0][1])["callback_query"]["message"] == slim
    assert json.loads(kept[1][1]) == message  # a message is kept whole: it is read
    given = json.loads(handed)
    assert given["result"][0]["callback_query"]["message"] == slim
    assert given["result"][0]["callback_query"]["data"] == press["callback_query"]["data"]
    assert given["result"][1] == message
