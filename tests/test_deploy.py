"""The deployment files: the Dockerfile's HEALTHCHECK run against a real /readyz, and
deploy/compose.yaml checked by ``docker compose config`` where Docker Compose exists."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.core import Core
from bot.health import HealthServer

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
# A Telegram bot token (digits:35 characters) or a Slack token (xox?- / xapp-).
TOKEN_RE = re.compile(
    r"\b\d{6,}:[A-Za-z0-9_-]{30,}\b|\bxox[abpr]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+"
)


def healthcheck_command() -> list[str]:
    """The exec-form CMD of the Dockerfile's HEALTHCHECK (continued lines joined)."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.startswith("HEALTHCHECK")]
    command: list[str] = json.loads(line.split(" CMD ", 1)[1])
    return command


async def run_healthcheck(port: int) -> int:
    command = healthcheck_command()
    assert command[0] == "python"  # the image's python: no curl in a slim image
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *command[1:],
        env={"NSBOT_HEALTH_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(proc.wait(), 30)


async def test_the_docker_healthcheck_passes_only_when_readyz_says_ready(min_core: Core) -> None:
    server = HealthServer("127.0.0.1", 0)
    await server.start()
    try:
        assert await run_healthcheck(server.port) != 0  # 503: content not loaded yet
        server.core = min_core
        assert await run_healthcheck(server.port) == 0
        min_core.readiness.stopping = True
        assert await run_healthcheck(server.port) != 0
    finally:
        await server.stop()


def test_the_image_serves_health_on_the_port_the_healthcheck_asks() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "NSBOT_HEALTH_PORT=8080" in text
    assert "'8080'" in " ".join(healthcheck_command())


def load_compose() -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    return data


def test_compose_has_postgres_two_replicas_and_a_proxy_that_checks_readyz() -> None:
    services = load_compose()["services"]
    assert isinstance(services, dict)
    assert services["postgres"]["image"] == "postgres:15"
    for name in ("bot1", "bot2"):
        bot = services[name]
        assert bot["env_file"] == ".env"
        assert bot["environment"]["NSBOT_DATABASE_URL"].startswith("postgresql://")
        assert bot["environment"]["NSBOT_HEALTH_PORT"] == "8080"
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["caddy"]["image"].startswith("caddy:")
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert "bot1:8443 bot2:8443" in caddyfile and "bot1:3000 bot2:3000" in caddyfile
    assert "health_uri /readyz" in caddyfile and "health_port 8080" in caddyfile


def test_no_token_or_secret_is_written_in_the_deployment_files() -> None:
    services = load_compose()["services"]
    assert isinstance(services, dict)
    for service in services.values():
        for key in service.get("environment", {}):
            assert not key.startswith(("TELEGRAM_", "SLACK_")), key  # those live in .env
    for path in [DEPLOY / "compose.yaml", DEPLOY / "Caddyfile", DEPLOY / "env.example"]:
        assert not TOKEN_RE.search(path.read_text(encoding="utf-8")), path
    example = dict(
        line.split("=", 1)
        for line in (DEPLOY / "env.example").read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    )
    for key in ("POSTGRES_PASSWORD", "NSBOT_HASH_KEY", "TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN"):
        assert example[key] == "", key  # the deployer writes them
    assert ".env" in (REPO / ".gitignore").read_text(encoding="utf-8").split()


def compose_command() -> list[str] | None:
    """``docker compose`` (v2), else ``docker-compose`` (v1), if either runs here."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        try:
            done = subprocess.run(
                [*command, "version"], capture_output=True, text=True, timeout=30, check=False
            )
        except OSError:
            continue
        if done.returncode == 0:
            return command
    return None


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("neither 'docker compose' nor 'docker-compose' runs on this machine")
    copy = tmp_path / "deploy"
    copy.mkdir()
    for name in ("compose.yaml", "Caddyfile"):
        shutil.copy(DEPLOY / name, copy / name)
    env = (DEPLOY / "env.example").read_text(encoding="utf-8")
    env = env.replace("POSTGRES_PASSWORD=\n", "POSTGRES_PASSWORD=example-not-secret\n")
    env = env.replace("NSBOT_HASH_KEY=\n", "NSBOT_HASH_KEY=example-key-not-secret\n")
    (copy / ".env").write_text(env, encoding="utf-8")
    done = subprocess.run(
        [*command, "-f", str(copy / "compose.yaml"), "config"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    assert {"postgres", "migrate", "bot1", "bot2", "caddy"} <= set(resolved["services"])
    url = resolved["services"]["bot2"]["environment"]["NSBOT_DATABASE_URL"]
    assert url == "postgresql://nsbot:example-not-secret@postgres:5432/nsbot"
    migrate = resolved["services"]["migrate"].get("environment", {})
    assert not [k for k in migrate if k.startswith(("TELEGRAM_", "SLACK_"))]  # no token there
