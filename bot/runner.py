"""``nsbot run``: start every platform adapter whose credentials are configured.

Adapters are imported only when configured, so a machine without the Slack extra can
still run Telegram, and the core never imports a platform library.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import signal
from dataclasses import dataclass
from typing import Any, Protocol

from bot.app import running_core
from bot.config import Settings
from bot.core import Core
from bot.errors import ConfigError, PlatformUnreachable
from bot.operations import operations

log = logging.getLogger(__name__)

# Seconds between attempts to reach a platform that is down: doubling up to a minute.
RETRY_FIRST, RETRY_MAX = 2.0, 60.0


class PlatformAdapter(Protocol):
    """What ``nsbot run`` needs of an adapter: start serving, and stop cleanly."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass(frozen=True)
class Platform:
    """One chat platform, declared once: the runner, the CLI and the tests read this."""

    name: str
    label: str  # as people write it, for messages
    factory: str  # "module:Class", called as Class(core, settings)
    required: tuple[str, ...]
    any_of: tuple[str, ...] = ()
    # Importable module -> the PyPI distribution that provides it.
    modules: tuple[tuple[str, str], ...] = ()

    def configured(self, settings: Settings) -> bool:
        if not all(settings.get(name) for name in self.required):
            return False
        return not self.any_of or any(settings.get(name) for name in self.any_of)

    def missing_packages(self) -> list[str]:
        """Distributions this platform needs that are not installed (without importing)."""
        return [dist for module, dist in self.modules if importlib.util.find_spec(module) is None]


PLATFORMS: list[Platform] = [
    Platform(
        "telegram",
        "Telegram",
        "bot.adapters.telegram:TelegramAdapter",
        ("TELEGRAM_BOT_TOKEN",),
        modules=(("telegram", "python-telegram-bot"), ("tornado", "tornado")),
    ),
    Platform(
        "slack",
        "Slack",
        "bot.adapters.slack:SlackAdapter",
        ("SLACK_BOT_TOKEN",),
        any_of=("SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"),
        modules=(("slack_bolt", "slack-bolt"), ("slack_sdk", "slack-sdk"), ("aiohttp", "aiohttp")),
    ),
]


def configured_platforms(settings: Settings) -> list[Platform]:
    return [p for p in PLATFORMS if p.configured(settings)]


def handoff_line(settings: Settings, platforms: list[Platform]) -> str:
    """What ``nsbot run`` says, in one line, about questions to the secretariat's desk."""
    desk = settings.handoff
    if desk is None:
        return "Questions to the secretariat: off (set NSBOT_HANDOFF=slack:<channel> or telegram:<group>)"
    hours = settings.handoff_remind.total_seconds() / 3600
    line = (
        f"Questions to the secretariat: to {desk} (a reminder after {hours:g} h without an answer)"
    )
    if desk.platform not in {p.name for p in platforms}:
        line += f"; {desk.platform} is not configured here, so they wait until it is"
    return line


def missing_packages_line(platforms: list[Platform]) -> str | None:
    """One line naming what to install, or None when every configured platform can run."""
    missing = {p.label: p.missing_packages() for p in platforms}
    missing = {label: dists for label, dists in missing.items() if dists}
    if not missing:
        return None
    needs = "; ".join(f"{label} needs {', '.join(dists)}" for label, dists in missing.items())
    every = " ".join(sorted({d for dists in missing.values() for d in dists}))
    return f"nsbot run: {needs}, not installed here. Install with: pip install {every}"


def platform_ports(settings: Settings, platforms: list[Platform]) -> dict[int, str]:
    """The ports the configured platforms listen on themselves (and serve /readyz on)."""
    names = {p.name for p in platforms}
    ports: dict[int, str] = {}
    if "telegram" in names and settings.get("TELEGRAM_WEBHOOK_URL").strip():
        text = settings.get("TELEGRAM_WEBHOOK_PORT") or "8443"
        if text.isdigit():
            ports[int(text)] = "TELEGRAM_WEBHOOK_PORT"
    if "slack" in names and not settings.get("SLACK_APP_TOKEN"):
        text = settings.get("SLACK_HTTP_PORT") or "3000"
        if text.isdigit():
            ports[int(text)] = "SLACK_HTTP_PORT"
    return ports


def check_health_port(settings: Settings, platforms: list[Platform]) -> None:
    """NSBOT_HEALTH_PORT must not be a platform's own port: that one serves them already."""
    clash = platform_ports(settings, platforms).get(settings.health_port or -1)
    if clash is not None:
        raise ConfigError(
            f"NSBOT_HEALTH_PORT and {clash} are both {settings.health_port}: /healthz and "
            f"/readyz are served on the {clash} already; unset NSBOT_HEALTH_PORT or pick "
            "another port"
        )


def make_adapter(platform: Platform, core: Core, settings: Settings) -> PlatformAdapter:
    module_name, _, class_name = platform.factory.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    adapter: PlatformAdapter = cls(core, settings)
    return adapter


async def start_with_retry(
    core: Core,
    platform: Platform,
    adapter: PlatformAdapter,
    stop: asyncio.Event,
    first_delay: float = RETRY_FIRST,
) -> bool:
    """Start an adapter, waiting out an unreachable platform with backoff.

    One line per failed attempt (no traceback: a network outage is not a bug). Returns
    False when told to stop before the platform could be reached.
    """
    delay = first_delay
    while not stop.is_set():
        try:
            await adapter.start()
        except PlatformUnreachable as exc:
            log.warning("%s: %s; trying again in %.0f s", platform.label, exc, delay)
        else:
            log.info("%s adapter started", platform.name)
            core.readiness.started(platform.name)
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(RETRY_MAX, delay * 2)
    return False


async def run_platforms(
    settings: Settings, platforms: list[Platform], first_delay: float = RETRY_FIRST
) -> None:
    """Run until SIGINT/SIGTERM; SIGHUP reloads the content. Adapters start side by
    side, so one platform that cannot be reached neither holds up the others nor the
    stop signal."""
    check_health_port(settings, platforms)
    log.info("%s", handoff_line(settings, platforms))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available off the main thread or on Windows: Ctrl-C still works there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with operations(settings) as attach, running_core(settings) as core:
        attach(core)
        core.readiness.expect(p.name for p in platforms)
        adapters = [make_adapter(p, core, settings) for p in platforms]
        starts = [
            asyncio.create_task(start_with_retry(core, p, a, stop, first_delay))
            for p, a in zip(platforms, adapters, strict=True)
        ]
        stopping = asyncio.create_task(stop.wait())
        try:
            pending: set[asyncio.Task[Any]] = {*starts, stopping}
            while stopping in pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    failure = None if task is stopping else task.exception()
                    if failure is not None:
                        raise failure  # a refused token or a bad setting: fatal
        finally:
            core.readiness.stopping = True  # a load balancer stops sending traffic here
            stop.set()
            for task in starts:
                task.cancel()
            results = await asyncio.gather(*starts, return_exceptions=True)
            for adapter, started in reversed(list(zip(adapters, results, strict=True))):
                if started is True:
                    await adapter.stop()
            stopping.cancel()
