"""Structured logs: NSBOT_LOG_FORMAT=json gives one JSON object a line, and nothing a
person wrote, their name or their id reaches the log at INFO."""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bot.logs import JsonFormatter
from tests.bot_process import WEBHOOK_SECRET, BotProcess, bot_env, free_port, telegram_webhook_env
from tests.fake_telegram import TOKEN, FakeTelegram, user


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.getLogger("bot.test").makeRecord(
        "bot.test", logging.WARNING, __file__, 1, msg, args, None, extra=extra
    )
    return made


def test_a_json_line_has_time_level_logger_message_and_only_plain_extra_fields() -> None:
    line = json.loads(
        JsonFormatter().format(
            record("sent %d of %s", 3, "job", entries=12, kind="reminder", person=object())
        )
    )
    assert line.pop("time").endswith("+00:00")
    assert line == {
        "level": "WARNING",
        "logger": "bot.test",
        "message": "sent 3 of job",
        "entries": 12,
        "kind": "reminder",
    }  # an object passed as extra (which could hold anything) is left out


def test_a_traceback_stays_inside_its_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record("it failed")
        failed.exc_info = sys.exc_info()
    text = JsonFormatter().format(failed)
    assert "\n" not in text
    assert "ValueError: boom" in json.loads(text)["exception"]


# ------------------------------------------------------------------ a conversation


ID, NAME, USERNAME = 918273645, "Zainabunique", "zainab_handle_x"
EXPORT = "/export movement-strategy-input"
QUESTIONS = ["When was the migration policy adopted?", "Qwertyzxcv plover frobnicate wombat?"]


async def post(port: int, update: dict[str, Any]) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{port}/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        ) as response,
    ):
        assert response.status == 200


async def test_a_conversation_logged_as_json_at_info_holds_no_text_name_id_or_token(
    tmp_path: Path,
) -> None:
    fake = FakeTelegram()
    await fake.start()
    port = free_port()
    env = bot_env(
        tmp_path,
        NSBOT_LOG_FORMAT="json",
        NSBOT_LOG_LEVEL="INFO",
        NSBOT_COORDINATORS=f"telegram:{ID}",  # a coordinator's export is logged at INFO
        **telegram_webhook_env(port, fake.base_url, TOKEN),
    )
    person = user(ID, NAME) | {"username": USERNAME, "last_name": "Surnameunique"}
    try:
        async with BotProcess(tmp_path, env) as bot:
            await bot.wait_status(port, "/readyz", 200)

            def answered() -> int:  # /mydata answers with a file
                return len(fake.of("sendMessage")) + len(fake.of("sendDocument"))

            for sent, text in enumerate(["/start", *QUESTIONS, "/mydata", EXPORT], start=1):
                update = fake.message(person, text)
                update["update_id"] = 500 + sent
                await post(port, update)
                await fake.wait_for(lambda n=sent: answered() >= n)  # type: ignore[misc]
            await post(port, update)  # a re-delivery: logged at INFO, by its update id only
            answer = next(c for c in fake.of("sendMessage") if "November 2009" in str(c["text"]))
            [(_, data), *_] = answer.buttons
            press = fake.press(person, answer, data)
            press["update_id"] = 900
            await post(port, press)
            await fake.wait_for(lambda: answered() > sent)
            bot.signal(signal.SIGHUP)  # a reload is logged too
            await bot.wait_log("content reloaded")
            assert await bot.stop() == 0
        lines = [line for line in bot.stderr().splitlines() if line.strip()]
    finally:
        await fake.stop()
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in parsed:
        assert {"time", "level", "logger", "message"} <= entry.keys(), entry
    messages = [e["message"] for e in parsed]
    assert any(m == "telegram adapter started" for m in messages), messages
    assert any("ignoring re-delivered telegram event 505" in m for m in messages), messages
    assert any("exported movement-strategy-input" in m for m in messages), messages
    log = "\n".join(lines)
    for secret in [
        *QUESTIONS,
        "Qwertyzxcv",
        str(ID),
        NAME,
        USERNAME,
        "Surnameunique",
        TOKEN,
        TOKEN.split(":")[1],
        WEBHOOK_SECRET,
    ]:
        assert secret not in log, f"{secret!r} is in the log:\n{log}"
