"""Settings from the environment and from a ``.env`` file (python-dotenv's syntax)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import open_storage
from bot.config import Settings
from bot.errors import ConfigError
from bot.pseudonym import Pseudonyms
from bot.storage import SqliteStorage
from bot.storage.postgres import PostgresStorage


def settings_from_file(tmp_path: Path, text: str) -> Settings:
    env_file = tmp_path / ".env"
    env_file.write_text(text, encoding="utf-8")
    return Settings.from_env({"NSBOT_ENV_FILE": str(env_file)})


def test_env_file_trailing_comment_is_not_part_of_the_value(tmp_path: Path) -> None:
    settings = settings_from_file(
        tmp_path,
        "# the bot's settings\n"
        "TELEGRAM_BOT_TOKEN=123:abc  # from BotFather\n"
        "export SLACK_BOT_TOKEN='xoxb-1 # not a comment inside quotes'\n"
        'NSBOT_LOG_LEVEL="debug"\n',
    )
    assert settings.get("TELEGRAM_BOT_TOKEN") == "123:abc"
    assert settings.get("SLACK_BOT_TOKEN") == "xoxb-1 # not a comment inside quotes"
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("text", "line", "hint"),
    [
        ("A=1\nTELEGRAM_BOT_TOKEN=\"123:abc'\n", 2, "expected KEY=value"),
        ("TELEGRAM_BOT_TOKEN='123:abc\nSLACK_BOT_TOKEN=x'\n", 1, "not closed on the same line"),
        ("A=1\n\nJUSTAWORD\n", 3, "has no '=value'"),
    ],
)
def test_env_file_mistakes_name_file_and_line(
    tmp_path: Path, text: str, line: int, hint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_file(tmp_path, text)
    assert f".env:{line}:" in str(caught.value)
    assert hint in str(caught.value)


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TELEGRAM_BOT_TOKEN=from-file\nSLACK_BOT_TOKEN=xoxb-file\n")
    settings = Settings.from_env(
        {"NSBOT_ENV_FILE": str(env_file), "TELEGRAM_BOT_TOKEN": "from-env"}
    )
    assert settings.get("TELEGRAM_BOT_TOKEN") == "from-env"
    assert settings.get("SLACK_BOT_TOKEN") == "xoxb-file"


def test_unreadable_env_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read settings file"):
        Settings.from_env({"NSBOT_ENV_FILE": str(tmp_path / "missing.env")})


@pytest.mark.parametrize("text", ["²", "①", "٨٠", "８０", "-1", "65536", "1e3", " 80 x", "0x50"])
def test_a_port_setting_that_is_not_a_port_number_is_a_config_error(text: str) -> None:
    # "²".isdigit() is True but int("²") raises: the error must be the setting's own.
    settings = Settings(platform={"SLACK_HTTP_PORT": text})
    with pytest.raises(ConfigError, match="SLACK_HTTP_PORT must be a port number"):
        settings.port("SLACK_HTTP_PORT", 3000)


@pytest.mark.parametrize("text", ["²", "①", "٨٠", "0", "65536", "9" * 400])
def test_a_health_port_that_is_not_a_port_number_is_a_config_error(text: str) -> None:
    # Read by Settings.from_env: "²" raised a bare ValueError there, not the setting's error.
    with pytest.raises(ConfigError, match="NSBOT_HEALTH_PORT must be a port number"):
        Settings.from_env({"NSBOT_HEALTH_PORT": text})


def test_a_port_setting_reads_ascii_digits_and_falls_back_to_its_default() -> None:
    settings = Settings(platform={"A_PORT": " 8080 ", "ZERO": "0"})
    assert settings.port("A_PORT", 1) == 8080
    assert settings.port("UNSET", 3000) == 3000
    assert settings.port("ZERO", 1) == 0
    with pytest.raises(ConfigError, match="1-65535"):
        settings.port("ZERO", 1, lowest=1)


def test_operations_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "NSBOT_LOG_FORMAT": "JSON",
            "NSBOT_HEALTH_PORT": "8080",
            "NSBOT_HEALTH_HOST": "127.0.0.1",
            "NSBOT_WATCH": "1",
            "NSBOT_WATCH_INTERVAL": "0.5",
            "NSBOT_LEASE_SECONDS": "12",
        }
    )
    assert settings.lease == timedelta(seconds=12) and settings.renew_every == 4.0
    assert (settings.log_format, settings.health_port, settings.health_host) == (
        "json",
        8080,
        "127.0.0.1",
    )
    assert (settings.watch, settings.watch_interval) == (True, 0.5)
    default = Settings.from_env({})
    assert (default.log_format, default.health_port, default.watch) == ("text", None, False)
    assert default.lease == timedelta(seconds=30)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NSBOT_LOG_FORMAT", "xml"),
        ("NSBOT_HEALTH_PORT", "http"),
        ("NSBOT_HEALTH_PORT", "70000"),
        ("NSBOT_WATCH", "sometimes"),
        ("NSBOT_WATCH_INTERVAL", "0"),
        ("NSBOT_WATCH_INTERVAL", "nan"),
        ("NSBOT_LEASE_SECONDS", "1"),  # renewals every third of a second
        ("NSBOT_LEASE_SECONDS", "soon"),
    ],
)
def test_a_wrong_operations_setting_is_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_a_postgresql_url_selects_postgresql_and_stays_out_of_repr() -> None:
    url = "postgresql://nsbot:pw-123@db.internal:5432/nsbot"
    settings = Settings.from_env({"NSBOT_DATABASE_URL": url})
    assert settings.database_url == url and "pw-123" not in repr(settings)
    storage = open_storage(settings)
    assert isinstance(storage, PostgresStorage) and "pw-123" not in storage.where
    assert isinstance(open_storage(Settings.from_env({})), SqliteStorage)  # the default


def test_a_database_url_that_is_not_postgresql_is_refused() -> None:
    with pytest.raises(ConfigError, match="NSBOT_DATABASE_URL must be a PostgreSQL URL"):
        Settings.from_env({"NSBOT_DATABASE_URL": "mysql://db/nsbot"})


def test_postgresql_needs_a_configured_pseudonym_key() -> None:
    """Replicas would each generate their own key file: anonymous codes would differ."""
    with pytest.raises(ConfigError, match="set NSBOT_HASH_KEY"):
        Pseudonyms(Settings(database_url="postgresql://db/nsbot")).key()
    keyed = Settings(database_url="postgresql://db/nsbot", hash_key="k" * 32)
    assert Pseudonyms(keyed).key() == b"k" * 32
