"""Platform-neutral message types: what adapters hand to the core and what it hands back.

Adapters translate platform payloads to :class:`Incoming` and render :class:`Reply`;
nothing here knows a platform. Anything only one platform has stays in its adapter.
"""

from __future__ import annotations

from dataclasses import dataclass

# Telegram's callback_data is 1-64 *bytes*; Slack's action values are larger. Keeping
# every action within the strictest limit lets adapters pass it through untouched.
MAX_ACTION_BYTES = 64


@dataclass(frozen=True)
class Person:
    """Who sent a message. ``user_id`` is the platform's id, never shown to others."""

    platform: str
    user_id: str
    display_name: str = ""
    language: str | None = None  # the platform's hint (e.g. Telegram's language_code)
    timezone: str | None = None  # the platform's hint (e.g. Slack's tz), IANA name

    @property
    def key(self) -> str:
        """Stable identity across the bot: ``platform:user_id``."""
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Chat:
    """Where a message was sent. Group chats get fewer, more explicit replies."""

    chat_id: str
    private: bool = True


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: typed text, or pressed a button (``action``).

    ``event_id`` is the platform's own id for the delivery (Telegram update_id, Slack
    event_id...): the core remembers it durably so a re-delivery changes nothing.
    ``origin`` is the adapter's opaque reference to the message whose button was
    pressed, so a reply can edit that message (``Reply.edit``). ``reply_to`` is the
    same kind of reference to the bot's message this one answers (a reply in a Slack
    thread the bot started, a Telegram reply to one of its messages): how a desk
    member's answer finds the question it answers (:mod:`bot.handlers.handoff`).
    """

    person: Person
    chat: Chat
    text: str = ""
    action: str | None = None
    event_id: str | None = None
    origin: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True)
class Choice:
    """A button. ``action`` is a short opaque id the core resolves; never a label."""

    label: str
    action: str

    def __post_init__(self) -> None:
        size = len(self.action.encode("utf-8"))
        if not self.action or size > MAX_ACTION_BYTES or not self.action.isascii():
            raise ValueError(
                f"button action must be 1-{MAX_ACTION_BYTES} ASCII bytes: {self.action!r}"
            )


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply (a CSV export, an .ics calendar)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    """One message the core wants shown.

    ``text`` is in the neutral markup of :mod:`bot.markup`.
    ``edit`` is an ``Incoming.origin``: replace that message (the one whose button was
    pressed) instead of sending a new one, e.g. to show the chosen answer and remove
    its buttons. ``key`` gives the message a durable logical name ("poll-12"): the
    adapter edits the message it sent under that key before, or sends a new one and
    remembers its reference (``Storage.set_message_ref``); live poll tallies use it.
    ``notice`` marks a short acknowledgement (a toast for a button press where the
    platform has one). ``private`` asks for a reply only the asker sees, where a
    platform can do that in a shared channel. ``chat`` sends elsewhere than the
    conversation the incoming message came from (a poll posted to a group).
    ``expects`` says what typed answer the reply waits for, for adapters that must
    tell a typed answer from a button choice. ``thread`` is a message reference (as in
    ``Incoming.origin``) this reply answers: Slack posts it in that message's thread,
    Telegram as a reply to it. ``footer`` is one last row of small buttons side by
    side, after ``choices`` whatever ``columns`` says (👍 / 👎 under an answer).
    """

    text: str
    choices: tuple[Choice, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    edit: str | None = None
    key: str | None = None
    notice: bool = False
    private: bool = False
    chat: Chat | None = None
    columns: int = 1  # how many buttons per row the adapter should aim for
    # What typed input the reply waits for ("number", "text"), when not a button:
    # the terminal then reads "2" as an answer, not as "press button 2".
    expects: str | None = None
    thread: str | None = None
    footer: tuple[Choice, ...] = ()

    @property
    def buttons(self) -> tuple[Choice, ...]:
        """Every button of the reply: ``choices``, then the ``footer`` row."""
        return self.choices + self.footer
