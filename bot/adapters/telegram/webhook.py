"""The webhook endpoint Telegram posts updates to, on aiohttp.

python-telegram-bot's own server (tornado) reads the whole body, up to 100 MB, before
it looks at the secret header, and compares the secret with ``!=``: four forged
requests at once held 373 MB. Here the secret is checked first, in constant time,
from the headers alone; a body larger than any update is refused unread.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An update carries one message of at most 4,096 characters (and the one it replies
# to): tens of KB at most. Anything much larger is not from Telegram.
MAX_UPDATE_BYTES = 512 * 1024

Deliver = Callable[[dict[str, Any]], Awaitable[None]]


class WebhookServer:
    """``POST /<path>``: 403 without the secret, 413 over the size cap, 400 for what is
    not an update; otherwise ``deliver(update)`` is awaited before the 200, so an
    update is only confirmed to Telegram once it has been taken in."""

    def __init__(
        self,
        path: str,
        secret: str,
        deliver: Deliver,
        *,
        max_body: int = MAX_UPDATE_BYTES,
        routes: Callable[[web.Application], None] | None = None,
    ) -> None:
        """``routes`` adds the process's own endpoints (/healthz, /readyz) beside it."""
        self.path = "/" + path.strip("/")
        self._routes = routes
        self._secret = secret.encode("utf-8")
        self._deliver = deliver
        self.max_body = max_body
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        app = web.Application(client_max_size=self.max_body)
        app.router.add_post(self.path, self._post)
        if self._routes is not None:
            self._routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _post(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403)  # the body is never read
        size = request.content_length
        if size is None:
            return web.Response(status=411)
        if size > self.max_body:
            return web.Response(status=413)
        try:
            update = json.loads(await request.read())
        except (ValueError, web.HTTPRequestEntityTooLarge):
            return web.Response(status=400)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.Response(status=400)
        await self._deliver(update)
        return web.Response(status=200)
