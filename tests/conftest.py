"""Shared fixtures: a core on a temporary SQLite file, and the one-line ``bot`` helper.

``kb_min`` is a tiny knowledge base kept in tests/fixtures so core behaviour can be
tested without depending on the shipped content; ``shipped_core`` uses the real one.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.config import Settings, shipped_knowledge_dir
from bot.core import Core
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.matcher import Matcher
from bot.storage import SqliteStorage
from tests.pg_server import drop_session_database

FIXTURES = Path(__file__).parent / "fixtures"
KB_MIN = FIXTURES / "kb_min" / "knowledge"
FIXED_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any connection to a non-loopback address fails the test: nothing may call out."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and str(host) not in {
            "127.0.0.1",
            "::1",
            "localhost",
            "0.0.0.0",
        }:
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    yield


@pytest.fixture(scope="session", autouse=True)
def _postgres_session_database() -> Iterator[None]:
    """The throwaway PostgreSQL database of this session (if one was made) goes at its end."""
    yield
    drop_session_database()


@pytest.fixture(scope="session")
def shipped_kb() -> KnowledgeBase:
    return load_knowledge(shipped_knowledge_dir())


@pytest.fixture(scope="session")
def min_kb() -> KnowledgeBase:
    return load_knowledge(KB_MIN)


def make_settings(tmp_path: Path, knowledge: Path | None = None, **kw: object) -> Settings:
    return Settings(
        db_path=tmp_path / "bot.sqlite3",
        knowledge_dir=knowledge or shipped_knowledge_dir(),
        hash_key="test-key-not-secret",
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    async with SqliteStorage(tmp_path / "bot.sqlite3") as store:
        yield store


@pytest.fixture
async def core(tmp_path: Path, shipped_kb: KnowledgeBase, storage: SqliteStorage) -> Core:
    return Core(make_settings(tmp_path), shipped_kb, storage, clock=lambda: FIXED_NOW)


@pytest.fixture
async def min_core(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Core:
    return Core(make_settings(tmp_path, KB_MIN), min_kb, storage, clock=lambda: FIXED_NOW)


@pytest.fixture
def bot(core: Core) -> MemoryAdapter:
    """``assert "2009" in await bot.ask("when was the migration policy adopted")``."""
    return MemoryAdapter(core)


@pytest.fixture
def min_bot(min_core: Core) -> MemoryAdapter:
    return MemoryAdapter(min_core)


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """CLI tests read settings from the environment: never the developer's real ones.
    The index cache is shared by the whole run (content does not change between tests),
    in a folder of its own rather than the developer's ~/.cache."""
    for key in list(os.environ):
        if key.startswith(("NSBOT_", "TELEGRAM_", "SLACK_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture(scope="session")
def shipped_matcher(shipped_kb: KnowledgeBase) -> Matcher:
    return Matcher(shipped_kb)


# Short, vague messages; which of them the decision model is unsure about depends on its
# fit, so tests of the "did you mean" mechanics take the first one that gets suggestions.
VAGUE = ["london", "strategy", "the resolution", "the council meeting", "network", "group"]


def vague_question(matcher: Matcher) -> str:
    for text in VAGUE:
        if matcher.match(text).status == "suggest":
            return text
    raise AssertionError(f"none of {VAGUE} gets suggestions: the decision model never hesitates")
