"""What runs beside the chat platforms in ``nsbot run`` (and ``nsbot chat``): the
health endpoints on ``NSBOT_HEALTH_PORT`` and the content reload on SIGHUP or, with
``NSBOT_WATCH=1``, on a file change."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable

from bot.config import Settings
from bot.core import Core
from bot.reload import Reloader

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def operations(settings: Settings) -> AsyncIterator[Callable[[Core], None]]:
    """What runs beside the adapters: /healthz and /readyz on NSBOT_HEALTH_PORT (from
    before the content is loaded), and the content reload on SIGHUP or, with
    NSBOT_WATCH=1, on a file change. Yields the function that hands them the core."""
    health = None
    if settings.health_port is not None:
        # Imported here: a missing aiohttp is reported by cmd_run in one line first.
        from bot.health import HealthServer

        health = HealthServer(settings.health_host, settings.health_port)
        await health.start()
        log.info("health checks on http://%s:%d/readyz", health.host, health.port)
    reloader: Reloader | None = None
    watching: asyncio.Task[None] | None = None
    loop = asyncio.get_running_loop()

    def attach(core: Core) -> None:
        nonlocal reloader, watching
        if health is not None:
            health.core = core
        reloader = Reloader(core, settings)
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, reloader.request, "SIGHUP")
        if settings.watch:
            watching = asyncio.create_task(reloader.watch())

    try:
        yield attach
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            loop.remove_signal_handler(signal.SIGHUP)
        if watching is not None:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
        if reloader is not None:
            await reloader.close()
        if health is not None:
            await health.stop()
