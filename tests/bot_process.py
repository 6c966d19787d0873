"""``python -m bot run`` as a subprocess of an async test, beside fake platform
servers that run on the test's own event loop (so nothing here may block it)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "s3cret-token_for-tests"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test's environment without any NSBOT_/TELEGRAM_/SLACK_ setting, plus ``extra``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "NSBOT_"))
    }
    env.update(NSBOT_DB=str(tmp_path / "data" / "bot.sqlite3"), NSBOT_HASH_KEY="k" * 32, **extra)
    return env


def telegram_webhook_env(port: int, api: str, token: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": api,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram",
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "TELEGRAM_WEBHOOK_PORT": str(port),
    }


class BotProcess:
    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.env = env
        self.log = tmp_path / "stderr.txt"
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> BotProcess:
        with self.log.open("w") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                env=self.env,
                cwd=REPO,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=out,
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def stop(self, within: float = 15.0) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), within)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        assert self.proc.returncode is not None
        return self.proc.returncode

    def _alive(self) -> None:
        assert self.proc is not None
        assert self.proc.returncode is None, f"exited early:\n{self.stderr()}"

    async def wait_log(self, text: str, count: int = 1, within: float = 30.0) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            seen = self.stderr()
            if seen.count(text) >= count:
                return seen
            self._alive()
            await asyncio.sleep(0.1)
        raise AssertionError(f"{text!r} x{count} not seen:\n{self.stderr()}")

    async def get(self, port: int, path: str) -> tuple[int, dict[str, Any], str]:
        """(status, JSON body, raw body) of ``GET http://127.0.0.1:port/path``."""
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}{path}") as response,
        ):
            raw = await response.text()
            return response.status, json.loads(raw), raw

    async def wait_status(
        self, port: int, path: str, status: int, within: float = 30.0
    ) -> dict[str, Any]:
        """Poll until the endpoint answers ``status``; its JSON body."""
        deadline = time.monotonic() + within
        last: object = None
        while time.monotonic() < deadline:
            self._alive()
            try:
                got, body, _ = await self.get(port, path)
            except aiohttp.ClientError as exc:
                last = exc
            else:
                if got == status:
                    return body
                last = (got, body)
            await asyncio.sleep(0.1)
        raise AssertionError(f"{path} never answered {status} (last: {last}):\n{self.stderr()}")
