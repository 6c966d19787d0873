"""Nothing lost, nothing counted twice: a killed process, re-delivered events, and 300
people answering at once against one SQLite file."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.knowledge import KnowledgeBase
from bot.messages import Incoming
from bot.storage import SqliteStorage
from tests.consult_helpers import CONSULTATIONS, KB_MIN, NOW, Setup, make_core, start_sample

REPO = Path(__file__).resolve().parent.parent
READ_TIMEOUT = 30.0


# --------------------------------------------------------------------------- kill -9


class Chat:
    """``python -m bot chat`` driven through pipes, as a person at a terminal would."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.seen = ""

    @classmethod
    async def start(cls, db: Path) -> Chat:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(db.parent),
            "PYTHONPATH": str(REPO),
            "NSBOT_DB": str(db),
            "NSBOT_KNOWLEDGE": str(KB_MIN),
            "NSBOT_FAQ": str(KB_MIN.parent / "faq.yaml"),
            "NSBOT_CONSULTATIONS": str(CONSULTATIONS),
            "NSBOT_HASH_KEY": "durability-test-key-0123",
            "USER": "durable",
            "LOGNAME": "durable",
            "NO_COLOR": "1",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "chat",
            cwd=str(REPO),
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def until(self, *markers: str) -> str:
        """Read the output until every marker has appeared; return what was read."""
        assert self.proc.stdout is not None
        text = ""
        while not all(m in text for m in markers):
            line = await asyncio.wait_for(self.proc.stdout.readline(), READ_TIMEOUT)
            if not line:
                stderr = await self.proc.stderr.read() if self.proc.stderr else b""
                raise AssertionError(
                    f"chat ended early; output: {text!r}; stderr: {stderr.decode()[-2000:]}"
                )
            text += line.decode("utf-8")
        self.seen += text
        return text

    async def say(self, line: str, *markers: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode("utf-8"))
        await self.proc.stdin.drain()
        return await self.until(*markers)

    async def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no clean-up of any kind
        await self.proc.wait()

    async def quit(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"quit\n")
        await self.proc.stdin.drain()
        self.proc.stdin.close()
        await asyncio.wait_for(self.proc.wait(), READ_TIMEOUT)


async def stored(db: Path) -> list[Any]:
    async with SqliteStorage(db) as storage:
        return await storage.responses("sample")


async def test_killed_mid_consultation_resumes_at_the_same_question(tmp_path: Path) -> None:
    db = tmp_path / "chat.sqlite3"
    chat = await Chat.start(db)
    await chat.say("/consult sample", "Do you agree to take part?", "2. Not now")
    await chat.say("yes", "National Society")  # the one-time profile, after the consent
    await chat.say("skip", "region")
    await chat.say("skip", "Question 1 of 6", "3. None or other")
    await chat.say("perco", "Question 2 of 6", "⬅ Back")
    await chat.say("4", "Question 3 of 6", "✔ Done")
    await chat.say("1, 3", "Question 4 of 6", "⬅ Back")
    await chat.kill()

    rows = await stored(db)
    assert len(rows) == 1
    assert rows[0].position == "hsp" and rows[0].status == "draft"
    assert rows[0].answers == {
        "network": "perco",
        "usefulness": 4,
        "priorities": ["services", "missing"],
    }

    chat = await Chat.start(db)
    text = await chat.say("/consult sample", "Question 4 of 6", "⬅ Back")
    assert "Welcome back" in text and "answered 3 questions so far" in text
    await chat.say("yes", "Question 5 of 6")
    await chat.kill()  # killed again, right after the reply
    rows = await stored(db)
    assert rows[0].answers["hsp"] == "yes" and rows[0].position == "staff"
    assert rows[0].answers["network"] == "perco"  # earlier answers intact

    chat = await Chat.start(db)
    await chat.say("/consult sample", "Question 5 of 6")
    await chat.say("skip", "Question 6 of 6")
    await chat.say("skip", "Your answers", "Send my answers")
    await chat.say("send", "Thank you", "Reference")
    await chat.quit()
    rows = await stored(db)
    assert len(rows) == 1 and rows[0].status == "submitted"
    assert rows[0].answers == {
        "network": "perco",
        "usefulness": 4,
        "priorities": ["services", "missing"],
        "hsp": "yes",
        "staff": None,
        "story": None,
    }


# --------------------------------------------------------------------------- re-delivery


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    return make_core(tmp_path, min_kb, storage)


async def test_every_consult_step_delivered_twice_counts_once(setup: Setup) -> None:
    bot = setup.person()
    steps = [
        ("/consult sample", None),
        ("", "ck:sample:y"),  # consent; the one-time profile follows
        ("", "pf:ns:k"),
        ("", "pf:r:k"),
        ("", "ca:sample:0:2"),  # network none
        ("", "cm:sample:2:1"),
        ("", "cn:sample:2:d"),
        ("yes", None),
        ("42", None),
        ("a story", None),
        ("", "cv:sample:s"),
    ]
    for n, (text, action) in enumerate(steps):
        event = Incoming(bot.person, bot.chat, text=text, action=action, event_id=f"evt-{n}")
        first = await setup.core.handle(event)
        assert first, f"step {n} gave no reply"
        assert await setup.core.handle(event) == [], f"step {n} re-delivered was handled again"
    rows = await setup.core.storage.responses("sample")
    assert len(rows) == 1 and rows[0].status == "submitted"
    assert rows[0].answers == {
        "network": "none",
        "priorities": ["climate"],
        "hsp": "yes",
        "staff": 42,
        "story": "a story",
    }


async def test_a_toggle_pressed_twice_by_a_retry_stays_ticked(setup: Setup) -> None:
    bot = setup.person()
    await start_sample(bot)
    await bot.press("None or other")
    press = Incoming(bot.person, bot.chat, action="cm:sample:2:0", event_id="slack-Ev1")
    await setup.core.handle(press)
    await setup.core.handle(press)  # Slack retries the same event_id
    rows = await setup.core.storage.responses("sample")
    assert rows[0].answers["priorities"] == ["services"]


# --------------------------------------------------------------------------- many at once


def expected_answers(i: int) -> dict[str, Any]:
    network = ("apmn", "perco", "none")[i % 3]
    answers: dict[str, Any] = {"network": network}
    if network != "none":
        answers["usefulness"] = i % 5 + 1
    answers["priorities"] = [("services", "climate", "missing", "inclusion")[i % 4]]
    answers["hsp"] = "yes" if i % 2 else "no"
    answers["staff"] = i
    answers["story"] = f"person {i}: مرحبا 🙂"
    return answers


async def answer_as(setup: Setup, i: int) -> None:
    bot: MemoryAdapter = setup.person(f"p{i}", f"Person {i}")
    want = expected_answers(i)
    await start_sample(bot)
    await bot.ask(str(("apmn", "perco", "none").index(want["network"]) + 1))
    if "usefulness" in want:
        await bot.press(str(want["usefulness"]))
    await bot.ask(
        str(("services", "climate", "missing", "inclusion").index(want["priorities"][0]) + 1)
    )
    await bot.press("Yes" if want["hsp"] == "yes" else "No")
    await bot.ask(str(want["staff"]))
    await bot.ask(want["story"])
    text = await bot.press("✅ Send my answers")
    assert "Thank you" in text, text


async def test_300_people_answer_at_once_and_every_response_is_exact(setup: Setup) -> None:
    people = 300
    await asyncio.gather(*(answer_as(setup, i) for i in range(people)))
    rows = await setup.core.storage.responses("sample")
    assert len(rows) == people
    by_code = {setup.core.pseudonyms.respondent("sample", f"test:p{i}"): i for i in range(people)}
    seen = set()
    for row in rows:
        i = by_code[row.respondent]
        seen.add(i)
        assert row.status == "submitted" and row.position == "done"
        assert row.answers == expected_answers(i), i
        # An anonymous response keeps the day only (a moment could link it to an account).
        assert row.submitted_at == NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    assert seen == set(range(people))


# --------------------------------------------------------------------------- storage guarantees


async def test_start_response_is_one_row_even_when_raced(storage: SqliteStorage) -> None:
    rows = await asyncio.gather(
        *(
            storage.start_response(
                "sample",
                "code-1",
                anonymous=True,
                person="test:x",
                display_name="X",
                position="network",
                profile=(None, None),
                now=NOW,
            )
            for _ in range(20)
        )
    )
    assert len({r.id for r in rows}) == 1
    assert rows[0].person is None and rows[0].display_name is None  # anonymous: no identity kept


async def test_an_answer_for_a_position_that_moved_on_is_refused(storage: SqliteStorage) -> None:
    row = await storage.start_response(
        "sample",
        "test:y",
        anonymous=False,
        person="test:y",
        display_name="Y",
        position="network",
        profile=("africa", "Kenya Red Cross"),
        now=NOW,
    )
    assert await storage.update_response(
        row.id,
        now=NOW,
        answers={"network": "apmn"},
        position="usefulness",
        expect_position="network",
    )
    assert not await storage.update_response(
        row.id,
        now=NOW,
        answers={"network": "none"},
        position="priorities",
        expect_position="network",
    )
    again = await storage.get_response("sample", "test:y")
    assert again and again.answers == {"network": "apmn"} and again.position == "usefulness"
    assert again.person == "test:y" and again.region == "africa"
