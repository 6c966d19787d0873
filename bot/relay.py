"""Sending what handoffs relay, once: desk questions, answers, follow-ups, notes.

Handlers never send across platforms themselves: they store a relay row in the same
transaction as the event that caused it (a desk member's reply, an asker's
follow-up), so a crash before the commit leaves nothing and a re-delivered event is
ignored. This background task sends pending rows one at a time through
``core.push``: claimed just before the send, marked sent after with the message's
platform reference (read back from the adapter's record of the keyed message).

A claim belongs to this process for a lease (``NSBOT_LEASE_SECONDS``, 30 s),
renewed every third of it while it runs (:func:`heartbeat`); a replica
that dies mid-send loses it when the lease runs out, and another sends the row. A
replica that starts leaves alone the rows a live one is sending.

Each row is sent as a keyed reply (``Reply.key``): if the process dies after the
platform took the message and the adapter recorded it, the retry edits that message
instead of posting a second one. Only a death between the platform's answer and that
record can repeat a message, and at most the one in flight.

The same task reminds the desk of questions nobody answered within
``NSBOT_HANDOFF_REMIND`` and forgets drafts nobody confirmed.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from contextlib import suppress
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.errors import RecipientGone
from bot.handoff import DESK_LANGUAGE
from bot.leases import owner, sending
from bot.messages import Chat, Choice, Reply
from bot.periodic import repeat
from bot.storage.handoff import NOTE, RelayRow

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

TICK_SECONDS = 5.0
BATCH = 50
MAX_ATTEMPTS = 6
RETRY_BASE = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=10)
THREAD_WAIT = timedelta(seconds=2)  # a follow-up waits for its question to be posted
DRAFT_LIFETIME = timedelta(days=1)
# Processes whose only platform is the terminal never send for the chat platforms.
LOCAL_PLATFORMS = frozenset({"terminal"})


def _retry_delay(attempts: int) -> timedelta:
    delay: timedelta = RETRY_BASE * 2 ** max(0, attempts - 1)
    return min(RETRY_MAX, delay)


async def _reply_for(core: Core, r: RelayRow) -> Reply | None:
    """The keyed reply that shows ``r``; None while its thread is not known yet."""
    thread = None
    if r.in_thread and r.handoff_id is not None:
        h = await core.storage.get_handoff(r.handoff_id)
        if h is not None and h.desk_ref is None:
            return None
        thread = h.desk_ref if h is not None else None
    return Reply(
        r.text,
        choices=tuple(Choice(label, act) for label, act in r.choices),
        chat=Chat(r.chat, private=False),  # pushed by key: the adapter needs the id only
        key=r.message_key,
        thread=thread,
    )


async def deliver_one(core: Core, r: RelayRow) -> str:
    """Send one row; what became of it ("sent", "failed", "waiting", "retrying")."""
    storage, me = core.storage, owner(core)
    if not await storage.claim_relay(r.id, core.clock(), owner=me, lease=core.settings.lease):
        return "taken"
    if r.edits and await storage.get_message_ref(r.platform, r.edits) is None:
        # What it rewrites was never shown (or is no longer known): nothing to post.
        await storage.finish_relay(r.id, "sent", core.clock(), owner=me)
        return "sent"
    reply = await _reply_for(core, r)
    if reply is None:
        if r.attempts + 1 >= MAX_ATTEMPTS * 4:  # the question itself never went out
            reply = Reply(r.text, chat=Chat(r.chat, private=False), key=r.message_key)
        else:
            await storage.release_relay(r.id, core.clock() + THREAD_WAIT, owner=me)
            return "waiting"
    # The send and its record, one such at a time in this process (bot.leases.sending).
    with sending(core):
        return await _push_and_record(core, r, reply)


async def _push_and_record(core: Core, r: RelayRow, reply: Reply) -> str:
    storage, me = core.storage, owner(core)
    try:
        pushed = await core.push(r.platform, [reply])
    except RecipientGone as exc:
        log.info("handoff message %d: the recipient cannot be reached (%s)", r.id, exc)
        await storage.finish_relay(r.id, "failed", core.clock(), owner=me)
        return "failed"
    except Exception:
        if r.attempts + 1 >= MAX_ATTEMPTS:
            log.exception("handoff message %d failed %d times: gave up", r.id, r.attempts + 1)
            await storage.finish_relay(r.id, "failed", core.clock(), owner=me)
            return "failed"
        log.warning("handoff message %d failed: will retry", r.id, exc_info=True)
        await storage.release_relay(r.id, core.clock() + _retry_delay(r.attempts + 1), owner=me)
        return "retrying"
    if not pushed:  # the adapter stopped meanwhile
        await storage.release_relay(r.id, core.clock(), owner=me)
        return "waiting"
    sent = await storage.get_message_ref(r.platform, r.message_key)
    ref = f"{sent[0]}:{sent[1]}" if sent else None
    await storage.finish_relay(r.id, "sent", core.clock(), ref, owner=me)
    return "sent"


async def deliver_due(core: Core) -> int:
    """Send every due row whose platform has a running adapter, in the order queued."""
    sent = 0
    tried: set[int] = set()
    while True:
        platforms = sorted(core.senders)
        rows = await core.storage.pending_relays(platforms, core.clock(), BATCH)
        fresh = [r for r in rows if r.id not in tried]
        if not fresh:
            return sent
        for r in fresh:
            tried.add(r.id)
            if await deliver_one(core, r) == "sent":
                sent += 1


async def remind_desk(core: Core) -> int:
    """One reminder, in its thread, for each question unanswered past NSBOT_HANDOFF_REMIND."""
    desk = core.settings.handoff
    if desk is None:
        return 0
    now = core.clock()
    queued = 0
    for h in await core.storage.handoffs_to_remind(now - core.settings.handoff_remind):
        if h.desk_platform is None or h.desk_chat is None:
            continue
        hours = max(1, round((now - (h.sent_at or h.created_at)).total_seconds() / 3600))
        async with core.storage.unit():
            if not await core.storage.mark_reminded(h.id, now):
                continue
            await core.storage.queue_relay(
                handoff_id=h.id,
                kind=NOTE,
                platform=h.desk_platform,
                chat=h.desk_chat,
                key=f"ho:{h.id}:remind",
                text=core.ui.t("handoff_desk_reminder", DESK_LANGUAGE, ref=h.ref, hours=hours),
                now=now,
                in_thread=True,
            )
        queued += 1
    return queued


async def tick(core: Core) -> int:
    """All due work; tests call it directly with a moved clock."""
    await remind_desk(core)
    await core.storage.purge_drafts(core.clock() - DRAFT_LIFETIME)
    return await deliver_due(core)


async def recover(core: Core) -> int:
    """Rows claimed by a process that stopped renewing (it died) go back to pending
    (see the module's note on what that can repeat)."""
    count = await core.storage.recover_relays(core.clock())
    if count:
        log.warning(
            "%d handoff message(s) were being sent by a process that stopped: sending again",
            count,
        )
    return count


async def heartbeat(core: Core) -> int:
    """One beat: this process's claims are renewed, and (when it sends for a chat
    platform) those of a process that stopped renewing are taken back; how many."""
    await core.storage.renew_relays(owner(core), core.clock(), core.settings.lease)
    if not set(core.senders) - LOCAL_PLATFORMS:
        return 0
    count = await recover(core)
    if count:
        wake(core)
    return count


async def keep_claims(core: Core, interval: float | None = None) -> None:
    """The heartbeat, every ``interval`` seconds (a third of a claim's lease)."""
    await repeat(
        lambda: heartbeat(core),
        interval or core.settings.renew_every,
        log,
        "could not renew the handoff message claims",
    )


_wakeups: weakref.WeakKeyDictionary[Core, asyncio.Event] = weakref.WeakKeyDictionary()


def wake(core: Core) -> None:
    """Deliver now rather than at the next tick (a handler just queued something:
    the worker's read waits for that handler's transaction to commit)."""
    event = _wakeups.get(core)
    if event is not None:
        event.set()


async def run_forever(core: Core, interval: float = TICK_SECONDS) -> None:
    """Ticks every ``interval`` (or when woken), and beside them the heartbeat of this
    process's claims."""
    beating = asyncio.create_task(keep_claims(core), name="relay-claims")
    try:
        await _tick_forever(core, interval)
    finally:
        beating.cancel()
        with suppress(asyncio.CancelledError):
            await beating


async def _tick_forever(core: Core, interval: float) -> None:
    wakeup = _wakeups.setdefault(core, asyncio.Event())
    recovered = False
    while True:
        with suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), interval)
        wakeup.clear()
        try:
            if not set(core.senders) - LOCAL_PLATFORMS:
                continue  # only the terminal here: another process sends for the platforms
            if not recovered:
                await recover(core)
                recovered = True
            await tick(core)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handoff messages failed; will retry")
