"""The Telegram adapter end to end: real python-telegram-bot against a fake Bot API.

Everything runs on 127.0.0.1. The outbox runs on virtual time (tests/test_outbox.py's
VirtualTime), so rate limits and retry-after waits cost no real time; the fake server
stamps every call with that clock, which is how waits are checked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import html
import logging
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram.error import BadRequest

from bot.adapters.telegram import TelegramAdapter, WebhookConfig
from bot.app import running_core
from bot.config import Settings, shipped_knowledge_dir
from bot.core import Core
from bot.errors import ConfigError, RecipientGone
from bot.handlers import ACTIONS, COMMANDS
from bot.handlers.base import Context
from bot.messages import Attachment, Chat, Choice, Incoming, Reply
from tests.fake_telegram import TOKEN, ApiCall, FakeTelegram, fixture, user
from tests.test_outbox import VirtualTime

KB_MIN = Path(__file__).parent / "fixtures" / "kb_min" / "knowledge"
GROUP = fixture("group_message")["message"]["chat"]
GROUP_ID: int = GROUP["id"]
AMINA, BRUNO, CHEN = user(111, "Amina"), user(222, "Bruno", "fr"), user(333, "Chen", None)


class Bot:
    """A core and a Telegram adapter on one SQLite file; restartable."""

    def __init__(self, fake: FakeTelegram, vt: VirtualTime, settings: Settings) -> None:
        self.fake, self.vt, self.settings = fake, vt, settings
        self._stack: AsyncExitStack | None = None
        self._core: Core | None = None
        self._adapter: TelegramAdapter | None = None

    @property
    def core(self) -> Core:
        assert self._core is not None
        return self._core

    @property
    def adapter(self) -> TelegramAdapter:
        assert self._adapter is not None
        return self._adapter

    async def start(self) -> None:
        self._stack = AsyncExitStack()
        self._core = await self._stack.enter_async_context(running_core(self.settings))
        self._adapter = TelegramAdapter(
            self._core, self.settings, poll_timeout=1, clock=self.vt.clock, sleep=self.vt.sleep
        )
        await self._adapter.start()

    async def stop(self) -> None:
        if self._adapter is not None:
            await self._adapter.stop()
        if self._stack is not None:
            await self._stack.aclose()
        self._adapter = self._core = self._stack = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def ask(
        self, sender: dict[str, Any], text: str, *, chat: dict[str, Any] | None = None, **kw: Any
    ) -> ApiCall:
        """Send a message; wait for the bot's next message in that chat and return it."""
        chat_id = sender["id"] if chat is None else chat["id"]
        before = len(self.fake.of("sendMessage", chat_id))
        self.fake.send(sender, text, chat=chat, **kw)
        return (await self.fake.wait_calls("sendMessage", before + 1, chat_id))[before]


def make_settings(
    tmp_path: Path, fake: FakeTelegram, knowledge: Path = KB_MIN, **platform: str
) -> Settings:
    return Settings(
        db_path=tmp_path / "bot.sqlite3",
        knowledge_dir=knowledge,
        hash_key="test-key-not-secret",
        platform={
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            **platform,
        },
    )


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
async def fake(vt: VirtualTime) -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(clock=vt.clock)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def tg(fake: FakeTelegram, vt: VirtualTime, tmp_path: Path) -> AsyncIterator[Bot]:
    bot = Bot(fake, vt, make_settings(tmp_path, fake))
    await bot.start()
    yield bot
    await bot.stop()


def visible(call: ApiCall) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", str(call.get("text") or call.get("caption") or "")))


# ------------------------------------------------------------------ conversation


async def test_start_registers_the_command_menu(tg: Bot, fake: FakeTelegram) -> None:
    [menu] = [c for c in fake.of("setMyCommands") if "language_code" not in c.params]
    expected = [c.name for c in COMMANDS if c.in_menu and not c.coordinators_only]
    assert [c["command"] for c in menu["commands"]] == expected
    assert {"start", "help", "topics", "timeline", "ask"} <= set(expected)
    assert not {c.name for c in COMMANDS if c.coordinators_only} & set(expected)
    english = tg.core.ui.strings["en"]
    assert [c["description"] for c in menu["commands"]] == [
        english[c.description] for c in COMMANDS if c.name in expected
    ]
    assert fake.of("deleteWebhook")
    await fake.wait_for(lambda: fake.of("getUpdates"))  # polling


async def test_a_question_is_answered_and_a_follow_up_button_works(
    tg: Bot, fake: FakeTelegram
) -> None:
    answer = await tg.ask(AMINA, "When was the migration policy adopted?")
    assert "November 2009" in visible(answer)
    assert "<b>November 2009</b>" in answer["text"] and answer["parse_mode"] == "HTML"
    assert ("Who chairs the Migration Reference Group?", "faq:mrg-chair") in answer.buttons

    fake.press(AMINA, answer, "faq:mrg-chair")
    [_, follow_up] = await fake.wait_calls("sendMessage", 2, AMINA["id"])
    assert "chaired by the IFRC" in visible(follow_up)
    [answered] = await fake.wait_calls("answerCallbackQuery")
    assert answered.get("text") is None  # the spinner stops; nothing to toast


async def test_a_suggestion_is_chosen_by_button(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path
) -> None:
    bot = Bot(fake, vt, make_settings(tmp_path, fake, shipped_knowledge_dir()))
    await bot.start()
    try:
        question = next(
            q
            for q in ("london", "group", "reference", "who", "migration group")
            if bot.core.matcher.match(q).status == "suggest"
        )
        suggestion = await bot.ask(AMINA, question)
        faq_buttons = [
            (label, data) for label, data in suggestion.buttons if data.startswith("faq:")
        ]
        assert len(faq_buttons) >= 2
        _, data = faq_buttons[0]
        fake.press(AMINA, suggestion, data)
        [_, chosen] = await fake.wait_calls("sendMessage", 2, AMINA["id"])
        entry = bot.core.kb.entries[data.removeprefix("faq:")]
        first_words = " ".join(entry.answer_in("en").replace("**", "").split()[:4])
        assert first_words in " ".join(visible(chosen).split())
    finally:
        await bot.stop()


async def test_groups_only_hear_what_is_addressed_to_the_bot(tg: Bot, fake: FakeTelegram) -> None:
    fake.send(AMINA, "the policy was adopted when?", chat=GROUP)  # people talking
    fake.send(AMINA, "/ask@some_other_bot when was the policy adopted", chat=GROUP)
    answer = await tg.ask(
        AMINA, "/ask@nsbot_test_bot when was the migration policy adopted", chat=GROUP
    )
    assert "November 2009" in visible(answer)
    mention = [{"type": "mention", "offset": 0, "length": 15}]
    answer = await tg.ask(
        BRUNO,
        "@nsbot_test_bot Who chairs the Migration Reference Group?",
        chat=GROUP,
        entities=mention,
    )
    assert "chaired by the IFRC" in visible(answer)
    bot_message = fake.message_of(answer)
    answer = await tg.ask(
        CHEN, "when was the migration policy adopted?", chat=GROUP, reply_to=bot_message
    )
    assert "November 2009" in visible(answer)
    assert len(fake.of("sendMessage", GROUP_ID)) == 3  # the first two got no reply


async def test_an_unknown_button_gets_a_toast_and_changes_nothing(
    tg: Bot, fake: FakeTelegram
) -> None:
    answer = await tg.ask(AMINA, "When was the migration policy adopted?")
    fake.press(AMINA, answer, "gone:42")
    [toast] = await fake.wait_calls("answerCallbackQuery")
    assert "no longer active" in toast["text"]
    await asyncio.sleep(0.05)
    assert len(fake.of("sendMessage")) == 1
    assert not fake.of("editMessageText") and not fake.of("editMessageReplyMarkup")


async def test_a_long_answer_is_split_in_messages(
    tg: Bot, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def essay(ctx: Context, arg: str) -> list[Reply]:
        return [
            Reply(
                "\n\n".join(f"**Part {i}** " + "words & <more> " * 40 for i in range(40)),
                choices=(Choice("More", "essay:more"),),
            )
        ]

    monkeypatch.setitem(ACTIONS, "essay", essay)
    answer = await tg.ask(AMINA, "/help")
    fake.press(AMINA, answer, "essay:1")
    # The last part carries the buttons: wait for it, however slow the machine is.
    sent = await fake.wait_for(lambda: any(p.buttons for p in fake.of("sendMessage")[1:]))
    parts = fake.of("sendMessage")[1:]
    assert len(parts) >= 3 and sent
    assert all(len(p["text"]) <= 4096 for p in parts)
    assert [bool(p.buttons) for p in parts] == [False] * (len(parts) - 1) + [True]
    assert visible(parts[0]).startswith("Part 0 words & <more>")


# ------------------------------------------------------------------ generic mechanisms


async def test_edit_replaces_the_pressed_message_and_removes_its_buttons(
    tg: Bot, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def choose(ctx: Context, arg: str) -> list[Reply]:
        return [Reply(f"Q1: **{arg}** ✓", edit=ctx.message.origin), Reply("Next question?")]

    monkeypatch.setitem(ACTIONS, "pick", choose)
    question = await tg.ask(AMINA, "/help")
    fake.press(AMINA, question, "pick:yes")
    [edit] = await fake.wait_calls("editMessageText")
    assert edit["message_id"] == question["_message_id"]
    assert edit.get("reply_markup") is None
    message = fake.message_of(question)
    assert message["text"] == "Q1: <b>yes</b> ✓" and "reply_markup" not in message
    [_, following] = await fake.wait_calls("sendMessage", 2)
    assert visible(following) == "Next question?"


async def test_keyed_replies_are_sent_once_then_edited(
    tg: Bot, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    votes: list[str] = []

    async def vote(ctx: Context, arg: str) -> list[Reply]:
        votes.append(ctx.person.user_id)
        tally = Reply(
            f"Poll: {len(votes)} vote(s)",
            key="poll-7",
            chat=ctx.message.chat,
            choices=(Choice("Yes", "vote:y"),),
        )
        return [tally, Reply("Vote recorded", notice=True)]

    monkeypatch.setitem(ACTIONS, "vote", vote)
    start = await tg.ask(AMINA, "/help")
    fake.press(AMINA, start, "vote:y")
    [poll] = await fake.wait_calls("sendMessage", 1, AMINA["id"] if False else None)
    poll = (await fake.wait_calls("sendMessage", 2))[1]
    for voter in (BRUNO, CHEN):
        fake.press(voter, poll, "vote:y")
    await fake.wait_for(lambda: fake.message_of(poll)["text"] == "Poll: 3 vote(s)")
    assert len(fake.of("sendMessage")) == 2  # the poll was posted once...
    assert 1 <= len(fake.of("editMessageText")) <= 2  # ...then edited, coalesced
    toasts = await fake.wait_calls("answerCallbackQuery", 3)
    assert {t["text"] for t in toasts} == {"Vote recorded"}
    assert await tg.core.storage.get_message_ref("telegram", "poll-7") == (
        str(AMINA["id"]),
        str(poll["_message_id"]),
    )


async def test_a_flood_from_one_person_gets_bounded_replies_and_holds_up_nobody(
    tg: Bot, fake: FakeTelegram
) -> None:
    # 200 messages at once from one person: as many replies as the flood limit lets
    # through and one notice reach their chat, the rest is not read (no reply queued
    # to drain at one a second), and someone else asking meanwhile is answered.
    burst = tg.core.flood.burst
    for i in range(200):
        fake.send(AMINA, f"what about {i}")
    bruno = await tg.ask(BRUNO, "hello")
    await fake.wait_calls("sendMessage", burst + 1, AMINA["id"])
    await asyncio.sleep(0.5)  # anything else queued would go out meanwhile
    to_amina = fake.of("sendMessage", AMINA["id"])
    notice = tg.core.ui.t("flood_notice", "en")
    assert [visible(c) for c in to_amina].count(notice) == 1
    # The limit refills at one a second of real time while the 200 are handled.
    assert burst + 1 <= len(to_amina) <= burst + 1 + 10
    assert tg.adapter.outbox.queued(str(AMINA["id"])) == []
    assert visible(bruno)  # answered, in his own lane


async def test_a_private_reply_in_a_group_goes_to_the_person(
    tg: Bot, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def mine(ctx: Context, arg: str) -> list[Reply]:
        return [Reply("Your data: **nothing**", private=True)]

    monkeypatch.setitem(ACTIONS, "mine", mine)
    help_ = await tg.ask(AMINA, "/help", chat=GROUP)
    fake.press(AMINA, help_, "mine:1")
    [dm] = await fake.wait_calls("sendMessage", 1, AMINA["id"])
    assert visible(dm) == "Your data: nothing"

    fake.fail("sendMessage", 403, when=lambda p: p["chat_id"] == BRUNO["id"])
    fake.press(BRUNO, help_, "mine:1")
    [_, pointer] = await fake.wait_calls("sendMessage", 2, GROUP_ID)
    expected = tg.core.ui.t("telegram_private_blocked", "fr", name="Bruno", bot="nsbot_test_bot")
    assert visible(pointer) == expected  # in Bruno's language, naming the bot to open
    assert "nothing" not in visible(pointer)


async def test_pushed_replies_and_documents(tg: Bot, fake: FakeTelegram) -> None:
    export = Attachment("responses.csv", "id,answer\n1,نعم\n".encode(), "text/csv")
    await tg.core.push(
        "telegram", [Reply("Export of **q1**", attachments=(export,), chat=Chat("111"))]
    )
    [document] = await fake.wait_calls("sendDocument")
    assert document.files["document"] == ("responses.csv", export.content)
    assert document["caption"] == "Export of <b>q1</b>"


async def test_a_failed_push_raises_so_the_scheduler_retries(tg: Bot, fake: FakeTelegram) -> None:
    fake.fail("sendMessage", 400)
    with pytest.raises(BadRequest):
        await tg.core.push("telegram", [Reply("Reminder", chat=Chat("111"))])
    await tg.core.push("telegram", [Reply("Reminder", chat=Chat("111"))])
    assert [c.status for c in fake.of("sendMessage", ok_only=False)] == [400, 200]


async def test_a_403_means_the_person_is_gone(tg: Bot, fake: FakeTelegram) -> None:
    fake.fail("sendMessage", 403)  # "Forbidden: bot was blocked by the user"
    with pytest.raises(RecipientGone):
        await tg.core.push("telegram", [Reply("Reminder", chat=Chat("111"))])
    assert len(fake.of("sendMessage", ok_only=False)) == 1  # no retry of a 403


def blocked_update(person: dict[str, Any], status: str = "kicked") -> dict[str, Any]:
    chat = {"id": person["id"], "type": "private", "first_name": person["first_name"]}
    bot_user = {"id": 999, "is_bot": True, "first_name": "nsbot", "username": "nsbot"}
    return {
        "update_id": 0,
        "my_chat_member": {
            "chat": chat,
            "from": person,
            "date": 1760000000,
            "old_chat_member": {"user": bot_user, "status": "member"},
            "new_chat_member": {"user": bot_user, "status": status, "until_date": 0},
        },
    }


async def test_blocking_the_bot_stops_reminders_and_mydata_says_why(
    tg: Bot, fake: FakeTelegram
) -> None:
    await tg.ask(AMINA, "/subscribe")
    await tg.ask(BRUNO, "/subscribe")
    key = f"telegram:{AMINA['id']}"
    assert await tg.core.storage.get_subscription(key) is not None
    fake.push(blocked_update(AMINA))
    fake.push(blocked_update(BRUNO, status="member"))  # unblocked: nothing changes

    async def unsubscribed() -> bool:
        return await tg.core.storage.get_subscription(key) is None

    for _ in range(100):
        if await unsubscribed():
            break
        await asyncio.sleep(0.05)
    assert await unsubscribed()
    assert await tg.core.storage.get_subscription(f"telegram:{BRUNO['id']}") is not None
    before = len(fake.of("sendDocument", AMINA["id"]))
    fake.send(AMINA, "/mydata")
    await fake.wait_calls("sendDocument", before + 1, AMINA["id"])
    shown = " ".join(visible(c) for c in fake.of("sendMessage", AMINA["id"])[-2:])
    shown += " ".join(visible(c) for c in fake.of("sendDocument", AMINA["id"]))
    assert "you had blocked it" in shown and "/subscribe" in shown


# ------------------------------------------------------------------ reliability


async def test_429_retry_after_is_honoured(tg: Bot, fake: FakeTelegram) -> None:
    fake.fail("sendMessage", 429, retry_after=7)
    answer = await tg.ask(AMINA, "When was the migration policy adopted?")
    attempts = fake.of("sendMessage", ok_only=False)
    assert [a.status for a in attempts] == [429, 200]
    assert answer.at - attempts[0].at >= 7
    assert "November 2009" in visible(answer)


async def test_429_for_one_chat_does_not_hold_up_another(
    tg: Bot, fake: FakeTelegram, vt: VirtualTime
) -> None:
    fake.fail("sendMessage", 429, retry_after=30, when=lambda p: p["chat_id"] == AMINA["id"])
    vt.hold(at=30)  # the 30 s cannot pass until released
    fake.send(AMINA, "When was the migration policy adopted?")
    await fake.wait_for(lambda: fake.of("sendMessage", AMINA["id"], ok_only=False))
    other = await tg.ask(BRUNO, "Who chairs the Migration Reference Group?")
    assert other.at < 30 and not fake.of("sendMessage", AMINA["id"])
    vt.release()
    [late] = await fake.wait_calls("sendMessage", 1, AMINA["id"])
    assert late.at >= 30 and "November 2009" in visible(late)


async def test_500_is_retried(tg: Bot, fake: FakeTelegram) -> None:
    fake.fail("sendMessage", 500, times=2)
    answer = await tg.ask(AMINA, "When was the migration policy adopted?")
    assert [a.status for a in fake.of("sendMessage", ok_only=False)] == [500, 500, 200]
    assert "November 2009" in visible(answer)


async def test_a_duplicate_update_is_processed_once(tg: Bot, fake: FakeTelegram) -> None:
    update = fake.message(AMINA, "When was the migration policy adopted?")
    fake.push(update)
    fake.push(dict(update))  # the same update_id again
    await fake.wait_calls("sendMessage")
    answer = await tg.ask(AMINA, "Who chairs the Migration Reference Group?")
    assert "chaired" in visible(answer)
    assert len(fake.of("sendMessage")) == 2


async def test_unknown_update_kinds_are_ignored(
    tg: Bot, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("unknown_update", "edited_message"):
        fake.push(fixture(name))
    answer = await tg.ask(AMINA, "When was the migration policy adopted?")
    assert "November 2009" in visible(answer)
    assert len(fake.of("sendMessage")) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_failing_update_is_logged_and_the_bot_goes_on(
    tg: Bot, fake: FakeTelegram, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_handle = tg.core.handle

    async def handle(message: Incoming, route: str | None = None, **kw: Any) -> list[Reply]:
        if message.text == "boom":
            raise RuntimeError("storage exploded")
        return await real_handle(message, route, **kw)

    monkeypatch.setattr(tg.core, "handle", handle)
    boom = fake.send(AMINA, "boom")
    answer = await tg.ask(AMINA, "When was the migration policy adopted?")
    assert "November 2009" in visible(answer)
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert str(boom["update_id"]) in failure.getMessage() and failure.exc_info


async def test_another_instance_polling_is_reported_clearly(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("getUpdates", 409, times=2)
    bot = Bot(fake, vt, make_settings(tmp_path, fake))
    await bot.start()
    try:
        await fake.wait_for(lambda: len(fake.of("getUpdates", ok_only=False)) >= 1)
        await asyncio.sleep(0.05)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1
        assert "another instance is running with this token" in errors[0].getMessage()
        assert errors[0].exc_info is None  # one clear line, no traceback
    finally:
        await bot.stop()


async def test_the_token_never_reaches_the_logs(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail("sendMessage", 500)
    bot = Bot(fake, vt, make_settings(tmp_path, fake))
    await bot.start()
    try:
        await bot.ask(AMINA, "When was the migration policy adopted?")
    finally:
        await bot.stop()
    assert any("getMe" in r.getMessage() for r in caplog.records)  # httpx did log its URLs
    assert TOKEN not in caplog.text
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


async def test_a_rejected_token_is_a_config_error(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, fake, TELEGRAM_BOT_TOKEN="999:not-the-right-one")
    async with running_core(settings) as core:
        adapter = TelegramAdapter(core, settings, poll_timeout=0)
        with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
            await adapter.start()


# ------------------------------------------------------------------ webhook


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def webhook_settings(tmp_path: Path, fake: FakeTelegram) -> tuple[int, str, Settings]:
    """Webhook mode on a free local port: (port, secret, settings)."""
    port = free_port()
    secret = "s3cret-token_for-tests"
    settings = make_settings(
        tmp_path,
        fake,
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram",
        TELEGRAM_WEBHOOK_SECRET=secret,
        TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
        TELEGRAM_WEBHOOK_PORT=str(port),
    )
    return port, secret, settings


async def test_webhook_requires_the_secret_token(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path
) -> None:
    port, secret, settings = webhook_settings(tmp_path, fake)
    bot = Bot(fake, vt, settings)
    await bot.start()
    try:
        assert fake.webhook is not None
        assert fake.webhook["url"] == "https://bot.example.org/telegram"
        assert fake.webhook["secret_token"] == secret
        assert not fake.of("getUpdates")
        update = fake.message(AMINA, "When was the migration policy adopted?")
        url = f"http://127.0.0.1:{port}/telegram"
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(url, json=update, headers=headers) as response:
                    assert response.status == 403
            await asyncio.sleep(0.05)
            assert not fake.of("sendMessage")  # nothing was processed
            good = {"X-Telegram-Bot-Api-Secret-Token": secret}
            for _ in range(2):  # Telegram re-delivers when unsure: processed once
                async with http.post(url, json=update, headers=good) as response:
                    assert response.status == 200
        [answer] = await fake.wait_calls("sendMessage")
        assert "November 2009" in visible(answer)
        await asyncio.sleep(0.05)
        assert len(fake.of("sendMessage")) == 1
    finally:
        await bot.stop()


@pytest.mark.parametrize("port", ["²", "①", "٨٤٤٣", "0", "70000"])
def test_a_webhook_port_that_is_not_a_port_number_is_refused_in_words(
    fake: FakeTelegram, tmp_path: Path, port: str
) -> None:
    settings = make_settings(
        tmp_path,
        fake,
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram",
        TELEGRAM_WEBHOOK_SECRET="s3cret",
        TELEGRAM_WEBHOOK_PORT=port,
    )
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_PORT must be a port number"):
        WebhookConfig.from_settings(settings)


async def test_webhook_mode_refuses_to_start_without_a_secret(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path, fake, TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram"
    )
    async with running_core(settings) as core:
        with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
            TelegramAdapter(core, settings)


# ------------------------------------------------------------------ consultations, polls, export

CONSULTATIONS = Path(__file__).parent / "fixtures" / "consultations" / "valid"
CORA = user(999, "Cora")  # a coordinator


def consult_settings(tmp_path: Path, fake: FakeTelegram) -> Settings:
    return dataclasses.replace(
        make_settings(tmp_path, fake),
        consultations_path=CONSULTATIONS,
        coordinators=frozenset({f"telegram:{CORA['id']}"}),
    )


def newest(fake: FakeTelegram, chat_id: int, text: str) -> dict[str, Any] | None:
    """The newest message the bot shows in a chat whose visible text contains ``text``."""
    for (chat, _), message in reversed(fake.messages.items()):
        if chat == chat_id and text in html.unescape(
            re.sub(r"<[^>]+>", "", message.get("text") or "")
        ):
            return message
    return None


async def shown(fake: FakeTelegram, chat_id: int, text: str) -> dict[str, Any]:
    message: dict[str, Any] = await fake.wait_for(lambda: newest(fake, chat_id, text))
    return message


def buttons_of(message: dict[str, Any]) -> dict[str, str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def with_button(fake: FakeTelegram, chat_id: int, label: str) -> dict[str, Any]:
    """The newest message in a chat that shows a button with this label."""

    def find() -> dict[str, Any] | None:
        for (chat, _), message in reversed(fake.messages.items()):
            if chat == chat_id and label in buttons_of(message):
                return message
        return None

    message: dict[str, Any] = await fake.wait_for(find)
    return message


def data_of(message: dict[str, Any], label: str) -> str:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    found = [b["callback_data"] for row in rows for b in row if b["text"] == label]
    assert found, f"no button {label!r} on {message.get('text')!r}"
    return str(found[0])


async def press(
    fake: FakeTelegram, sender: dict[str, Any], message: dict[str, Any], label: str
) -> None:
    """Press a button by its label and wait until the press is answered."""
    before = len(fake.of("answerCallbackQuery"))
    fake.press(sender, message, data_of(message, label))
    await fake.wait_calls("answerCallbackQuery", before + 1)


async def test_a_consultation_with_buttons_and_typed_answers_survives_a_restart(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path
) -> None:
    bot = Bot(fake, vt, consult_settings(tmp_path, fake))
    await bot.start()
    chat = AMINA["id"]
    try:
        fake.send(AMINA, "/consult sample")
        consent = await shown(fake, chat, "Do you agree to take part?")
        await press(fake, AMINA, consent, "I agree, start")
        # The one-time profile questions come after the consent: skipped here.
        await press(fake, AMINA, await shown(fake, chat, "Which National Society"), "Skip")
        await press(fake, AMINA, await shown(fake, chat, "Which IFRC region"), "Skip")
        q1 = await shown(fake, chat, "Question 1 of 6")
        assert [b for b, _ in fake.of("sendMessage")[-1].buttons] == [
            "APMN",
            "PERCO",
            "None or other",
        ]
        await press(fake, AMINA, q1, "PERCO")
        await shown(fake, chat, "Question 2 of 6")
        # The answered question now shows the choice, and its buttons are gone.
        q1_now = fake.messages[(chat, q1["message_id"])]
        assert "PERCO" in q1_now["text"] and "reply_markup" not in q1_now
        fake.send(AMINA, "4")  # typed answer to the 1-5 scale
        q3 = await shown(fake, chat, "Question 3 of 6")

        await bot.restart()  # adapter and core stop; the same SQLite file is reopened

        await press(fake, AMINA, q3, "☐ Access to services")  # on a message from before
        await fake.wait_for(
            lambda: "☑ Access to services" in str(fake.messages[(chat, q3["message_id"])])
        )
        fake.send(AMINA, "done")
        q4 = await shown(fake, chat, "Question 4 of 6")
        old_no = data_of(q4, "No")
        await press(fake, AMINA, q4, "No")
        await shown(fake, chat, "Question 5 of 6")
        fake.send(AMINA, "skip")
        await shown(fake, chat, "Question 6 of 6")
        fake.send(AMINA, "They need <safe> routes & legal_aid *now*")
        review = await shown(fake, chat, "Your answers")
        assert "They need <safe> routes & legal_aid *now*" in html.unescape(review["text"])
        await press(
            fake, AMINA, await with_button(fake, chat, "✅ Send my answers"), "✅ Send my answers"
        )
        await shown(fake, chat, "Thank you!")

        # An old button pressed again: a short notice, and nothing changes.
        sent = len(fake.of("sendMessage"))
        fake.press(AMINA, q4, old_no)  # e.g. from a second device that still shows it
        toast = (
            await fake.wait_calls("answerCallbackQuery", len(fake.of("answerCallbackQuery")) + 1)
        )[-1]
        assert toast.get("text")
        await asyncio.sleep(0.05)
        assert len(fake.of("sendMessage")) == sent

        c = bot.core.consultations.get("sample")
        assert c is not None
        row = await bot.core.storage.get_response(
            c.id, bot.core.pseudonyms.respondent(c.id, f"telegram:{chat}")
        )
        assert row is not None and row.status == "submitted"
        assert row.answers["network"] == "perco" and row.answers["usefulness"] == 4
        assert row.answers["priorities"] == ["services"] and row.answers["hsp"] == "no"
        assert row.answers["story"] == "They need <safe> routes & legal_aid *now*"
    finally:
        await bot.stop()


async def test_one_persons_quick_ticks_reach_the_core_one_after_the_other(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ticks of a multiple-choice question, fetched in one getUpdates: the adapter
    hands one person's updates to the core one after the other (the second waits for
    the first, here slowed down), so both count, in order, and so does what follows."""
    bot = Bot(fake, vt, consult_settings(tmp_path, fake))
    await bot.start()
    chat = AMINA["id"]
    try:
        fake.send(AMINA, "/consult sample")
        await press(fake, AMINA, await shown(fake, chat, "Do you agree"), "I agree, start")
        await press(fake, AMINA, await shown(fake, chat, "Which National Society"), "Skip")
        await press(fake, AMINA, await shown(fake, chat, "Which IFRC region"), "Skip")
        await press(fake, AMINA, await shown(fake, chat, "Question 1 of 6"), "PERCO")
        fake.send(AMINA, "4")
        q3 = await shown(fake, chat, "Question 3 of 6")
        seen: list[str] = []
        handle = bot.core.handle

        async def slow_first(message: Incoming, **kw: Any) -> list[Reply]:
            seen.append(f"start {message.action or message.text}")
            if len(seen) == 1:
                await asyncio.sleep(0.05)  # a slow first tick: the second must wait
            replies = await handle(message, **kw)
            seen.append(f"end {message.action or message.text}")
            return replies

        monkeypatch.setattr(bot.core, "handle", slow_first)
        ticks = [data_of(q3, "☐ Access to services"), data_of(q3, "☐ Climate displacement")]
        for data in ticks:
            fake.press(AMINA, q3, data)
        fake.send(AMINA, "done")
        await shown(fake, chat, "Question 4 of 6")
        assert seen == [f"{when} {e}" for e in [*ticks, "done"] for when in ("start", "end")]
        c = bot.core.consultations.get("sample")
        assert c is not None
        row = await bot.core.storage.get_response(
            c.id, bot.core.pseudonyms.respondent(c.id, f"telegram:{chat}")
        )
        assert row is not None and sorted(row.answers["priorities"]) == ["climate", "services"]
    finally:
        await bot.stop()


async def test_a_quick_poll_voted_by_three_people_in_a_group(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = Bot(fake, vt, consult_settings(tmp_path, fake))
    await bot.start()
    try:
        fake.send(
            CORA, "/poll Which topic first? | Access to services | Climate displacement", chat=GROUP
        )
        poll = await shown(fake, GROUP_ID, "Which topic first?")
        [posted] = fake.of("sendMessage", GROUP_ID)
        last_vote_queued = asyncio.Event()
        submit = bot.adapter.outbox.submit

        def spy(chat_id: str, payload: Any, **kw: Any) -> asyncio.Future[Any]:
            if "3 voters" in str(payload.kwargs.get("text")):
                last_vote_queued.set()
            return submit(chat_id, payload, **kw)

        monkeypatch.setattr(bot.adapter.outbox, "submit", spy)
        # Hold the clock before the group may get its next message: every vote lands
        # while the first tally edit still waits, so the edits coalesce into one.
        vt.hold(at=posted.at + 0.5)
        for voter, option in (
            (AMINA, "Access to services"),
            (BRUNO, "Climate displacement"),
            (CHEN, "Access to services"),
        ):
            await press(fake, voter, poll, option)

        await asyncio.wait_for(last_vote_queued.wait(), 10)
        [waiting] = bot.adapter.outbox.queued(str(GROUP_ID))  # the three states, coalesced
        assert "3 voters" in waiting.kwargs["text"] and not fake.of("editMessageText")
        vt.release()
        await fake.wait_for(
            lambda: "3 voters" in fake.messages[(GROUP_ID, poll["message_id"])]["text"]
        )
        final = fake.messages[(GROUP_ID, poll["message_id"])]
        text = html.unescape(final["text"])
        assert re.search(r"Access to services\n\S* 2 ", text) and re.search(
            r"Climate displacement\n\S* 1 ", text
        )
        assert len(fake.of("sendMessage", GROUP_ID)) == 1  # posted once, then only edited
        [edit] = fake.of("editMessageText", GROUP_ID)  # three votes, one edit: the last state
        assert edit["message_id"] == poll["message_id"]
        toasts = [t.get("text") for t in fake.of("answerCallbackQuery")]
        assert len(toasts) == 3 and all(toasts)  # each vote acknowledged with a toast
        assert "Your vote: Access to services" in toasts
        assert final["reply_markup"]  # still open: the buttons stay
        ref = await bot.core.storage.get_message_ref("telegram", "poll-1")
        assert ref == (str(GROUP_ID), str(poll["message_id"]))
    finally:
        await bot.stop()


async def test_a_burst_of_votes_looks_up_and_renders_the_tally_once_per_state_sent(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Last state wins: 30 votes landing while the tally's edit waits give 30 states,
    # but only the newest one waiting is looked up and rendered. Before, each state
    # was, one by one behind the storage's writes: the final tally came seconds late.
    bot = Bot(fake, vt, consult_settings(tmp_path, fake))
    await bot.start()
    try:
        fake.send(CORA, "/poll Which topic first? | Access | Climate", chat=GROUP)
        poll = await shown(fake, GROUP_ID, "Which topic first?")
        [posted] = fake.of("sendMessage", GROUP_ID)
        lookups = 0
        get_ref = bot.core.storage.get_message_ref

        async def counted(platform: str, key: str) -> tuple[str, str] | None:
            nonlocal lookups
            lookups += 1
            return await get_ref(platform, key)

        monkeypatch.setattr(bot.core.storage, "get_message_ref", counted)
        vt.hold(at=posted.at + 0.5)  # no edit goes out before every vote is in
        voters = [user(5000 + i, f"Voter{i}") for i in range(30)]
        before = len(fake.of("answerCallbackQuery"))
        for i, voter in enumerate(voters):
            fake.press(voter, poll, data_of(poll, "Access" if i % 2 else "Climate"))
        await fake.wait_calls("answerCallbackQuery", before + len(voters))
        await asyncio.sleep(0.2)  # the last states reach the outbox
        [waiting] = bot.adapter.outbox.queued(str(GROUP_ID))
        assert "30 voters" in waiting.kwargs["text"]
        assert lookups <= len(voters) // 3  # not one per vote
        vt.release()
        await fake.wait_for(
            lambda: "30 voters" in fake.messages[(GROUP_ID, poll["message_id"])]["text"]
        )
        assert len(fake.of("editMessageText", GROUP_ID)) == 1
    finally:
        vt.release()
        await bot.stop()


async def test_an_export_arrives_as_a_document(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path
) -> None:
    bot = Bot(fake, vt, consult_settings(tmp_path, fake))
    await bot.start()
    try:
        fake.send(CORA, "/export sample csv")
        [document] = await fake.wait_calls("sendDocument")
        assert document["chat_id"] == CORA["id"]
        filename, content = document.files["document"]
        assert filename.startswith("sample-") and filename.endswith(".csv")
        assert content.count(b"\n") >= 1  # at least the header row
        assert "responses to" in visible(document)  # the text rides along as the caption
    finally:
        await bot.stop()


async def test_mydata_as_a_file_and_forget_with_a_confirmation(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path
) -> None:
    bot = Bot(fake, vt, consult_settings(tmp_path, fake))
    await bot.start()
    chat = AMINA["id"]
    try:
        fake.send(AMINA, "/mydata")
        [document] = await fake.wait_calls("sendDocument", 1, chat)
        filename, content = document.files["document"]
        assert filename == "my-data.json" and f'"telegram:{chat}"'.encode() in content
        fake.send(AMINA, "/forget")
        confirm = await with_button(fake, chat, "Yes, delete")
        await press(fake, AMINA, confirm, "Yes, delete")
        await shown(fake, chat, "Done. I deleted")
        assert "reply_markup" not in fake.messages[(chat, confirm["message_id"])]
    finally:
        await bot.stop()


async def raw_post(port: int, headers: dict[str, str], body: bytes = b"") -> int:
    """An HTTP request written by hand: headers may promise a body that never comes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(f"POST /telegram HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode() + body)
        await writer.drain()
        async with asyncio.timeout(5):  # a server waiting for the body would hang here
            status_line = await reader.readline()
        return int(status_line.split()[1])
    finally:
        writer.close()


async def test_webhook_checks_the_secret_and_size_before_reading_the_body(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.telegram import webhook

    compared: list[tuple[bytes, bytes]] = []
    real_compare = webhook.hmac.compare_digest

    def compare(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(webhook.hmac, "compare_digest", compare)
    port, secret, settings = webhook_settings(tmp_path, fake)
    bot = Bot(fake, vt, settings)
    await bot.start()
    try:
        huge = {"Content-Type": "application/json", "Content-Length": str(100 * 1024 * 1024)}
        forged = {**huge, "X-Telegram-Bot-Api-Secret-Token": "wrong"}
        assert await raw_post(port, forged) == 403  # answered with the body still unsent
        assert compared and compared[-1] == (b"wrong", secret.encode())  # in constant time
        good = {**huge, "X-Telegram-Bot-Api-Secret-Token": secret}
        assert await raw_post(port, good) == 413  # larger than any update: refused unread
        body = b"[1, 2, 3]"
        small = {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "X-Telegram-Bot-Api-Secret-Token": secret,
        }
        assert await raw_post(port, small, body) == 400  # not an update
    finally:
        await bot.stop()
    assert not fake.of("sendMessage")


async def test_a_webhook_update_is_confirmed_only_once_stored(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, secret, settings = webhook_settings(tmp_path, fake)
    bot = Bot(fake, vt, settings)
    await bot.start()
    gate = asyncio.Event()
    core = bot.adapter.core
    real = core.handle

    async def slow_storage(incoming: Any, route: str | None = None, **kw: Any) -> list[Reply]:
        await gate.wait()
        return await real(incoming, route, **kw)

    monkeypatch.setattr(core, "handle", slow_storage)
    try:
        update = fake.message(AMINA, "When was the migration policy adopted?")
        url = f"http://127.0.0.1:{port}/telegram"
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with aiohttp.ClientSession() as http:

            async def post() -> int:
                async with http.post(url, json=update, headers=headers) as response:
                    return response.status

            posting = asyncio.create_task(post())
            await asyncio.sleep(0.3)
            assert not posting.done(), "confirmed to Telegram before the core stored it"
            gate.set()
            async with asyncio.timeout(5):
                assert await posting == 200
    finally:
        gate.set()
        await bot.stop()


async def test_a_vote_acknowledged_late_is_never_a_message_in_the_group(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = Bot(fake, vt, consult_settings(tmp_path, fake))
    await bot.start()
    try:
        fake.send(CORA, "/poll Lunch? | Soup | Salad", chat=GROUP)
        poll = await shown(fake, GROUP_ID, "Lunch?")
        bot.adapter.callback_grace = 0.05
        gate = asyncio.Event()
        real = bot.core.handle

        async def busy_storage(
            incoming: Incoming, route: str | None = None, **kw: Any
        ) -> list[Reply]:
            await gate.wait()  # slower than the callback grace
            return await real(incoming, route, **kw)

        monkeypatch.setattr(bot.core, "handle", busy_storage)
        await press(fake, AMINA, poll, "Soup")  # the spinner is stopped without a toast
        gate.set()
        await fake.wait_for(
            lambda: "1 voter" in fake.messages[(GROUP_ID, poll["message_id"])]["text"]
        )
        await asyncio.sleep(0.1)
        assert len(fake.of("sendMessage", GROUP_ID)) == 1  # the poll itself, nothing more
    finally:
        await bot.stop()


async def test_a_reply_owed_at_shutdown_is_sent_after_the_restart(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = Bot(fake, vt, make_settings(tmp_path, fake))
    await bot.start()
    try:
        # Telegram says "wait a minute": the answer is still queued when the bot stops.
        fake.fail("sendMessage", 429, retry_after=60, when=lambda p: p["chat_id"] == AMINA["id"])
        fake.send(AMINA, "When was the migration policy adopted?")
        await fake.wait_for(lambda: fake.of("sendMessage", AMINA["id"], ok_only=False))
        vt.hold(at=30)  # the minute does not pass before the stop gives up draining
        outbox = bot.adapter.outbox
        monkeypatch.setattr(outbox, "stop", functools.partial(outbox.stop, drain_seconds=0.2))
        await bot.stop()
        vt.release()
        assert not fake.of("sendMessage", AMINA["id"])  # not delivered
        await bot.start()
        [answer] = await fake.wait_calls("sendMessage", 1, AMINA["id"])
        assert "November 2009" in visible(answer)
        await bot.restart()  # delivered now: not sent a second time
        await asyncio.sleep(0.1)
        assert len(fake.of("sendMessage", AMINA["id"])) == 1
    finally:
        await bot.stop()


async def test_a_second_poller_waits_and_takes_over_when_the_first_stops(
    fake: FakeTelegram, vt: VirtualTime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Polling is single-replica: two processes on one database never poll together."""
    settings = make_settings(tmp_path, fake)
    async with AsyncExitStack() as stack:
        adapters = []
        for _ in range(2):
            core = await stack.enter_async_context(running_core(settings))
            adapter = TelegramAdapter(
                core,
                settings,
                poll_timeout=1,
                clock=vt.clock,
                sleep=vt.sleep,
                poll_lease_every=0.02,
            )
            await adapter.start()
            stack.push_async_callback(adapter.stop)
            adapters.append(adapter)
        first, second = adapters
        await asyncio.sleep(0.1)  # several lease rounds
        assert first.polling and not second.polling
        assert "another process polls for this bot's updates" in caplog.text
        await first.stop()  # gives the role up
        await fake.wait_for(lambda: second.polling)
        answered = len(fake.of("sendMessage"))
        fake.send(user(7), "/help")
        await fake.wait_calls("sendMessage", answered + 1)


def test_a_failed_last_fetch_at_shutdown_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    # Under load the final getUpdates of python-telegram-bot's shutdown can time out; its
    # traceback would look like a crash. It is one warning line, naming the error.
    from telegram.error import TimedOut

    import bot.adapters.telegram.adapter  # noqa: F401  (installs the filter)

    updater = logging.getLogger("telegram.ext.Updater")
    try:
        raise TimedOut("Timed out")
    except TimedOut:
        updater.exception("Error while calling `get_updates` one more time to mark all ...")
    (record,) = [r for r in caplog.records if r.name == "telegram.ext.Updater"]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "TimedOut" in record.getMessage() and "Traceback" not in caplog.text


def test_redactors_uninstalled_out_of_order_leave_logging_working(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Two adapters' redactors (tests start several): the first one uninstalled while the
    # second still sits on top of it must not break every later log call.
    from bot.adapters.telegram.adapter import TokenRedactor

    before = logging.getLogRecordFactory()
    first, second = TokenRedactor("111:AAA"), TokenRedactor("222:BBB")
    first.install()
    second.install()
    first.uninstall()
    logging.getLogger("nsbot.test").warning("token 222:BBB and 111:AAA")
    second.uninstall()
    logging.getLogger("nsbot.test").warning("after both")
    first.install()  # again, while it is still the factory
    first.uninstall()
    logging.getLogger("nsbot.test").warning("and again")
    messages = [r.getMessage() for r in caplog.records if r.name == "nsbot.test"]
    assert messages == ["token <token> and 111:AAA", "after both", "and again"]
    logging.setLogRecordFactory(before)
