"""Slack payloads as core messages: pure functions, no network.

Each function returns the :class:`Incoming` for the core and a :class:`Where` that
remembers how to answer (channel, thread, the interaction's response_url), or None for
what the bot must ignore: its own messages, other bots', edits, deletions, joins.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from bot.messages import Chat, Incoming, Person

PLATFORM = "slack"

# Message subtypes that are a person saying something; every other subtype (edits,
# deletions, joins, bot_message...) is not addressed to the bot.
_SPOKEN_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})

_TOKEN_RE = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True)
class Where:
    """How to answer one incoming payload.

    ``command``: a slash command, whose answers only the asker sees unless a reply is
    meant for the channel (a poll). ``origin_ephemeral``: the pressed button was on an
    ephemeral message, which only its response_url can replace, and whose follow-ups
    stay ephemeral too.
    """

    channel: str
    user: str
    im: bool
    thread_ts: str | None = None
    response_url: str | None = None
    origin: str | None = None
    origin_ephemeral: bool = False
    command: bool = False

    @property
    def private_by_default(self) -> bool:
        return self.command or self.origin_ephemeral


def origin_of(channel: str, ts: str) -> str:
    return f"{channel}:{ts}"


def pack(incoming: Incoming, where: Where) -> str:
    """An event as kept in the inbox until it is handled (see :func:`unpack`)."""
    return json.dumps({"incoming": asdict(incoming), "where": asdict(where)})


def unpack(payload: str) -> tuple[Incoming, Where]:
    """An event kept by :func:`pack`, to be handled after a restart."""
    data = json.loads(payload)
    fields = dict(data["incoming"])
    person, chat = Person(**fields.pop("person")), Chat(**fields.pop("chat"))
    return Incoming(person=person, chat=chat, **fields), Where(**data["where"])


def parse_origin(origin: str) -> tuple[str, str] | None:
    channel, sep, ts = origin.partition(":")
    return (channel, ts) if sep and channel and ts else None


def is_im(channel: str) -> bool:
    """Direct-message conversation ids start with D."""
    return channel.startswith("D")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _bare(url: str) -> str:
    return re.sub(r"^(?:https?://|mailto:)", "", url).rstrip("/")


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack's message text as what the person typed: mentions of the bot removed,
    ``<@U1>``/``<#C1|name>``/``<url|label>`` as readable text, entities decoded."""

    def token(m: re.Match[str]) -> str:
        body = m.group(1)
        target, _, label = body.partition("|")
        if target.startswith("@"):
            if bot_user_id and target[1:] == bot_user_id:
                return ""
            return "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            # <!channel>, <!here>, <!subteam^S1|@team>, <!date^...|fallback>
            return label or "@" + target[1:].split("^")[0]
        if not label or _bare(label) == _bare(target):
            return _unescape(label or target)
        return f"{_unescape(label)} ({_unescape(target)})"

    return " ".join(_unescape(_TOKEN_RE.sub(token, text)).split())


def _person(user: str, name: str = "") -> Person:
    return Person(PLATFORM, user, display_name=name)


def from_event(
    body: dict[str, Any], bot_user_id: str | None, desk: str | None = None
) -> tuple[Incoming, Where] | None:
    """A direct message or an @mention; None for anything the bot should not answer.

    ``desk`` is the channel of the secretariat's desk (``NSBOT_HANDOFF``): there, a
    reply in a thread is a message for the core too, with ``reply_to`` naming the
    thread's first message (a question the bot posted, or not: the core decides).
    """
    event = body.get("event") or {}
    kind = event.get("type")
    user = event.get("user")
    channel = event.get("channel")
    if kind not in ("message", "app_mention") or not user or not channel:
        return None
    if event.get("bot_id") or event.get("subtype") not in _SPOKEN_SUBTYPES or event.get("hidden"):
        return None
    if bot_user_id and user == bot_user_id:
        return None
    thread_ts = event.get("thread_ts")
    in_desk_thread = (
        bool(desk) and channel == desk and bool(thread_ts) and thread_ts != event.get("ts")
    )
    if in_desk_thread:
        if kind != "message":
            return None  # a mention in a desk thread also arrives as its message event
        return _desk_reply(body, event, bot_user_id)
    if kind == "message" and event.get("channel_type") != "im":
        return None  # channel messages reach the bot only as app_mention
    text = plain_text(event.get("text") or "", bot_user_id)
    if not text:
        return None
    mention = kind == "app_mention"
    # A mention is answered in a thread; a DM only when the person wrote in one.
    thread = event.get("thread_ts") or (event.get("ts") if mention else None)
    im = not mention and is_im(channel)
    incoming = Incoming(
        person=_person(user),
        chat=Chat(channel, private=im),
        text=text,
        event_id=body.get("event_id") or f"ev:{channel}:{event.get('ts')}",
    )
    return incoming, Where(channel=channel, user=user, im=im, thread_ts=thread)


def _desk_reply(
    body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None
) -> tuple[Incoming, Where] | None:
    channel, thread_ts, user = event["channel"], event["thread_ts"], event["user"]
    text = plain_text(event.get("text") or "", bot_user_id)
    if not text:
        return None
    incoming = Incoming(
        person=_person(user),
        chat=Chat(channel, private=False),
        text=text,
        event_id=body.get("event_id") or f"ev:{channel}:{event.get('ts')}",
        reply_to=origin_of(channel, thread_ts),
    )
    return incoming, Where(channel=channel, user=user, im=False, thread_ts=thread_ts)


def command_text(text: str) -> str:
    """``/nsbot ask when...`` as the core command ``/ask when...``; bare ``/nsbot`` is help."""
    words = text.strip()
    if not words:
        return "/help"
    return "/" + words.lstrip("/")


def from_command(body: dict[str, Any]) -> tuple[Incoming, Where] | None:
    """A slash command. Slack gives it no event id; its trigger_id is unique per use."""
    user = body.get("user_id")
    channel = body.get("channel_id")
    if not user or not channel:
        return None
    im = is_im(channel) or body.get("channel_name") == "directmessage"
    text = command_text(plain_text(body.get("text") or ""))
    stable = body.get("trigger_id") or f"{user}:{channel}:{body.get('text', '')}"
    incoming = Incoming(
        person=_person(user, body.get("user_name") or ""),
        chat=Chat(channel, private=im),
        text=text,
        event_id=f"cmd:{stable}",
    )
    where = Where(
        channel=channel, user=user, im=im, response_url=body.get("response_url"), command=True
    )
    return incoming, where


def from_action(body: dict[str, Any]) -> tuple[Incoming, Where] | None:
    """A button press on one of the bot's messages: the core gets the button's value."""
    if body.get("type") != "block_actions":
        return None
    actions = body.get("actions") or []
    user = (body.get("user") or {}).get("id")
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    ts = container.get("message_ts") or message.get("ts")
    if not actions or not user or not channel or not ts:
        return None  # e.g. a button in a modal or on the App Home
    action = actions[0]
    value = action.get("value")
    if not value:
        return None
    im = is_im(channel)
    origin = origin_of(channel, ts)
    # Slack does not re-send interactions the way it retries events, but a double
    # delivery must still count once: trigger_id is unique per press.
    stable = body.get("trigger_id") or f"{user}:{action.get('action_ts')}"
    incoming = Incoming(
        person=_person(user, (body.get("user") or {}).get("name") or ""),
        chat=Chat(channel, private=im),
        action=value,  # the label is not sent on: a press means its action, whatever it said
        event_id=f"act:{stable}",
        origin=origin,
    )
    where = Where(
        channel=channel,
        user=user,
        im=im,
        thread_ts=message.get("thread_ts"),
        response_url=body.get("response_url"),
        origin=origin,
        origin_ephemeral=bool(container.get("is_ephemeral")),
    )
    return incoming, where
