"""Files that hold people's data are readable by the bot's own account only.

The database (and SQLite's -wal and -shm beside it, which take the database file's
mode), exports and /mydata copies are created 0600, and a folder the bot creates for
them 0700: on a shared server, other accounts must not read the answers.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(folder: Path) -> None:
    """Create ``folder`` 0700 (and its missing parents); warn if an existing one is open."""
    if not folder.exists():
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        folder.chmod(FOLDER_MODE)  # mkdir's mode is filtered by the umask
        return
    if folder.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "%s can be read by other accounts; the files in it are private (0600), but "
            "consider chmod 700 on the folder",
            folder,
        )


def private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 unless it exists; make an existing one 0600."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def write_private(path: Path, content: bytes) -> None:
    """Write ``content`` to a 0600 file (replacing what was there)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "wb") as out:
        out.write(content)


def private_database(path: Path) -> None:
    """Before SQLite opens ``path``: it gives -wal and -shm the database file's mode,
    so a 0600 database file in a private folder covers all three."""
    private_folder(path.parent)
    private_file(path)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.chmod(FILE_MODE)
