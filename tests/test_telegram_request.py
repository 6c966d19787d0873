"""The aiohttp transport under python-telegram-bot (bot.adapters.telegram.request):
calls, uploads, the library's errors, timeouts, and the environment's proxy."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.adapters.telegram.request import AiohttpRequest
from tests.fake_telegram import FakeTelegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


def bot_on(fake: FakeTelegram, request: AiohttpRequest) -> Bot:
    return Bot(fake.token, base_url=fake.base_url, request=request)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_calls_and_uploads_reach_the_api_as_form_fields(fake: FakeTelegram) -> None:
    bot = bot_on(fake, AiohttpRequest())
    async with bot:
        assert await bot.answer_callback_query("q1", text="Your vote: Access") is True
        await bot.send_document(111, b"a,b\n1,2\n", filename="votes.csv", caption="Results")
    [toast] = fake.of("answerCallbackQuery")
    assert (toast["callback_query_id"], toast["text"]) == ("q1", "Your vote: Access")
    [upload] = fake.of("sendDocument")
    assert upload["caption"] == "Results" and upload["chat_id"] == 111
    assert list(upload.files.values()) == [("votes.csv", b"a,b\n1,2\n")]


async def test_the_library_still_raises_its_own_errors(fake: FakeTelegram) -> None:
    fake.fail("sendMessage", 500)
    bot = bot_on(fake, AiohttpRequest())
    async with bot:
        with pytest.raises(NetworkError):
            await bot.send_message(111, "hello")
        with pytest.raises(BadRequest):  # no such message to edit
            await bot.edit_message_text("x", chat_id=111, message_id=999_999)


async def test_a_slow_answer_is_a_timeout_and_no_server_a_network_error(
    fake: FakeTelegram,
) -> None:
    fake.hold("answerCallbackQuery")
    bot = bot_on(fake, AiohttpRequest(read_timeout=0.2))
    async with bot:
        with pytest.raises(TimedOut):
            await bot.answer_callback_query("q1")
    fake.release("answerCallbackQuery")
    nowhere = AiohttpRequest()
    await nowhere.initialize()
    try:
        with pytest.raises(NetworkError):
            await nowhere.post(f"http://127.0.0.1:{unused_port()}/bot{fake.token}/getMe")
    finally:
        await nowhere.shutdown()


async def test_the_environment_s_proxy_is_used_unless_no_proxy_names_the_host(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As with httpx: HTTP_PROXY sends the calls through a proxy, NO_PROXY exempts a host."""
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(str(request.url))  # a proxy is asked for the absolute URL
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(app)
    await runner.setup()
    port = unused_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        request = AiohttpRequest()
        await request.initialize()
        try:
            await request.post(f"{fake.base_url}{fake.token}/answerCallbackQuery")
        finally:
            await request.shutdown()
        assert len(seen) == 1 and seen[0].endswith("/answerCallbackQuery")
        assert not fake.of("answerCallbackQuery")

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        direct = AiohttpRequest()
        await direct.initialize()
        try:
            await direct.post(f"{fake.base_url}{fake.token}/answerCallbackQuery")
        finally:
            await direct.shutdown()
        assert len(seen) == 1 and len(fake.of("answerCallbackQuery")) == 1
    finally:
        await runner.cleanup()


async def test_a_request_works_before_initialize_but_not_after_shutdown(
    fake: FakeTelegram,
) -> None:
    """As httpx's did: usable from the start; once shut down, until initialized again."""
    request = AiohttpRequest()
    url = f"{fake.base_url}{fake.token}/answerCallbackQuery"
    assert await request.post(url) is True
    await request.shutdown()
    with pytest.raises(NetworkError, match="shut down"):  # the library wraps it
        await request.post(url)
    await request.initialize()
    try:
        assert await request.post(url) is True
    finally:
        await request.shutdown()
