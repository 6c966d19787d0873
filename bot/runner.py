"""``nsbot run``: start every platform adapter whose credentials are configured.

Adapters are imported only when configured, so a machine without the Slack extra can
still run Telegram, and the core never imports a platform library.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
from dataclasses import dataclass
from typing import Protocol

from bot.app import running_core
from bot.config import Settings
from bot.core import Core

log = logging.getLogger(__name__)


class PlatformAdapter(Protocol):
    """What ``nsbot run`` needs of an adapter: start serving, and stop cleanly."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass(frozen=True)
class Platform:
    name: str
    factory: str  # "module:Class", called as Class(core, settings)
    required: tuple[str, ...]
    any_of: tuple[str, ...] = ()

    def configured(self, settings: Settings) -> bool:
        if not all(settings.get(name) for name in self.required):
            return False
        return not self.any_of or any(settings.get(name) for name in self.any_of)


PLATFORMS: list[Platform] = [
    Platform("telegram", "bot.adapters.telegram:TelegramAdapter", ("TELEGRAM_BOT_TOKEN",)),
    Platform(
        "slack",
        "bot.adapters.slack:SlackAdapter",
        ("SLACK_BOT_TOKEN",),
        any_of=("SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"),
    ),
]


def configured_platforms(settings: Settings) -> list[Platform]:
    return [p for p in PLATFORMS if p.configured(settings)]


def make_adapter(platform: Platform, core: Core, settings: Settings) -> PlatformAdapter:
    module_name, _, class_name = platform.factory.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    adapter: PlatformAdapter = cls(core, settings)
    return adapter


async def run_platforms(settings: Settings, platforms: list[Platform]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available off the main thread or on Windows: Ctrl-C still works there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with running_core(settings) as core:
        adapters = [make_adapter(p, core, settings) for p in platforms]
        started: list[PlatformAdapter] = []
        try:
            for platform, adapter in zip(platforms, adapters, strict=True):
                await adapter.start()
                started.append(adapter)
                log.info("%s adapter started", platform.name)
            await stop.wait()
        finally:
            for adapter in reversed(started):
                await adapter.stop()
