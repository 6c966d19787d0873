"""Moving a deployment from its SQLite file to PostgreSQL, every table and every row.

The source is first brought to the current schema (as the bot would at its next
start), then read in one snapshot; the target is migrated, and everything is written
in one PostgreSQL transaction: a copy that fails half-way leaves the target as it was.
Each table is copied in order of its foreign keys, rows in their stored order (so the
order deliveries go out in stays), values converted to PostgreSQL's column types.
Identity sequences then continue after the copied ids, or after the last id SQLite gave
(AUTOINCREMENT's record) when that row is gone: an id is never given twice. Afterwards the row counts of
both sides are compared, table by table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.errors import StorageError
from bot.storage.postgres import PostgresStorage
from bot.storage.postgres.schema import POSTGRES_ONLY_TABLES, VERSION_TABLE
from bot.storage.sqlite import SqliteStorage

BATCH = 5_000  # rows per COPY: big tables stream instead of filling memory


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int


def copy_order(foreign_keys: dict[str, set[str]]) -> list[str]:
    """Tables with the ones they refer to first (alphabetical among equals)."""
    done: list[str] = []
    waiting = dict(foreign_keys)
    while waiting:
        ready = sorted(t for t, refs in waiting.items() if refs <= set(done) | {t})
        if not ready:
            raise StorageError(f"foreign keys form a cycle among {sorted(waiting)}")
        done += ready
        for table in ready:
            del waiting[table]
    return done


def _sqlite_tables(db: sqlite3.Connection) -> dict[str, tuple[list[str], bool]]:
    """Table -> (columns, has a rowid)."""
    found = {}
    for name, sql in db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ):
        columns = [r[1] for r in db.execute(f'PRAGMA table_info("{name}")')]
        found[name] = (columns, "WITHOUT ROWID" not in sql.upper())
    return found


def _given_ids(db: sqlite3.Connection) -> dict[str, int]:
    """Table -> the largest id AUTOINCREMENT gave (deleted rows included)."""
    known = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).fetchone()
    if known is None:
        return {}
    return {name: int(seq) for name, seq in db.execute("SELECT name, seq FROM sqlite_sequence")}


def _rows(
    db: sqlite3.Connection, table: str, columns: list[str], rowid: bool
) -> Iterator[list[Any]]:
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = db.execute(f'SELECT {names} FROM "{table}"' + (" ORDER BY rowid" if rowid else ""))
    while batch := cursor.fetchmany(BATCH):
        yield [list(r) for r in batch]


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _converter(data_type: str) -> Any:
    if data_type == "timestamp with time zone":
        return _moment
    if data_type == "boolean":
        return lambda v: None if v is None else bool(v)
    if data_type in {"bigint", "integer", "smallint"}:
        return lambda v: None if v is None else int(v)
    # PostgreSQL text cannot hold NUL (see PostgresStorage): U+FFFD, as the bot stores it.
    return lambda v: v.replace("\x00", "\ufffd") if isinstance(v, str) else v


async def copy_sqlite_to_postgres(
    source: Path, target_url: str, *, replace: bool = False
) -> list[TableCopy]:
    """Copy every row of the SQLite file ``source`` into the PostgreSQL database.

    A target that already holds rows is refused unless ``replace`` (then it is emptied
    first, in the same transaction). ``source`` must exist (it would be created)."""
    async with SqliteStorage(source):
        pass  # its migrations: the columns now match the PostgreSQL schema
    db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        db.execute("BEGIN")  # one snapshot, even if something else writes meanwhile
        tables = _sqlite_tables(db)
        keys = {t: {r[2] for r in db.execute(f'PRAGMA foreign_key_list("{t}")')} for t in tables}
        order = copy_order(keys)
        given = _given_ids(db)
        target = PostgresStorage(target_url, pool_size=1)
        async with target:
            return await _copy(db, tables, order, target, replace, given)
    finally:
        db.close()


async def _copy(
    db: sqlite3.Connection,
    tables: dict[str, tuple[list[str], bool]],
    order: list[str],
    target: PostgresStorage,
    replace: bool,
    given: dict[str, int],
) -> list[TableCopy]:
    async with target.pool.acquire() as conn, conn.transaction():
        types: dict[str, dict[str, str]] = {}
        for table, column, data_type in await conn.fetch(
            """SELECT table_name, column_name, data_type FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name <> $1""",
            VERSION_TABLE,
        ):
            types.setdefault(table, {})[column] = data_type
        missing = sorted(set(tables) - set(types))
        if missing:
            raise StorageError(f"the PostgreSQL schema has no table {', '.join(missing)}")
        # Rows of the replicas' own state (send slots, seconds long) are no deployment's.
        kept = sorted(t for t in types if t not in POSTGRES_ONLY_TABLES)
        held = {t: n for t, n in (await target_counts_on(conn, kept)).items() if n}
        if held and not replace:
            listed = ", ".join(f"{t} ({n})" for t, n in sorted(held.items()))
            raise StorageError(
                f"{target.where} already holds data: {listed}. Copying would mix two "
                "deployments; give --replace to empty it first"
            )
        if held:
            names = ", ".join(f'"{t}"' for t in sorted(types))
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        report = []
        for table in order:
            columns, rowid = tables[table]
            unknown = [c for c in columns if c not in types[table]]
            if unknown:
                raise StorageError(f"the PostgreSQL table {table} has no column {unknown}")
            convert = [_converter(types[table][c]) for c in columns]
            count = 0
            for batch in _rows(db, table, columns, rowid):
                records = [tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in batch]
                await conn.copy_records_to_table(table, records=records, columns=columns)
                count += len(records)
            report.append(TableCopy(table, count))
        await _continue_sequences(conn, given)
        copied = await target_counts_on(conn, order)
        wrong = [r for r in report if copied[r.table] != r.rows]
        if wrong:  # pragma: no cover - COPY either writes every record or raises
            raise StorageError(f"row counts differ after the copy: {wrong}")
    return report


async def target_counts_on(conn: Any, tables: Sequence[str]) -> dict[str, int]:
    return {t: int(await conn.fetchval(f'SELECT COUNT(*) FROM "{t}"')) for t in tables}


async def _continue_sequences(conn: Any, given: dict[str, int]) -> None:
    """Each identity sequence goes on after the largest copied id, or the largest id
    SQLite gave (``given``) if larger. Anonymous responses have random ids: named ones
    continue after the named ids alone."""
    identities = await conn.fetch(
        """SELECT table_name, column_name FROM information_schema.columns
           WHERE table_schema = current_schema() AND is_identity = 'YES'"""
    )
    for table, column in identities:
        where = " WHERE NOT anonymous" if table == "responses" else ""
        top = await conn.fetchval(f'SELECT MAX("{column}") FROM "{table}"{where}')
        if column == "id" and table in given:
            top = max(top or 0, given[table]) or None
        sequence = await conn.fetchval("SELECT pg_get_serial_sequence($1, $2)", table, column)
        if top is None:
            await conn.execute("SELECT setval($1, 1, false)", sequence)
        else:
            await conn.execute("SELECT setval($1, $2)", sequence, int(top))
