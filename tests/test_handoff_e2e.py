"""Black box: ``python -m bot run`` with both adapters, a Telegram field worker and a
Slack secretariat desk, against the fake Telegram and Slack servers on 127.0.0.1.

The worker's unanswered question reaches the desk channel; a thread reply reaches the
worker in Telegram; the worker's follow-up reaches the thread; the worker closes it.
On the way, every delivery from the platforms is made twice (Slack re-sends an event,
Telegram hands out an update again) and the bot is killed with SIGKILL while a relayed
message is in flight: nothing is lost, nothing arrives twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, form_body, sign
from tests.fake_telegram import TOKEN, ApiCall, FakeTelegram, user

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "slack"
DESK = "CDESK"
WORKER = user(111, "Amina", "en")
DESK_GROUP = {"id": -1001234567890, "title": "Secretariat desk", "type": "supergroup"}
DESK_MEMBER = user(222, "Dana", "en")
WITHIN = 40.0  # seconds any one step may take on a busy machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Bot:
    """The bot as a subprocess; its stderr in a file, for the assertions' messages."""

    def __init__(
        self,
        tmp_path: Path,
        env: dict[str, str],
        ready: tuple[str, ...] = ("Slack: listening on", "Telegram: polling"),
    ) -> None:
        self.tmp_path, self.env, self.ready = tmp_path, env, ready
        self.proc: asyncio.subprocess.Process | None = None
        self.runs = 0

    @property
    def log(self) -> Path:
        return self.tmp_path / f"stderr-{self.runs}.txt"

    def stderr(self) -> str:
        return "\n".join(
            (self.tmp_path / f"stderr-{n}.txt").read_text() for n in range(1, self.runs + 1)
        )

    async def start(self) -> None:
        self.runs += 1
        with self.log.open("w") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=self.env, cwd=REPO,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
        for line in self.ready:  # the log lines that say each platform is up
            await self.wait_log(line)

    async def wait_log(self, text: str) -> None:
        async with asyncio.timeout(WITHIN):
            while text not in self.log.read_text():
                assert self.proc is not None and self.proc.returncode is None, self.stderr()
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)  # no clean-up of any kind
        assert await self.proc.wait() == -signal.SIGKILL

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


class Scenario:
    def __init__(self, telegram: FakeTelegram, slack: FakeSlack, bot: Bot, port: int) -> None:
        self.telegram, self.slack, self.bot, self.port = telegram, slack, bot, port
        self.session = aiohttp.ClientSession()
        self._events = 0

    async def until(self, predicate: Callable[[], Any]) -> Any:
        try:
            async with asyncio.timeout(WITHIN):
                # Polled: the state lives in two fake servers and in the bot's log file.
                while not (value := predicate()):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                return value
        except TimeoutError:
            raise AssertionError(f"timed out; the bot said:\n{self.bot.stderr()[-4000:]}") from None

    # -- the Telegram side

    def to_worker(self, *words: str) -> list[ApiCall]:
        return [
            c
            for c in self.telegram.of("sendMessage", chat_id=111)
            if all(w in c["text"] for w in words)
        ]

    async def worker_gets(self, *words: str) -> ApiCall:
        found: list[ApiCall] = await self.until(lambda: self.to_worker(*words))
        return found[-1]

    def press(self, call: ApiCall, prefix: str, suffix: str = "") -> dict[str, Any]:
        data = next(d for _, d in call.buttons if d.startswith(prefix) and d.endswith(suffix))
        return self.telegram.press(WORKER, call, data)

    # -- the Slack side

    def in_desk(self, *words: str, thread: str | None = None) -> list[dict[str, Any]]:
        return [
            m
            for m in self.slack.posted(DESK)
            if all(w in m["text"] for w in words) and (thread is None or m["thread_ts"] == thread)
        ]

    async def desk_reply(self, thread_ts: str, text: str, retries: int = 1) -> None:
        """A desk member's reply in the thread, as Slack sends it: signed; re-sent
        ``retries`` times with the same event id (Slack's retry of an event)."""
        self._events += 1
        body = json.loads((FIXTURES / "event_thread_reply.json").read_text())
        body["event_id"] = f"EvDESK{self._events:04d}"
        body["event"].update(text=text, thread_ts=thread_ts, ts=f"1700009999.{self._events:06d}")
        raw = json.dumps(body)
        url = f"http://127.0.0.1:{self.port}/slack/events"
        for attempt in range(retries + 1):
            headers = {"Content-Type": "application/json", **sign(raw)}
            if attempt:
                headers |= {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "timeout"}
            async with self.session.post(url, data=raw.encode(), headers=headers) as response:
                assert response.status == 200, await response.text()

    async def post_slack(self, raw: str, content_type: str) -> None:
        url = f"http://127.0.0.1:{self.port}/slack/events"
        headers = {"Content-Type": content_type, **sign(raw)}
        async with self.session.post(url, data=raw.encode(), headers=headers) as response:
            assert response.status == 200, await response.text()

    async def slack_dm(self, text: str) -> None:
        """The Slack user U0001 writes to the bot in their direct messages."""
        self._events += 1
        body = json.loads((FIXTURES / "event_dm.json").read_text())
        body["event_id"] = f"EvDM{self._events:04d}"
        body["event"].update(text=text, ts=f"1700008888.{self._events:06d}")
        await self.post_slack(json.dumps(body), "application/json")

    async def slack_press(self, message: dict[str, Any], prefix: str, suffix: str = "") -> None:
        """U0001 presses the button whose value starts with ``prefix`` on a bot message."""
        button = next(
            el
            for block in message["blocks"]
            if block["type"] == "actions"
            for el in block["elements"]
            if el["value"].startswith(prefix) and el["value"].endswith(suffix)
        )
        self._events += 1
        payload = copy.deepcopy(json.loads((FIXTURES / "block_actions.json").read_text()))
        channel, ts = message["channel"], message["ts"]
        payload["container"].update(message_ts=ts, channel_id=channel)
        payload["channel"] = {"id": channel, "name": "directmessage"}
        payload["trigger_id"] = f"trigger-{self._events}"
        payload["response_url"] = self.slack.response_url(f"press-{self._events}")
        payload["message"].update(ts=ts, text=message["text"], blocks=message["blocks"])
        payload["actions"][0].update(
            action_id=button["action_id"],
            value=button["value"],
            text=button["text"],
            action_ts=f"1700007777.{self._events:06d}",
        )
        await self.post_slack(form_body({"payload": payload}), "application/x-www-form-urlencoded")

    def in_dm(self, *words: str) -> list[dict[str, Any]]:
        return [m for m in self.slack.posted("D0001") if all(w in m["text"] for w in words)]

    def in_group(self, *words: str) -> list[ApiCall]:
        return [
            c
            for c in self.telegram.of("sendMessage", chat_id=DESK_GROUP["id"])
            if all(w in c["text"] for w in words)
        ]

    async def settle(self) -> None:
        """Time for anything sent twice to show (the relay ticks every few seconds)."""
        await asyncio.sleep(6)


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    telegram, slack = FakeTelegram(max_poll=0.5), FakeSlack()
    await telegram.start()
    await slack.start()
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "NSBOT_"))
    }
    for proxy in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        env.pop(proxy, None)
    env.update(
        NSBOT_DB=str(tmp_path / "bot.sqlite3"),
        NSBOT_HASH_KEY="k" * 32,
        NSBOT_HANDOFF=f"slack:{DESK}",
        # The restart after the kill waits for the killed process's leases: a third of the
        # default, so the test waits about 13 s, not 40.
        NSBOT_LEASE_SECONDS="10",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=telegram.base_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        SLACK_HTTP_HOST="127.0.0.1",
        SLACK_HTTP_PORT=str(port),
    )
    telegram.chats[int(DESK_GROUP["id"])] = DESK_GROUP  # type: ignore[arg-type]
    bot = Bot(tmp_path, env)
    s = Scenario(telegram, slack, bot, port)
    try:
        yield s
    finally:
        await bot.stop()
        await s.session.close()
        await telegram.stop()
        await slack.stop()


async def test_a_telegram_question_is_answered_from_slack_through_a_kill_and_duplicates(
    scenario: Scenario,
) -> None:
    s = scenario
    await s.bot.start()
    assert "Questions to the secretariat: to slack:CDESK" in s.bot.stderr()

    # The worker's question has no answer: the fallback offers the secretariat.
    asked = s.telegram.send(WORKER, "how do I book a hotel in Geneva")
    fallback = await s.worker_gets("don't have an answer")
    s.telegram.redeliver(asked)  # Telegram hands the question out again
    s.press(fallback, "ho:a:")
    confirm = await s.worker_gets("Send this question to the secretariat?")
    pressed = s.press(confirm, "ho:s:", ":a")
    await s.until(lambda: s.telegram.of("editMessageText", chat_id=111))
    s.telegram.redeliver(pressed)  # and the press on "Send anonymously"

    # It reaches the desk channel once, with what the desk needs and no identity.
    (card,) = await s.until(lambda: s.in_desk("Question for the secretariat"))
    assert "how do I book a hotel in Geneva" in card["text"] and "English" in card["text"]
    assert "Amina" not in card["text"] and "111" not in card["text"]
    root = card["ts"]

    # A thread reply (sent twice by Slack) reaches the worker once.
    await s.desk_reply(root, "Ask the travel unit, extension 42.", retries=1)
    answer = await s.worker_gets("From the secretariat", "extension 42")
    assert "Did this help?" in answer["text"]
    assert any(d.startswith("ho:h:") for _, d in answer.buttons)

    # The worker's follow-up is in flight to Slack when the bot is killed.
    s.slack.fail("chat.postMessage", 500, retry_after=None)  # what the held call will get
    s.slack.hold("chat.postMessage")
    s.telegram.send(WORKER, "And for two nights?")
    await s.until(
        lambda: any("two nights" in c.get("text", "") for c in s.slack.calls_to("chat.postMessage"))
    )
    await s.bot.kill()
    s.slack.release("chat.postMessage")  # Slack never took it: it answered 500
    await s.bot.start()
    (follow,) = await s.until(lambda: s.in_desk("two nights", thread=root))
    assert "The asker writes" in follow["text"]

    # After the restart, the desk's second reply still finds its question.
    await s.desk_reply(root, "Two nights are fine.", retries=2)
    second = await s.worker_gets("Two nights are fine")

    # The worker closes it: the thread is told, the question's card says so.
    s.press(second, "ho:x:")
    await s.worker_gets("is closed")
    await s.until(lambda: s.in_desk("Closed by the asker", thread=root))
    await s.until(lambda: "Closed by the asker" in s.slack.messages[(DESK, root)]["text"])
    await s.settle()
    assert len(s.in_desk("Question for the secretariat")) == 1
    assert len(s.in_desk("two nights", thread=root)) == 1
    assert len(s.to_worker("extension 42")) == 1
    assert len(s.to_worker("Two nights are fine")) == 1
    assert len(s.to_worker("Send this question to the secretariat?")) == 1
    log = s.bot.stderr()
    assert "Traceback" not in log
    # The duplicates did arrive, and were recognised as such.
    assert log.count("ignoring re-delivered telegram event") >= 2, log
    assert log.count("ignoring re-delivered slack event") == 3, log


async def test_a_slack_question_is_answered_from_a_telegram_group(scenario: Scenario) -> None:
    """The other way round: the asker in Slack, the desk a Telegram group, where a
    desk member answers by replying to the bot's message and closes with /close."""
    s = scenario
    s.bot.env["NSBOT_HANDOFF"] = f"telegram:{DESK_GROUP['id']}"
    await s.bot.start()
    await s.slack_dm("how do I book a hotel in Geneva")
    (fallback,) = await s.until(lambda: s.in_dm("have an answer"))
    await s.slack_press(fallback, "ho:a:")
    (confirm,) = await s.until(lambda: s.in_dm("Send this question to the secretariat?"))
    await s.slack_press(confirm, "ho:s:", ":n")  # with the name
    (card,) = await s.until(lambda: s.in_group("Question for the secretariat"))
    assert "Person U0001" in card["text"]  # the name, agreed to
    posted = s.telegram.message_of(card)

    s.telegram.send(DESK_MEMBER, "Use the travel form.", chat=DESK_GROUP, reply_to=posted)
    (answer,) = await s.until(lambda: s.in_dm("From the secretariat", "travel form"))
    assert "Dana" not in answer["text"]

    await s.slack_dm("Which form?")
    (follow,) = await s.until(lambda: s.in_group("Which form?"))
    assert follow["reply_parameters"]["message_id"] == posted["message_id"]

    # Replying to the follow-up answers the same question; /close in reply closes it.
    s.telegram.send(
        DESK_MEMBER, "The blue one.", chat=DESK_GROUP, reply_to=s.telegram.message_of(follow)
    )
    await s.until(lambda: s.in_dm("The blue one"))
    s.telegram.send(DESK_MEMBER, "/close", chat=DESK_GROUP, reply_to=posted)
    await s.until(lambda: s.in_dm("closed your question"))
    await s.until(
        lambda: (
            "Closed by the secretariat"
            in s.telegram.messages[(DESK_GROUP["id"], posted["message_id"])]["text"]
        )
    )  # type: ignore[index]
    assert "Traceback" not in s.bot.stderr()


class Terminal:
    """``python -m bot chat`` as a subprocess: lines typed on its stdin, everything it
    writes read from its stdout (not a terminal: no prompt, no colours)."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path, self.env = tmp_path, env
        self.proc: asyncio.subprocess.Process | None = None
        self.out = ""
        self._reader: asyncio.Task[None] | None = None

    @property
    def log(self) -> Path:
        return self.tmp_path / "chat-stderr.txt"

    async def start(self) -> None:
        with self.log.open("w") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "chat", env=self.env, cwd=REPO,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
            )  # fmt: skip
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while chunk := await self.proc.stdout.read(4096):
            self.out += chunk.decode("utf-8", "replace")

    def mark(self) -> int:
        """Where the output stands now: what the next step's words are looked for after."""
        return len(self.out)

    def since(self, mark: int) -> str:
        return self.out[mark:]

    async def type(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        await self.proc.stdin.drain()

    async def quit(self) -> int:
        assert self.proc is not None
        await self.type("quit")
        async with asyncio.timeout(WITHIN):
            code = await self.proc.wait()
            if self._reader is not None:
                await self._reader
        return code

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


async def nsbot(env: dict[str, str], *args: str) -> str:
    """A one-shot ``python -m bot`` command (``kb review``, ``stats``): its stdout."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=REPO,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(WITHIN * 2):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def open_terminal(s: Scenario, tmp_path: Path) -> tuple[Terminal, dict[str, str]]:
    """``nsbot chat`` beside the running bot, on its database, as the account "amina"."""
    env = {**s.bot.env, "LOGNAME": "amina", "USER": "amina", "LANG": "en_US.UTF-8"}
    for name in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        env.pop(name)  # the terminal chat is this process's only platform
    chat = Terminal(tmp_path, env)
    await chat.start()
    await s.until(lambda: "Browse topics" in chat.out)  # the /start greeting
    return chat, env


async def typed(s: Scenario, chat: Terminal, line: str, *words: str) -> str:
    """Type a line; what the chat wrote after it, once it holds every one of ``words``."""
    mark = chat.mark()
    await chat.type(line)
    await s.until(lambda: all(w in chat.since(mark) for w in words))
    return chat.since(mark)


async def test_a_terminal_question_is_answered_from_slack_and_reaches_the_review(
    scenario: Scenario, tmp_path: Path
) -> None:
    """The asker in ``nsbot chat``, the desk a Slack channel served by ``nsbot run``,
    both on one SQLite file: the fallback's offer, the question in the desk, the desk's
    answer (sent twice by Slack) in the terminal, "Did this help?", a follow-up in the
    thread through a kill -9 of the desk's process, the close; then 👎 with a comment
    on an answer, and ``nsbot kb review`` and ``nsbot stats`` show all of it."""
    s = scenario
    await s.bot.start()
    chat, env = await open_terminal(s, tmp_path)
    try:

        async def step(line: str, *words: str) -> str:
            return await typed(s, chat, line, *words)

        # The bot has no answer: the fallback offers the secretariat; the asker accepts.
        shown = await step("how do I book a hotel in Geneva", "Ask the secretariat")
        assert "have an answer" in shown
        await step("Ask the secretariat", "Send this question to the secretariat?")
        sent = await step("Send anonymously", "Sent to the secretariat")
        ref = sent.split("reference ")[1][:8]

        # The desk's process posts it to the channel, once, without the asker's account.
        (card,) = await s.until(lambda: s.in_desk("Question for the secretariat"))
        assert "how do I book a hotel in Geneva" in card["text"] and ref in card["text"]
        assert "amina" not in card["text"] and "terminal" not in card["text"]
        root = card["ts"]

        # The desk answers in the thread (Slack sends the event twice): the terminal shows
        # it once, from the secretariat, with "Did this help?".
        mark = chat.mark()
        await s.desk_reply(root, "Ask the travel unit, extension 42.", retries=1)
        await s.until(lambda: "extension 42" in chat.since(mark))
        await s.until(lambda: "Did this help?" in chat.since(mark))
        answer = chat.since(mark)
        assert "From the secretariat" in answer and "U0DESK" not in answer
        await step("👍 Yes", "Thank you!")

        # The asker's follow-up reaches the thread, though the desk's process is killed
        # before it can send it and started again.
        s.slack.hold("chat.postMessage")
        await step("And for two nights?", "Sent to the secretariat")
        await s.until(
            lambda: any(
                "two nights" in c.get("text", "") for c in s.slack.calls_to("chat.postMessage")
            )
        )
        s.slack.fail("chat.postMessage", 500, retry_after=None)
        await s.bot.kill()
        s.slack.release("chat.postMessage")
        await s.bot.start()
        (follow,) = await s.until(lambda: s.in_desk("two nights", thread=root))
        assert "The asker writes" in follow["text"]
        mark = chat.mark()
        await s.desk_reply(root, "Two nights are fine.", retries=2)
        await s.until(lambda: "Two nights are fine" in chat.since(mark))

        # The asker closes it; the thread and the question's card say so.
        await step("/close", "is closed")
        await s.until(lambda: s.in_desk("Closed by the asker", thread=root))
        listed = await step("/myquestions", ref)
        assert "closed" in listed

        # 👎 on an answer, with a comment.
        await step("when was the migration policy adopted", "2009", "👎")
        await step("👎", "What was wrong?")
        await step("I wanted the month", "Thank you")
        await s.settle()
        assert chat.out.count("extension 42") == 1
        assert chat.out.count("Two nights are fine") == 1
        assert len(s.in_desk("Question for the secretariat")) == 1
        assert len(s.in_desk("two nights", thread=root)) == 1
        assert await chat.quit() == 0
    finally:
        await chat.stop()
    assert "Traceback" not in chat.log.read_text() + s.bot.stderr()

    # The curators' review lists the gap, the 👎 with its comment, and the desk's answer.
    groups = [
        json.loads(line) for line in (await nsbot(env, "kb", "review", "--json")).splitlines()
    ]
    items = [i for g in groups for c in g["clusters"] for i in c["items"]]
    by_kind = {i["kind"]: i for i in items}
    assert set(by_kind) == {"gap", "feedback", "desk"}, items
    assert by_kind["gap"]["question"] == "how do I book a hotel in Geneva"
    assert by_kind["desk"]["question"] == "how do I book a hotel in Geneva"
    assert "Two nights are fine" in by_kind["desk"]["answer"]
    assert by_kind["desk"]["helpful"] is True  # the asker's "👍 Yes"
    assert by_kind["feedback"]["comments"] == ["I wanted the month"]
    figures = json.loads(await nsbot(env, "stats", "--json"))
    assert figures["desk"] == {**figures["desk"], "sent": 1, "answered": 1}
    assert any(v["down"] == 1 for v in figures["votes"])
    assert figures["per_platform"] == [{"platform": "terminal", "questions": 2}]


async def test_a_terminal_question_is_answered_and_closed_from_a_telegram_group(
    scenario: Scenario, tmp_path: Path
) -> None:
    """The terminal asker again, the desk a Telegram group: a desk member's reply to the
    bot's message reaches the terminal, the asker's follow-up reaches the group as a
    reply to the question, and the desk's /close reaches the terminal too."""
    s = scenario
    s.bot.env["NSBOT_HANDOFF"] = f"telegram:{DESK_GROUP['id']}"
    await s.bot.start()
    chat, _ = await open_terminal(s, tmp_path)
    try:
        await typed(s, chat, "/human how do I book a hotel in Geneva", "Send with my name")
        await typed(s, chat, "Send with my name", "Sent to the secretariat")
        (card,) = await s.until(lambda: s.in_group("Question for the secretariat"))
        assert "amina" in card["text"]  # the name, agreed to: the account's display name
        posted = s.telegram.message_of(card)
        mark = chat.mark()
        s.telegram.send(DESK_MEMBER, "Use the travel form.", chat=DESK_GROUP, reply_to=posted)
        await s.until(lambda: "travel form" in chat.since(mark))
        assert "From the secretariat" in chat.since(mark) and "Dana" not in chat.since(mark)
        await typed(s, chat, "Which form?", "Sent to the secretariat")
        (follow,) = await s.until(lambda: s.in_group("Which form?"))
        assert follow["reply_parameters"]["message_id"] == posted["message_id"]
        mark = chat.mark()
        s.telegram.send(DESK_MEMBER, "/close", chat=DESK_GROUP, reply_to=posted)
        await s.until(lambda: "closed your question" in chat.since(mark))
        assert "closed" in await typed(s, chat, "/myquestions", "Your questions")
        assert await chat.quit() == 0
    finally:
        await chat.stop()
    assert "Traceback" not in chat.log.read_text() + s.bot.stderr()
