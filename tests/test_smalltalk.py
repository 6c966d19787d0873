"""Small talk is recognised by its normalised text; the handler first looks at the
matcher's words of the message (shared with the matcher) to leave questions alone
without normalising them again. That shortcut must never miss a phrase."""

from __future__ import annotations

import pytest

from bot.core import Core
from bot.handlers import smalltalk
from bot.handlers.base import Context
from bot.matcher import normalise
from bot.messages import Chat, Incoming, Person
from bot.ui import LOCALES_DIR
from bot.yamlfile import load_yaml


def raw_phrases() -> list[str]:
    data, _ = load_yaml(LOCALES_DIR / "smalltalk.yaml", "locales/smalltalk.yaml")
    return [str(p) for item in data["smalltalk"] for p in item.get("phrases", [])]


def reference(core: Core, text: str) -> str | None:
    """The rule as written before the shortcut: the first reply whose phrases hold it."""
    said = normalise(text.strip())
    return next((key for key, phrases in core.ui.smalltalk if said in phrases), None)


async def replied(core: Core, text: str) -> str | None:
    ctx = Context(core, Incoming(Person("test", "u1"), Chat("u1"), text=text), core.clock())
    replies = await smalltalk.handle(ctx)
    return None if replies is None else replies[0].text


def test_the_phrases_are_normalised_already(core: Core) -> None:
    for _, phrases in core.ui.smalltalk:
        assert all(normalise(p) == p for p in phrases)


@pytest.mark.parametrize(
    "shape", [str, str.upper, lambda p: f"  {p.title()} !! ", lambda p: p + "?"]
)
async def test_every_phrase_is_still_recognised(core: Core, shape: object) -> None:
    for phrase in raw_phrases():
        text = shape(phrase)  # type: ignore[operator]
        key = reference(core, text)
        assert key is not None, text
        assert await replied(core, text) == core.ui.t(key, None, name=""), text


@pytest.mark.parametrize(
    "text",
    ["what is perco", "hello, when was the policy adopted", "merci pour la politique", "ok", "?"],
)
async def test_other_messages_are_left_alone(core: Core, text: str) -> None:
    assert reference(core, text) is None
    assert await replied(core, text) is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("vale gracias", "smalltalk_thanks"),
        ("ok merci 🙏", "smalltalk_thanks"),
        ("تمام شكرا", "smalltalk_thanks"),
        ("okay bye", "smalltalk_bye"),
        ("super, au revoir", "smalltalk_bye"),
    ],
)
async def test_an_acknowledgement_before_the_thanks_changes_nothing(
    core: Core, text: str, key: str
) -> None:
    # Before, "vale gracias" was no phrase: the asker got "I don't have an answer".
    assert await replied(core, text) == core.ui.t(key, None, name="")
