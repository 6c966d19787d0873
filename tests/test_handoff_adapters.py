"""The adapters' part of asking a person, as pure functions: a desk member's reply
(a Slack thread reply in the desk channel, a Telegram reply to the bot's message)
becomes a core message naming what it replies to; a reply in a thread goes there."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from telegram import Bot, Update

from bot import owed
from bot.adapters.slack import inbound as slack_inbound
from bot.adapters.telegram import inbound as telegram_inbound
from bot.adapters.telegram.render import message_calls
from bot.config import Desk, Settings
from bot.errors import ConfigError
from bot.messages import Chat, Reply
from bot.runner import PLATFORMS, handoff_line
from tests.fake_telegram import TOKEN, FakeTelegram, user

SLACK = Path(__file__).parent / "fixtures" / "slack"


def slack_fixture(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((SLACK / name).read_text(encoding="utf-8"))
    return data


def test_a_thread_reply_in_the_desk_channel_reaches_the_core() -> None:
    body = slack_fixture("event_thread_reply.json")
    parsed = slack_inbound.from_event(body, "UBOT", desk="CDESK")
    assert parsed is not None
    incoming, where = parsed
    assert incoming.reply_to == "CDESK:1700000000.000001"
    assert incoming.text == "Ask the travel unit & mention" and not incoming.chat.private
    assert incoming.event_id == "Ev0003THREAD" and incoming.person.key == "slack:U0DESK"
    assert where.thread_ts == "1700000000.000001" and not where.command


def test_other_channel_messages_stay_unread() -> None:
    body = slack_fixture("event_thread_reply.json")
    assert slack_inbound.from_event(body, "UBOT") is None  # no desk configured
    assert slack_inbound.from_event(body, "UBOT", desk="COTHER") is None
    top_level = slack_fixture("event_thread_reply.json")
    top_level["event"]["thread_ts"] = None  # type: ignore[index]
    assert slack_inbound.from_event(top_level, "UBOT", desk="CDESK") is None
    own = slack_fixture("event_thread_reply.json")
    own["event"]["user"] = "UBOT"  # type: ignore[index]
    assert slack_inbound.from_event(own, "UBOT", desk="CDESK") is None
    mention = slack_fixture("event_thread_reply.json")
    mention["event"]["type"] = "app_mention"  # type: ignore[index]
    # The same message also arrives as a message event: taken once, from that.
    assert slack_inbound.from_event(mention, "UBOT", desk="CDESK") is None


def test_a_telegram_reply_to_the_bot_names_the_message_it_replies_to() -> None:
    fake = FakeTelegram()
    bot = Bot(TOKEN)
    group = {"id": -1001234567890, "title": "Desk", "type": "supergroup"}
    mine = fake.message(user(7, "Bot"), "the question", chat=group)["message"]
    mine["from"] = {"id": 4242, "is_bot": True, "first_name": "nsbot", "username": "nsbot_bot"}
    update = fake.message(user(9, "Dana"), "Here is the answer", chat=group, reply_to=mine)
    incoming = telegram_inbound.to_incoming(Update.de_json(update, bot), 4242, "nsbot_bot")
    assert incoming is not None
    assert incoming.reply_to == f"-1001234567890:{mine['message_id']}"
    assert incoming.text == "Here is the answer"
    theirs = fake.message(user(8, "Other"), "x", chat=group)["message"]
    other = fake.message(user(9, "Dana"), "/ask hello", chat=group, reply_to=theirs)
    incoming = telegram_inbound.to_incoming(Update.de_json(other, bot), 4242, "nsbot_bot")
    assert incoming is not None and incoming.reply_to is None


def test_a_threaded_reply_is_a_telegram_reply_in_its_chat_only() -> None:
    reply = Reply("follow-up", chat=Chat("-100"), thread="-100:17")
    (call,) = message_calls(reply, "-100")
    params = call.kwargs["reply_parameters"]
    assert params.message_id == 17 and params.allow_sending_without_reply
    (elsewhere,) = message_calls(reply, "-200")
    assert "reply_parameters" not in elsewhere.kwargs
    (edit, *_) = message_calls(reply, "-100", edit=5)
    assert "reply_parameters" not in edit.kwargs


def test_owed_replies_keep_their_thread() -> None:
    reply = Reply("x", chat=Chat("C1"), thread="C1:1.2")
    assert owed.loads(owed.dumps([reply])) == [reply]
    old = json.loads(owed.dumps([reply]))
    del old[0]["thread"]  # owed before threads existed
    assert owed.loads(json.dumps(old))[0].thread is None


@pytest.mark.parametrize(
    ("value", "desk"),
    [
        ("", None),
        ("slack:C0123ABCD", Desk("slack", "C0123ABCD")),
        ("telegram:-1001234567890", Desk("telegram", "-1001234567890")),
        (" Slack:G0123ABCD ", Desk("slack", "G0123ABCD")),
    ],
)
def test_the_desk_setting(value: str, desk: Desk | None) -> None:
    settings = Settings.from_env({"NSBOT_HANDOFF": value})
    assert settings.handoff == desk
    assert settings.handoff_remind == timedelta(hours=24)


@pytest.mark.parametrize("value", ["slack", "slack:#desk", "telegram:123", "email:desk@x.org"])
def test_a_wrong_desk_is_refused_with_an_example(value: str) -> None:
    with pytest.raises(ConfigError, match="slack:C0123ABCD"):
        Settings.from_env({"NSBOT_HANDOFF": value})


def test_the_reminder_delay() -> None:
    env = {"NSBOT_HANDOFF": "slack:C1AB", "NSBOT_HANDOFF_REMIND": "90m"}
    assert Settings.from_env(env).handoff_remind == timedelta(minutes=90)
    for wrong in ("soon", "0h", "-2h"):
        with pytest.raises(ConfigError, match="NSBOT_HANDOFF_REMIND"):
            Settings.from_env({"NSBOT_HANDOFF_REMIND": wrong})


def test_nsbot_run_says_in_one_line_whether_questions_go_anywhere() -> None:
    slack = [p for p in PLATFORMS if p.name == "slack"]
    off = handoff_line(Settings.from_env({}), slack)
    assert "off" in off and "NSBOT_HANDOFF" in off and "\n" not in off
    on = handoff_line(Settings.from_env({"NSBOT_HANDOFF": "slack:C0123ABCD"}), slack)
    assert "slack:C0123ABCD" in on and "24 h" in on and "not configured" not in on
    elsewhere = handoff_line(Settings.from_env({"NSBOT_HANDOFF": "telegram:-100"}), slack)
    assert "telegram is not configured here" in elsewhere
