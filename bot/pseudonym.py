"""Keyed one-way codes for anonymous respondents and voters.

An anonymous consultation must still let a person resume a draft and stop them from
answering twice, without storing who they are. The respondent is therefore stored as
HMAC-SHA256(key, purpose + consultation + platform id): the same person always gets
the same code, the code differs per consultation (so answers cannot be linked across
consultations), and without the key nobody can test a guess of whose code it is.

The key comes from ``NSBOT_HASH_KEY``. When that is unset, a random key is generated
once and kept in a file beside the database (``<database>.hashkey``, mode 0600):
losing or changing the key means people can answer anonymous consultations again.
On PostgreSQL (several replicas) ``NSBOT_HASH_KEY`` is required.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from bot.config import Settings
from bot.errors import ConfigError

log = logging.getLogger(__name__)

MIN_KEY_LENGTH = 16


def key_file(db_path: Path | str) -> Path | None:
    """Where the generated key lives: beside the database (None for an in-memory one)."""
    if str(db_path) == ":memory:":
        return None
    path = Path(db_path)
    return path.with_name(path.name + ".hashkey")


def load_or_create_key(path: Path) -> bytes:
    """Read the key file, creating it (random, owner-only) the first time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        log.info("generated a new pseudonym key in %s", path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("pseudonym key file %s was readable by others; restricting it to 0600", path)
        path.chmod(0o600)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(f"the pseudonym key file {path} is damaged (too short): restore it")
    return key.encode("ascii")


_MAX_CODES = 4096


class Pseudonyms:
    """Computes respondent and voter codes; the key is loaded on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._key: bytes | None = None
        # Codes computed lately: a consultation computes the same two for each press
        # (and one per anonymous consultation to find which one typed text is for).
        # In memory only, like the key itself.
        self._codes: dict[tuple[str, ...], str] = {}

    def key(self) -> bytes:
        if self._key is None:
            configured = self._settings.hash_key
            if configured:
                if len(configured) < MIN_KEY_LENGTH:
                    raise ConfigError(
                        f"NSBOT_HASH_KEY must be at least {MIN_KEY_LENGTH} characters "
                        "(a long random string, for example from: "
                        "python -c 'import secrets; print(secrets.token_hex(32))')"
                    )
                self._key = configured.encode("utf-8")
            elif self._settings.database_url:
                # Replicas on one PostgreSQL would each make a key of their own, and the
                # key must not sit in the database beside the codes it protects.
                raise ConfigError(
                    "with NSBOT_DATABASE_URL, set NSBOT_HASH_KEY (the same on every replica): "
                    "a long random string, for example from: "
                    "python -c 'import secrets; print(secrets.token_hex(32))'. Moving from "
                    "SQLite? Use the content of the key file beside it (nsbot.sqlite3.hashkey)"
                )
            else:
                path = key_file(self._settings.db_path)
                if path is None:
                    log.warning("in-memory database: anonymous codes last only while the bot runs")
                    self._key = secrets.token_hex(32).encode("ascii")
                else:
                    self._key = load_or_create_key(path)
        return self._key

    def _code(self, *parts: str) -> str:
        code = self._codes.get(parts)
        if code is None:
            message = "\x1f".join(parts).encode("utf-8")
            code = hmac.new(self.key(), message, hashlib.sha256).hexdigest()
            if len(self._codes) >= _MAX_CODES:
                del self._codes[next(iter(self._codes))]  # the oldest
            self._codes[parts] = code
        return code

    def respondent(self, consultation_id: str, person_key: str) -> str:
        return self._code("respondent", consultation_id, person_key)

    def conversation(self, consultation_id: str, person_key: str) -> str:
        """Names an anonymous consultation in the person's conversation state; not the
        respondent code, which would link the account to its answers."""
        return self._code("conversation", consultation_id, person_key)[:16]

    def voter(self, poll_id: int, person_key: str) -> str:
        return self._code("voter", str(poll_id), person_key)

    def feedback(self, answer_ref: str, person_key: str) -> str:
        """One vote per answer message and person (bot.feedback): the code changes with
        every answer, so a person's votes are not linked to each other either."""
        return self._code("feedback", answer_ref, person_key)
