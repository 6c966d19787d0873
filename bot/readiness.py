"""Whether this process should be sent traffic: what ``GET /readyz`` reports.

Ready means the content is loaded (there is a core), the database answers, every
configured platform adapter has started, and the process is not shutting down. The
reasons are fixed phrases: never an exception's text, which could hold a database
address with its password, a token or a person's message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

DATABASE_TIMEOUT = 5.0  # seconds a load balancer's probe waits for the database


class Readiness:
    """Adapters the runner is waiting for, and whether the process is stopping."""

    def __init__(self) -> None:
        self._waiting: set[str] = set()
        self.stopping = False

    def expect(self, names: Iterable[str]) -> None:
        self._waiting |= set(names)

    def started(self, name: str) -> None:
        self._waiting.discard(name)

    def waiting(self) -> list[str]:
        return sorted(self._waiting)


async def problems(core: Core | None) -> list[str]:
    """Why the process is not ready (empty when it is)."""
    if core is None:
        return ["knowledge base not loaded yet"]
    reasons = []
    if core.readiness.stopping:
        reasons.append("shutting down")
    if not core.kb.entries:
        reasons.append("knowledge base has no entries")
    try:
        # A primary-key look-up of a row that never exists: a real round trip to the
        # database that reads nothing of anyone's.
        await asyncio.wait_for(
            core.storage.get_message_ref("nsbot", "readyz"), timeout=DATABASE_TIMEOUT
        )
    except Exception as exc:
        log.debug("readiness: database check failed (%s)", type(exc).__name__)
        reasons.append("database unreachable")
    reasons += [f"{name} adapter not started" for name in core.readiness.waiting()]
    return reasons
