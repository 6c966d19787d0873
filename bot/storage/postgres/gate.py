"""Within one process, a unit of work runs alone, as on SQLite.

The storage contract says other coroutines wait for a unit and then see it whole
(``TestUnits``). PostgreSQL would let them read the state from before the unit instead,
so single operations share this gate and a unit takes it exclusively. Across replicas
nothing is gated: there PostgreSQL's row locks and constraints keep each operation
atomic, which is all the contract promises between processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Gate:
    """A readers-writer lock that lets a waiting writer (a unit) in first."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting = 0

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._exclusive and not self._waiting)
            self._shared += 1
        try:
            yield
        finally:
            async with self._changed:
                self._shared -= 1
                if not self._shared:
                    self._changed.notify_all()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._changed:
            self._waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._exclusive and not self._shared)
            finally:
                self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            async with self._changed:
                self._exclusive = False
                self._changed.notify_all()
