"""Settings, read from environment variables (and optionally a ``KEY=value`` file).

Every setting has a working default so ``nsbot chat`` runs on a fresh machine with the
shipped knowledge base and a SQLite file. Secrets are kept out of ``repr`` so they
never reach a log line by accident.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from bot import feedback
from bot.errors import ConfigError

_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_knowledge_dir() -> Path:
    """The knowledge folder that ships with the bot.

    In a source checkout (or an editable install) it is ``knowledge/`` at the repo's
    top; a wheel carries a copy under ``bot/_shipped/``.
    """
    checkout = _PACKAGE_DIR.parent / "knowledge"
    if (checkout.parent / "faq.yaml").is_file() and checkout.is_dir():
        return checkout
    return _PACKAGE_DIR / "_shipped" / "knowledge"


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/nsbot/nsbot.sqlite3`` (``~/.local/share/...``), else the working dir."""
    base = os.environ.get("XDG_DATA_HOME") or (
        str(Path.home() / ".local" / "share") if Path.home().is_dir() else ""
    )
    if base:
        return Path(base) / "nsbot" / "nsbot.sqlite3"
    return Path.cwd() / "nsbot.sqlite3"


def _parse_env_file(path: Path) -> dict[str, str]:
    """Read a ``.env`` file with python-dotenv's parser (quotes, ``export``, trailing
    ``# comments``), refusing what it would silently skip or stretch over lines."""
    # Imported here: the package brings logging and more, and most starts have no file.
    from dotenv.parser import parse_stream

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read settings file {path}: {exc.strerror}") from exc
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        raw = binding.original.string
        # dotenv counts a binding from the blank lines before it: point at its own line.
        line = binding.original.line + raw[: len(raw) - len(raw.lstrip())].count("\n")
        where = f"{path}:{line}"
        first = raw.strip().splitlines()[0] if raw.strip() else ""
        if binding.error:
            raise ConfigError(f"{where}: expected KEY=value, got {first!r}")
        if binding.key is None:
            continue  # a blank line or a comment
        if binding.value is None:
            raise ConfigError(f"{where}: {binding.key} has no '=value'")
        if "\n" in binding.value:
            # A quote opened and closed lines later: always a typo in a settings file.
            raise ConfigError(f"{where}: the quote in {first!r} is not closed on the same line")
        values[binding.key] = binding.value
    return values


def _port_number(name: str, text: str, lowest: int) -> int:
    """ASCII digits, ``lowest``-65535. Not :meth:`str.isdigit` then :func:`int`: "²" is a
    digit to the one and not a number to the other, and "٨٠" would pass as 80."""
    if not (text.isascii() and text.isdigit() and len(text) <= 5) or not (
        lowest <= int(text) <= 65535
    ):
        raise ConfigError(f"{name} must be a port number ({lowest}-65535), not {text!r}")
    return int(text)


def _port(env: Mapping[str, str], name: str) -> int | None:
    text = env.get(name, "").strip()
    return _port_number(name, text, 1) if text else None


def _flag(env: Mapping[str, str], name: str) -> bool:
    text = env.get(name, "").strip().lower()
    if text in {"", "0", "false", "no", "off"}:
        return False
    if text in {"1", "true", "yes", "on"}:
        return True
    raise ConfigError(f"{name} must be 1 or 0, not {text!r}")


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.1 <= value <= 3600:
        raise ConfigError(f"{name} must be a number of seconds between 0.1 and 3600, not {text!r}")
    return value


DEFAULT_LEASE_SECONDS = 30.0


def _lease_seconds(env: Mapping[str, str]) -> float:
    """``NSBOT_LEASE_SECONDS``: from 3 s (a renewal every second) to 10 minutes."""
    text = env.get("NSBOT_LEASE_SECONDS", "").strip()
    if not text:
        return DEFAULT_LEASE_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 3 <= value <= 600:
        raise ConfigError(
            f"NSBOT_LEASE_SECONDS must be a number of seconds between 3 and 600, not {text!r}"
        )
    return value


# Platforms a question desk can be on, and what their chat ids look like.
_DESK_CHATS = {"slack": re.compile(r"[CG][A-Z0-9]{2,}"), "telegram": re.compile(r"-\d+")}
DEFAULT_HANDOFF_REMIND = timedelta(hours=24)
# Votes on answers and their comments (free text) are deleted after this; the figures of
# /stats and the curators' review only need recent ones.
DEFAULT_FEEDBACK_RETENTION = timedelta(days=180)
_DURATION = re.compile(r"(\d+)\s*([smhd]?)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 1}


@dataclass(frozen=True)
class Desk:
    """Where questions the bot cannot answer go: a Slack channel or a Telegram group
    of the secretariat (``NSBOT_HANDOFF=slack:C0123ABCD`` or ``telegram:-100123``)."""

    platform: str
    chat: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.chat}"


def parse_desk(value: str) -> Desk | None:
    """``NSBOT_HANDOFF``'s value as a :class:`Desk`; None when empty (handoff off)."""
    value = value.strip()
    if not value:
        return None
    platform, _, chat = value.partition(":")
    pattern = _DESK_CHATS.get(platform.strip().lower())
    if pattern is None or not pattern.fullmatch(chat.strip()):
        raise ConfigError(
            f"NSBOT_HANDOFF: {value!r} is not slack:<channel id> or telegram:<group id> "
            "(examples: slack:C0123ABCD, telegram:-1001234567890)"
        )
    return Desk(platform.strip().lower(), chat.strip())


def parse_duration(name: str, value: str, default: timedelta) -> timedelta:
    """ "24h", "90m", "2d" or seconds; ``default`` when empty."""
    value = value.strip().lower()
    if not value:
        return default
    m = _DURATION.fullmatch(value)
    if m is None or int(m.group(1)) == 0:
        raise ConfigError(f"{name} must be a duration such as 24h, 90m or 2d, not {value!r}")
    return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])


def parse_feedback_retention(value: str) -> timedelta:
    """``NSBOT_FEEDBACK_RETENTION``: at least the days a vote can still be cast
    (:data:`bot.feedback.WINDOW`). A vote deleted sooner could be cast again on the
    same answer and be counted twice."""
    kept = parse_duration("NSBOT_FEEDBACK_RETENTION", value, DEFAULT_FEEDBACK_RETENTION)
    if kept < feedback.WINDOW:
        raise ConfigError(
            f"NSBOT_FEEDBACK_RETENTION must be at least {feedback.WINDOW.days}d (an answer "
            f"can be voted on for {feedback.WINDOW.days} days), not {value.strip()!r}"
        )
    return kept


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Build it with :meth:`from_env`; tests build it directly."""

    db_path: Path = field(default_factory=default_db_path)
    # postgresql://... selects PostgreSQL instead of the SQLite file (bot/storage/postgres);
    # it may carry a password, so it is kept out of repr.
    database_url: str = field(default="", repr=False)
    knowledge_dir: Path = field(default_factory=shipped_knowledge_dir)
    faq_path: Path | None = None  # default: faq.yaml beside (or inside) the knowledge folder
    consultations_path: Path | None = None  # default: <knowledge>/consultations
    coordinators: frozenset[str] = frozenset()  # "platform:user_id"
    hash_key: str = field(default="", repr=False)  # keys pseudonyms of anonymous respondents
    log_level: str = "INFO"
    cache_dir: Path | None = None  # default: $XDG_CACHE_HOME/nsbot (bot/index_cache.py)
    log_format: str = "text"  # or "json": one object a line (bot/logs.py)
    # /healthz and /readyz on a port of their own (bot/health.py); None: only on the
    # Telegram webhook or Slack HTTP port, when one runs.
    health_port: int | None = None
    health_host: str = "0.0.0.0"
    watch: bool = False  # reload the content when its files change (bot/reload.py)
    watch_interval: float = 2.0  # seconds between two looks at the files
    handoff: Desk | None = None  # NSBOT_HANDOFF: the secretariat's desk; None: off
    handoff_remind: timedelta = DEFAULT_HANDOFF_REMIND  # NSBOT_HANDOFF_REMIND
    feedback_retention: timedelta = DEFAULT_FEEDBACK_RETENTION  # NSBOT_FEEDBACK_RETENTION
    # How long a replica's claims (deliveries, owed replies, relayed messages, the polling
    # role, a poll's closing) outlive it; renewed every third of it. Shorter: a dead
    # replica's work is taken over sooner, for more database writes (NSBOT_LEASE_SECONDS).
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    # Platform settings stay as raw strings: each adapter reads its own.
    platform: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    @property
    def renew_every(self) -> float:
        """How often a live replica renews its claims and looks for a dead one's."""
        return self.lease_seconds / 3

    @property
    def faq_file(self) -> Path:
        if self.faq_path is not None:
            return self.faq_path
        inside = self.knowledge_dir / "faq.yaml"
        return inside if inside.is_file() else self.knowledge_dir.parent / "faq.yaml"

    @property
    def consultations_dir(self) -> Path:
        return self.consultations_path or self.knowledge_dir / "consultations"

    def is_coordinator(self, person_key: str) -> bool:
        return person_key in self.coordinators

    def get(self, name: str, default: str = "") -> str:
        """A platform setting (``TELEGRAM_BOT_TOKEN``...), empty when unset."""
        return self.platform.get(name, default)

    def port(self, name: str, default: int, *, lowest: int = 0) -> int:
        """A port-number setting: ASCII digits, ``lowest``-65535 (0: any free port)."""
        text = self.get(name).strip()
        return _port_number(name, text, lowest) if text else default

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        if env.get("NSBOT_ENV_FILE"):
            # The file fills in what the environment does not set: the environment wins.
            env = {**_parse_env_file(Path(env["NSBOT_ENV_FILE"])), **env}
        coordinators = frozenset(
            item.strip() for item in env.get("NSBOT_COORDINATORS", "").split(",") if item.strip()
        )
        for item in coordinators:
            platform, sep, user = item.partition(":")
            if not sep or not platform or not user:
                raise ConfigError(
                    f"NSBOT_COORDINATORS: {item!r} is not platform:user_id "
                    "(example: telegram:123456,slack:U0123ABC)"
                )
        level = env.get("NSBOT_LOG_LEVEL", "INFO").upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(
                f"NSBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}"
            )
        log_format = env.get("NSBOT_LOG_FORMAT", "text").strip().lower() or "text"
        if log_format not in {"text", "json"}:
            raise ConfigError(f"NSBOT_LOG_FORMAT must be text or json, not {log_format!r}")
        database_url = env.get("NSBOT_DATABASE_URL", "").strip()
        if database_url and urlsplit(database_url).scheme not in {"postgresql", "postgres"}:
            raise ConfigError(
                "NSBOT_DATABASE_URL must be a PostgreSQL URL (postgresql://user@host:5432/db); "
                "leave it unset to use the SQLite file NSBOT_DB"
            )
        knowledge = (
            Path(env["NSBOT_KNOWLEDGE"]) if env.get("NSBOT_KNOWLEDGE") else shipped_knowledge_dir()
        )
        return cls(
            db_path=Path(env["NSBOT_DB"]) if env.get("NSBOT_DB") else default_db_path(),
            database_url=database_url,
            knowledge_dir=knowledge,
            faq_path=Path(env["NSBOT_FAQ"]) if env.get("NSBOT_FAQ") else None,
            consultations_path=(
                Path(env["NSBOT_CONSULTATIONS"]) if env.get("NSBOT_CONSULTATIONS") else None
            ),
            coordinators=coordinators,
            hash_key=env.get("NSBOT_HASH_KEY", ""),
            log_level=level,
            cache_dir=Path(env["NSBOT_CACHE_DIR"]) if env.get("NSBOT_CACHE_DIR") else None,
            log_format=log_format,
            health_port=_port(env, "NSBOT_HEALTH_PORT"),
            health_host=env.get("NSBOT_HEALTH_HOST", "").strip() or "0.0.0.0",
            watch=_flag(env, "NSBOT_WATCH"),
            watch_interval=_seconds(env, "NSBOT_WATCH_INTERVAL", 2.0),
            handoff=parse_desk(env.get("NSBOT_HANDOFF", "")),
            handoff_remind=parse_duration(
                "NSBOT_HANDOFF_REMIND", env.get("NSBOT_HANDOFF_REMIND", ""), DEFAULT_HANDOFF_REMIND
            ),
            feedback_retention=parse_feedback_retention(env.get("NSBOT_FEEDBACK_RETENTION", "")),
            lease_seconds=_lease_seconds(env),
            platform={k: v for k, v in env.items() if k.startswith(("TELEGRAM_", "SLACK_"))},
        )
