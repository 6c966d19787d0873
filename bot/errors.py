"""The bot's exceptions: one base class so callers can catch everything we raise."""

from __future__ import annotations

from dataclasses import dataclass


class BotError(Exception):
    """Base class of every error the bot raises on purpose."""


class ConfigError(BotError):
    """A setting is missing or malformed; the message says which and how to fix it."""


class PlatformUnreachable(BotError):
    """A chat platform's API cannot be reached now (network down, DNS, timeouts).

    Not the bot's fault and usually passing: ``nsbot run`` says so in one line and
    tries again, unlike a refused token (a :class:`ConfigError`).
    """


class RecipientGone(BotError):
    """The platform says this person can no longer be reached (they blocked the bot,
    or their account is gone): sending to them again would fail the same way."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a content file, located precisely enough for a curator to fix."""

    file: str
    line: int | None
    entry: str | None
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = f" [{self.entry}]" if self.entry else ""
        kind = "warning" if self.warning else "error"
        return f"{where}:{what} {kind}: {self.message}"


class ContentError(BotError):
    """Content (knowledge base, consultations) failed validation.

    Carries every problem found, not just the first, so one run of
    ``nsbot kb check`` shows a curator everything to fix.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if not p.warning]
        lines = "\n".join(str(p) for p in errors)
        super().__init__(f"{len(errors)} problem(s) in the content:\n{lines}")


class StorageError(BotError):
    """The database could not be opened or migrated."""


class StorageConflict(StorageError):
    """The database undid a statement to break a deadlock with another writer (or a
    serialization failure): the whole unit of work must be done again, since the locks
    it holds are what the other writer waits for."""
