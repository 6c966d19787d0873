"""/healthz and /readyz: over real HTTP on 127.0.0.1, in process and from ``nsbot run``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.core import Core
from bot.health import HealthServer
from tests.bot_process import (
    REPO,
    WEBHOOK_SECRET,
    BotProcess,
    bot_env,
    free_port,
    telegram_webhook_env,
)
from tests.fake_slack import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fake_telegram import TOKEN, FakeTelegram


async def get(port: int, path: str) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        assert response.headers["Cache-Control"] == "no-store"
        return response.status, await response.json()


@pytest.fixture
async def server() -> AsyncIterator[HealthServer]:
    health = HealthServer("127.0.0.1", 0)
    await health.start()
    yield health
    await health.stop()


async def test_not_ready_until_the_content_is_loaded_but_alive_from_the_start(
    server: HealthServer, min_core: Core
) -> None:
    assert await get(server.port, "/healthz") == (200, {"status": "alive"})
    status, body = await get(server.port, "/readyz")
    assert status == 503
    assert body == {"status": "not ready", "reasons": ["knowledge base not loaded yet"]}
    server.core = min_core
    assert await get(server.port, "/readyz") == (200, {"status": "ready"})


async def test_not_ready_while_an_adapter_has_not_started_or_the_process_stops(
    server: HealthServer, min_core: Core
) -> None:
    server.core = min_core
    min_core.readiness.expect(["telegram", "slack"])
    status, body = await get(server.port, "/readyz")
    assert (status, body["reasons"]) == (
        503,
        ["slack adapter not started", "telegram adapter not started"],
    )
    min_core.readiness.started("telegram")
    min_core.readiness.started("slack")
    assert (await get(server.port, "/readyz"))[0] == 200
    min_core.readiness.stopping = True
    status, body = await get(server.port, "/readyz")
    assert (status, body["reasons"]) == (503, ["shutting down"])


async def test_not_ready_when_the_database_does_not_answer(
    server: HealthServer, min_core: Core
) -> None:
    server.core = min_core
    assert (await get(server.port, "/readyz"))[0] == 200
    await min_core.storage.close()  # the connection is gone: every query fails
    status, body = await get(server.port, "/readyz")
    assert (status, body) == (503, {"status": "not ready", "reasons": ["database unreachable"]})
    assert (await get(server.port, "/healthz"))[0] == 200  # alive all the same


async def test_a_taken_port_is_a_one_line_config_error(server: HealthServer) -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="NSBOT_HEALTH_PORT"):
        await HealthServer("127.0.0.1", server.port).start()


# ------------------------------------------------------------------ from nsbot run


def assert_nothing_secret(raw: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in raw


async def test_telegram_webhook_mode_serves_both_on_its_port(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    port = free_port()
    env = bot_env(tmp_path, **telegram_webhook_env(port, fake.base_url, TOKEN))
    try:
        async with BotProcess(tmp_path, env) as bot:
            ready = await bot.wait_status(port, "/readyz", 200)
            assert ready == {"status": "ready"}
            status, body, raw = await bot.get(port, "/healthz")
            assert (status, body) == (200, {"status": "alive"})
            _, _, raw_ready = await bot.get(port, "/readyz")
            assert_nothing_secret(raw + raw_ready, TOKEN, WEBHOOK_SECRET, TOKEN.split(":")[0])
            assert fake.webhook is not None  # the webhook itself runs on the same port
            assert await bot.stop() == 0
    finally:
        await fake.stop()


async def test_polling_mode_serves_them_on_nsbot_health_port(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    port = free_port()
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        NSBOT_HEALTH_PORT=str(port),
        NSBOT_HEALTH_HOST="127.0.0.1",
    )
    try:
        async with BotProcess(tmp_path, env) as bot:
            assert await bot.wait_status(port, "/readyz", 200) == {"status": "ready"}
            assert "Telegram: polling for updates" in bot.stderr()  # with no port of its own
    finally:
        await fake.stop()


async def test_an_unreachable_platform_is_alive_but_not_ready(tmp_path: Path) -> None:
    port, closed = free_port(), free_port()
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{closed}/bot",
        NSBOT_HEALTH_PORT=str(port),
        NSBOT_HEALTH_HOST="127.0.0.1",
    )
    async with BotProcess(tmp_path, env) as bot:
        await bot.wait_log("cannot reach the Bot API")
        body = await bot.wait_status(port, "/readyz", 503)
        assert body == {"status": "not ready", "reasons": ["telegram adapter not started"]}
        assert (await bot.get(port, "/healthz"))[0] == 200


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_slack_serves_them_on_its_http_port_or_on_nsbot_health_port(
    tmp_path: Path, mode: str
) -> None:
    fake = FakeSlack()
    await fake.start()
    port = free_port()
    env = bot_env(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake.api_url)
    if mode == "http":
        env.update(
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_HTTP_HOST="127.0.0.1",
            SLACK_HTTP_PORT=str(port),
        )
    else:
        env.update(SLACK_APP_TOKEN=APP_TOKEN, NSBOT_HEALTH_PORT=str(port))
    try:
        async with BotProcess(tmp_path, env) as bot:
            assert await bot.wait_status(port, "/readyz", 200) == {"status": "ready"}
            _, _, raw = await bot.get(port, "/readyz")
            assert_nothing_secret(raw, BOT_TOKEN, SIGNING_SECRET, APP_TOKEN)
    finally:
        await fake.stop()


def test_nsbot_health_port_on_a_platforms_own_port_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = bot_env(
        tmp_path,
        **telegram_webhook_env(port, "http://127.0.0.1:9/bot", TOKEN),
        NSBOT_HEALTH_PORT=str(port),
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"nsbot: NSBOT_HEALTH_PORT and TELEGRAM_WEBHOOK_PORT are both {port}: /healthz and "
        "/readyz are served on the TELEGRAM_WEBHOOK_PORT already; unset NSBOT_HEALTH_PORT or "
        "pick another port"
    ]


async def test_nsbot_chat_serves_them_on_nsbot_health_port(tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(tmp_path, NSBOT_HEALTH_PORT=str(port), NSBOT_HEALTH_HOST="127.0.0.1")
    chat = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "chat",
        env=env,
        cwd=REPO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    status, body = 0, {}
    try:
        for _ in range(300):
            try:
                status, body = await get(port, "/readyz")
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
                continue
            if status == 200:
                break
            await asyncio.sleep(0.1)
        assert (status, body) == (200, {"status": "ready"})  # no platform to wait for
    finally:
        assert chat.stdin is not None
        chat.stdin.close()  # end of input: the chat ends
        assert await asyncio.wait_for(chat.wait(), 30) == 0
