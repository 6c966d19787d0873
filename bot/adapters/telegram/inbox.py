"""Polling without losing an update: each one is stored before Telegram is told it came.

python-telegram-bot's Updater confirms the updates of one ``getUpdates`` answer by
asking for the next ones (``offset`` = last id + 1), right after queueing them and
while the application may not have handled them yet. Telegram then forgets them: a
crash (or a ``kill -9``) in between lost them for good.

:class:`KeepingRequest` is the HTTP request object of ``getUpdates`` alone. Before it
hands an answer to the library it stores the answer's updates (one transaction for
the whole answer, :meth:`bot.core.Core.keep`). The confirmation can only go out in
the next ``getUpdates``, which the library sends after this one returned: so every
update Telegram forgets is stored. The core deletes an update from the inbox in the
transaction that handles it, and the adapter hands the ones still there to the
library again at the next start; the event's claim makes a second handling (an
update stored and also fetched again) a no-op. If storing fails, the answer is
reported as a network error: the library retries, with nothing confirmed.

A button press arrives with the whole message the button is on (a poll's text, its
entities and keyboard), which the bot never reads: only the message's chat and id
say where the press came from. Parsing that message into python-telegram-bot's
objects cost more than handling the vote itself (2,000 votes: about a third of the
burst's CPU, on the loop that also takes the votes in), so the answer handed on, and
the copy stored, keep only those fields (:func:`slimmed`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.error import NetworkError
from telegram.request import RequestData

from bot.adapters.telegram.inbound import PLATFORM
from bot.adapters.telegram.request import AiohttpRequest

Keep = Callable[[list[tuple[str, str, str | None]]], Awaitable[None]]
# The parts of an update that have a sender ("from"): the one present names who sent it.
_SENT_PARTS = (
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "channel_post",
    "edited_channel_post",
)


def sender_of(update: dict[str, Any]) -> str | None:
    """The person key (``telegram:<id>``) of who sent an update, if it names one: the
    stored update carries their account and text, so /mydata and /forget must find it."""
    for part in _SENT_PARTS:
        sent = update.get(part)
        if isinstance(sent, dict):
            sender = sent.get("from")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return f"{PLATFORM}:{sender['id']}"
    return None


# What is kept of the message a pressed button is on: enough for python-telegram-bot
# to build it (and to tell an inaccessible one, whose date is 0) and for the adapter
# to answer and edit in its chat.
_PRESSED_KEPT = ("message_id", "date", "chat", "message_thread_id")


def slimmed(update: dict[str, Any]) -> dict[str, Any]:
    """The update with a button press's message cut down to its chat and id (see the
    module's docstring); any other update as it is."""
    query = update.get("callback_query")
    if not isinstance(query, dict) or not isinstance(query.get("message"), dict):
        return update
    pressed = query["message"]
    kept = {k: pressed[k] for k in _PRESSED_KEPT if k in pressed}
    return {**update, "callback_query": {**query, "message": kept}}


def answer_of(payload: bytes) -> tuple[list[tuple[str, str, str | None]], bytes]:
    """(update id, the update as JSON, its sender) of each update of a ``getUpdates``
    answer, and the answer to hand to the library: both with button presses'
    messages :func:`slimmed`. Anything else: no updates, and the answer as it came."""
    try:
        answer = json.loads(payload)
    except ValueError:
        return [], payload
    if not isinstance(answer, dict) or not isinstance(answer.get("result"), list):
        return [], payload
    result = [slimmed(u) if isinstance(u, dict) else u for u in answer["result"]]
    updates = [
        (str(update["update_id"]), json.dumps(update, ensure_ascii=False), sender_of(update))
        for update in result
        if isinstance(update, dict) and isinstance(update.get("update_id"), int)
    ]
    return updates, json.dumps({**answer, "result": result}, ensure_ascii=False).encode()


def updates_of(payload: bytes) -> list[tuple[str, str, str | None]]:
    """(update id, the update as JSON, its sender) of a ``getUpdates`` answer; [] for
    anything else."""
    return answer_of(payload)[0]


class KeepingRequest(AiohttpRequest):
    """The ``getUpdates`` request: an answer's updates are stored before it returns."""

    def __init__(self, keep: Keep, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._keep = keep

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = AiohttpRequest.DEFAULT_NONE,
        write_timeout: Any = AiohttpRequest.DEFAULT_NONE,
        connect_timeout: Any = AiohttpRequest.DEFAULT_NONE,
        pool_timeout: Any = AiohttpRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        code, payload = await super().do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if 200 <= code <= 299 and url.endswith("/getUpdates"):
            updates, payload = answer_of(payload)
            if updates:
                try:
                    # Shielded: a stop cancelling the poll does not cut a commit in half.
                    await asyncio.shield(self._keep(updates))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    raise NetworkError(f"could not store the updates received: {exc}") from exc
        return code, payload
