"""YAML loading that remembers line numbers, so validation can point at the exact line.

Curators are not programmers: "faq.yaml:212 [policy-adopted] 'questions' must be a
list" is something they can act on; a Python traceback is not.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.errors import Problem


class LineDict(dict[str, Any]):
    """A mapping from YAML that knows the line it starts on and each key's line."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    line: int = 0
    item_lines: list[int]


# Content files are written by hand: the largest shipped one is a few hundred KB. A
# 50 MB file took over a minute and gigabytes to load; refuse it with a clear message.
MAX_FILE_BYTES = 5_000_000


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text: the content layer parses them itself,
    so "2008-05" and "2022-06-31" get a clear message instead of a silent surprise.
    Aliases (``*name``) are refused: a few lines of them can stand for billions of
    nodes, and hand-written content does not need them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None,
                None,
                f"aliases (*{event.anchor}) are not supported: write the content out",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise yaml.MarkedYAMLError(
                "while reading a mapping",
                node.start_mark,
                f"the key '{key}' appears twice",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_timestamp_as_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(node.value)


# libyaml's parser, where PyYAML was built with it: the same nodes and line marks, about
# ten times faster. Only for the files that ship with the code (UI strings), read at every
# start: libyaml accepts some text the Python parser refuses (a tab inside a value), and
# curators' files must get the same verdict on every machine. Its composer is C, so the
# alias guard above cannot run in it: a file that could hold one (an anchor needs "&")
# takes the Python loader.
_FastLoader: type[Any] | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _FastLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        pass


for _loader in (_Loader, _FastLoader):
    if _loader is not None:
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
        _loader.add_constructor(
            yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence
        )
        _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)


def parse_yaml(text: str, *, shipped: bool = False) -> Any:
    """Parse YAML: line numbers kept, dates as text, aliases refused. ``shipped``: a file
    that comes with the code, which may take the faster parser."""
    if shipped and _FastLoader is not None and "&" not in text:
        try:
            return yaml.load(text, Loader=_FastLoader)
        except yaml.YAMLError:
            pass  # the Python parser words errors the way the messages below expect
    return yaml.load(text, Loader=_Loader)


def load_yaml(
    path: Path, display: str | None = None, *, shipped: bool = False
) -> tuple[Any, list[Problem]]:
    """Parse one file. Returns ``(data, problems)``; data is None when it cannot be read.
    ``shipped``: see :func:`parse_yaml`."""
    name = display or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Problem(
                    name,
                    None,
                    None,
                    f"the file is {size / 1e6:.1f} MB, more than the {MAX_FILE_BYTES / 1e6:.0f} MB "
                    "a content file may have: split it or remove what is not content",
                )
            ]
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(name, None, None, "file not found")]
    except UnicodeDecodeError as exc:
        return None, [Problem(name, None, None, f"not UTF-8 text ({exc.reason}); save it as UTF-8")]
    except OSError as exc:
        return None, [Problem(name, None, None, f"cannot read: {exc.strerror}")]
    try:
        return parse_yaml(text, shipped=shipped), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        lines = text.splitlines()
        hint = _hint(what, lines, mark.line if mark else None, mark.column if mark else 0)
        return None, [Problem(name, line, None, f"YAML syntax error: {what}{hint}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, None, None, f"YAML syntax error: {exc}")]


def display_path(path: Path) -> str:
    """A file's name as a curator can open it: relative to the current folder when it
    is inside it (``knowledge/faq.yaml`` from a checkout), else absolute. Never relative
    to some other folder, which would point at a different copy of the file."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _previous(lines: list[str], index: int) -> str | None:
    """The nearest line above ``index`` that holds something (not blank, not a comment)."""
    for line in reversed(lines[:index]):
        if line.strip() and not line.lstrip().startswith("#"):
            return line
    return None


def _hint(what: str, lines: list[str], index: int | None, column: int) -> str:
    """A plain-words hint for a YAML error, looking at the offending line itself."""
    line = lines[index] if index is not None and 0 <= index < len(lines) else ""
    if "found character '\\t'" in what:
        if line[:column].strip():  # text before the tab: it is inside a value
            return " (a tab inside the text: replace it with a space)"
        return " (use spaces, not tabs, for indentation)"
    if "mapping values are not allowed" in what:
        above = _previous(lines, index) if index is not None else None
        if (
            above is not None
            and _indent(line) > _indent(above)
            and not above.rstrip().endswith(":")
        ):
            key = above.strip().removeprefix("- ").split(":", 1)[0].strip()
            return (
                f" (this line is indented more than the line above it: start it in the same "
                f"column as '{key[:40]}:' above; if it continues that text, quote the text)"
            )
        return " (a text containing ': ' must be put in quotes, or written as a '>-' block)"
    if "expected <block end>" in what:
        return (
            " (this line is not indented like the lines of the list or entry it belongs to: "
            "line it up with them)"
        )
    if "could not find expected ':'" in what:
        return " (check the indentation and that every key ends with ':')"
    if "expected ',' or ']'" in what:
        return " (in a [a, b] list, quote items that contain ? : , or #, or write one '- ' line per item)"
    return ""


def colon_hint(value: Any) -> str:
    """Why a list item meant as text came out as a mapping: ``- mrg chair: who is it``."""
    if isinstance(value, dict) and len(value) == 1:
        key, inner = next(iter(value.items()))
        return (
            f" (it reads as '{key}: {inner}', a key and a value, because of the ': '; "
            "put the whole text in quotes)"
        )
    return ""


def line_of(value: Any, default: int | None = None) -> int | None:
    """The line a loaded mapping or list starts on, when known."""
    return getattr(value, "line", default) or default


def parse_date(value: Any) -> tuple[date, str] | None:
    """Parse ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` into (first day, precision)."""
    if isinstance(value, datetime):
        return value.date(), "day"
    if isinstance(value, date):
        return value, "day"
    text = str(value).strip()
    # ASCII digits only, checked before int(): "²" is a digit to str.isdigit() and not a
    # number to int(), and int() reads "٢٠٢٤" as 2024 while fromisoformat refuses it.
    # A content file's dates are written one way, whichever the precision.
    digits = text.replace("-", "")
    if not (digits.isascii() and digits.isdigit()):
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text), "day"
        if len(text) == 7 and text[4] == "-":
            return date(int(text[:4]), int(text[5:]), 1), "month"
        if len(text) == 4:
            return date(int(text), 1, 1), "year"
    except ValueError:
        return None
    return None
