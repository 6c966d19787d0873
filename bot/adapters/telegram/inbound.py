"""Telegram Update -> core Incoming, as one pure function.

Private chats: every text goes to the core. Groups: only what is addressed to the bot
(a command, a mention of it, a reply to one of its messages), so the bot never answers
people talking among themselves. A button press carries the pressed message as
``origin`` ("<chat_id>:<message_id>") so a reply can edit it.
"""

from __future__ import annotations

from telegram import Message, MessageEntity, Update, User
from telegram.constants import ChatMemberStatus, ChatType

from bot.messages import Chat, Incoming, Person

PLATFORM = "telegram"
# A bare mention ("@nsbot") asks for the group help.
BARE_MENTION_TEXT = "/help"


def person_of(user: User) -> Person:
    return Person(PLATFORM, str(user.id), user.full_name, language=user.language_code)


def to_incoming(update: Update, bot_id: int, bot_username: str) -> Incoming | None:
    """The core message for an update, or None when the update is not for the bot."""
    event_id = str(update.update_id)
    query = update.callback_query
    if query is not None:
        if query.data is None or query.from_user.is_bot:
            return None
        pressed = query.message
        if pressed is None:  # a button on an inline-mode message: no chat to answer in
            chat, origin = Chat(str(query.from_user.id), private=True), None
        else:
            chat = Chat(str(pressed.chat.id), private=pressed.chat.type == ChatType.PRIVATE)
            origin = f"{pressed.chat.id}:{pressed.message_id}"
        return Incoming(
            person_of(query.from_user), chat, action=query.data, event_id=event_id, origin=origin
        )

    message = update.message  # edited messages, channel posts, reactions...: not for the core
    if (
        message is None
        or message.text is None
        or message.from_user is None
        or message.from_user.is_bot
    ):
        return None
    private = message.chat.type == ChatType.PRIVATE
    text = message.text if private else addressed_text(message, bot_id, bot_username)
    if text is None:
        return None
    replied = message.reply_to_message
    mine = replied is not None and replied.from_user is not None and replied.from_user.id == bot_id
    return Incoming(
        person_of(message.from_user),
        Chat(str(message.chat.id), private=private),
        text=text,
        event_id=event_id,
        # A reply to one of the bot's messages (in a desk group: to a relayed question).
        reply_to=f"{message.chat.id}:{replied.message_id}" if mine and replied else None,
    )


def addressed_text(message: Message, bot_id: int, bot_username: str) -> str | None:
    """In a group: the text meant for the bot (mentions of it removed), else None."""
    text = message.text or ""
    name = bot_username.lower()
    mentions: list[MessageEntity] = []
    for entity in message.entities:
        value = _span(text, entity.offset, entity.length)
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            _, _, target = value.partition("@")
            # "/ask@other_bot" is for another bot in the group.
            return text if not target or target.lower() == name else None
        if (entity.type == MessageEntity.MENTION and value.lower() == f"@{name}") or (
            entity.type == MessageEntity.TEXT_MENTION
            and entity.user is not None
            and entity.user.id == bot_id
        ):
            mentions.append(entity)
    if mentions:
        for entity in sorted(mentions, key=lambda e: e.offset, reverse=True):
            text = _cut(text, entity.offset, entity.length)
        return " ".join(text.split()) or BARE_MENTION_TEXT
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return text
    return None


# Telegram entity offsets count UTF-16 code units, not Python characters.
def _span(text: str, offset: int, length: int) -> str:
    raw = text.encode("utf-16-le")
    return raw[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


def _cut(text: str, offset: int, length: int) -> str:
    raw = text.encode("utf-16-le")
    return (raw[: offset * 2] + raw[(offset + length) * 2 :]).decode("utf-16-le", errors="replace")


def blocked_by(update: Update) -> str | None:
    """The user id of someone who just blocked the bot in their private chat, else None.

    Telegram reports it as a ``my_chat_member`` update whose new status is "kicked".
    """
    member = update.my_chat_member
    if member is None or member.chat.type != ChatType.PRIVATE:
        return None
    if member.new_chat_member.status != ChatMemberStatus.BANNED:  # "kicked"
        return None
    return str(member.from_user.id)
