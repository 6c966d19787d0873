"""The neutral markup every reply is written in, and the tools adapters render it with.

Curators write answers in it and handlers build replies in it, so it must be small,
forgiving and impossible to break: ``**bold**``, ``_italic_``, ``[text](https://url)``,
blank lines between paragraphs, ``- `` at the start of a line for a bullet. A marker
that does not close is plain text. Text that came from a person (a typed answer, a
poll option) goes through :func:`escape` so it is always shown literally.

Adapters implement :class:`Renderer` (Telegram HTML, Slack mrkdwn, terminal text)
and call :func:`render` or :func:`render_chunks`; the walk over the tree lives here once.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol

from bot import bidi


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Bold:
    children: tuple[Inline, ...]


@dataclass(frozen=True)
class Italic:
    children: tuple[Inline, ...]


@dataclass(frozen=True)
class Link:
    children: tuple[Inline, ...]
    url: str


Inline = Text | Bold | Italic | Link


@dataclass(frozen=True)
class Paragraph:
    inlines: tuple[Inline, ...]


@dataclass(frozen=True)
class BulletList:
    items: tuple[tuple[Inline, ...], ...]


Block = Paragraph | BulletList

_ESCAPABLE = "\\*_[]-"
_ESCAPE_RE = re.compile(r"\\([\\*_\[\]\-])")
_BOLD_RE = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.DOTALL)
_ITALIC_RE = re.compile(r"_(?=\S)(.+?)(?<=\S)_(?![0-9A-Za-z])", re.DOTALL)
_LINK_RE = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:)[^\s()]+)\)")
_BULLET_RE = re.compile(r"^\s*[-•]\s+(.*)$")


def escape(text: str) -> str:
    """Make arbitrary text show literally when placed inside markup."""
    out = "".join("\\" + ch if ch in "\\*_[]" else ch for ch in text)
    # A leading "- " would start a bullet; "\-" is shown as "-".
    return re.sub(r"(?m)^(\s*)([-•])(?=\s)", lambda m: m.group(1) + "\\" + m.group(2), out)


# Escaped characters are swapped for private-use code points before parsing, so no
# pattern can mistake "\*" for half of a "**" marker; Text nodes swap them back.
_SHIELD = {ch: chr(0xE000 + i) for i, ch in enumerate("\\*_[]-")}
_UNSHIELD = str.maketrans({v: k for k, v in _SHIELD.items()})


def parse_inline(text: str) -> tuple[Inline, ...]:
    """Parse inline markup; anything that is not well-formed stays literal text."""
    shielded = _ESCAPE_RE.sub(lambda m: _SHIELD[m.group(1)], text)
    return _unshield(_parse_inline(shielded))


def _unshield(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
    out: list[Inline] = []
    for node in nodes:
        if isinstance(node, Text):
            out.append(Text(node.text.translate(_UNSHIELD)))
        elif isinstance(node, Bold):
            out.append(Bold(_unshield(node.children)))
        elif isinstance(node, Italic):
            out.append(Italic(_unshield(node.children)))
        else:
            out.append(Link(_unshield(node.children), node.url.translate(_UNSHIELD)))
    return tuple(out)


def _parse_inline(text: str) -> tuple[Inline, ...]:
    nodes: list[Inline] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            nodes.append(Text("".join(buf)))
            buf.clear()

    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "[" and (m := _LINK_RE.match(text, i)):
            flush()
            nodes.append(Link(_parse_inline(m.group(1)), m.group(2)))
            i = m.end()
            continue
        if text.startswith("**", i) and (m := _BOLD_RE.match(text, i)):
            flush()
            nodes.append(Bold(_parse_inline(m.group(1))))
            i = m.end()
            continue
        if ch == "_" and (i == 0 or not text[i - 1].isalnum()) and (m := _ITALIC_RE.match(text, i)):
            flush()
            nodes.append(Italic(_parse_inline(m.group(1))))
            i = m.end()
            continue
        buf.append(ch)
        i += 1
    flush()
    return tuple(nodes)


def parse(markup: str) -> list[Block]:
    """Split markup into paragraphs and bullet lists, then parse each one's inlines."""
    return list(_parse(markup))


# Replies repeat (a consultation's questions, the same answer to the same question) and
# every one is parsed again by each renderer: parsing was a fifth of the time an event
# takes. The tree is immutable, so one parse serves them all.
@functools.lru_cache(maxsize=1024)
def _parse(markup: str) -> tuple[Block, ...]:
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", markup.strip()):
        para: list[str] = []
        items: list[str] = []
        for line in chunk.splitlines():
            if m := _BULLET_RE.match(line):
                _close(blocks, para, [])
                items.append(m.group(1).strip())
            elif items and line.startswith((" ", "\t")) and line.strip():
                items[-1] += " " + line.strip()  # an indented line continues the bullet
            elif line.strip():
                _close(blocks, [], items)
                para.append(line.strip())
        _close(blocks, para, items)
    return tuple(blocks)


def _close(blocks: list[Block], para: list[str], items: list[str]) -> None:
    """Turn collected paragraph lines or bullet items into a block, emptying the list."""
    if para:
        blocks.append(Paragraph(parse_inline("\n".join(para))))
        para.clear()
    if items:
        blocks.append(BulletList(tuple(parse_inline(it) for it in items)))
        items.clear()


class Renderer(Protocol):
    """How one platform spells each markup element. ``text`` must escape for the platform.

    A renderer whose markers only work at word boundaries (Slack's ``*bold*``) sets
    ``word_bounded_markers = True``: a marker glued to a letter ("و*7 تحولات*") then
    gets a zero-width space between them.
    """

    def text(self, text: str) -> str: ...
    def bold(self, inner: str) -> str: ...
    def italic(self, inner: str) -> str: ...
    def link(self, inner: str, url: str) -> str: ...
    def bullets(self, items: list[str]) -> str: ...


def _inlines(nodes: tuple[Inline, ...], r: Renderer) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, Text):
            out.append(r.text(node.text))
        elif isinstance(node, Bold):
            out.append(r.bold(_inlines(node.children, r)))
        elif isinstance(node, Italic):
            out.append(r.italic(_inlines(node.children, r)))
        else:
            out.append(r.link(_inlines(node.children, r), node.url))
    return "".join(out)


def render_blocks(markup: str, r: Renderer, *, bidi_marks: bool = True) -> list[str]:
    """Each block rendered on its own: the units long replies are split between.

    A right-to-left reply (:func:`bot.bidi.is_rtl`) gets its direction marks here, for
    every renderer: each line starts right-to-left, each Latin run is isolated.
    """
    blocks = parse(markup)
    if bidi_marks and bidi.is_rtl(plain_text(blocks)):
        blocks = [_rtl_block(block) for block in blocks]
    bounded = getattr(r, "word_bounded_markers", False)
    rendered: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            inlines = _word_bounded(block.inlines) if bounded else block.inlines
            rendered.append(_inlines(inlines, r))
        else:
            items = [_word_bounded(i) if bounded else i for i in block.items]
            rendered.append(r.bullets([_inlines(item, r) for item in items]))
    return rendered


def render(markup: str, r: Renderer, *, bidi_marks: bool = True) -> str:
    return "\n\n".join(render_blocks(markup, r, bidi_marks=bidi_marks))


def _rtl_block(block: Block) -> Block:
    if isinstance(block, Paragraph):
        return Paragraph(_line_start(_isolated(block.inlines)))
    return BulletList(tuple(_line_start(_isolated(item)) for item in block.items))


def _isolated(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """Latin runs isolated inside each text, and every line after a break started
    right-to-left; markers and link addresses are left alone."""
    out: list[Inline] = []
    for node in nodes:
        if isinstance(node, Text):
            out.append(Text(bidi.isolate(node.text).replace("\n", "\n" + bidi.RLM)))
        elif isinstance(node, Bold):
            out.append(Bold(_isolated(node.children)))
        elif isinstance(node, Italic):
            out.append(Italic(_isolated(node.children)))
        else:
            out.append(Link(_isolated(node.children), node.url))
    return tuple(out)


def _line_start(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """A right-to-left mark before the first character, inside any marker that opens
    the line (so Slack's "*" still starts at a word boundary)."""
    if not nodes:
        return nodes
    first, rest = nodes[0], nodes[1:]
    if isinstance(first, Text):
        return (Text(bidi.RLM + first.text), *rest)
    if isinstance(first, Bold):
        return (Bold(_line_start(first.children)), *rest)
    if isinstance(first, Italic):
        return (Italic(_line_start(first.children)), *rest)
    return (Link(_line_start(first.children), first.url), *rest)


def _glues(ch: str) -> bool:
    """Whether a character next to a marker hides it from a word-boundary parser."""
    return unicodedata.category(ch)[0] in "LNM" or ch in bidi.MARKS


def _word_bounded(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """A zero-width space between a bold or italic span and a letter it touches."""
    out = list(nodes)
    for k, node in enumerate(out):
        if isinstance(node, Bold | Italic):
            before = out[k - 1] if k else None
            if isinstance(before, Text) and before.text and _glues(before.text[-1]):
                out[k - 1] = Text(before.text + ZWSP)
            after = out[k + 1] if k + 1 < len(out) else None
            if isinstance(after, Text) and after.text and _glues(after.text[0]):
                out[k + 1] = Text(ZWSP + after.text)
            children = _word_bounded(node.children)
            out[k] = Bold(children) if isinstance(node, Bold) else Italic(children)
        elif isinstance(node, Link):
            out[k] = Link(_word_bounded(node.children), node.url)
    return tuple(out)


ZWSP = "\u200b"


def plain_text(nodes: tuple[Inline, ...] | list[Block]) -> str:
    """The words alone, for search, previews and platforms' plain-text fallbacks."""
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, Text):
            parts.append(node.text)
        elif isinstance(node, Bold | Italic | Link):
            parts.append(plain_text(node.children))
        elif isinstance(node, Paragraph):
            parts.append(plain_text(node.inlines) + "\n\n")
        else:
            parts.append("\n".join("• " + plain_text(i) for i in node.items) + "\n\n")
    return "".join(parts)


def to_plain(markup: str, *, bidi_marks: bool = False) -> str:
    """Markup as readable plain text (links keep their address in brackets). Direction
    marks only when asked: this is also the text that is searched and compared."""
    return _to_plain(markup, bidi_marks)


@functools.lru_cache(maxsize=1024)  # a question's title is worded for every press
def _to_plain(markup: str, bidi_marks: bool) -> str:
    return render(markup, PlainRenderer(), bidi_marks=bidi_marks)


class PlainRenderer:
    """Plain text: the terminal chat and every platform's notification fallback."""

    def text(self, text: str) -> str:
        return text

    def bold(self, inner: str) -> str:
        return inner

    def italic(self, inner: str) -> str:
        return inner

    def link(self, inner: str, url: str) -> str:
        return inner if inner == url else f"{inner} ({url})"

    def bullets(self, items: list[str]) -> str:
        return "\n".join(f"• {item}" for item in items)


BUTTON_LABEL = 60  # characters a button label is cut to (Telegram and Slack both fit it)


def shorten(text: str, limit: int = BUTTON_LABEL) -> str:
    """One line of at most ``limit`` characters, cut at a word with an ellipsis:
    "📅 Add to calendar: Council of Delegates of the International…", never "…Internat"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit // 2:  # a word boundary not too far back; else cut the long word
        head = head[:space]
    return head.rstrip(" ,;:–-") + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Split plain text below ``limit`` characters, at line breaks, then spaces."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def render_chunks(markup: str, r: Renderer, limit: int) -> list[str]:
    """Render and pack whole blocks into messages below ``limit`` characters.

    Splitting happens between paragraphs so no formatting tag is ever cut; a single
    block longer than the limit is sent as escaped plain text split at spaces.
    """
    chunks: list[str] = []
    current = ""
    rtl = bidi.is_rtl(to_plain(markup))
    for block_markup, rendered in zip(
        _block_sources(markup), render_blocks(markup, r), strict=True
    ):
        pieces = [rendered]
        if len(rendered) > limit:
            plain = to_plain(block_markup)
            if rtl:
                plain = bidi.RLM + bidi.isolate(plain).replace("\n", "\n" + bidi.RLM)
            # Escaping can lengthen text (& -> &amp;), so leave generous room.
            pieces = [
                r.text(bidi.RLM + p.lstrip(bidi.RLM) if rtl else p)
                for p in split_text(plain, limit // 2)
            ]
        for piece in pieces:
            if current and len(current) + 2 + len(piece) > limit:
                chunks.append(current)
                current = ""
            current = f"{current}\n\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks or [""]


def _block_sources(markup: str) -> list[str]:
    """The markup of each block, in the same order as :func:`parse` yields them."""
    sources: list[str] = []
    for block in parse(markup):
        # Re-serialise: escaping the plain words is enough for the fallback path.
        if isinstance(block, Paragraph):
            sources.append(escape(plain_text(block.inlines)))
        else:
            sources.append("\n".join("- " + escape(plain_text(i)) for i in block.items))
    return sources
