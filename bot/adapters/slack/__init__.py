"""The Slack adapter: :mod:`.render` (replies as Block Kit), :mod:`.inbound` (payloads
as core messages) and :mod:`.adapter` (the slack-bolt wiring and delivery)."""

from bot.adapters.slack.adapter import SlackAdapter

__all__ = ["SlackAdapter"]
