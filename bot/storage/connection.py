"""SQLite statements run on the event loop; only what can wait runs in a thread.

aiosqlite sends every statement to its own thread and back: about 23 round trips per
consultation answer, each a thread hop and a GIL hand-over, which capped durable
throughput far below what SQLite does. A statement inside a transaction that holds
the write lock (BEGIN IMMEDIATE) takes microseconds and never waits, and in WAL mode
a read never waits either, so those run inline. What can block (BEGIN IMMEDIATE
waiting for another process's write, COMMIT's fsync, an autocommit write, a
checkpoint, a migration script) runs in one worker thread, so the loop never stalls.

The interface mirrors the part of aiosqlite the storage uses: ``await
db.execute(...)``, ``async with db.execute(...) as cur``, ``fetchone``/``fetchall``,
``async for``, ``rowcount``/``lastrowid``, ``executemany``, ``executescript``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")

_READS = ("SELECT", "WITH")
_WAITS = ("BEGIN", "COMMIT")


class Cursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def __aiter__(self) -> AsyncIterator[Any]:
        for row in self._cursor:
            yield row

    def close(self) -> None:
        self._cursor.close()


class _Operation:
    """``await`` it for the cursor, or use it as ``async with`` (closes the cursor)."""

    def __init__(self, run: Callable[[], Any]) -> None:
        self._run = run
        self._cursor: Cursor | None = None

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._start().__await__()

    async def _start(self) -> Cursor:
        self._cursor = Cursor(await self._run())
        return self._cursor

    async def __aenter__(self) -> Cursor:
        return await self._start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._cursor is not None:
            self._cursor.close()


class _Done:
    """A statement that could not wait, already run: awaiting it hands the cursor back
    without a trip through the event loop (a coroutine, an executor call and a
    context manager per statement cost five times the statement itself)."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = Cursor(cursor)

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._cursor
        yield  # pragma: no cover - makes this a generator that finishes at once

    async def __aenter__(self) -> Cursor:
        return self._cursor

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._cursor.close()


class Connection:
    def __init__(self, conn: sqlite3.Connection, worker: ThreadPoolExecutor) -> None:
        self._conn = conn
        self._worker = worker

    @classmethod
    async def open(cls, path: str) -> Connection:
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(
                worker,
                lambda: sqlite3.connect(
                    path,
                    isolation_level=None,
                    check_same_thread=False,
                    # Every statement the storage runs, prepared once (the default 128
                    # is fewer than the storage's distinct statements).
                    cached_statements=512,
                ),
            )
        except BaseException:
            worker.shutdown(wait=False)
            raise
        return cls(conn, worker)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def _may_wait(self, sql: str) -> bool:
        head = sql.lstrip()[:6].upper()
        if head.startswith(_WAITS):
            return True
        return not self._conn.in_transaction and not head.startswith(_READS)

    async def begin_immediate(self, busy_timeout_ms: int) -> None:
        """BEGIN IMMEDIATE here and now when the write lock is free (the usual case: one
        process writes the file), else in the worker, waiting up to ``busy_timeout_ms``
        for the other process (a CLI command) to finish. A trip to the worker per
        transaction cost as much as the statements of several events."""
        conn = self._conn
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        await self._call(True, lambda: conn.execute("BEGIN IMMEDIATE"))

    def now(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Run a statement that cannot wait (inside a write transaction, or a read)
        here and now, on the event loop: the storage's hot path."""
        return self._conn.execute(sql, params)

    async def _call(self, wait: bool, work: Callable[[], T]) -> T:
        if not wait:
            return work()
        return await asyncio.get_running_loop().run_in_executor(self._worker, work)

    def execute(self, sql: str, params: Iterable[Any] = ()) -> _Operation | _Done:
        args = tuple(params)
        if not self._may_wait(sql):
            return _Done(self._conn.execute(sql, args))
        return _Operation(lambda: self._call(True, lambda: self._conn.execute(sql, args)))

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> _Operation | _Done:
        batch = [tuple(r) for r in rows]
        if not self._may_wait(sql):
            return _Done(self._conn.executemany(sql, batch))
        return _Operation(lambda: self._call(True, lambda: self._conn.executemany(sql, batch)))

    async def executescript(self, script: str) -> None:
        await self._call(True, lambda: self._conn.executescript(script))

    async def close(self) -> None:
        try:
            await self._call(True, self._conn.close)
        finally:
            self._worker.shutdown(wait=False)
