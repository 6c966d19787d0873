"""Deleting what is kept only for a while, while the bot runs: votes on answers.

A vote and its comment (bot.feedback) name no one, so /forget cannot find them; they
go instead when ``NSBOT_FEEDBACK_RETENTION`` (default 180 days) has passed since their
day. Every running process purges at its start and then every :data:`PURGE_SECONDS`
(replicas on one PostgreSQL database each run the same idempotent delete). Other data
kept for a while is purged where it is written: answer references a week
(bot.storage's ``save_answer``), delivery ids a week, unsent desk drafts a day
(bot.relay).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.periodic import repeat

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

PURGE_SECONDS = 3600.0  # a vote outlives its retention by an hour at most


async def purge(core: Core) -> int:
    """Delete the votes past their retention; how many went."""
    gone = await core.storage.purge_feedback(core.clock() - core.settings.feedback_retention)
    if gone:
        log.info("deleted %d vote(s) on answers past their retention", gone)
    return gone


async def run_forever(core: Core, interval: float = PURGE_SECONDS) -> None:
    """Background task of a running bot: purge now, then every ``interval``."""
    # A failed round is harmless: the next one deletes the same rows.
    await repeat(lambda: purge(core), interval, log, "purging old votes failed", now=True)
