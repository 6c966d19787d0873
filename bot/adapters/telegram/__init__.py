"""Telegram (python-telegram-bot 22): ``TelegramAdapter(core, settings)``.

- :mod:`.inbound`: Update -> Incoming (pure)
- :mod:`.render`: Reply -> Bot API calls (pure)
- :mod:`.adapter`: the Application, polling or webhook, and the Outbox every call goes through
"""

from bot.adapters.telegram.adapter import TelegramAdapter, WebhookConfig

__all__ = ["TelegramAdapter", "WebhookConfig"]
