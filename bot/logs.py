"""Where log lines go and how they look: plain text (the default) or, with
``NSBOT_LOG_FORMAT=json``, one JSON object a line for a log collector.

What the bot logs at INFO never holds what people wrote, their names or their user
ids (tests/test_logs.py runs a conversation to check it); a JSON line adds only the
fields a log call passes with ``extra=`` whose values are plain numbers, words or
flags, never an object that could carry more.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# Every attribute a LogRecord has of its own: anything else was passed with extra=.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}
_SAFE = (str, int, float, bool, type(None))


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message"}``, the safe extra fields, and the
    traceback as ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line and isinstance(value, _SAFE):
                line[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(level: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    # httpx logs every request URL at INFO, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if logging.getLevelName(level) > logging.DEBUG:
        # The Slack libraries narrate every retry and socket at INFO; the adapter logs
        # what a deployer needs in one line of its own.
        for name in ("slack_sdk", "slack_bolt"):
            logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger("slack_bolt.AsyncApp").addFilter(_BoltTokenNotice())


class _BoltTokenNotice(logging.Filter):
    """bolt warns that SLACK_BOT_TOKEN from the environment is unused when it is given a
    client, which is how the adapter configures it: not a problem a deployer can fix."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()
