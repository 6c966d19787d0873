"""Database URLs as they may be shown: never with their password."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")


def is_postgres_url(url: str) -> bool:
    return urlsplit(url).scheme in SCHEMES


def redact(url: str) -> str:
    """The URL with its password (if any) replaced by ``***``, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def scrub(text: str, url: str) -> str:
    """A message (a driver's error) with the URL's password taken out wherever it appears."""
    password = urlsplit(url).password
    if password:
        text = text.replace(url, redact(url)).replace(password, "***")
    return text
