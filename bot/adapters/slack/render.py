"""Replies as Slack Block Kit: pure functions, no network.

Slack treats ``&``, ``<`` and ``>`` as control characters (``<!channel>`` pings a whole
channel, ``<https://x|y>`` is a link), so every piece of text is escaped before it goes
into mrkdwn, and sections are sent ``verbatim`` so Slack adds no parsing of its own.
Block Kit's limits are enforced here, once: 3,000 characters per section, 50 blocks per
message, 25 buttons per actions block, button text 75, value 2,000, action_id 255.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot import markup
from bot.messages import Choice, Reply

MAX_SECTION = 3000
MAX_BLOCKS = 50
MAX_BUTTONS_PER_BLOCK = 25
MAX_BUTTON_TEXT = 75
MAX_VALUE = 2000
MAX_ACTION_ID = 255
# The top-level text is only the notification and screen-reader fallback when blocks
# are present; Slack truncates it at 40,000, a notification needs far less.
MAX_FALLBACK = 3000
# Every button's action_id starts with this, so one listener takes all of them.
ACTION_PREFIX = "nsbot:"

_URL_RE = re.compile(r"(?:https?://|mailto:)[^\s<>|]+")
_TOKEN_RE = re.compile(r"<([^<>|]*)>")
_TRAILING_PUNCT = ".,;:!?)'\""

Block = dict[str, Any]


def escape(text: str) -> str:
    """Make text literal in Slack mrkdwn (and in the top-level ``text``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _url(url: str) -> str:
    # Inside <...> a "|" would end the address and start the label.
    return escape(url).replace("|", "%7C")


class SlackRenderer:
    """Neutral markup as Slack mrkdwn. Bare web addresses become explicit links,
    because ``verbatim`` sections are not auto-linked by Slack."""

    # Slack shows "*" and "_" literally unless they sit at a word boundary: a marker
    # touching a letter, digit or direction mark ("و*7 تحولات*") gets a zero-width
    # space on its outside (bot/markup.py), never inside, where it would not separate
    # it; a right-to-left line's first mark goes inside an opening marker ("*\u200f…*").
    word_bounded_markers = True

    def text(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        for m in _URL_RE.finditer(text):
            url = m.group(0).rstrip(_TRAILING_PUNCT)
            out.append(escape(text[pos : m.start()]))
            out.append(f"<{_url(url)}>")
            pos = m.start() + len(url)
        out.append(escape(text[pos:]))
        return "".join(out)

    def bold(self, inner: str) -> str:
        return f"*{inner}*" if inner.strip() else inner

    def italic(self, inner: str) -> str:
        return f"_{inner}_" if inner.strip() else inner

    def link(self, inner: str, url: str) -> str:
        # The label is already escaped; an address in it must not become a link
        # nested inside this one (Slack would end the link at the inner ">").
        label = _TOKEN_RE.sub(r"\1", inner)
        return f"<{_url(url)}|{label}>" if label else f"<{_url(url)}>"

    def bullets(self, items: list[str]) -> str:
        return "\n".join(f"• {item}" for item in items)


_RENDERER = SlackRenderer()


def _split_long(text: str, limit: int) -> list[str]:
    """Cut rendered mrkdwn below ``limit`` at a line break or space, never inside a
    ``<...>`` link or an ``&...;`` entity."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = 0
        for sep in ("\n", " "):
            pos = rest.rfind(sep, 0, limit + 1)
            while pos > 0 and rest.rfind("<", 0, pos) > rest.rfind(">", 0, pos):
                pos = rest.rfind(sep, 0, pos)
            if pos > 0:
                cut = pos
                break
        if cut <= 0:  # one unbroken run: cut hard, before any token it would split
            cut = limit
            lt, amp = rest.rfind("<", 0, cut), rest.rfind("&", 0, cut)
            if lt > rest.rfind(">", 0, cut):
                cut = lt
            elif amp > rest.rfind(";", 0, cut) and cut - amp < 8:
                cut = amp
            cut = cut or limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return [p for p in pieces if p]


def sections(text: str, limit: int = MAX_SECTION) -> list[str]:
    """The reply's markup as mrkdwn pieces of at most ``limit`` characters.

    Pieces are cut between paragraphs, then between bullets of a list, so formatting
    survives; only a single paragraph longer than the limit is cut inside.
    """
    units: list[tuple[str, str]] = []  # (separator before, rendered text)
    for block, rendered in zip(
        markup.parse(text), markup.render_blocks(text, _RENDERER), strict=True
    ):
        if isinstance(block, markup.BulletList):
            # Items never contain a line break: the rendered list splits back into them.
            lines = rendered.split("\n")
            units.append(("\n\n", lines[0]))
            units.extend(("\n", line) for line in lines[1:])
        else:
            units.append(("\n\n", rendered))
    chunks: list[str] = []
    current = ""
    for sep, unit in units:
        for piece in _split_long(unit, limit) if len(unit) > limit else [unit]:
            if current and len(current) + len(sep) + len(piece) > limit:
                chunks.append(current)
                current = ""
            current = f"{current}{sep}{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks


def fallback(text: str, limit: int = MAX_FALLBACK) -> str:
    """The reply as escaped plain text, for notifications and screen readers."""
    plain = markup.to_plain(text, bidi_marks=True)
    if len(plain) > limit:
        plain = plain[: limit - 1].rsplit(" ", 1)[0] + "…"
    return escape(plain)


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def button(choice: Choice, index: int) -> Block:
    """A button whose value is the core's opaque action; its action_id is unique
    within the message (Slack rejects a message with two equal action_ids)."""
    return {
        "type": "button",
        "text": {
            "type": "plain_text",
            "text": _truncate(choice.label, MAX_BUTTON_TEXT) or "·",
            "emoji": True,
        },
        "value": choice.action[:MAX_VALUE],
        "action_id": f"{ACTION_PREFIX}{index}"[:MAX_ACTION_ID],
    }


def button_rows(
    choices: tuple[Choice, ...], columns: int, budget: int, footer: tuple[Choice, ...] = ()
) -> list[Block]:
    """Buttons as actions blocks: ``columns`` per row when that fits in ``budget``
    blocks, else as few blocks as possible (Slack wraps a long row itself). The
    ``footer`` is one more block of its own, last (its room is kept first)."""
    last = [button(c, len(choices) + i) for i, c in enumerate(footer[:MAX_BUTTONS_PER_BLOCK])]
    tail = [{"type": "actions", "elements": last}] if last else []
    budget -= len(tail)
    if not choices:
        return tail
    buttons = [button(c, i) for i, c in enumerate(choices)]
    per_row = max(1, min(columns, MAX_BUTTONS_PER_BLOCK))
    if -(-len(buttons) // per_row) > budget:
        per_row = MAX_BUTTONS_PER_BLOCK
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    blocks: list[Block] = [{"type": "actions", "elements": row} for row in rows]
    return blocks[: MAX_BLOCKS - len(tail)] + tail


@dataclass(frozen=True)
class SlackMessage:
    """One Slack message: the fallback ``text`` and its ``blocks``."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def render_reply(reply: Reply, *, single: bool = False) -> list[SlackMessage]:
    """A reply as one or more messages within Block Kit's limits; buttons go on the last.

    ``single`` (for an edit, which replaces exactly one message) keeps what fits in one.
    """
    chunks = sections(reply.text) if reply.text.strip() else []
    rows = button_rows(reply.choices, reply.columns, MAX_BLOCKS - len(chunks), reply.footer)
    room = MAX_BLOCKS - len(rows)
    if single and len(chunks) > room:
        chunks = chunks[:room]
        chunks[-1] = chunks[-1][: MAX_SECTION - 1] + "…"
    groups: list[list[str]] = []
    while len(chunks) > room:
        groups.append(chunks[:MAX_BLOCKS])
        chunks = chunks[MAX_BLOCKS:]
    messages = [SlackMessage(g[0], [section(c) for c in g]) for g in groups]
    if chunks or rows:
        messages.append(
            SlackMessage(chunks[0] if chunks else "", [section(c) for c in chunks] + rows)
        )
    if messages:
        # The first message's fallback is the whole reply as plain text.
        first = (
            fallback(reply.text)
            or escape(" / ".join(c.label for c in reply.buttons))[:MAX_FALLBACK]
        )
        messages[0] = SlackMessage(first, messages[0].blocks)
    return messages
