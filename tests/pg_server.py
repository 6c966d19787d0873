"""The PostgreSQL server the tests may use, and throwaway databases on it.

``NSBOT_TEST_DATABASE_URL`` names a server and a database to connect to first (CI:
``postgresql://postgres@127.0.0.1:5432/test``). Several test sessions share that
server, so a session creates its own database (``nsbot_test_<pid>_<random>``), each
storage under test gets its own schema in it, dropped when the storage closes, and
the database is dropped when the session ends (tests/conftest.py). Without the
variable, or when nothing answers there, the PostgreSQL tests skip, saying why;
``test_a_configured_test_server_answers`` fails instead when the variable is set.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

from bot.storage.postgres import PostgresStorage, redact

URL_VARIABLE = "NSBOT_TEST_DATABASE_URL"
CONNECT_TIMEOUT = 5.0

_database: str | None = None  # this session's database, once created
_unreachable: str | None = None  # why the server cannot be used, once known
_schemas = itertools.count(1)


# Read once, at import: tests/conftest.py clears every NSBOT_ variable around each test.
_CONFIGURED = os.environ.get(URL_VARIABLE) or None


def configured_url() -> str | None:
    return _CONFIGURED


def with_database(url: str, database: str, **query: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}", query=urlencode(query)))


async def probe(url: str) -> str | None:
    """None when a server answers at ``url``; else what went wrong."""
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def session_database() -> str:
    """The URL of this session's database, created on first use; skips the test when
    no server is configured or reachable."""
    global _database, _unreachable
    url = configured_url()
    if url is None:
        pytest.skip(
            f"no PostgreSQL configured: set {URL_VARIABLE} (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    if _unreachable is not None:
        pytest.skip(_unreachable)
    if _database is None:
        name = f"nsbot_test_{os.getpid()}_{secrets.token_hex(4)}"
        try:
            conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            _unreachable = (
                f"no PostgreSQL reachable at {redact(url)} ({type(exc).__name__}: {exc}); "
                f"set {URL_VARIABLE}"
            )
            pytest.skip(_unreachable)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        _database = name
    return with_database(url, _database)


def drop_session_database() -> None:
    """At the end of the session: the database goes, whatever a test left in it."""
    global _database
    url = configured_url()
    if _database is None or url is None:
        return

    async def drop(name: str) -> None:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    name, _database = _database, None
    asyncio.run(drop(name))


@asynccontextmanager
async def throwaway_schema() -> AsyncIterator[str]:
    """A URL whose tables live in a new, empty schema, dropped afterwards."""
    base = await session_database()
    schema = f"s{os.getpid()}_{next(_schemas)}"
    conn = await asyncpg.connect(base, timeout=CONNECT_TIMEOUT)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        try:
            yield with_database(base, urlsplit(base).path.lstrip("/"), search_path=schema)
        finally:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


class ThrowawayPostgres(PostgresStorage):
    """A PostgresStorage on its own schema, which goes when it closes."""

    def __init__(self) -> None:
        super().__init__("postgresql://unset")
        self._schema = AsyncExitStack()

    async def open(self) -> None:
        self.url = await self._schema.enter_async_context(throwaway_schema())
        self.where = redact(self.url)
        try:
            await super().open()
        except BaseException:
            await self._schema.aclose()
            raise

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            await self._schema.aclose()
