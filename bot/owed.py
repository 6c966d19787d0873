"""Replies the bot owes: stored with the event that caused them, sent once, by
whichever replica is alive.

The core stores an event's replies in the same transaction as its claim, when the
adapter gives a ``route`` (its own opaque note of where to answer). The adapter says
when they are delivered (:meth:`bot.core.Core.paid`). Until then they belong to the
process that stored them for a lease (``NSBOT_LEASE_SECONDS``, 30 s), which
its running adapter renews (:func:`keep`). A process killed before sending stops
renewing; once its lease has run out, one live replica takes its replies over and
sends them (:meth:`bot.core.Core.owed`; the database's row locks decide which), within
about a lease and a third. An adapter that stops with replies unsent
gives them up at once (:func:`give_up`), for the next start or another replica.

Only the holder's delivery report deletes them: the platform re-delivering the event
to another replica (which ignores the repeat and has nothing to send) leaves them
owed. Replies older than :data:`OWED_FOR` are dropped: an answer an hour late to a
question is worse than none.

A crash after sending and before the delivery is recorded sends it once more. So the
replies that post a message are sent through :func:`deliver`: the process's outboxes
send one such event's messages at a time (:func:`bot.leases.sending`), the next only
once it is recorded in the database, so a ``kill -9`` leaves at most one event's
answer to be sent twice; other sends go on meanwhile.
Replies that only edit or answer a button press are sent at once and recorded with
the next batch: repeating them after a crash shows nothing twice.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot import leases
from bot.messages import Attachment, Chat, Choice, Reply
from bot.periodic import repeat

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

OWED_FOR = timedelta(minutes=10)


def _reply(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "choices": [[c.label, c.action] for c in reply.choices],
        "attachments": [
            [a.filename, base64.b64encode(a.content).decode("ascii"), a.mime_type]
            for a in reply.attachments
        ],
        "edit": reply.edit,
        "key": reply.key,
        "notice": reply.notice,
        "private": reply.private,
        "chat": None if reply.chat is None else [reply.chat.chat_id, reply.chat.private],
        "columns": reply.columns,
        "expects": reply.expects,
        "thread": reply.thread,
        "footer": [[c.label, c.action] for c in reply.footer],
    }


def dumps(replies: list[Reply]) -> str:
    return json.dumps([_reply(r) for r in replies], ensure_ascii=False)


def loads(text: str) -> list[Reply]:
    return [
        Reply(
            text=r["text"],
            choices=tuple(Choice(label, action) for label, action in r["choices"]),
            attachments=tuple(
                Attachment(name, base64.b64decode(content), mime)
                for name, content, mime in r["attachments"]
            ),
            edit=r["edit"],
            key=r["key"],
            notice=r["notice"],
            private=r["private"],
            chat=None if r["chat"] is None else Chat(r["chat"][0], private=r["chat"][1]),
            columns=r["columns"],
            expects=r["expects"],
            thread=r.get("thread"),  # absent in replies owed before threads existed
            footer=tuple(Choice(label, action) for label, action in r.get("footer", [])),
        )
        for r in json.loads(text)
    ]


def chats(where: Chat, replies: list[Reply]) -> list[str]:
    """Every chat these replies go to: the event's, and any a reply names."""
    return sorted({where.chat_id, *(r.chat.chat_id for r in replies if r.chat is not None)})


def posts(replies: list[Reply]) -> bool:
    """Whether sending these posts a new message, which a repeat would show twice (an
    edit or a keyed message, which is edited once it exists, would not)."""
    return any(r.edit is None and r.key is None for r in replies)


async def deliver(
    core: Core,
    platform: str,
    event_id: str | None,
    send: Callable[[], Awaitable[bool]],
    *,
    posting: bool,
) -> bool:
    """Send an event's replies (``send``: False when the adapter stopped before all went
    out: they stay owed) and record them delivered; ``send``'s answer.

    ``posting`` (:func:`posts`): sent as one stored delivery
    (:func:`bot.leases.sending`: the process's next one goes only once this one is
    recorded, here, at once). Otherwise recorded with the next batch of events."""
    if event_id is None or not posting:
        sent = await send()
        if sent:
            core.paid(platform, event_id)
        return sent
    with leases.sending(core):
        sent = await send()
        if sent:
            await report(core, platform, event_id)
        return sent


async def report(core: Core, platform: str, event_id: str) -> None:
    """Record now, not with the next batch, that this process delivered an event's
    replies (a repeat of the event reports through :meth:`Core.paid`: see there)."""
    try:
        await core.storage.paid_replies(platform, [event_id], owner=leases.owner(core))
    except Exception as exc:  # recorded with the next batch: a crash before resends it
        log.warning("could not record a delivery at once (%s); it goes with the next batch", exc)
        core.paid(platform, event_id)


async def renew(core: Core, platform: str) -> int:
    """This process is alive: the replies it owes on ``platform`` stay its own."""
    return await core.storage.renew_owed(
        platform, leases.owner(core), core.clock(), core.settings.lease
    )


async def give_up(core: Core, platform: str) -> int:
    """The adapter stops with these unsent: any replica may send them now."""
    return await core.storage.release_owed(platform, leases.owner(core))


async def keep(
    core: Core,
    platform: str,
    take_over: Callable[[], Awaitable[int]],
    every: float | None = None,
) -> None:
    """While an adapter runs: renew its owed replies every ``every`` seconds (a third of
    their lease), and beside that call ``take_over`` (the adapter sends what
    :meth:`Core.owed` hands it, with ``mine=False``) as often. Apart, so a long takeover
    never delays a renewal."""
    every = every or core.settings.renew_every

    await asyncio.gather(
        # brief: the next renewal may get through before the lease ends
        repeat(
            lambda: renew(core, platform),
            every,
            log,
            f"could not renew the owed {platform} replies",
            brief=True,
        ),
        repeat(take_over, every, log, f"could not take over owed {platform} replies"),
    )
