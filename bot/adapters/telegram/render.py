"""Reply -> Telegram API calls, as pure functions (no network, easy to test).

Text is sent as Telegram HTML: every character that came from the markup's words is
escaped, so a curator's ``<`` or a respondent's ``&`` can never make Telegram refuse a
message with "can't parse entities" (MarkdownV2 would need 18 characters escaped).
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass, replace
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import InlineKeyboardMarkupLimit, MessageLimit, ParseMode

from bot import markup, typed
from bot.messages import MAX_ACTION_BYTES, Choice, Reply

TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4096, counted in UTF-16 code units
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH  # 1024
TOAST_LIMIT = 200  # answerCallbackQuery text
MAX_BUTTONS = InlineKeyboardMarkupLimit.TOTAL_BUTTON_NUMBER
MAX_PER_ROW = InlineKeyboardMarkupLimit.BUTTONS_PER_ROW
# Telegram refuses an empty text; a reply made only of buttons still needs one.
EMPTY_TEXT = "…"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class TelegramHTML:
    """The neutral markup as Telegram HTML (<b>, <i>, <a href>)."""

    def text(self, text: str) -> str:
        return html.escape(text, quote=False)

    def bold(self, inner: str) -> str:
        return f"<b>{inner}</b>"

    def italic(self, inner: str) -> str:
        return f"<i>{inner}</i>"

    def link(self, inner: str, url: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{inner}</a>'

    def bullets(self, items: list[str]) -> str:
        return "\n".join(f"• {item}" for item in items)


RENDERER = TelegramHTML()


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def to_html(text: str) -> str:
    return markup.render(text, RENDERER)


def chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """The markup as HTML messages, split between paragraphs, each within ``limit``.

    The rendered length (tags included) is checked in UTF-16 units, which is never less
    than what Telegram counts, so a chunk that passes here always fits.
    """
    size = limit
    while True:
        parts = [p for p in markup.render_chunks(text, RENDERER, size) if p.strip()]
        if all(utf16_len(p) <= limit for p in parts) or size < 64:
            return parts
        size //= 2


def keyboard(
    choices: tuple[Choice, ...], columns: int = 1, footer: tuple[Choice, ...] = ()
) -> InlineKeyboardMarkup | None:
    """Choices as an inline keyboard: the button carries the action id, never the label.

    ``Choice`` guarantees 1-64 ASCII bytes, so ``callback_data`` fits Telegram's
    64-byte limit whatever the language of the label. The ``footer`` is one last row
    (within the per-row and total limits: the footer's room is kept first).
    """

    def usable(items: tuple[Choice, ...]) -> list[Choice]:
        return [c for c in items if 0 < len(c.action.encode("utf-8")) <= MAX_ACTION_BYTES]

    last = usable(footer)[:MAX_PER_ROW]
    valid = usable(choices)[: MAX_BUTTONS - len(last)]
    if not valid and not last:
        return None
    per_row = max(1, min(columns, MAX_PER_ROW))
    buttons = [InlineKeyboardButton(c.label, callback_data=c.action) for c in valid]
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    if last:
        rows.append([InlineKeyboardButton(c.label, callback_data=c.action) for c in last])
    return InlineKeyboardMarkup(rows)


def toast_text(reply: Reply) -> str | None:
    """The reply as a callback-query toast, when it is a short notice that fits one."""
    if not reply.notice or reply.buttons or reply.attachments:
        return None
    return _toast(reply.text)


@functools.lru_cache(maxsize=256)
def _toast(text: str) -> str | None:
    # A burst of votes brings the same few notices ("Your vote: ...") thousands of
    # times: parsed once each.
    plain = markup.to_plain(text, bidi_marks=True).strip()
    return plain if 0 < len(plain) <= TOAST_LIMIT else None


def chat_ref(chat_id: str) -> int | str:
    """Numeric chat ids go as numbers; "@channelname" stays a string."""
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


def is_group(chat_id: str) -> bool:
    """Telegram gives groups, supergroups and channels negative ids."""
    return chat_id.startswith("-")


def parse_origin(origin: str) -> tuple[str, int] | None:
    """``"<chat_id>:<message_id>"`` (an ``Incoming.origin``) -> (chat_id, message_id)."""
    chat, sep, message = origin.rpartition(":")
    number = typed.whole_number(message)
    if not sep or not chat or number is None:
        return None
    return chat, number


@dataclass(frozen=True)
class Call:
    """One Bot API call: a python-telegram-bot ``Bot`` method and its arguments.

    ``fallback`` is tried when the call fails for good (an edited message that no
    longer exists is sent anew; a private reply the person cannot receive becomes a
    note in the group).
    """

    method: str
    chat_id: str
    kwargs: dict[str, Any]
    fallback: Call | None = None

    @property
    def is_edit(self) -> bool:
        return self.method.startswith("edit_")


def message_calls(reply: Reply, chat_id: str, *, edit: int | None = None) -> list[Call]:
    """The calls that show ``reply`` in ``chat_id``; with ``edit``, replacing that message.

    Long text becomes several messages (the buttons go on the last); attachments are
    sent as documents (images as photos), a short text riding along as the caption of
    a single file.
    """
    chat = chat_ref(chat_id)
    texts = chunks(reply.text) if reply.text.strip() else []
    buttons = keyboard(reply.choices, reply.columns, reply.footer)
    files = list(reply.attachments)
    caption: str | None = None
    if (
        edit is None
        and len(texts) == 1
        and len(files) == 1
        and utf16_len(texts[0]) <= CAPTION_LIMIT
    ):
        caption = texts.pop()
    if edit is None and not texts and not files and buttons is not None:
        texts = [EMPTY_TEXT]

    calls: list[Call] = []
    answering = parse_origin(reply.thread) if reply.thread and edit is None else None
    for index, text in enumerate(texts):
        options: dict[str, Any] = {
            "text": text,
            "parse_mode": ParseMode.HTML,
            "reply_markup": buttons if index == len(texts) - 1 else None,
            "link_preview_options": NO_PREVIEW,
        }
        if index == 0 and answering is not None and answering[0] == chat_id:
            # A follow-up in a desk group, as a reply to the question: replying to it
            # answers the same question. Sent anyway if that message was deleted.
            options["reply_parameters"] = ReplyParameters(
                answering[1], allow_sending_without_reply=True
            )
        send = Call("send_message", chat_id, {"chat_id": chat, **options})
        if index == 0 and edit is not None:
            # Omitting reply_markup in an edit removes the old buttons.
            calls.append(
                Call(
                    "edit_message_text",
                    chat_id,
                    {"chat_id": chat, "message_id": edit, **options},
                    send,
                )
            )
        else:
            calls.append(send)
    if edit is not None and not texts:
        # Nothing to say: only the buttons change (or go, when there are none).
        calls.append(
            Call(
                "edit_message_reply_markup",
                chat_id,
                {"chat_id": chat, "message_id": edit, "reply_markup": buttons},
            )
        )
    for index, attachment in enumerate(files):
        # An image (a results chart) is sent as a photo, shown in the chat; anything
        # else as a document the person saves.
        kind = "photo" if attachment.mime_type.startswith("image/") else "document"
        document: dict[str, Any] = {
            "chat_id": chat,
            kind: attachment.content,
            "filename": attachment.filename,
        }
        if caption is not None:
            document |= {"caption": caption, "parse_mode": ParseMode.HTML}
        if index == len(files) - 1 and not texts and edit is None:
            document["reply_markup"] = buttons
        calls.append(Call(f"send_{kind}", chat_id, document))
    return calls


def with_fallback(calls: list[Call], fallback: Call) -> list[Call]:
    """The same calls, the first one falling back to ``fallback`` if it fails for good."""
    if not calls:
        return calls
    return [replace(calls[0], fallback=fallback), *calls[1:]]
