"""The HTTP client under python-telegram-bot: aiohttp instead of its default, httpx.

python-telegram-bot lets an application bring its own transport (``BaseRequest``); it
still builds every call, reads every answer and raises its own errors. A 2,000-vote
burst is 2,000 ``answerCallbackQuery`` calls (one toast per voter) within Telegram's
15 s, 16 in flight: through httpx they took about 3.3 ms of CPU each (its connection
pool checks every pooled connection before each request), more than the votes
themselves, on the one event loop that also takes the votes in. aiohttp does the same
call in about a quarter of that (bench/bench_poll_burst.py shows the effect).
"""

from __future__ import annotations

import logging
import ssl
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

DEFAULT_POOL = 256  # as many connections to the Bot API at once as httpx allowed


def _value(given: Any, default: float | None) -> float | None:
    """A timeout given to one call, or this request's own (PTB's DEFAULT_NONE)."""
    return default if isinstance(given, type(BaseRequest.DEFAULT_NONE)) else given


def _certificates() -> ssl.SSLContext:
    """The certificate authorities httpx trusted (certifi's, which python-telegram-bot
    installs with httpx), so a slim image without the system's bundle still connects."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - installed with python-telegram-bot
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


class AiohttpRequest(BaseRequest):
    """One aiohttp session: keeps connections to the Bot API open between calls."""

    def __init__(
        self,
        *,
        connection_pool_size: int = DEFAULT_POOL,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout  # kept for the interface; see do_request
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}
        self._shut = False

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for this URL's host (None: direct)."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.netloc)
        if origin not in self._proxies:
            host = parts.hostname or ""
            bypass = urllib.request.proxy_bypass(host)
            chosen = None if bypass else urllib.request.getproxies_environment().get(parts.scheme)
            self._proxies[origin] = chosen
        return self._proxies[origin]

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        self._shut = False
        if self._session is None or self._session.closed:
            # Not trust_env: with it aiohttp reads the environment and ~/.netrc again
            # on every call (a fifth of a toast's cost). The proxy is looked up once per
            # host instead (_proxy): HTTP(S)_PROXY and NO_PROXY hold as they did with httpx.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=_certificates()),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        self._shut = True

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._shut:
            raise RuntimeError("AiohttpRequest is shut down: initialize it again first")
        if self._session is None:
            await self.initialize()  # httpx's client exists from the start: so does this one
        assert self._session is not None
        read = _value(read_timeout, self._read_timeout)
        connect = _value(connect_timeout, self._connect_timeout)
        pool = _value(pool_timeout, self._pool_timeout)
        # aiohttp has no write timeout: an upload is bounded by the read timeout for its
        # answer (write_timeout is accepted, as the interface requires, and not used).
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        data: Any = None
        if request_data is not None:
            fields = request_data.json_parameters
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData()
                for name, value in fields.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                data = form
            elif fields:
                data = fields  # form-encoded, as httpx sent them
        log.debug("HTTP %s %s", method, url)  # the token in it is redacted by the adapter
        try:
            async with self._session.request(
                method, url, data=data, timeout=timeout, proxy=self._proxy(url)
            ) as answer:
                return answer.status, await answer.read()
        except TimeoutError as exc:  # aiohttp's ServerTimeoutError too
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
