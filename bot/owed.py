"""Replies the bot owes: stored with the event that caused them, sent after a restart.

The core stores an event's replies in the same transaction as its claim, when the
adapter gives a ``route`` (its own opaque note of where to answer). The adapter says
when they are delivered (:meth:`bot.core.Core.paid`); what a crash left unsent is
handed back at the next start (:meth:`bot.core.Core.owed`), unless older than
:data:`OWED_FOR`: an answer an hour late to a question is worse than none. A crash
after sending and before the delivery is recorded sends it once more (at least once).
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from bot.messages import Attachment, Chat, Choice, Reply

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
