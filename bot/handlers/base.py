"""What every handler receives (:class:`Context`) and the shapes handlers take.

A handler is an async function ``(ctx) -> list[Reply] | None``; ``None`` means "not
mine", and the core asks the next one. Commands, button actions and multi-step
conversations are registered by name in :mod:`bot.handlers`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from bot.consultations import Catalog
from bot.content import Content
from bot.dates import DateStyle
from bot.messages import Incoming, Person, Reply
from bot.ui import language_of

if TYPE_CHECKING:
    from bot.core import Core
    from bot.knowledge import KnowledgeBase
    from bot.matcher import Matcher

T = TypeVar("T")


class Renderings:
    """What handlers would work out again for every event from the content alone (an
    answer's text and buttons in a language, an entry's events, whether a timeline
    filter finds anything), kept per :class:`Content`. Rendering an answer took longer
    than storing it: its sources, dates and related titles are the same for everyone
    who reads it in that language.

    One content at a time: a reload's starts afresh (while events of the old one
    finish, the two take turns, which only costs the renderings again). Values must
    not depend on anything but the key, the content and the core's UI."""

    MAX = 4096  # keys kept at most (entries x languages x days, filter words): then anew

    __slots__ = ("_content", "_values")

    def __init__(self) -> None:
        self._content: Content | None = None
        self._values: dict[Hashable, Any] = {}

    def get(self, content: Content, key: Hashable, make: Callable[[], T]) -> T:
        if content is not self._content:
            self._content, self._values = content, {}
        values = self._values
        if key in values:
            found: T = values[key]
            return found
        if len(values) >= self.MAX:
            values.clear()
        value = values[key] = make()
        return value


@dataclass
class Context:
    """One incoming event being handled, with everything a handler may need."""

    core: Core
    message: Incoming
    now: datetime
    cut: int = 0  # characters the core cut off the end of an over-long text
    # The content this event is answered from, kept for the whole event: a reload that
    # lands meanwhile (bot.reload) is seen from the next event on. Default: the core's now.
    content: Content | None = None

    def __post_init__(self) -> None:
        if self.content is None:
            self.content = self.core.content

    @property
    def kb(self) -> KnowledgeBase:
        assert self.content is not None
        return self.content.kb

    @property
    def matcher(self) -> Matcher:
        assert self.content is not None
        return self.content.matcher

    @property
    def person(self) -> Person:
        return self.message.person

    @property
    def text(self) -> str:
        return self.message.text.strip()

    @property
    def language(self) -> str:
        return language_of(self.person.language)

    @property
    def is_coordinator(self) -> bool:
        return self.core.settings.is_coordinator(self.person.key)

    @property
    def in_group(self) -> bool:
        return not self.message.chat.private

    def t(self, key: str, **values: object) -> str:
        return self.core.ui.t(key, self.language, **values)

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, computed once per content and ``key`` (:class:`Renderings`): the
        key must hold everything the value depends on besides the content."""
        assert self.content is not None
        return self.core.renderings.get(self.content, key, make)

    def plural(self, key: str, n: int, **values: object) -> str:
        """``key`` worded for the number ``n`` in the person's language ({n} is set)."""
        return self.core.ui.plural(key, self.language, n, **values)

    @property
    def consultations(self) -> Catalog:
        """The consultations worded in the person's language (English where a field has
        no translation): what handlers show and match typed answers against."""
        yes_no = (self.t("consult_yes"), self.t("consult_no"))
        assert self.content is not None
        return self.content.consultations.in_language(self.language, yes_no)

    @property
    def dates(self) -> DateStyle:
        """Dates in the person's language: ``ctx.dates.format_date(day)``."""
        return self.core.ui.dates(self.language)

    def reply(self, key: str, **values: object) -> list[Reply]:
        return [Reply(self.t(key, **values))]

    def notice(self, key: str, **values: object) -> list[Reply]:
        """A short answer to a button press, shown as a toast where the platform has
        one (a stale button, a refused press) rather than as a message in the chat."""
        return [Reply(self.t(key, **values), notice=True)]

    async def state(self) -> tuple[str, dict[str, Any]] | None:
        return await self.core.storage.get_state(self.person.key, self.message.chat.chat_id)

    async def set_state(self, kind: str, data: dict[str, Any]) -> None:
        await self.core.storage.set_state(
            self.person.key, self.message.chat.chat_id, kind, data, self.now
        )

    async def clear_state(self) -> None:
        await self.core.storage.clear_state(self.person.key, self.message.chat.chat_id)


Handler = Callable[[Context], Awaitable[list[Reply] | None]]
CommandFn = Callable[[Context, str], Awaitable[list[Reply]]]
ActionFn = Callable[[Context, str], Awaitable[list[Reply]]]
ConversationFn = Callable[[Context, dict[str, Any]], Awaitable[list[Reply] | None]]


@dataclass(frozen=True)
class Command:
    """A slash command. ``description`` is a locale key, shown in /help and platform menus."""

    name: str
    run: CommandFn
    description: str
    coordinators_only: bool = False
    in_menu: bool = True
