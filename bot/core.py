"""The platform-neutral core: one entry point, :meth:`Core.handle`, for every adapter.

It de-duplicates re-delivered events, runs the handler pipeline registered in
:mod:`bot.handlers`, and is the single error boundary: a failing handler is logged with
its traceback and the person gets a short apology, never the exception text.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bot.config import Settings
from bot.consultations import Catalog
from bot.handlers import PIPELINE
from bot.handlers.base import Context
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher
from bot.messages import Incoming, Reply
from bot.pseudonym import Pseudonyms
from bot.storage.base import Storage
from bot.ui import UI

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# How an adapter delivers replies the core starts itself (a poll closing on time, a
# reminder): adapters register one per platform when they start.
Sender = Callable[[list[Reply]], Awaitable[None]]


# Longer input is cut here, before any handler: Telegram's own limit for one message.
# Normalising or matching 100,000 characters would hold the event loop for seconds,
# and nothing the bot asks for (a consultation answer is at most 4,000) needs more.
MAX_INPUT_CHARS = 4096
# Button data the bot sends is at most 64 bytes; anything much longer is not ours.
MAX_ACTION_CHARS = 256


def bounded(message: Incoming) -> Incoming:
    """The message with its text and button data cut to what any handler may see."""
    action = message.action
    if len(message.text) <= MAX_INPUT_CHARS and (action is None or len(action) <= MAX_ACTION_CHARS):
        return message
    return dataclasses.replace(
        message,
        text=message.text[:MAX_INPUT_CHARS],
        action=None if action is None else action[:MAX_ACTION_CHARS],
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


class Core:
    def __init__(
        self,
        settings: Settings,
        kb: KnowledgeBase,
        storage: Storage,
        *,
        ui: UI | None = None,
        clock: Clock = utc_now,
        consultations: Catalog | None = None,
        matcher: Matcher | None = None,
    ) -> None:
        self.settings = settings
        self.kb = kb
        self.storage = storage
        self.ui = ui or UI.load()
        self.clock = clock
        self.matcher = matcher or Matcher(kb)
        self.senders: dict[str, Sender] = {}
        self.consultations = consultations if consultations is not None else Catalog()
        self.pseudonyms = Pseudonyms(settings)  # codes for anonymous respondents and voters

    def register_sender(self, platform: str, sender: Sender) -> None:
        self.senders[platform] = sender

    async def push(self, platform: str, replies: list[Reply]) -> bool:
        """Deliver replies nobody asked for just now; False when the platform is not running."""
        sender = self.senders.get(platform)
        if sender is None:
            log.warning("cannot push to %s: no adapter running", platform)
            return False
        await sender(replies)
        return True

    async def person_gone(self, person: str, reason: str) -> None:
        """The platform says this person can no longer be reached (``"blocked"``, or
        ``"unreachable"`` after a refused send): stop their reminders, and keep why."""
        if await self.storage.unsubscribe(person, self.clock(), reason=reason):
            log.info("reminders turned off for a person the platform says is %s", reason)

    async def handle(self, message: Incoming) -> list[Reply]:
        """Everything the bot says in response to one incoming event (maybe nothing)."""
        now = self.clock()
        typed = len(message.text)
        message = bounded(message)
        ctx = Context(self, message, now, cut=typed - len(message.text))
        try:
            # Inside the boundary: a storage error here (a locked database) still gets
            # the person an apology instead of escaping to the adapter.
            if message.event_id is not None:
                fresh = await self.storage.claim_event(
                    message.person.platform, message.event_id, now
                )
                if not fresh:
                    log.info(
                        "ignoring re-delivered %s event %s",
                        message.person.platform,
                        message.event_id,
                    )
                    return []
            for handler in PIPELINE:
                replies = await handler(ctx)
                if replies is not None:
                    return replies
            return []
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "handler failed on %s event %s", message.person.platform, message.event_id or "-"
            )
            return [Reply(ctx.t("error"))]
