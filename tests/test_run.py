"""``nsbot run`` as a deployer meets it: a real subprocess, its stderr, its exit code.

Nothing here reaches the network: "unreachable" platforms are closed ports on 127.0.0.1.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bot_process import bot_env, free_port

REPO = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    """A local port nobody listens on: connecting to it is refused at once."""
    return free_port()


def run_hiding(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``nsbot run`` in an environment where ``module`` cannot be imported."""
    code = f"import sys; sys.modules[{module!r}] = None; from bot.cli import main; sys.exit(main(['run']))"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("module", "platform_env", "named"),
    [
        ("telegram", {"TELEGRAM_BOT_TOKEN": "123:abc"}, "python-telegram-bot"),
        ("aiohttp", {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, "aiohttp"),
    ],
)
def test_a_missing_platform_library_is_named_in_one_line_before_any_file_is_made(
    tmp_path: Path, module: str, platform_env: dict[str, str], named: str
) -> None:
    result = run_hiding(module, bot_env(tmp_path, **platform_env))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0] and "pip install" in lines[0]
    assert not (tmp_path / "data").exists()  # no database, no key file


class Running:
    """``python -m bot run`` in the background, its stderr collected in a file."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.log = tmp_path / "stderr.txt"
        self._file = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._file,
        )

    def stderr(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, count: int = 1, within: float = 30.0) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            seen = self.stderr()
            if seen.count(text) >= count:
                return seen
            assert self.proc.poll() is None, f"exited early:\n{seen}"
            time.sleep(0.1)
        raise AssertionError(f"{text!r} x{count} not seen:\n{self.stderr()}")

    def terminate(self, within: float = 10.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=within)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._file.close()


@pytest.mark.parametrize(
    ("platform_env", "label"),
    [
        (
            {
                "TELEGRAM_BOT_TOKEN": "123:abc",
                "TELEGRAM_API_BASE_URL": "http://127.0.0.1:{port}/bot",
            },
            "Telegram: cannot reach the Bot API",
        ),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_APP_TOKEN": "xapp-1",
                "SLACK_API_URL": "http://127.0.0.1:{port}/api/",
            },
            "Slack: cannot reach the Slack API",
        ),
    ],
)
def test_an_unreachable_platform_is_one_line_per_attempt_and_sigterm_stops_it(
    tmp_path: Path, platform_env: dict[str, str], label: str
) -> None:
    port = closed_port()
    env = bot_env(tmp_path, **{k: v.format(port=port) for k, v in platform_env.items()})
    bot = Running(tmp_path, env)
    try:
        bot.wait_for(label, count=2)  # the first attempt, then a retry after the backoff
    finally:
        code = bot.terminate()
    stderr = bot.stderr()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert "trying again in" in stderr
    assert "123:abc" not in stderr  # the token never shows, even in a failed URL
