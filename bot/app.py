"""Assembling a running bot from settings: knowledge base, storage, core."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.config import Settings
from bot.core import Clock, Core, utc_now
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.storage import SqliteStorage, Storage


def load_kb(settings: Settings) -> KnowledgeBase:
    """Load the knowledge base or raise ContentError listing every problem."""
    return load_knowledge(settings.knowledge_dir, settings.faq_file)


def open_storage(settings: Settings) -> Storage:
    return SqliteStorage(settings.db_path)


@asynccontextmanager
async def running_core(settings: Settings, clock: Clock = utc_now) -> AsyncIterator[Core]:
    """A core with its storage open for the duration of the block."""
    kb = load_kb(settings)
    async with open_storage(settings) as storage:
        yield Core(settings, kb, storage, clock=clock)


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
