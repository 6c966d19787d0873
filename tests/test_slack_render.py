"""Pure Slack functions: replies as Block Kit (escaping, limits) and payloads as core messages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bot.adapters.slack import inbound, render
from bot.knowledge import KnowledgeBase
from bot.messages import Choice, Reply

FIXTURES = Path(__file__).parent / "fixtures" / "slack"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def section_texts(message: render.SlackMessage) -> list[str]:
    return [b["text"]["text"] for b in message.blocks if b["type"] == "section"]


def all_buttons(messages: list[render.SlackMessage]) -> list[dict[str, Any]]:
    return [
        el for m in messages for b in m.blocks if b["type"] == "actions" for el in b["elements"]
    ]


# ---------------------------------------------------------------------- rendering


def test_markup_becomes_mrkdwn_with_a_plain_fallback() -> None:
    reply = Reply(
        "Adopted in **2009** by the _General Assembly_, see [IFRC](https://ifrc.org)."
        "\n\n- one\n- two"
    )
    [message] = render.render_reply(reply)
    assert section_texts(message) == [
        "Adopted in *2009* by the _General Assembly_, see <https://ifrc.org|IFRC>.\n\n• one\n• two"
    ]
    assert message.blocks[0]["text"]["verbatim"] is True
    assert (
        message.text
        == "Adopted in 2009 by the General Assembly, see IFRC (https://ifrc.org).\n\n• one\n• two"
    )


def test_control_characters_are_escaped_everywhere() -> None:
    nasty = "<!channel> <!here> <@U123> <https://evil.example|click> a & b > c"
    reply = Reply(
        f"**{nasty}** [{nasty}](https://ifrc.org/?a=1&b=<2>|x)", choices=(Choice(nasty, "x:1"),)
    )
    [message] = render.render_reply(reply)
    mrkdwn = section_texts(message)[0]
    for text in (mrkdwn, message.text):
        assert "&lt;!channel&gt;" in text and "a &amp; b &gt; c" in text
    # The only Slack tokens left: the curator's link, and a typed address shown as
    # itself. No ping, no mention, no label hiding where a link goes.
    assert re.findall(r"<([^<>]*)>", message.text) == []
    tokens = re.findall(r"<([^<>]*)>", mrkdwn)
    assert tokens[:-1] == ["https://evil.example"]  # the one in the link label is unwrapped
    assert tokens[-1].startswith("https://ifrc.org/?a=1&amp;b=&lt;2&gt;%7Cx|&lt;!channel&gt;")
    # The link's address is escaped too, and cannot end early with a "|".
    assert "<https://ifrc.org/?a=1&amp;b=&lt;2&gt;%7Cx|" in mrkdwn
    # Button text is plain_text: shown literally by Slack, never parsed.
    assert all_buttons([message])[0]["text"] == {"type": "plain_text", "text": nasty, "emoji": True}


def test_bare_addresses_become_links_without_trailing_punctuation() -> None:
    [message] = render.render_reply(Reply("See https://ifrc.org/migration. Or mailto:a@b.org!"))
    assert section_texts(message) == ["See <https://ifrc.org/migration>. Or <mailto:a@b.org>!"]


def test_choices_become_buttons_with_unique_action_ids() -> None:
    choices = tuple(Choice(f"Option {i}", f"poll:7:{i}") for i in range(5))
    [message] = render.render_reply(Reply("Pick one", choices=choices, columns=2))
    rows = [b for b in message.blocks if b["type"] == "actions"]
    assert [len(r["elements"]) for r in rows] == [2, 2, 1]
    buttons = all_buttons([message])
    assert [b["value"] for b in buttons] == [c.action for c in choices]
    assert len({b["action_id"] for b in buttons}) == 5
    assert all(b["action_id"].startswith(render.ACTION_PREFIX) for b in buttons)


def test_the_footer_is_one_last_actions_block_with_unique_action_ids() -> None:
    related = tuple(Choice(f"Related {i}", f"faq:e{i}") for i in range(3))
    thumbs = (Choice("👍", "fb:u:abc"), Choice("👎", "fb:d:abc"))
    [message] = render.render_reply(Reply("An answer", choices=related, footer=thumbs))
    rows = [b for b in message.blocks if b["type"] == "actions"]
    assert [len(r["elements"]) for r in rows] == [1, 1, 1, 2]
    assert [e["value"] for e in rows[-1]["elements"]] == ["fb:u:abc", "fb:d:abc"]
    assert len({b["action_id"] for b in all_buttons([message])}) == 5
    # Within 50 blocks even when the choices alone would fill them.
    many = tuple(Choice(str(i), f"a:{i}") for i in range(60))
    messages = render.render_reply(Reply("x", choices=many, footer=thumbs))
    assert all(len(m.blocks) <= render.MAX_BLOCKS for m in messages)
    assert all_buttons(messages)[-1]["value"] == "fb:d:abc"


def test_button_text_is_cut_to_slack_limit() -> None:
    [message] = render.render_reply(Reply("?", choices=(Choice("word " * 40, "x:1"),)))
    text = all_buttons([message])[0]["text"]["text"]
    assert len(text) <= render.MAX_BUTTON_TEXT and text.endswith("…")


def test_long_reply_stays_within_section_and_block_limits() -> None:
    paragraphs = "\n\n".join(f"Paragraph {i} **bold** " + "word " * 120 for i in range(400))
    choices = tuple(Choice(f"B{i}", f"x:{i}") for i in range(30))
    messages = render.render_reply(Reply(paragraphs, choices=choices))
    assert len(messages) > 1
    for message in messages:
        assert len(message.blocks) <= render.MAX_BLOCKS
        assert all(len(t) <= render.MAX_SECTION for t in section_texts(message))
        assert len(message.text) <= render.MAX_FALLBACK + 10
    assert all(
        b["type"] == "section" for m in messages[:-1] for b in m.blocks
    )  # buttons on the last
    assert len(all_buttons(messages)) == 30
    joined = " ".join(" ".join(section_texts(m)) for m in messages)
    assert joined.count("Paragraph") == 400 and joined.count("*bold*") == 400


def test_long_bullet_list_is_split_between_items_keeping_formatting() -> None:
    items = "\n".join(f"- **{2000 + i}**: event number {i} " + "x" * 60 for i in range(100))
    messages = render.render_reply(Reply(f"**Timeline**:\n\n{items}"))
    texts = [t for m in messages for t in section_texts(m)]
    assert len(texts) > 2 and all(len(t) <= render.MAX_SECTION for t in texts)
    lines = "\n".join(texts).split("\n")
    assert sum(line.startswith("• *20") for line in lines) == 100


def test_one_huge_paragraph_is_cut_without_breaking_links_or_entities() -> None:
    text = " ".join(f"[link {i}](https://ifrc.org/{i}) & <{i}>" for i in range(600))
    texts = [t for m in render.render_reply(Reply(text)) for t in section_texts(m)]
    assert len(texts) > 1
    for piece in texts:
        assert len(piece) <= render.MAX_SECTION
        assert piece.count("<") == piece.count(">")  # no link cut in half
        assert "&lt;" in piece and not piece.rstrip().endswith(("&", "&l", "&lt", "&am"))


def test_edit_is_a_single_message() -> None:
    huge = "\n\n".join("para " * 500 for _ in range(80))
    messages = render.render_reply(Reply(huge, choices=(Choice("ok", "x:1"),)), single=True)
    assert len(messages) == 1 and len(messages[0].blocks) <= render.MAX_BLOCKS
    assert all_buttons(messages)[0]["value"] == "x:1"


def test_buttons_alone_still_have_a_fallback_text() -> None:
    [message] = render.render_reply(Reply("", choices=(Choice("A & B", "x:1"),)))
    assert message.text == "A &amp; B" and [b["type"] for b in message.blocks] == ["actions"]
    assert render.render_reply(Reply("   ")) == []


# ---------------------------------------------------------------------- inbound


def test_slack_text_is_read_as_typed() -> None:
    text = (
        "<@UBOT> ask &lt;b&gt; &amp; <@U2|amina> in <#C1|general> "
        "<https://ifrc.org|ifrc.org> <!here> <https://a.b|docs>"
    )
    assert (
        inbound.plain_text(text, "UBOT")
        == "ask <b> & @amina in #general ifrc.org @here docs (https://a.b)"
    )


def test_direct_message_event() -> None:
    incoming, where = inbound.from_event(fixture("event_dm.json"), "UBOT") or (None, None)
    assert incoming is not None and where is not None
    assert (
        incoming.person.key == "slack:U0001"
        and incoming.chat.chat_id == "D0001"
        and incoming.chat.private
    )
    assert (
        incoming.event_id == "Ev0001DM"
        and incoming.text == "When was the migration policy adopted?"
    )
    assert where.im and where.thread_ts is None and not where.private_by_default


def test_mention_event_is_answered_in_its_thread() -> None:
    incoming, where = inbound.from_event(fixture("event_mention.json"), "UBOT") or (None, None)
    assert incoming is not None and where is not None
    assert (
        incoming.text == "who chairs the migration reference group?" and not incoming.chat.private
    )
    assert where.thread_ts == "1700000200.000200"


def test_events_not_for_the_bot_are_ignored() -> None:
    own = fixture("event_dm.json")
    own["event"]["user"] = "UBOT"
    channel_message = fixture("event_dm.json")
    channel_message["event"]["channel_type"] = "channel"
    only_mention = fixture("event_mention.json")
    only_mention["event"]["text"] = "<@UBOT>"
    for body in (
        own,
        channel_message,
        only_mention,
        fixture("event_bot_message.json"),
        fixture("event_message_changed.json"),
    ):
        assert inbound.from_event(body, "UBOT") is None


def test_slash_command_becomes_a_core_command() -> None:
    body = {k: str(v) for k, v in fixture("command.json").items()}
    incoming, where = inbound.from_command(body) or (None, None)
    assert incoming is not None and where is not None
    assert incoming.text == "/ask when was the migration policy adopted"
    assert incoming.event_id == "cmd:1700000500.0001.trigger"
    assert (
        where.command and where.private_by_default and where.response_url == "REPLACED-BY-THE-TEST"
    )
    assert (
        inbound.command_text("  ") == "/help"
        and inbound.command_text("results 12") == "/results 12"
    )


def test_button_press_becomes_an_action_with_its_origin() -> None:
    body = fixture("block_actions.json")
    body["container"].update(message_ts="1700000900.000001", channel_id="C0001", is_ephemeral=True)
    body["channel"]["id"] = "C0001"
    body["trigger_id"] = "trig-1"
    body["actions"][0].update(value="poll:7:1", text={"type": "plain_text", "text": "No"})
    incoming, where = inbound.from_action(body) or (None, None)
    assert incoming is not None and where is not None
    assert incoming.action == "poll:7:1" and incoming.origin == "C0001:1700000900.000001"
    assert incoming.event_id == "act:trig-1" and incoming.text == ""
    assert where.origin_ephemeral and where.private_by_default
    assert inbound.parse_origin(incoming.origin) == ("C0001", "1700000900.000001")


# ---------------------------------------------------------------------- right-to-left markers

ZWSP = "\u200b"


def _word_char(ch: str) -> bool:
    """A character that glues to a marker: Slack then shows the "*" or "_" literally."""
    import unicodedata

    from bot import bidi

    return unicodedata.category(ch)[0] in "LNM" or ch in bidi.MARKS


def marker_problems(mrkdwn: str) -> list[str]:
    """Every bold or italic marker of rendered mrkdwn that is not at a word boundary:
    an opening marker must not follow a letter, digit or mark (nor open onto a space),
    a closing one must not be followed by one (nor close after a space). A zero-width
    space may sit outside a marker, never inside: inside, it would not separate it."""
    problems = []
    for marker in "*_":
        positions = [m.start() for m in re.finditer(re.escape(marker), mrkdwn)]
        assert len(positions) % 2 == 0, mrkdwn  # no literal markers in these texts
        for n, pos in enumerate(positions):
            before = mrkdwn[pos - 1] if pos else " "
            after = mrkdwn[pos + 1] if pos + 1 < len(mrkdwn) else " "
            outside, inside = (before, after) if n % 2 == 0 else (after, before)
            if _word_char(outside) or inside.isspace() or inside == ZWSP:
                problems.append(f"{marker} at {pos}: {mrkdwn[max(0, pos - 12) : pos + 12]!r}")
    return problems


def test_arabic_bold_touching_letters_gets_a_zero_width_space_outside_the_markers() -> None:
    cases = {
        "و**7 تحولات** مهمة": "و\u200b*",  # the conjunction glued before
        "**الجمعية**ها": "*\u200bها",  # a suffix glued after
        "ال**مجلس**": "ال\u200b*",
        "و**مؤقتًا** _فقط_": "و\u200b*",
        "**مجلس المندوبين**، ثم": "*، ثم",  # punctuation is a boundary: nothing added
    }
    for text, expected in cases.items():
        (section,) = render.sections("نص " + text)
        assert expected in section, (text, section)
        assert marker_problems(section) == [], section


def test_an_arabic_line_starting_in_bold_keeps_its_marker_first() -> None:
    """The right-to-left mark goes inside the opening marker: "*\u200f…*", never
    "\u200f*…*", where the mark would glue to the marker."""
    (section,) = render.sections("**الاتحاد الدولي** لجمعيات (IFRC)\n- **الأول**: نص")
    assert section.startswith("*\u200fالاتحاد الدولي*")
    assert "• *\u200fالأول*" in section
    assert marker_problems(section) == []


def test_bold_latin_inside_arabic_keeps_its_markers_outside_the_isolates() -> None:
    (section,) = render.sections("سياسة **IFRC** الجديدة و**CoD**")
    assert "*\u2068IFRC\u2069*" in section
    assert "و\u200b*\u2068CoD\u2069*" in section
    assert marker_problems(section) == []


def test_every_shipped_arabic_text_renders_its_markers_at_word_boundaries(
    shipped_kb: KnowledgeBase,
) -> None:
    texts = [
        e.translations["ar"].answer for e in shipped_kb.entries.values() if "ar" in e.translations
    ]
    texts += [e.in_language("ar").summary for e in shipped_kb.events]
    texts = [t for t in texts if "**" in t or "_" in t]
    assert len(texts) > 50
    problems = [p for t in texts for s in render.sections(t) for p in marker_problems(s)]
    assert problems == [], problems[:5]
    glued = [s for t in texts for s in render.sections(t) if ZWSP in s]
    assert glued, "some shipped Arabic bold touches a letter: the case this guards"
