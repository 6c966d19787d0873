"""The per-language overlay files of the knowledge base: ``knowledge/translations/<lang>.yaml``.

One file per language, so translators work side by side without touching the English
files or each other's. Next to ``entries:`` (FAQ entries, read by :mod:`bot.knowledge`)
a file may hold::

    glossary:                 # by the English `term` of glossary.yaml
      - term: PERCO
        stands_for: ...
        description: ...
        aliases: [...]        # what people type in this language
    topics:                   # by id, knowledge/topics.yaml
      - {id: reference-group, title: ..., description: ...}
    events:                   # by id, knowledge/events.yaml
      - {id: perco-launched, title: ..., summary: ..., note: ..., place: ..., body: ...}
    sources:                  # by id, knowledge/sources.yaml
      - {id: mrg-page, label: ..., title: ...}

Every field is optional and falls back to the English of that field alone, so a
half-translated event still shows its translated title next to an English note rather
than a whole reply in English. A field the English item does not have is ignored with
a warning: a translation cannot add a fact. Adding a language is adding a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

from bot.yamlfile import LineDict, LineList

if TYPE_CHECKING:
    from bot.knowledge import _Checker

SECTIONS = ("entries", "glossary", "topics", "events", "sources")
# Where each section's ids are defined, for the messages (as the curator knows them).
HOMES = {
    "glossary": "knowledge/glossary.yaml",
    "topics": "knowledge/topics.yaml",
    "events": "knowledge/events.yaml",
    "sources": "knowledge/sources.yaml",
}
# The fields a person reads, per section; the markup ones may use **bold** like the English.
FIELDS: dict[str, tuple[str, ...]] = {
    "glossary": ("stands_for", "description", "aliases"),
    "topics": ("title", "description"),
    "events": ("title", "summary", "note", "place", "body", "outcome"),
    "sources": ("label", "title"),
}
MARKUP_FIELDS = {"glossary": {"description"}, "events": {"summary"}}
LIST_FIELDS = {"aliases"}  # local names, not translations of an English field
KEYS = {"glossary": "term"}  # the key of an item, when it is not "id"


@dataclass(frozen=True)
class TopicText:
    title: str = ""
    description: str = ""


@dataclass(frozen=True)
class EventText:
    title: str = ""
    summary: str = ""
    note: str = ""
    place: str = ""
    body: str = ""
    outcome: str = ""


@dataclass(frozen=True)
class SourceText:
    label: str = ""
    title: str = ""


@dataclass(frozen=True)
class TermTranslation:
    """A glossary term in one language. ``stands_for`` and ``description`` are always
    filled (the English one where the translation lacks it, so matching and answers
    treat it like any translation); ``fallback`` names those that are English."""

    stands_for: str
    description: str
    aliases: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()


T = TypeVar("T")


def in_language(item: T, language: str | None, fields_: tuple[str, ...]) -> T:
    """``item`` with each of ``fields_`` in ``language`` where it is translated, else in
    English: the per-field fallback every reader of topics, events and sources uses."""
    translations: dict[str, Any] = getattr(item, "translations", {})
    text = translations.get(language) if language else None
    if text is None:
        return item
    changes = {f: getattr(text, f) for f in fields_ if getattr(text, f) and getattr(item, f)}
    return replace(item, **changes) if changes else item  # type: ignore[type-var]


def untranslated_fields(item: object, language: str, fields_: tuple[str, ...]) -> list[str]:
    """The fields of ``item`` with English text and no translation into ``language``."""
    translations: dict[str, Any] = getattr(item, "translations", {})
    text = translations.get(language)
    return [f for f in fields_ if getattr(item, f) and not (text and getattr(text, f))]


@dataclass(frozen=True)
class Target:
    """An English item a translation may name: where it is and which fields it has."""

    where: str
    english: frozenset[str]


@dataclass
class Item:
    """One checked translation of one item: its key, line and translated fields."""

    key: str
    line: int
    values: dict[str, Any]


def section_items(c: _Checker, data: LineDict, key: str) -> list[tuple[int, LineDict]]:
    """The items of one section of an overlay file (absent: none)."""
    items = data.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        c.error(
            data.line_of(key), None, f"'{key}' must be a list of items, each starting with '- '"
        )
        return []
    lines = items.item_lines if isinstance(items, LineList) else [data.line_of(key)] * len(items)
    out = []
    for line, item in zip(lines, items, strict=True):
        if not isinstance(item, LineDict):
            c.error(line, None, f"each item of '{key}' must be a mapping of 'key: value' lines")
            continue
        out.append((line, item))
    return out


def check_top(c: _Checker, data: Any) -> LineDict | None:
    """The file's mapping of sections, or None (with an error) when it is not one."""
    if not isinstance(data, LineDict):
        c.error(
            getattr(data, "line", 1),
            None,
            f"the file must hold sections ({', '.join(SECTIONS)}), each a list",
        )
        return None
    for key in data:
        if key not in SECTIONS:
            c.error(
                data.line_of(key),
                None,
                f"unknown top-level key '{key}' (allowed: {', '.join(SECTIONS)})",
            )
    return data


def read_section(
    c: _Checker,
    data: LineDict,
    section: str,
    language: str,
    targets: dict[str, Target],
    ident_of: Callable[[str], str] = str,
) -> list[Item]:
    """One section's translations, checked: a known id (or term), known fields of the
    right type, no id twice, and only fields the English item has. ``targets`` maps
    each id to its English item; ``ident_of`` turns a written key into that id (a
    glossary term into its entry id)."""
    key = KEYS.get(section, "id")
    allowed = FIELDS[section]
    seen: dict[str, int] = {}
    out = []
    for line, item in section_items(c, data, section):
        raw = c.text(item, key, None)
        who = raw or f"{section} item at line {line}"
        c.unknown_keys(item, (key, *allowed), who)
        if not raw:
            continue
        ident = ident_of(raw)
        target = targets.get(ident)
        if target is None:
            c.error(item.line_of(key), who, f"no {_noun(section)} '{raw}' in {HOMES[section]}")
            continue
        if ident in seen:
            c.error(
                item.line_of(key), who, f"'{raw}' is translated twice (also at line {seen[ident]})"
            )
            continue
        seen[ident] = item.line_of(key)
        values: dict[str, Any] = {}
        for name in allowed:
            if name not in item:
                continue
            if name not in LIST_FIELDS and name not in target.english:
                c.warn(
                    item.line_of(name),
                    who,
                    f"the English ({target.where}) has no '{name}': a translation cannot "
                    "add one, so it is ignored",
                )
                continue
            if name in LIST_FIELDS:
                values[name] = tuple(a.lower() for a in c.text_list(item, name, who))
            elif name in MARKUP_FIELDS.get(section, ()):
                values[name] = c.markup_text(item, name, who, required=False)
            else:
                values[name] = c.text(item, name, who, required=False)
        if not any(values.values()):
            c.warn(item.line, who, f"translates nothing into {language}")
            continue
        out.append(Item(ident, item.line, values))
    return out


def _noun(section: str) -> str:
    return {"glossary": "term", "topics": "topic", "events": "event", "sources": "source"}[section]


def text_of(cls: type[T], values: dict[str, Any]) -> T:
    """A :class:`TopicText`, :class:`EventText` or :class:`SourceText` from checked values."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in values.items() if k in names})


def english_fields(item: object, names: tuple[str, ...]) -> frozenset[str]:
    """The fields an English item has text in (what a translation may translate)."""
    return frozenset(n for n in names if getattr(item, n, ""))
