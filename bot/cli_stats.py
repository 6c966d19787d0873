"""``nsbot stats``: the figures of /stats in a terminal, or as JSON or CSV for scripts."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from bot.config import Settings
from bot.dates import date_argument

EXIT_OK = 0


def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here: every ``nsbot ask`` builds this parser (see bot/cli.py).
    import asyncio

    from bot import markup, stats
    from bot.app import open_storage
    from bot.ui import UI

    async def fetch() -> stats.Stats:
        async with open_storage(settings) as storage:
            return await stats.gather(storage, args.since, datetime.now(UTC))

    figures = asyncio.run(fetch())
    if args.json:
        sys.stdout.write(json.dumps(stats.as_json(figures), ensure_ascii=False, indent=2) + "\n")
    elif args.csv:
        sys.stdout.buffer.write(stats.as_csv(figures))
        sys.stdout.buffer.flush()
    else:
        ui = UI.load()

        def t(key: str, **values: object) -> str:
            return ui.t(key, None, **values)

        sys.stdout.write(markup.to_plain(stats.as_text(figures, t)) + "\n")
    return EXIT_OK


def add_stats_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "stats", help="how the bot is used: questions, outcomes, 👍/👎, desk reply times, gaps"
    )
    p.add_argument("--since", type=date_argument, help="from this day on (YYYY-MM-DD, UTC)")
    formats = p.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="every figure as one JSON document")
    formats.add_argument("--csv", action="store_true", help="one figure per row: section,key,value")
    p.set_defaults(func=cmd_stats)
