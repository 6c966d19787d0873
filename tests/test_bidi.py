"""Right-to-left replies: direction marks on every renderer, checked on Arabic lines.

A line's direction is its first strong character outside isolates (UAX #9 P2-P3,
:func:`bot.bidi.paragraph_direction`); every Latin letter of an Arabic line must sit
inside an FSI … PDI isolate so it cannot drag the line's punctuation along.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata

import pytest

from bot import bidi, markup
from bot.adapters.memory import MemoryAdapter
from bot.adapters.slack.render import render_reply, sections
from bot.adapters.telegram.render import chunks, to_html
from bot.adapters.terminal import TerminalChat
from bot.core import Core
from bot.messages import Person, Reply

ARABIC = Person("test", "bidi-ar", "", language="ar")


def lines_of_html(text: str) -> list[str]:
    return [
        html.unescape(re.sub(r"<[^>]+>", "", line)) for line in text.splitlines() if line.strip()
    ]


def outside_isolates(line: str) -> str:
    out, depth = [], 0
    for ch in line:
        if ch == bidi.FSI:
            depth += 1
        elif ch == bidi.PDI:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    assert depth == 0, f"unbalanced isolates: {line!r}"
    return "".join(out)


def latin_outside(line: str) -> list[str]:
    return [
        ch for ch in outside_isolates(line) if unicodedata.bidirectional(ch) == "L" and ch.isalpha()
    ]


async def sample_of_arabic_replies(core: Core) -> list[Reply]:
    bot = MemoryAdapter(core, ARABIC)
    replies: list[Reply] = []
    for text in ("/timeline", "/help", "/next", "/topics"):
        replies += await bot.send(text)
    return replies


async def test_every_arabic_timeline_line_starts_right_to_left_on_telegram(core: Core) -> None:
    (reply,) = await MemoryAdapter(core, ARABIC).send("/timeline")
    lines = lines_of_html(to_html(reply.text))
    assert len(lines) > 20
    assert all(bidi.paragraph_direction(line) == "R" for line in lines)
    assert all(not latin_outside(line) for line in lines), [x for x in lines if latin_outside(x)]
    # Without the marks, a line that starts with a Latin name flips to left-to-right (the
    # defect: bullets alternating sides); isolated, it stays right-to-left.
    line = "PERCO: إطلاق المنصة في كوبنهاغن"
    assert bidi.paragraph_direction(line) == "L"
    assert bidi.paragraph_direction(bidi.isolate(line)) == "R"


async def test_a_sample_of_arabic_lines_is_marked_on_every_renderer(core: Core) -> None:
    replies = await sample_of_arabic_replies(core)
    telegram = [line for r in replies for c in chunks(r.text) for line in lines_of_html(c)]
    slack = [
        html.unescape(line)
        for r in replies
        for s in sections(r.text)
        for line in s.splitlines()
        if line.strip()
    ]
    out = io.StringIO()
    chat = TerminalChat(core, stdin=io.StringIO(""), stdout=out, person=ARABIC)
    terminal = [
        line
        for line in chat.outbound(replies).splitlines()
        if line.strip() and not line.startswith("  ")
    ]
    for name, lines in (("telegram", telegram), ("slack", slack), ("terminal", terminal)):
        assert len(lines) > 30, name
        wrong = [line for line in lines if bidi.paragraph_direction(line) != "R"]
        assert not wrong, (name, wrong[:3])
        unisolated = [line for line in lines if latin_outside(line)]
        assert not unisolated, (name, unisolated[:3])


def test_brackets_commas_and_numbers_stay_with_their_side() -> None:
    line = (
        "20–21 يونيو 2011: Migration Reference Group meeting (London, United Kingdom)، قبل 15 سنة"
    )
    marked = bidi.isolate(line)
    f, p = bidi.FSI, bidi.PDI
    assert f"{f}Migration Reference Group meeting (London, United Kingdom){p}، قبل" in marked
    assert f"قبل {f}15{p} سنة" in marked
    assert f"{f}20{p}–{f}21{p}" in marked  # a range keeps its right-to-left order
    assert bidi.isolate("مثل 1، 3") == f"مثل {f}1{p}، {f}3{p}"  # the Arabic comma is Arabic
    assert bidi.isolate("اكتبوا /consult الآن") == f"اكتبوا {f}/consult{p} الآن"
    assert bidi.isolate("حتى 23:59 UTC") == f"حتى {f}23:59 UTC{p}"


def test_slack_markers_are_kept_at_word_boundaries() -> None:
    """ "و*7 تحولات*": Slack shows a "*" glued to a letter literally."""
    (section,) = sections("وتضمنت الاستراتيجية و**7 تحولات** مهمة")
    for m in re.finditer(r"\*", section):
        before = section[m.start() - 1] if m.start() else " "
        after = section[m.end()] if m.end() < len(section) else " "
        opening = section[: m.start()].count("*") % 2 == 0
        neighbour = before if opening else after
        assert neighbour.isspace() or neighbour == markup.ZWSP, repr(section)


def test_english_replies_carry_no_marks() -> None:
    text = (
        "**Timeline** (oldest to newest):\n- 2009: IFRC Policy on Migration, _about 17 years ago_"
    )
    rendered = to_html(text) + "".join(sections(text)) + render_reply(Reply(text))[0].text
    assert not set(rendered) & (bidi.MARKS | {markup.ZWSP})


@pytest.mark.parametrize(
    ("text", "rtl"),
    [
        ("مرحبًا", True),
        ("PERCO هي شبكة الجمعيات الوطنية في أوروبا", True),  # most letters are Arabic
        ("📊 **Which topic first?** · عدد المصوّتين", False),
        ("Hello", False),
    ],
)
def test_which_replies_are_right_to_left(text: str, rtl: bool) -> None:
    assert bidi.is_rtl(text) is rtl
