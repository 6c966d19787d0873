"""Reloading the content without a restart: on SIGHUP, or when its files change
(``NSBOT_WATCH=1``, which looks at their modification times every few seconds).

The new content is loaded and validated off the event loop while the old one keeps
answering, then swapped in with one assignment (:meth:`Core.use`). Content with
errors is refused: the errors are logged one a line, as ``nsbot kb check`` prints
them (``file:line [entry] error: ...``), and the old content stays.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.config import Settings
from bot.content import load_content
from bot.core import Core
from bot.errors import ContentError

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]


def content_files(settings: Settings) -> list[Path]:
    """Every file the content is loaded from."""
    files = {settings.faq_file, *settings.knowledge_dir.rglob("*.yaml")}
    if settings.consultations_dir.is_dir():
        files |= set(settings.consultations_dir.rglob("*.yaml"))
    return sorted(files)


def fingerprint(settings: Settings) -> Fingerprint:
    """(path, mtime in ns, size) of every content file: any save changes it."""
    seen = []
    for path in content_files(settings):
        try:
            stat = path.stat()
        except OSError:
            continue  # deleted between the listing and now: the next look sees it gone
        seen.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(seen)


class Reloader:
    def __init__(self, core: Core, settings: Settings) -> None:
        self.core = core
        self.settings = settings
        self.loaded = fingerprint(settings)  # of the files the running content came from
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[bool]] = set()

    def request(self, why: str) -> None:
        """Reload soon (from a signal handler, which cannot await)."""
        task = asyncio.create_task(self.reload(why))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reload(self, why: str) -> bool:
        """Load the content again; True when the new content now answers."""
        async with self._lock:  # a second request waits, then loads what is there then
            files = await asyncio.to_thread(fingerprint, self.settings)
            try:
                content = await asyncio.to_thread(load_content, self.settings, self.core.ui)
            except ContentError as exc:
                self.loaded = files  # refused: not tried again until a file changes
                errors = sorted(
                    (p for p in exc.problems if not p.warning), key=lambda p: (p.file, p.line or 0)
                )
                log.error(
                    "content reload (%s) refused: %d error(s); the previous content keeps "
                    "answering. Fix them and run 'nsbot kb check' to confirm.",
                    why,
                    len(errors),
                    extra={"errors": len(errors)},
                )
                for problem in errors:
                    log.error("%s", problem)
                return False
            except Exception:
                log.exception("content reload (%s) failed; the previous content stays", why)
                return False
            self.core.use(content)
            self.loaded = files
            log.info(
                "content reloaded (%s): %d entries, %d events, %d consultations",
                why,
                len(content.kb.entries),
                len(content.kb.events),
                len(content.consultations),
                extra={"entries": len(content.kb.entries)},
            )
            return True

    async def watch(self) -> None:
        """Reload whenever the files change, once they have stayed unchanged for one
        interval (an editor or a ``git pull`` writing several files is seen once,
        finished). Runs until cancelled."""
        interval = self.settings.watch_interval
        previous = self.loaded
        while True:
            await asyncio.sleep(interval)
            now = await asyncio.to_thread(fingerprint, self.settings)
            if now != previous:
                previous = now  # still being written, perhaps: look again next time
                continue
            if now != self.loaded:
                await self.reload("files changed")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
