"""Pure Telegram rendering and parsing: HTML escaping, splitting, keyboards, calls, updates."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import Any

import pytest
from telegram import Update

from bot import markup
from bot.adapters.telegram.adapter import WebhookConfig, menu_commands
from bot.adapters.telegram.inbound import to_incoming
from bot.adapters.telegram.render import (
    TEXT_LIMIT,
    chunks,
    keyboard,
    message_calls,
    parse_origin,
    to_html,
    toast_text,
    utf16_len,
)
from bot.config import Settings
from bot.errors import ConfigError
from bot.handlers.base import Command
from bot.messages import Attachment, Choice, Reply
from tests.fake_telegram import FakeTelegram, fixture, user

MARKDOWN_CHARS = "_*[]()~`>#+-=|{}.!\\"
BOT_ID = fixture("get_me")["id"]
BOT_NAME = fixture("get_me")["username"]


class TelegramHTMLChecker(HTMLParser):
    """Accepts only what Telegram's HTML parse mode accepts from us: b, i, a href, nested."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in {"b", "i", "a"}, tag
        assert tag != "a" or [name for name, _ in attrs] == ["href"]
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible(telegram_html: str) -> str:
    """Check the HTML is well formed for Telegram; return the text a person sees."""
    checker = TelegramHTMLChecker()
    checker.feed(telegram_html)
    checker.close()
    assert not checker.stack, f"unclosed tags {checker.stack}"
    return "".join(checker.text)


# ------------------------------------------------------------------ escaping


def test_html_special_characters_are_escaped() -> None:
    assert to_html("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert to_html("<b>not bold</b> &amp;") == "&lt;b&gt;not bold&lt;/b&gt; &amp;amp;"


@pytest.mark.parametrize("char", list(MARKDOWN_CHARS))
def test_every_markdown_character_from_a_person_shows_literally(char: str) -> None:
    typed = f"x {char} y{char}z {char}{char}w{char}{char}"
    rendered = to_html(markup.escape(typed))
    assert visible(rendered) == typed


def test_person_text_full_of_markup_and_html_shows_literally() -> None:
    typed = "- **not bold** _not italic_ [not](https://a.link) <script>&amp; " + MARKDOWN_CHARS
    rendered = to_html(markup.escape(typed))
    assert visible(rendered) == typed
    assert "<b>" not in rendered and "<a" not in rendered


def test_curator_markup_becomes_telegram_html() -> None:
    rendered = to_html('**Bold** and _italic_ see [the page](https://example.org/?a=1&b="2")')
    assert rendered == (
        '<b>Bold</b> and <i>italic</i> see <a href="https://example.org/?a=1&amp;b=&quot;2&quot;">the page</a>'
    )
    assert visible(rendered) == "Bold and italic see the page"


def test_unclosed_markers_stay_plain_text() -> None:
    rendered = to_html("2 * 3 < 7 and snake_case_name and **open")
    assert visible(rendered) == "2 * 3 < 7 and snake_case_name and **open"


def test_bullets() -> None:
    assert to_html("Intro:\n- one\n- **two**") == "Intro:\n\n• one\n• <b>two</b>"


# ------------------------------------------------------------------ splitting


def test_long_text_is_split_between_paragraphs_without_breaking_tags() -> None:
    paragraphs = [
        f"**Paragraph {i}** with _some_ words & <symbols> " + "lorem ipsum " * 20
        for i in range(120)
    ]
    text = "\n\n".join(paragraphs)
    parts = chunks(text)
    assert len(parts) > 1
    for part in parts:
        assert utf16_len(part) <= TEXT_LIMIT
        visible(part)  # balanced tags in every message
    seen = "\n\n".join(visible(p) for p in parts)
    assert seen == "\n\n".join(visible(to_html(p)) for p in paragraphs)


def test_one_huge_paragraph_is_split_at_spaces() -> None:
    text = "word&more " * 2000  # 20,000 characters, one paragraph; & grows when escaped
    parts = chunks(text)
    assert len(parts) > 1
    assert all(utf16_len(p) <= TEXT_LIMIT for p in parts)
    assert " ".join(html.unescape(p) for p in parts).split() == text.split()


def test_emoji_count_double_towards_the_limit() -> None:
    text = "\n\n".join("🌍🤝 " * 300 for _ in range(6))  # ~3,600 code points, ~6,000 UTF-16 units
    parts = chunks(text)
    assert len(parts) > 1
    assert all(utf16_len(p) <= TEXT_LIMIT for p in parts)


def test_a_long_reply_puts_its_buttons_on_the_last_message() -> None:
    reply = Reply("\n\n".join("x " * 1000 for _ in range(5)), choices=(Choice("More", "faq:more"),))
    calls = message_calls(reply, "111")
    assert len(calls) > 1
    assert [c.method for c in calls] == ["send_message"] * len(calls)
    assert [c.kwargs["reply_markup"] is not None for c in calls] == [False] * (len(calls) - 1) + [
        True
    ]


# ------------------------------------------------------------------ keyboards


def test_callback_data_is_the_action_within_64_bytes_whatever_the_label() -> None:
    labels = [
        "ما هي سياسة الهجرة للاتحاد الدولي؟ 🌍🤝" * 3,
        "👩‍👩‍👧‍👦" * 20,
        "Политика миграции",
        "移民政策",
    ]
    choices = tuple(Choice(label, f"faq:entry-{i}") for i, label in enumerate(labels))
    markup_ = keyboard(choices, columns=2)
    assert markup_ is not None
    buttons = [b for row in markup_.inline_keyboard for b in row]
    assert [b.text for b in buttons] == labels
    assert [b.callback_data for b in buttons] == [c.action for c in choices]
    assert all(len(str(b.callback_data).encode("utf-8")) <= 64 for b in buttons)
    assert [len(row) for row in markup_.inline_keyboard] == [2, 2]


def test_an_action_that_would_overflow_callback_data_cannot_be_built() -> None:
    with pytest.raises(ValueError):
        Choice("x", "consult:" + "a" * 60)
    with pytest.raises(ValueError):
        Choice("x", "poll:اختيار")


def test_keyboard_limits() -> None:
    assert keyboard(()) is None
    many = tuple(Choice(str(i), f"a:{i}") for i in range(150))
    markup_ = keyboard(many, columns=20)
    assert markup_ is not None
    assert sum(len(row) for row in markup_.inline_keyboard) == 100
    assert max(len(row) for row in markup_.inline_keyboard) == 8


def test_the_footer_is_one_last_row_within_the_limits() -> None:
    related = tuple(Choice(f"Related {i}", f"faq:e{i}") for i in range(3))
    thumbs = (Choice("👍", "fb:u:abc"), Choice("👎", "fb:d:abc"))
    markup_ = keyboard(related, 1, thumbs)
    assert markup_ is not None
    rows = [[b.callback_data for b in row] for row in markup_.inline_keyboard]
    assert rows == [["faq:e0"], ["faq:e1"], ["faq:e2"], ["fb:u:abc", "fb:d:abc"]]
    # A full keyboard keeps the footer's room: 98 choices, then the row of two.
    many = tuple(Choice(str(i), f"a:{i}") for i in range(150))
    full = keyboard(many, 8, thumbs)
    assert full is not None
    assert sum(len(row) for row in full.inline_keyboard) == 100
    assert [b.callback_data for b in full.inline_keyboard[-1]] == ["fb:u:abc", "fb:d:abc"]
    only = keyboard((), 1, thumbs)
    assert only is not None and len(only.inline_keyboard) == 1
    assert toast_text(Reply("Thanks", notice=True, footer=thumbs)) is None


# ------------------------------------------------------------------ calls


def test_plain_reply_is_one_html_message() -> None:
    [call] = message_calls(Reply("Hello **you**", choices=(Choice("Help", "cmd:help"),)), "111")
    assert call.method == "send_message"
    assert call.kwargs["chat_id"] == 111
    assert call.kwargs["text"] == "Hello <b>you</b>"
    assert call.kwargs["parse_mode"] == "HTML"
    assert call.kwargs["reply_markup"].inline_keyboard[0][0].callback_data == "cmd:help"


def test_editing_the_pressed_message_removes_its_buttons() -> None:
    [call] = message_calls(Reply("Q1: **Yes**"), "-1005", edit=42)
    assert call.method == "edit_message_text"
    assert call.kwargs["chat_id"] == -1005 and call.kwargs["message_id"] == 42
    assert call.kwargs["reply_markup"] is None  # omitted: Telegram drops the keyboard
    assert call.fallback is not None and call.fallback.method == "send_message"
    [only_buttons] = message_calls(Reply(""), "-1005", edit=42)
    assert only_buttons.method == "edit_message_reply_markup"
    assert only_buttons.kwargs["reply_markup"] is None


def test_attachments_are_documents_with_the_text_as_caption() -> None:
    export = Attachment("responses.csv", b"id,answer\n1,yes\n", "text/csv")
    [call] = message_calls(Reply("Your **export**", attachments=(export,)), "111")
    assert call.method == "send_document"
    assert call.kwargs["document"] == export.content
    assert call.kwargs["filename"] == "responses.csv"
    assert call.kwargs["caption"] == "Your <b>export</b>"
    two = message_calls(Reply("Files", attachments=(export, export)), "111")
    assert [c.method for c in two] == ["send_message", "send_document", "send_document"]


def test_only_buttons_still_get_a_text() -> None:
    [call] = message_calls(Reply("", choices=(Choice("Go", "cmd:help"),)), "1")
    assert call.kwargs["text"].strip()
    assert message_calls(Reply(""), "1") == []


def test_toast_only_for_short_notices() -> None:
    assert toast_text(Reply("Vote **recorded**", notice=True)) == "Vote recorded"
    assert toast_text(Reply("Vote recorded")) is None
    assert toast_text(Reply("x" * 201, notice=True)) is None
    assert toast_text(Reply("Pick", notice=True, choices=(Choice("a", "a:1"),))) is None


def test_origin_parsing() -> None:
    assert parse_origin("-1001234:56") == ("-1001234", 56)
    assert parse_origin("nonsense") is None


def test_menu_skips_coordinator_and_hidden_commands() -> None:
    async def run(ctx: Any, args: str) -> list[Reply]:
        return []

    commands = [
        Command("topics", run, "cmd_topics"),
        Command("results", run, "cmd_results", coordinators_only=True),
        Command("hidden", run, "cmd_hidden", in_menu=False),
    ]
    menu = menu_commands(commands, lambda key: f"<{key}>")
    assert [(c.command, c.description) for c in menu] == [("topics", "<cmd_topics>")]


# ------------------------------------------------------------------ inbound


def update(data: dict[str, Any]) -> Update:
    parsed = Update.de_json(data, None)
    assert parsed is not None
    return parsed


FAKE = FakeTelegram()
GROUP = fixture("group_message")["message"]["chat"]


def test_private_message_goes_to_the_core() -> None:
    data = FAKE.message(user(111, "Amina", "fr"), "hello there")
    incoming = to_incoming(update(data), BOT_ID, BOT_NAME)
    assert incoming is not None
    assert incoming.text == "hello there"
    assert incoming.chat.private and incoming.chat.chat_id == "111"
    assert incoming.person.key == "telegram:111" and incoming.person.language == "fr"
    assert incoming.event_id == str(data["update_id"])


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ("people chatting among themselves", None, None),
        ("/ask when was it adopted", None, "/ask when was it adopted"),
        (f"/ask@{BOT_NAME} when", None, f"/ask@{BOT_NAME} when"),
        ("/ask@some_other_bot when", None, None),
        (
            f"@{BOT_NAME} when was it adopted?",
            [{"type": "mention", "offset": 0, "length": 15}],
            "when was it adopted?",
        ),
        (
            f"🌍 hi @{BOT_NAME.upper()} who chairs",
            [{"type": "mention", "offset": 6, "length": 15}],
            "🌍 hi who chairs",
        ),
        (f"@{BOT_NAME}", [{"type": "mention", "offset": 0, "length": 15}], "/help"),
        ("@someone_else hello", [{"type": "mention", "offset": 0, "length": 13}], None),
    ],
)
def test_group_messages_only_when_addressed(text: str, entities: Any, expected: str | None) -> None:
    data = FAKE.message(user(5), text, chat=GROUP, entities=entities)
    incoming = to_incoming(update(data), BOT_ID, BOT_NAME)
    assert (incoming.text if incoming else None) == expected
    if incoming is not None:
        assert not incoming.chat.private


def test_group_reply_to_the_bot_goes_to_the_core() -> None:
    bot_message = {
        "message_id": 9,
        "date": 1,
        "chat": GROUP,
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "b"},
    }
    data = FAKE.message(user(5), "and in 2011?", chat=GROUP, reply_to=bot_message)
    incoming = to_incoming(update(data), BOT_ID, BOT_NAME)
    assert incoming is not None and incoming.text == "and in 2011?"


def test_button_press_is_an_action_with_its_origin() -> None:
    pressed = {
        "message_id": 77,
        "date": 1,
        "chat": GROUP,
        "text": "Poll",
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "b"},
    }
    data = FAKE.press(user(5), pressed, "poll:3:1")
    incoming = to_incoming(update(data), BOT_ID, BOT_NAME)
    assert incoming is not None
    assert incoming.action == "poll:3:1" and incoming.text == ""
    assert incoming.origin == f"{GROUP['id']}:77"
    assert incoming.chat.chat_id == str(GROUP["id"]) and not incoming.chat.private


@pytest.mark.parametrize("name", ["edited_message", "unknown_update"])
def test_other_update_kinds_are_ignored(name: str) -> None:
    data = fixture(name)
    data["update_id"] = 1
    assert to_incoming(update(data), BOT_ID, BOT_NAME) is None


def test_messages_from_bots_are_ignored() -> None:
    sender = user(6) | {"is_bot": True}
    assert to_incoming(update(FAKE.message(sender, "hi")), BOT_ID, BOT_NAME) is None


# ------------------------------------------------------------------ settings


def settings(**values: str) -> Settings:
    return Settings(platform={"TELEGRAM_BOT_TOKEN": "1:x", **values})


def test_webhook_needs_a_secret() -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        WebhookConfig.from_settings(settings(TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg"))
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        WebhookConfig.from_settings(
            settings(
                TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg",
                TELEGRAM_WEBHOOK_SECRET="has spaces!",
            )
        )


def test_webhook_defaults() -> None:
    assert WebhookConfig.from_settings(settings()) is None
    config = WebhookConfig.from_settings(
        settings(
            TELEGRAM_WEBHOOK_URL="https://bot.example.org/hooks/tg",
            TELEGRAM_WEBHOOK_SECRET="s3cret_-X",
        )
    )
    assert config is not None
    assert (config.listen, config.port, config.path) == ("0.0.0.0", 8443, "hooks/tg")


def test_an_image_is_sent_as_a_photo_shown_in_the_chat() -> None:
    chart = Attachment("sample-answers.png", b"\x89PNG...", "image/png")
    [call] = message_calls(Reply("Chart", attachments=(chart,)), "111")
    assert call.method == "send_photo" and call.kwargs["photo"] == chart.content
    assert "document" not in call.kwargs
