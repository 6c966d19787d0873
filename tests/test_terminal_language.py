"""The terminal chat speaks the person's language too, and buttons are cut at a word."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot import bidi, markup
from bot.adapters.terminal import TerminalChat
from bot.core import Core
from bot.handlers import timeline
from bot.handlers.base import Context
from bot.messages import Attachment, Chat, Choice, Incoming, Person, Reply


@pytest.mark.parametrize(
    ("language", "updated", "saved", "number"),
    [
        ("en", "(updated) ", "[file saved: ", "(type your number,"),
        ("fr", "(mis à jour) ", "[fichier enregistré : ", "(tapez votre nombre,"),
        ("es", "(actualizado) ", "[archivo guardado: ", "(escriba su número,"),
        ("ar", "(مُحدَّث) ", "[حُفظ الملف: ", "(اكتبوا رقمكم،"),
    ],
)
def test_the_terminals_own_words_follow_the_language(
    core: Core, tmp_path: Path, language: str, updated: str, saved: str, number: str
) -> None:
    chat = TerminalChat(
        core,
        stdin=io.StringIO(""),
        stdout=io.StringIO(),
        person=Person("terminal", "t", "", language=language),
        files_dir=tmp_path,
    )
    text = chat.outbound(
        [
            Reply("Done", edit="x"),
            Reply("File", attachments=(Attachment("a.csv", b"a"),)),
            Reply("How many?", choices=(Choice("Skip", "s"),), expects="number"),
        ]
    )
    plain = "".join(ch for ch in text if ch not in bidi.MARKS)
    assert updated in plain and saved in plain and number in plain


async def test_quit_in_the_persons_language_ends_the_chat(core: Core) -> None:
    out = io.StringIO()
    chat = TerminalChat(
        core,
        stdin=io.StringIO("quitter\nhello\n"),
        stdout=out,
        person=Person("terminal", "q", "", language="fr"),
    )
    await chat.run()
    assert out.getvalue().count("\n") > 1 and "Bonjour" in out.getvalue()
    assert "Je vous en prie" not in out.getvalue()  # "hello" after quitting was never read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "📅 Add to calendar: Council of Delegates of the International Red Cross and Red Crescent Movement",
            "📅 Add to calendar: Council of Delegates of the…",
        ),
        ("Short label", "Short label"),
        ("x" * 80, "x" * 59 + "…"),  # one long word: cut, with the ellipsis
        (
            "Access to services, climate displacement and missing migrants today",
            "Access to services, climate displacement and missing…",
        ),
    ],
)
def test_button_labels_are_cut_at_a_word_with_an_ellipsis(text: str, expected: str) -> None:
    assert markup.shorten(text) == expected
    assert len(markup.shorten(text)) <= 60


def test_calendar_buttons_are_not_cut_mid_word(core: Core) -> None:
    """ "📅 Add to calendar: Plan: adopt the Movement Strategy at the 2023 Co" was cut at
    60 characters in the middle of a word, without an ellipsis."""
    ctx = Context(core, Incoming(Person("test", "c"), Chat("c")), core.clock())
    event = next(e for e in core.kb.events if len(e.title) > 60)
    label = timeline.calendar_button(ctx, event).label
    assert len(label) <= 60 and label.endswith("…")
    assert label[:-1] == label[:-1].rstrip() and f"{label[:-1].split()[-1]} " in f"{event.title} "
