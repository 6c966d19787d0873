"""An in-memory adapter: the core driven directly, for tests and scripted checks.

``await bot.ask("when was the migration policy adopted")`` returns the reply text;
``bot.last`` holds the replies, so a test can press one of their buttons.
"""

from __future__ import annotations

import itertools
import uuid

from bot import markup
from bot.core import Core
from bot.messages import Chat, Incoming, Person, Reply


class MemoryAdapter:
    def __init__(self, core: Core, person: Person | None = None, chat: Chat | None = None) -> None:
        self.core = core
        self.person = person or Person("test", "u1", "Test User")
        self.chat = chat or Chat(self.person.user_id, private=True)
        self.last: list[Reply] = []
        self._ids = itertools.count(1)
        self._session = uuid.uuid4().hex  # unique even when a new adapter reuses an address

    def _incoming(
        self,
        text: str = "",
        action: str | None = None,
        event_id: str | None = None,
        person: Person | None = None,
        chat: Chat | None = None,
    ) -> Incoming:
        return Incoming(
            person=person or self.person,
            chat=chat or self.chat,
            text=text,
            action=action,
            event_id=event_id or f"mem-{self._session}-{next(self._ids)}",
        )

    async def send(
        self,
        text: str = "",
        *,
        action: str | None = None,
        event_id: str | None = None,
        person: Person | None = None,
        chat: Chat | None = None,
    ) -> list[Reply]:
        self.last = await self.core.handle(self._incoming(text, action, event_id, person, chat))
        return self.last

    async def ask(self, text: str, **kwargs: object) -> str:
        """Send text; the replies as plain text, joined."""
        replies = await self.send(text, **kwargs)  # type: ignore[arg-type]
        return self.plain(replies)

    async def press(self, label_or_action: str, **kwargs: object) -> str:
        """Press a button of the last replies, by its label (or its action string)."""
        for reply in self.last:
            for choice in reply.buttons:
                if label_or_action in (choice.label, choice.action):
                    replies = await self.send(action=choice.action, **kwargs)  # type: ignore[arg-type]
                    return self.plain(replies)
        available = [c.label for r in self.last for c in r.buttons]
        raise LookupError(f"no button {label_or_action!r}; buttons: {available}")

    @property
    def buttons(self) -> list[str]:
        return [c.label for r in self.last for c in r.choices]

    @property
    def footer(self) -> list[str]:
        """The labels of the last replies' footer rows (👍 / 👎 under an answer)."""
        return [c.label for r in self.last for c in r.footer]

    @property
    def actions(self) -> list[str]:
        return [c.action for r in self.last for c in r.choices]

    @staticmethod
    def plain(replies: list[Reply]) -> str:
        return "\n\n".join(markup.to_plain(r.text) for r in replies)
