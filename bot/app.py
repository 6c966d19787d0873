"""Assembling a running bot from settings: knowledge base, storage, core."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from bot import index_cache, relay, reminders, retention, wordlists
from bot.config import Settings
from bot.content import Content, load_content
from bot.content import load_catalog as load_catalog  # where the CLI and tests import it
from bot.core import Clock, Core, utc_now
from bot.polls import sweep_forever
from bot.storage import SqliteStorage, Storage
from bot.ui import UI


def open_storage(settings: Settings) -> Storage:
    """PostgreSQL when ``NSBOT_DATABASE_URL`` is set, else the SQLite file."""
    if settings.database_url:
        from bot.storage.postgres import PostgresStorage  # asyncpg only when it is used

        return PostgresStorage(settings.database_url)
    return SqliteStorage(settings.db_path)


# How long after a start the word lists are read (see _read_word_lists_soon).
WORD_LISTS_AFTER = 1.0


async def _read_word_lists_soon() -> None:
    """The word lists off the start-up path (the chat's prompt, the adapters' connect):
    read once the start is over and while nobody has asked yet, so the first Arabic
    question does not hold the loop. A thread started at once took the interpreter from
    the start for a tenth of its time; a question asked before they are read reads the
    lists it needs itself."""
    await asyncio.sleep(WORD_LISTS_AFTER)
    await asyncio.to_thread(wordlists.preload)


@asynccontextmanager
async def running_core(settings: Settings, clock: Clock = utc_now) -> AsyncIterator[Core]:
    """A core with its storage open for the duration of the block.

    Invalid consultations stop the start like an invalid knowledge base does. While the
    block runs, background tasks close polls on time, send reminders and
    announcements (:mod:`bot.reminders`), relay questions to and from the
    secretariat's desk (:mod:`bot.relay`) and delete votes past their retention
    (:mod:`bot.retention`).
    """
    cached = index_cache.cached_start(settings)
    if cached is not None:  # the same files, read by the same code, loaded cleanly before
        ui, catalog = cached
        kb, matcher = index_cache.load_indexed(settings)
        content = Content(kb, matcher, catalog)
    else:
        ui = UI.load()
        content = load_content(settings, ui)
        index_cache.record_start(settings, ui, content.consultations)
    async with open_storage(settings) as storage:
        core = Core(
            settings,
            content.kb,
            storage,
            ui=ui,
            clock=clock,
            consultations=content.consultations,
            matcher=content.matcher,
        )
        core.pseudonyms.key()  # create or check the key file now, not mid-conversation
        core.settle()  # the content loaded, out of the garbage collector's passes
        background = [
            asyncio.create_task(_read_word_lists_soon()),
            asyncio.create_task(sweep_forever(core)),
            asyncio.create_task(reminders.run_forever(core)),
            asyncio.create_task(relay.run_forever(core)),
            asyncio.create_task(retention.run_forever(core)),
        ]
        try:
            yield core
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with suppress(asyncio.CancelledError):
                    await task
