"""``nsbot run`` in a process of its own, for tests that kill it (``kill -9``, SIGTERM).

    python tests/telegram_child.py [--hang]

Settings come from the environment, as for ``nsbot run`` (the repository on PYTHONPATH). ``--hang``: the core never
finishes handling an event, so a ``kill -9`` comes after the adapter fetched an update
and before it was handled.
"""

from __future__ import annotations

import asyncio
import sys

from bot.config import Settings
from bot.core import Core
from bot.logs import setup_logging
from bot.messages import Incoming, Reply
from bot.runner import configured_platforms, run_platforms


async def _hang(
    self: Core, message: Incoming, route: str | None = None, **kw: object
) -> list[Reply]:
    print(f"handling {message.event_id}", file=sys.stderr, flush=True)
    await asyncio.Event().wait()
    return []


def main() -> None:
    settings = Settings.from_env()
    setup_logging(settings.log_level)
    if "--hang" in sys.argv[1:]:
        Core.handle = _hang  # type: ignore[method-assign,assignment]
    asyncio.run(run_platforms(settings, configured_platforms(settings)))


if __name__ == "__main__":
    main()
