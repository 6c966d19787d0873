"""Assembling a running bot from settings: knowledge base, storage, core."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from bot import reminders, wordlists
from bot.config import Settings
from bot.consultations import Catalog, load_consultations
from bot.core import Clock, Core, utc_now
from bot.index_cache import load_indexed
from bot.polls import sweep_forever
from bot.storage import SqliteStorage, Storage
from bot.ui import UI


def load_catalog(settings: Settings, ui: UI | None = None) -> Catalog:
    """Load the consultations or raise ContentError listing every problem.

    Yes/no options are labelled in English here, for results and exports; people see
    them in their own language, and may type yes or no in any (:mod:`bot.handlers.consult`).
    """
    ui = ui or UI.load()
    yes_no = (ui.t("consult_yes"), ui.t("consult_no"))
    return load_consultations(settings.consultations_dir, yes_no=yes_no)


def open_storage(settings: Settings) -> Storage:
    """PostgreSQL when ``NSBOT_DATABASE_URL`` is set, else the SQLite file."""
    if settings.database_url:
        from bot.storage.postgres import PostgresStorage  # asyncpg only when it is used

        return PostgresStorage(settings.database_url)
    return SqliteStorage(settings.db_path)


@asynccontextmanager
async def running_core(settings: Settings, clock: Clock = utc_now) -> AsyncIterator[Core]:
    """A core with its storage open for the duration of the block.

    Invalid consultations stop the start like an invalid knowledge base does. While the
    block runs, background tasks close polls on time and send reminders and
    announcements (:mod:`bot.reminders`).
    """
    kb, matcher = load_indexed(settings)
    wordlists.preload()
    ui = UI.load()
    consultations = load_catalog(settings, ui)
    async with open_storage(settings) as storage:
        core = Core(
            settings, kb, storage, ui=ui, clock=clock, consultations=consultations, matcher=matcher
        )
        core.pseudonyms.key()  # create or check the key file now, not mid-conversation
        background = [
            asyncio.create_task(sweep_forever(core)),
            asyncio.create_task(reminders.run_forever(core)),
        ]
        try:
            yield core
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with suppress(asyncio.CancelledError):
                    await task


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if logging.getLevelName(level) > logging.DEBUG:
        # The Slack libraries narrate every retry and socket at INFO; the adapter logs
        # what a deployer needs in one line of its own.
        for name in ("slack_sdk", "slack_bolt"):
            logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger("slack_bolt.AsyncApp").addFilter(_BoltTokenNotice())


class _BoltTokenNotice(logging.Filter):
    """bolt warns that SLACK_BOT_TOKEN from the environment is unused when it is given a
    client, which is how the adapter configures it: not a problem a deployer can fix."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()
