"""Hostile input as a permanent test: random Unicode and random button data through
``Core.handle``. Whatever comes in: no exception, no apology, every reply within the
platforms' limits (Telegram's and Slack's renderers say so), and no ping."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.adapters.memory import MemoryAdapter
from bot.adapters.slack import render as slack
from bot.adapters.telegram import render as telegram
from bot.config import shipped_knowledge_dir
from bot.core import Core
from bot.handlers import ACTIONS
from bot.knowledge import load_knowledge
from bot.messages import Chat, Incoming, Person, Reply
from bot.storage import SqliteStorage
from tests.consult_helpers import CONSULTATIONS, NOW, Clock, settings_for

# What hostile or just unusual text is made of.
ODD = [
    "\u200f",
    "\u200e",
    "\u202e",
    "\u2066",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u0301",
    "\u0308",
    "\x00",
    "\x1f",
    "\u2028",
    "٣",
    "۵",
    "²",
    "①",
    "४",
    "٫",
    "،",
    "߂",
    "🙂",
    "👩🏽‍⚕️",
    "*",
    "_",
    "`",
    "~",
    "|",
    "<",
    ">",
    "&",
    "[",
    "]",
    "(",
    ")",
    "#",
    "@",
    "!",
    "\\",
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "@channel",
    "@here",
    "<@U123>",
    "<#C1|x>",
    "<b>",
    "</i>",
    "<a href='x'>",
    "&amp;",
    "**",
    "__",
    "```",
    "||",
    "/start",
    "/ѕtart",
    "／help",
    "/forget",
    "/poll",
    "/consult",
    "/consult sample",
    "/export",
    "/announce",
    "yes",
    "no",
    "skip",
    "back",
    "done",
    "send",
    "cancel",
    "1",
    "2",
    "99999999999999999999999999",
    "-1",
    "1e308",
    "0x10",
    "NaN",
]
# Digits of other scripts, superscripts and circled digits: typed where a number or an
# option's number is expected. Kept apart: see the last test.
FOREIGN_DIGITS = ["٣", "۵", "²", "①", "४", "߂", "٫"]
TEXT = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(ODD) | st.text(max_size=8), max_size=12).map("".join),
    st.builds(lambda s, n: s * n, st.sampled_from(ODD), st.integers(1, 3000)),
)
# Every prefix a button of the bot has, and a few it has not.
PREFIXES = [*ACTIONS, "cmd", "zz"]
ACTION = st.builds(
    lambda p, rest: f"{p}:{rest}",
    st.sampled_from(PREFIXES),
    st.lists(
        st.sampled_from(
            [
                "1",
                "0",
                "sample",
                "network",
                "y",
                "n",
                "s",
                "e1",
                "²",
                "-1",
                "99999999999",
                "",
                "x" * 70,
                "①",
            ]
        )
        | st.text(max_size=6),
        max_size=4,
    ).map(":".join),
)
PING = re.compile(r"<!(channel|here|everyone)\b|(?<![\w&;])@(channel|here|everyone)\b")
_ids = itertools.count()
# Each example is sent by someone new, so that none is the 31st message of one person
# on the frozen clock (the flood limiter would drop it before any handler saw it).
COORDINATORS = [f"coord{i}" for i in range(2000)]
_coordinators = itertools.cycle(COORDINATORS)


def someone(coordinator: bool = False) -> str:
    return next(_coordinators) if coordinator else f"u{next(_ids)}"


class _Tags(HTMLParser):
    """Telegram refuses HTML whose tags do not nest: check they do."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.ok = True

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.ok = False


def check(core: Core, replies: list[Reply]) -> None:
    apologies = {core.ui.t("error", lang) for lang in core.ui.strings}
    floods = {core.ui.t("flood_notice", lang) for lang in core.ui.strings}
    for reply in replies:
        assert reply.text not in apologies, "a handler failed"
        assert reply.text not in floods, "the flood limiter took it: no handler saw it"
        for call in telegram.message_calls(reply, "-100123"):
            text = call.kwargs.get("text") or call.kwargs.get("caption") or ""
            assert telegram.utf16_len(text) <= telegram.TEXT_LIMIT
            tags = _Tags()
            tags.feed(text)
            tags.close()
            assert tags.ok and not tags.open, text[:200]
        toast = telegram.toast_text(reply)
        assert toast is None or len(toast) <= telegram.TOAST_LIMIT
        for message in slack.render_reply(reply):
            assert len(message.blocks) <= slack.MAX_BLOCKS
            assert len(message.text) <= slack.MAX_FALLBACK
            for block in message.blocks:
                section = (block.get("text") or {}).get("text", "")
                assert len(section) <= slack.MAX_SECTION
                assert not PING.search(section), section[:200]
            assert not PING.search(message.text), message.text[:200]
        assert not PING.search(reply.text.replace("&lt;", "<")) or "&lt;!" in reply.text


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def hostile_core(
    loop: asyncio.AbstractEventLoop, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Core]:
    folder: Path = tmp_path_factory.mktemp("hostile")
    config = settings_for(
        folder,
        CONSULTATIONS,
        knowledge_dir=shipped_knowledge_dir(),
        coordinators=frozenset(f"test:{who}" for who in COORDINATORS),
    )
    from bot.app import load_catalog

    storage = SqliteStorage(folder / "bot.sqlite3")
    loop.run_until_complete(storage.open())
    core = Core(
        config,
        load_knowledge(shipped_knowledge_dir()),
        storage,
        clock=Clock(NOW),
        consultations=load_catalog(config),
    )
    yield core
    loop.run_until_complete(storage.close())


def send(
    loop: asyncio.AbstractEventLoop,
    core: Core,
    who: str,
    group: bool,
    text: str = "",
    action: str | None = None,
) -> list[Reply]:
    person = Person("test", who, "Name " + text[:10])
    chat = Chat("group-1" if group else who, private=not group)
    message = Incoming(person, chat, text=text, action=action, event_id=f"h{next(_ids)}")
    return loop.run_until_complete(core.handle(message))


COMMON = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@COMMON
@given(text=TEXT, group=st.booleans(), coordinator=st.booleans())
def test_any_text_anywhere(
    loop: asyncio.AbstractEventLoop, hostile_core: Core, text: str, group: bool, coordinator: bool
) -> None:
    check(hostile_core, send(loop, hostile_core, someone(coordinator), group, text=text))


def in_consultation(loop: asyncio.AbstractEventLoop, core: Core, texts: list[str]) -> None:
    who = someone()
    send(loop, core, who, False, text="/consult sample")
    send(loop, core, who, False, action="ck:sample:y")
    for text in texts:
        check(core, send(loop, core, who, False, text=text))


ASCII_DIGITS_ONLY = TEXT.filter(lambda t: not any(d in t for d in FOREIGN_DIGITS))


@COMMON
@given(texts=st.lists(ASCII_DIGITS_ONLY, min_size=1, max_size=6))
def test_any_text_inside_a_consultation(
    loop: asyncio.AbstractEventLoop, hostile_core: Core, texts: list[str]
) -> None:
    in_consultation(loop, hostile_core, texts)


@COMMON
@given(
    texts=st.lists(st.sampled_from(FOREIGN_DIGITS), min_size=1, max_size=3).map(
        lambda parts: ["Nepal Red Cross Society", *["".join(parts)] * 3]  # past the profile
    )
)
def test_digits_of_other_scripts_inside_a_consultation(
    loop: asyncio.AbstractEventLoop, hostile_core: Core, texts: list[str]
) -> None:
    in_consultation(loop, hostile_core, texts)


# Where a button can be pressed from: the texts that lead there (a coordinator, in the
# profile's first question and its "which society" one, inside a consultation).
PLACES = {
    "new": [],
    "coordinator": [],
    "profile": ["/profile"],
    "which society": ["/profile", "kenya red cros"],
    "consultation": ["/consult sample"],
}


@COMMON
@given(action=ACTION, group=st.booleans(), place=st.sampled_from(sorted(PLACES)))
@example(action="rq:sample:²", group=False, place="coordinator")  # crashed: isdigit, int
@example(action="pf:n:①", group=False, place="which society")
@example(action="pf:r:²", group=False, place="profile")
@example(action="cal:sample:²", group=True, place="consultation")
def test_any_button_data(
    loop: asyncio.AbstractEventLoop, hostile_core: Core, action: str, group: bool, place: str
) -> None:
    who = someone(coordinator=place == "coordinator")
    for text in PLACES[place]:
        send(loop, hostile_core, who, False, text=text)
    if place == "consultation":
        send(loop, hostile_core, who, False, action="ck:sample:y")
    check(hostile_core, send(loop, hostile_core, who, group, action=action))


async def test_an_unknown_consultation_name_is_not_echoed_as_a_slack_mention(
    bot: MemoryAdapter,
) -> None:
    reply = await bot.ask("/CONSULT <!CHANNEL")
    assert "<!" not in reply and "channel" in reply.lower()
