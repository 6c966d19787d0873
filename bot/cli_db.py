"""``nsbot db``: bring the configured database's schema up to date, and move a
deployment from its SQLite file to PostgreSQL (bot/storage/copy.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import Settings
from bot.errors import ConfigError

# The storage backends are imported by the commands: every ``nsbot ask`` builds this
# parser, and must not pay for asyncpg and the SQLite schema (see bot/cli.py).

EXIT_OK = 0


def _sqlite_version(path: Path) -> int:
    import sqlite3

    if not path.is_file():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def cmd_db_migrate(settings: Settings, args: argparse.Namespace) -> int:
    """What every start does anyway; run it alone before a rolling deploy."""
    import asyncio

    from bot.app import open_storage
    from bot.storage import SqliteStorage
    from bot.storage.postgres import PostgresStorage

    storage = open_storage(settings)
    if isinstance(storage, PostgresStorage):
        where, before = f"PostgreSQL {storage.where}", None
    else:
        where, before = f"SQLite {settings.db_path}", _sqlite_version(settings.db_path)

    async def migrate() -> int:
        async with storage:
            if isinstance(storage, SqliteStorage):
                return await storage.schema_version() - (before or 0)
            return storage.applied_migrations if isinstance(storage, PostgresStorage) else 0

    applied = asyncio.run(migrate())
    state = f"{applied} migration(s) applied" if applied else "already up to date"
    sys.stdout.write(f"{where}: schema {state}.\n")
    return EXIT_OK


def _source_path(value: str) -> Path:
    kind, sep, rest = value.partition(":")
    if not sep or kind != "sqlite" or not rest:
        raise ConfigError(
            f"--from must be sqlite:PATH (for example sqlite:./nsbot.sqlite3), not {value!r}"
        )
    return Path(rest).expanduser()


def cmd_db_copy(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from bot.pseudonym import key_file
    from bot.storage.copy import copy_sqlite_to_postgres
    from bot.storage.postgres import is_postgres_url, redact

    source = _source_path(args.source) if args.source else settings.db_path
    target = args.target or settings.database_url
    if not target or not is_postgres_url(target):
        raise ConfigError(
            "--to must be a PostgreSQL URL (postgresql://user@host:5432/db), "
            "or set NSBOT_DATABASE_URL"
        )
    if not source.is_file():
        raise ConfigError(f"no SQLite database at {source} (--from sqlite:PATH)")
    report = asyncio.run(copy_sqlite_to_postgres(source, target, replace=args.replace))
    width = max(len(r.table) for r in report)
    sys.stdout.write(f"Copied {source} to {redact(target)}:\n")
    for row in report:
        sys.stdout.write(f"  {row.table:<{width}}  {row.rows:>8} row(s)\n")
    sys.stdout.write(f"  {'total':<{width}}  {sum(r.rows for r in report):>8} row(s)\n")
    key = key_file(source)
    if key is not None and key.is_file() and not settings.hash_key:
        sys.stdout.write(
            f"Anonymous codes were made with the key in {key}: set NSBOT_HASH_KEY to its "
            "content on every replica, or people could answer anonymous consultations again.\n"
        )
    return EXIT_OK


def add_db_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="the database: migrate its schema, copy SQLite to PostgreSQL")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    p = db_sub.add_parser(
        "migrate",
        help="bring the configured database (NSBOT_DATABASE_URL, else NSBOT_DB) up to date",
    )
    p.set_defaults(func=cmd_db_migrate)
    p = db_sub.add_parser(
        "copy",
        help="copy every row of a SQLite database into PostgreSQL (stop the bot first)",
    )
    p.add_argument(
        "--from", dest="source", metavar="sqlite:PATH", help="default: the NSBOT_DB file"
    )
    p.add_argument(
        "--to", dest="target", metavar="postgresql://...", help="default: NSBOT_DATABASE_URL"
    )
    p.add_argument(
        "--replace", action="store_true", help="empty a target that already holds rows first"
    )
    p.set_defaults(func=cmd_db_copy)
