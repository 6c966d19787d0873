"""``GET /healthz`` and ``GET /readyz`` over HTTP, for a load balancer or Docker.

``/healthz`` answers 200 as long as the process serves HTTP at all (a liveness
probe: restart me when it fails). ``/readyz`` answers 200 when the process should get
traffic and 503 with the reasons otherwise (:mod:`bot.readiness`). Both are added to
the Telegram webhook's or the Slack HTTP endpoint's server when one runs, and are
served on ``NSBOT_HEALTH_PORT`` by :class:`HealthServer` when that is set (polling
and Socket Mode have no port of their own). The bodies are short and fixed: no
version, no token, no name, nothing a stranger could use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bot import readiness
from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.core import Core

HEALTHZ, READYZ = "/healthz", "/readyz"
_NO_CACHE = {"Cache-Control": "no-store"}


def add_routes(app: web.Application, core: Callable[[], Core | None]) -> None:
    """Serve both paths on ``app`` (before its runner is set up); ``core`` gives the
    running core, or None while it is still being loaded."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"}, headers=_NO_CACHE)

    async def readyz(request: web.Request) -> web.Response:
        reasons = await readiness.problems(core())
        if reasons:
            body = {"status": "not ready", "reasons": reasons}
            return web.json_response(body, status=503, headers=_NO_CACHE)
        return web.json_response({"status": "ready"}, headers=_NO_CACHE)

    app.router.add_get(HEALTHZ, healthz)
    app.router.add_get(READYZ, readyz)


class HealthServer:
    """The two endpoints alone on ``host:port``; ``core`` is set once it exists."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.core: Core | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        add_routes(app, lambda: self.core)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError as exc:
            await self.stop()
            raise ConfigError(
                f"cannot serve /healthz on {self.host}:{self.port} ({exc.strerror}): "
                "set NSBOT_HEALTH_PORT to a free port"
            ) from None
        addresses = self._runner.addresses
        if addresses:  # the real port when 0 asked for any free one
            self.port = int(addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
