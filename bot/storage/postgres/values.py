"""Values on their way to and from PostgreSQL, shared by the storage and its mixins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def clean(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL, which a hostile message can carry: U+FFFD instead."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def clean_args(args: Sequence[Any]) -> list[Any]:
    return [clean(a) for a in args]


def count(status: str) -> int:
    """Rows affected, from a command tag ("UPDATE 3", "INSERT 0 1")."""
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0
