"""Files holding people's data: 0600, in a folder of the bot's own (0700)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.terminal import TerminalChat
from bot.core import Core
from bot.messages import Attachment, Reply
from bot.storage import SqliteStorage

from .conftest import FIXED_NOW


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(db: Path) -> tuple[int, ...]:
    """The database's, its -wal's and its -shm's (which exist while it is open)."""
    return tuple(mode(db.with_name(db.name + suffix)) for suffix in ("", "-wal", "-shm"))


@pytest.fixture(autouse=True)
def _permissive_umask() -> Iterator[None]:
    """The common default: files 0644 and folders 0755 unless the bot says otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


async def test_the_database_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "nsbot.sqlite3"
    async with SqliteStorage(path) as store:
        await store.set_state("telegram:1", "1", "consult", {"c": "x"}, FIXED_NOW)
        assert modes(path) == (0o600, 0o600, 0o600)
    assert mode(path.parent) == 0o700


async def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "nsbot.sqlite3"
    async with SqliteStorage(path):
        pass
    path.chmod(0o644)
    async with SqliteStorage(path):
        assert mode(path) == 0o600


def test_files_the_terminal_saves_are_private(tmp_path: Path, core: Core) -> None:
    chat = TerminalChat(core, files_dir=tmp_path / "files")
    reply = Reply("here", attachments=(Attachment("my-data.json", b"{}", "application/json"),))
    chat.outbound([reply])
    assert mode(tmp_path / "files" / "my-data.json") == 0o600
    assert mode(tmp_path / "files") == 0o700
