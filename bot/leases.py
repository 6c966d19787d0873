"""Who "this process" is among replicas on one database, and roles only one of them
may hold at a time.

Telegram's Bot API hands updates to one poller per token: a second one gets 409
Conflict on every request. With several replicas in polling mode, the first takes the
role ``telegram-polling:<bot id>`` (a lease row in the database), renews it while it
runs, and the others wait; when it stops (or dies: its lease runs out), one of them
takes over.

Smaller work that must be done once, by any replica (showing a poll's final results
when it closes), takes a lease of its own for as long as it runs (:func:`held`).

And one send at a time whose fate a crash would leave unknown (:func:`sending`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import outbox
from bot.storage.base import EventStore

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

# Defaults; a running bot passes its NSBOT_LEASE_SECONDS and a third of it.
ROLE_LEASE = timedelta(seconds=30)  # a holder that stops renewing loses the role this late
RENEW_SECONDS = 10.0  # how often a holder renews, and a waiting process asks again

_owners: weakref.WeakKeyDictionary[Core, str] = weakref.WeakKeyDictionary()
_gates: weakref.WeakKeyDictionary[Core, outbox.Gate] = weakref.WeakKeyDictionary()


def owner(core: Core) -> str:
    """This process (this core) as a holder of claims and roles: host, process and a
    random part, so a restarted process is someone new whose predecessor's leases
    simply run out."""
    name = _owners.get(core)
    if name is None:
        name = _owners[core] = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    return name


def sending(core: Core) -> AbstractContextManager[outbox.Hold]:
    """The block sends a stored delivery's messages (an answer owed, a reminder, an
    announcement, a relayed desk message) and records it done in the database.

    A platform offers no idempotency key: a message whose send began and whose
    record did not commit is sent again by whichever process takes the delivery over
    after a ``kill -9``. The outboxes of this process send one such delivery at a
    time, from its first message's send to the end of this block (its record), while
    every other send goes on (:class:`bot.outbox.Gate`): a crash leaves at most one
    message in doubt. Concurrent sends with their records batched left every message
    since the last commit to be sent twice."""
    gate = _gates.get(core)
    if gate is None:
        gate = _gates[core] = outbox.Gate()
    return outbox.held(gate)


async def hold_role(
    storage: EventStore,
    name: str,
    me: str,
    clock: Callable[[], datetime],
    *,
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    waiting: str,
    every: float = RENEW_SECONDS,
    lease: timedelta = ROLE_LEASE,
    decided: asyncio.Event | None = None,
) -> None:
    """Run ``start`` once this process holds the role, renew it every ``every`` seconds,
    ``stop`` when it is lost (another took it after our lease ran out), wait again.
    Runs until cancelled; then the role is stopped and given up at once.

    ``waiting`` is logged (once per wait) while another process holds the role;
    ``decided`` is set once the first attempt has started the role or begun to wait."""
    holding = False
    renewed: datetime | None = None
    told = False
    try:
        while True:
            try:
                mine = await storage.take_lease(name, me, clock(), lease)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not renew the role %s; will retry", name)
                # Without the database we cannot tell: keep it while our lease lasts.
                mine = holding and renewed is not None and clock() - renewed < lease
            else:
                if mine:
                    renewed = clock()
            if mine and not holding:
                try:
                    await start()
                except Exception:
                    if decided is not None and not decided.is_set():
                        raise  # the first attempt: the caller's start() reports it
                    log.exception("could not start the role %s; will retry", name)
                else:
                    holding, told = True, False
            elif not mine and holding:
                log.warning("another process took the role %s: stopping it here", name)
                await stop()
                holding = False
            elif not mine and not told:
                log.warning("%s", waiting)
                told = True
            if decided is not None:
                decided.set()
            await asyncio.sleep(every)
    finally:
        if holding:
            await stop()
        try:
            await storage.drop_lease(name, me)
        except Exception:  # the lease runs out by itself
            log.warning("could not give up the role %s; it lapses on its own", name)


@asynccontextmanager
async def held(
    storage: EventStore,
    name: str,
    me: str,
    clock: Callable[[], datetime],
    *,
    lease: timedelta = ROLE_LEASE,
) -> AsyncIterator[bool]:
    """One piece of work only one replica may do (show a poll's final results): True
    when this process holds ``name`` for the block, renewed while the block runs and
    given up after it. False when another holds it: skip the work. If this process
    dies in the block, the lease runs out and another replica may do it again."""
    if not await storage.take_lease(name, me, clock(), lease):
        yield False
        return

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                await storage.take_lease(name, me, clock(), lease)
            except Exception:  # the next renewal may get through before the lease ends
                log.warning("could not renew the lease %s; will retry", name)

    renewing = asyncio.create_task(renew(), name=f"lease:{name}")
    try:
        yield True
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        try:
            await storage.drop_lease(name, me)
        except Exception:
            log.warning("could not give up the lease %s; it lapses on its own", name)
