"""The curated knowledge base: loading, validating and holding FAQ entries, events,
topics, sources, glossary terms and synonyms.

Validation collects *every* problem (file, line, entry, what to do) before failing,
so ``nsbot kb check`` shows a curator the whole list in one run, and the bot refuses
to start on a broken knowledge base with the same list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from bot import markup
from bot.dates import format_date
from bot.errors import ContentError, Problem
from bot.kb_translations import (
    FIELDS,
    EventText,
    SourceText,
    Target,
    TermTranslation,
    TopicText,
    check_top,
    english_fields,
    in_language,
    read_section,
    section_items,
    text_of,
)
from bot.messages import MAX_ACTION_BYTES
from bot.yamlfile import LineDict, LineList, colon_hint, display_path, load_yaml, parse_date

ID_RE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
LANG_RE = re.compile(r"^[a-z]{2,3}$")
EVENT_KINDS = frozenset(
    {
        "meeting",
        "conference",
        "adoption",
        "founding",
        "publication",
        "strategy-period",
        "forum",
        "plan",
        "pledge",
        "leadership",
        "announcement",
    }
)
# "[11]", "[A]": a fact sheet's numbered (or lettered) public references, cited in sections.
REF_RE = re.compile(r"\[([A-Za-z0-9]{1,3})\]")
# Button actions are "<prefix>:<id>"; ids must leave room for the prefix.
assert len("faq:") + 40 <= MAX_ACTION_BYTES


@dataclass(frozen=True)
class SourceRef:
    doc: str
    section: str


@dataclass(frozen=True)
class Reference:
    """One numbered reference of a compiled document (the fact sheet's "[11]"): a public
    page a person can open, or another source document ("[B]" is the 2022 blog)."""

    key: str
    url: str = ""
    title: str = ""
    doc: str = ""
    published: date | None = None
    precision: str = "day"


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    file: str = ""
    url: str = ""
    label: str = ""  # how an answer cites it: "Blog on rcrcconference.org"
    published: date | None = None  # when it was written: decides what "currently" meant
    precision: str = "day"
    refs: dict[str, Reference] = field(default_factory=dict)
    translations: dict[str, SourceText] = field(default_factory=dict)
    defined_in: str = ""  # sources.yaml as the curator opens it (``file`` is the document)
    line: int = 0

    def in_language(self, language: str | None) -> Source:
        """Label and title in ``language`` where translated, each else in English."""
        return in_language(self, language, FIELDS["sources"])


@dataclass(frozen=True)
class Citation:
    """A page behind an answer, as the reply shows it: a label, a link, a date."""

    label: str
    url: str
    published: date | None = None
    precision: str = "day"
    section: str = ""


@dataclass(frozen=True)
class Translation:
    questions: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Entry:
    """One answerable thing: a FAQ entry, or a glossary term turned into one."""

    id: str
    topic: str
    questions: tuple[str, ...]
    answer: str
    sources: tuple[SourceRef, ...]
    related: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    translations: dict[str, Translation] = field(default_factory=dict)
    file: str = ""
    line: int = 0
    aliases: tuple[str, ...] = ()  # ids of entries merged into this one: old buttons resolve

    def answer_in(self, language: str | None) -> str:
        if language and language in self.translations:
            return self.translations[language].answer
        return self.answer

    @property
    def title(self) -> str:
        """The first phrasing: how the entry is offered on a suggestion button."""
        return self.questions[0]

    def title_in(self, language: str | None) -> str:
        """The title in a language the entry is translated into, else the English one."""
        if language and language in self.translations and self.translations[language].questions:
            return self.translations[language].questions[0]
        return self.questions[0]


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    description: str = ""
    translations: dict[str, TopicText] = field(default_factory=dict)
    file: str = ""
    line: int = 0

    def in_language(self, language: str | None) -> Topic:
        """Title and description in ``language`` where translated, each else in English."""
        return in_language(self, language, FIELDS["topics"])


@dataclass(frozen=True)
class Event:
    id: str
    title: str
    start: date
    start_precision: str  # "day" | "month" | "year"
    kind: str
    topic: str
    summary: str
    sources: tuple[SourceRef, ...]
    end: date | None = None
    end_precision: str = "day"
    place: str = ""
    body: str = ""
    entry: str = ""
    note: str = ""
    outcome: str = ""  # for a plan: what is known of how it turned out
    file: str = ""
    line: int = 0
    translations: dict[str, EventText] = field(default_factory=dict)

    def in_language(self, language: str | None) -> Event:
        """The event with each text field in ``language`` where translated, else in
        English (title, summary, note, place, body, outcome)."""
        return in_language(self, language, FIELDS["events"])


@dataclass(frozen=True)
class Term:
    term: str
    stands_for: str
    description: str
    topic: str
    sources: tuple[SourceRef, ...]
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    translations: dict[str, TermTranslation] = field(default_factory=dict)

    @property
    def entry_id(self) -> str:
        return glossary_id(self.term)


def glossary_id(term: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", term.lower()).strip("-")
    return f"glossary-{slug}"[:40]


@dataclass
class KnowledgeBase:
    entries: dict[str, Entry]
    topics: dict[str, Topic]
    events: list[Event]  # oldest first
    terms: list[Term]
    synonyms: list[tuple[str, ...]]
    sources: dict[str, Source]
    warnings: list[Problem] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # old id -> id of the merged entry

    def entries_in_topic(self, topic_id: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.topic == topic_id]

    def canonical(self, entry_id: str) -> str | None:
        """The id an entry is known by now: itself, or the entry it was merged into."""
        if entry_id in self.entries:
            return entry_id
        return self.aliases.get(entry_id)

    def resolve(self, entry_id: str) -> str:
        """The current id for an id, old or new (an unknown id is returned unchanged, so
        callers that check membership afterwards still see it is unknown)."""
        return self.canonical(entry_id) or entry_id

    def entry(self, entry_id: str) -> Entry | None:
        """Look an entry up by id or by an old id kept as an alias (buttons already
        posted, eval labels and logs written before a merge keep working)."""
        canonical = self.canonical(entry_id)
        return self.entries[canonical] if canonical else None

    def topic(self, topic_id: str, language: str | None = None) -> Topic | None:
        """A topic with its title and description in ``language`` where translated."""
        topic = self.topics.get(topic_id)
        return topic.in_language(language) if topic else None

    def events_in(self, language: str | None) -> list[Event]:
        """The events, oldest first, each field in ``language`` where translated."""
        return [e.in_language(language) for e in self.events]

    def source_in(self, doc: str, language: str | None) -> Source | None:
        source = self.sources.get(doc)
        return source.in_language(language) if source else None

    def citations(self, refs: Iterable[SourceRef], language: str | None = None) -> list[Citation]:
        """The pages behind some source references, deduplicated, in order. A reference
        to a compiled document (the fact sheet) resolves to the public pages its section
        cites ("§7 [11][12]"), so the reader gets the real page rather than our notes.
        Labels are in ``language`` where the source's label is translated."""
        out: dict[str, Citation] = {}
        for ref in refs:
            for cited in self._cite(ref, language):
                out.setdefault(cited.url, cited)
        return list(out.values())

    def _page(self, doc: str, section: str, language: str | None) -> Citation | None:
        source = self.source_in(doc, language)
        if source is None or not source.url:
            return None
        label = source.label or source.title
        return Citation(label, source.url, source.published, source.precision, section)

    def _cite(self, ref: SourceRef, language: str | None) -> list[Citation]:
        page = self._page(ref.doc, ref.section, language)
        source = self.sources.get(ref.doc)
        if page is not None or source is None:
            return [page] if page else []
        out = []
        for key in REF_RE.findall(ref.section):
            r = source.refs.get(key)
            if r is None:
                continue
            if r.doc:  # "[B]": another document, cited by its own page (one level only)
                other = self._page(r.doc, ref.section, language)
                out += [other] if other else []
            elif r.url:
                out.append(Citation(r.title or host(r.url), r.url, r.published, r.precision))
        return out

    def source_label(self, entry: Entry, language: str | None = None) -> str:
        """A one-line plain citation for an entry: "Blog on rcrcconference.org (June 2022):
        https://…; icrc.org: https://…". Without a public page, the document's title
        (labels and titles in ``language`` where translated)."""
        cited = self.citations(entry.sources, language)
        if cited:
            return "; ".join(
                f"{c.label}"
                + (f" ({format_date(c.published, c.precision)})" if c.published else "")
                + f": {c.url}"
                for c in cited
            )
        parts = []
        for ref in entry.sources:
            source = self.source_in(ref.doc, language)
            title = source.title if source else ref.doc
            parts.append(f"{title}, {ref.section}" if ref.section else title)
        return "; ".join(parts)


def host(url: str) -> str:
    """ "https://www.icrc.org/en/doc/..." -> "icrc.org": a label for a bare reference."""
    name = re.sub(r"^[a-z]+://", "", url).split("/", 1)[0]
    return name.removeprefix("www.")


# --------------------------------------------------------------------------- validation


class _Checker:
    """Accumulates problems for one file while fields are read out of it."""

    def __init__(self, display: str) -> None:
        self.file = display
        self.problems: list[Problem] = []

    def error(self, line: int | None, entry: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, line, entry, message))

    def warn(self, line: int | None, entry: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, line, entry, message, warning=True))

    def items(self, data: Any, key: str) -> list[tuple[int, LineDict]]:
        """The list under the file's top-level ``key``, each item with its line."""
        if data is None:
            self.error(None, None, f"the file is empty; it must start with '{key}:'")
            return []
        if not isinstance(data, LineDict) or key not in data:
            self.error(
                getattr(data, "line", 1),
                None,
                f"the file must start with '{key}:' followed by a list",
            )
            return []
        items = data[key]
        if not isinstance(items, list):
            self.error(
                data.line_of(key), None, f"'{key}' must be a list of items, each starting with '- '"
            )
            return []
        out: list[tuple[int, LineDict]] = []
        lines = getattr(items, "item_lines", [data.line_of(key)] * len(items))
        for line, item in zip(lines, items, strict=True):
            if not isinstance(item, LineDict):
                self.error(line, None, "each item must be a mapping of 'key: value' lines")
                continue
            out.append((line, item))
        extra = sorted(set(data) - {key})
        if extra:
            self.error(
                data.line_of(extra[0]), None, f"unknown top-level key(s): {', '.join(extra)}"
            )
        return out

    def text(self, item: LineDict, key: str, who: str | None, required: bool = True) -> str:
        value = item.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(item.line, who, f"missing '{key}'")
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.error(item.line_of(key), who, f"'{key}' must be text")
            return ""
        return str(value).strip()

    def text_list(
        self, item: LineDict, key: str, who: str | None, minimum: int = 0
    ) -> tuple[str, ...]:
        value = item.get(key)
        if value is None:
            if minimum:
                self.error(item.line, who, f"missing '{key}' (a list of at least {minimum})")
            return ()
        if isinstance(value, str):
            value = [value] if minimum <= 1 else None
        if not isinstance(value, list):
            self.error(
                item.line_of(key),
                who,
                f"'{key}' must be a list, one item per line starting with '- '",
            )
            return ()
        out = []
        for i, v in enumerate(value):
            line = value.item_lines[i] if isinstance(value, LineList) else item.line_of(key)
            if not isinstance(v, str | int | float) or isinstance(v, bool) or not str(v).strip():
                self.error(line, who, f"'{key}' item {i + 1} must be non-empty text{colon_hint(v)}")
                continue
            out.append(str(v).strip())
        if len(out) < minimum:
            self.error(
                item.line_of(key),
                who,
                f"'{key}' needs at least {minimum} item(s), found {len(out)}",
            )
        return tuple(out)

    def ident(
        self, item: LineDict, key: str, seen: dict[str, str], where: Callable[[int], str]
    ) -> str | None:
        raw = item.get(key)
        if raw is None:
            self.error(item.line, None, f"missing '{key}'")
            return None
        ident = str(raw)
        if not ID_RE.match(ident):
            self.error(
                item.line_of(key),
                ident,
                f"'{key}' must be lower-case letters, digits and hyphens, start with a letter, "
                "at most 40 characters",
            )
            return None
        if ident in seen:
            self.error(item.line_of(key), ident, f"duplicate id: already used at {seen[ident]}")
            return None
        seen[ident] = where(item.line)
        return ident

    def unknown_keys(self, item: LineDict, allowed: Iterable[str], who: str | None) -> None:
        allowed = set(allowed)
        for key in item:
            if key not in allowed:
                self.error(
                    item.line_of(key),
                    who,
                    f"unknown field '{key}' (allowed: {', '.join(sorted(allowed))})",
                )

    def markup_text(self, item: LineDict, key: str, who: str | None, required: bool = True) -> str:
        value = self.text(item, key, who, required)
        if value and not markup.parse(value):
            self.error(item.line_of(key), who, f"'{key}' has no visible text")
        return value

    def source_refs(
        self, item: LineDict, who: str | None, known: set[str]
    ) -> tuple[SourceRef, ...]:
        value = item.get("source")
        if value is None:
            self.error(
                item.line, who, "missing 'source': every fact needs its document and section"
            )
            return ()
        values = value if isinstance(value, list) else [value]
        refs = []
        for v in values:
            line = getattr(v, "line", item.line_of("source"))
            if not isinstance(v, dict):
                self.error(line, who, "each 'source' item needs 'doc:' and 'section:'")
                continue
            doc = str(v.get("doc", "")).strip()
            section = str(v.get("section", "")).strip()
            if not doc:
                self.error(
                    line,
                    who,
                    "a 'source' item is missing 'doc' (an id from knowledge/sources.yaml)",
                )
            elif doc not in known:
                self.error(line, who, f"source doc '{doc}' is not in knowledge/sources.yaml")
            if not section:
                self.error(
                    line, who, f"source '{doc}' is missing 'section' (where in the document)"
                )
            refs.append(SourceRef(doc, section))
        return tuple(refs)


def _where(display: str) -> Callable[[int], str]:
    return lambda line: f"{display}:{line}"


def _relative(path: Path, root: Path) -> str:
    # The path as the curator can open it (see display_path), whatever ``root`` is.
    return display_path(path)


def load_knowledge(knowledge_dir: Path, faq_file: Path | None = None) -> KnowledgeBase:
    """Load and validate everything; raise :class:`ContentError` listing all problems."""
    kb, problems = check_knowledge(knowledge_dir, faq_file)
    if kb is None or any(not p.warning for p in problems):
        raise ContentError(problems)
    return kb


def check_knowledge(
    knowledge_dir: Path, faq_file: Path | None = None
) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Validate without raising: (the knowledge base if usable, every problem found)."""
    root = knowledge_dir.parent
    faq_path = faq_file or (
        knowledge_dir / "faq.yaml" if (knowledge_dir / "faq.yaml").is_file() else root / "faq.yaml"
    )
    problems: list[Problem] = []
    if not knowledge_dir.is_dir():
        return None, [
            Problem(str(knowledge_dir), None, None, "knowledge folder not found (NSBOT_KNOWLEDGE)")
        ]

    def load(path: Path, required: bool = True) -> tuple[Any, _Checker]:
        display = _relative(path, root)
        checker = _Checker(display)
        if not path.exists() and not required:
            return {}, checker
        data, errors = load_yaml(path, display)
        problems.extend(errors)
        return (data if not errors else None), checker

    # Sources and topics first: everything else refers to them.
    sources: dict[str, Source] = {}
    data, c = load(knowledge_dir / "sources.yaml")
    if data is not None:
        seen: dict[str, str] = {}
        for _, item in c.items(data, "sources"):
            ident = c.ident(item, "id", seen, _where(c.file))
            c.unknown_keys(item, ("id", "title", "file", "url", "label", "date", "refs"), ident)
            title = c.text(item, "title", ident)
            published = _date(c, item, "date", ident or "source", required=False)
            if ident:
                sources[ident] = Source(
                    ident,
                    title,
                    c.text(item, "file", ident, False),
                    _url(c, item, "url", ident),
                    c.text(item, "label", ident, False),
                    published[0] if published else None,
                    published[1] if published else "day",
                    _references(c, item, ident),
                    defined_in=c.file,
                    line=item.line,
                )
    for source in sources.values():
        for ref in source.refs.values():
            if ref.doc and ref.doc not in sources:
                c.error(None, source.id, f"reference [{ref.key}] names unknown doc '{ref.doc}'")
    problems.extend(c.problems)
    known_sources = set(sources)

    topics: dict[str, Topic] = {}
    data, c = load(knowledge_dir / "topics.yaml")
    if data is not None:
        seen = {}
        for _, item in c.items(data, "topics"):
            ident = c.ident(item, "id", seen, _where(c.file))
            c.unknown_keys(item, ("id", "title", "description"), ident)
            title = c.text(item, "title", ident)
            if len(title) > 40:
                c.warn(
                    item.line_of("title"),
                    ident,
                    "title is longer than 40 characters; buttons will cut it",
                )
            if ident:
                description = c.text(item, "description", ident, False)
                topics[ident] = Topic(ident, title, description, file=c.file, line=item.line)
    problems.extend(c.problems)

    entries: dict[str, Entry] = {}
    entry_where: dict[str, str] = {}
    related_refs: list[tuple[str, int, str, str]] = []  # (file, line, entry, related id)
    alias_refs: list[tuple[str, int, str, str]] = []  # (file, line, entry, old id)

    def check_topic(c: _Checker, item: LineDict, who: str | None) -> str:
        topic = c.text(item, "topic", who)
        if topic and topics and topic not in topics:
            c.error(item.line_of("topic"), who, f"topic '{topic}' is not in knowledge/topics.yaml")
        return topic

    def check_related(c: _Checker, item: LineDict, who: str) -> tuple[str, ...]:
        related = c.text_list(item, "related", who)
        for rid in related:
            related_refs.append((c.file, item.line_of("related"), who, rid))
        if len(related) > 4:
            c.warn(
                item.line_of("related"),
                who,
                "more than 4 related entries; only the first 4 are offered",
            )
        return related

    data, c = load(faq_path)
    faq_readable = data is not None  # if not, references to entries cannot be checked
    if data is not None:
        for _, item in c.items(data, "entries"):
            ident = c.ident(item, "id", entry_where, _where(c.file))
            who = ident or f"entry at line {item.line}"
            c.unknown_keys(
                item,
                (
                    "id",
                    "aliases",
                    "topic",
                    "tags",
                    "questions",
                    "answer",
                    "source",
                    "related",
                    "translations",
                ),
                who,
            )
            questions = c.text_list(item, "questions", who, minimum=2)
            answer = c.markup_text(item, "answer", who)
            old_ids = c.text_list(item, "aliases", who)
            for alias in old_ids:
                alias_refs.append((c.file, item.line_of("aliases"), ident or who, alias))
            entry = Entry(
                id=ident or "",
                topic=check_topic(c, item, who),
                questions=questions,
                answer=answer,
                sources=c.source_refs(item, who, known_sources),
                related=check_related(c, item, who),
                tags=c.text_list(item, "tags", who),
                translations=_translations(c, item, who),
                file=c.file,
                line=item.line,
                aliases=old_ids,
            )
            if ident:
                entries[ident] = entry
    problems.extend(c.problems)

    terms: list[Term] = []
    data, c = load(knowledge_dir / "glossary.yaml", required=False)
    if data:
        seen_terms: dict[str, str] = {}
        for _, item in c.items(data, "terms"):
            term = c.text(item, "term", None)
            who = term or f"term at line {item.line}"
            c.unknown_keys(
                item,
                (
                    "term",
                    "stands_for",
                    "aliases",
                    "description",
                    "topic",
                    "source",
                    "related",
                    "translations",
                ),
                who,
            )
            if not term:
                continue
            ident = glossary_id(term)
            if ident in seen_terms or ident in entries:
                c.error(
                    item.line_of("term"),
                    term,
                    f"'{term}' is defined twice (also at {seen_terms.get(ident) or entry_where.get(ident)})",
                )
                continue
            seen_terms[ident] = f"{c.file}:{item.line}"
            t = Term(
                term=term,
                stands_for=c.text(item, "stands_for", who),
                description=c.markup_text(item, "description", who),
                topic=check_topic(c, item, who),
                sources=c.source_refs(item, who, known_sources),
                aliases=tuple(a.lower() for a in c.text_list(item, "aliases", who)),
                related=check_related(c, item, ident),
                translations=_term_translations(c, item, term),
            )
            terms.append(t)
            entries[ident] = _term_entry(t, c.file, item.line)
            entry_where[ident] = f"{c.file}:{item.line}"
    problems.extend(c.problems)

    aliases = _check_aliases(alias_refs, entries, entry_where, problems)
    for file, line, who, rid in related_refs if faq_readable else ():
        target = rid if rid in entries else aliases.get(rid)
        if target is None:
            problems.append(Problem(file, line, who, f"related id '{rid}' does not exist"))
        elif target == who:
            problems.append(Problem(file, line, who, "an entry cannot be related to itself"))
    if aliases:  # related ids written as old ids point at the merged entry
        for ident, e in list(entries.items()):
            if any(r in aliases for r in e.related):
                related = tuple(dict.fromkeys(aliases.get(r, r) for r in e.related))
                entries[ident] = replace(e, related=related)
    known_entries = {**{k: k for k in entries}, **aliases}

    events: list[Event] = []
    data, c = load(knowledge_dir / "events.yaml", required=False)
    if data:
        seen = {}
        for _, item in c.items(data, "events"):
            ident = c.ident(item, "id", seen, _where(c.file))
            who = ident or f"event at line {item.line}"
            event = _event(
                c, item, who, check_topic, known_sources, known_entries if faq_readable else None
            )
            if ident and event:
                events.append(event)
    problems.extend(c.problems)
    events.sort(key=lambda e: (e.start, e.end or e.start, e.id))

    # Translations kept apart, one file per language (knowledge/translations/fr.yaml):
    # translators work side by side without touching the English files or each other's.
    for path in sorted((knowledge_dir / "translations").glob("*.yaml")):
        data, c = load(path)
        language = path.stem
        if data is None:
            continue
        if not LANG_RE.match(language):
            c.error(
                None, None, f"name the file after a language code, like fr.yaml, not {path.name}"
            )
            problems.extend(c.problems)
            continue
        sections = check_top(c, data)
        if sections is not None:
            _translate_entries(c, sections, language, entries, aliases)
            _translate_terms(c, sections, language, terms, entries)
            _translate_rest(c, sections, language, topics, events, sources)
        problems.extend(c.problems)

    synonyms: list[tuple[str, ...]] = []
    data, c = load(knowledge_dir / "synonyms.yaml", required=False)
    if data:
        if not isinstance(data, dict) or not isinstance(data.get("synonyms"), list):
            c.error(
                getattr(data, "line", 1),
                None,
                "the file must start with 'synonyms:' followed by a list of word lists",
            )
        else:
            groups = data["synonyms"]
            for line, group in zip(groups.item_lines, groups, strict=True):
                if (
                    not isinstance(group, list)
                    or len(group) < 2
                    or not all(isinstance(w, str) and w.strip() for w in group)
                ):
                    c.error(
                        line,
                        None,
                        "each synonym group must be a list of at least two words, like [adopt, approve]",
                    )
                    continue
                synonyms.append(tuple(w.strip().lower() for w in group))
    problems.extend(c.problems)

    if not entries and not any(not p.warning for p in problems):
        problems.append(
            Problem(
                _relative(faq_path, root),
                None,
                None,
                "no entries: the bot would have nothing to answer",
            )
        )
    if any(not p.warning for p in problems):
        return None, problems
    kb = KnowledgeBase(entries, topics, events, terms, synonyms, sources, aliases=aliases)
    kb.warnings = [p for p in problems if p.warning]
    return kb, problems


def _translation_bodies(
    c: _Checker, item: LineDict, who: str, needs: str
) -> list[tuple[str, LineDict]]:
    """The language -> mapping pairs under ``translations:``, each checked for shape."""
    value = item.get("translations")
    if value is None:
        return []
    if not isinstance(value, dict):
        c.error(
            item.line_of("translations"),
            who,
            f"'translations' must map a language code (fr, es, ar) to {needs}",
        )
        return []
    out = []
    for lang, body in value.items():
        line = value.line_of(lang) if isinstance(value, LineDict) else item.line
        if not LANG_RE.match(str(lang)):
            c.error(line, who, f"'{lang}' is not a language code like fr, es or ar")
            continue
        if not isinstance(body, LineDict):
            c.error(line, who, f"translation '{lang}' needs {needs}")
            continue
        out.append((str(lang), body))
    return out


def _translations(c: _Checker, item: LineDict, who: str) -> dict[str, Translation]:
    out = {}
    for lang, body in _translation_bodies(c, item, who, "'questions:' and 'answer:'"):
        c.unknown_keys(body, ("questions", "answer"), who)
        answer = c.markup_text(body, "answer", who)
        out[lang] = Translation(c.text_list(body, "questions", who), answer)
    return out


def _term_translations(c: _Checker, item: LineDict, who: str) -> dict[str, TermTranslation]:
    out = {}
    for lang, body in _translation_bodies(c, item, who, "'stands_for:' and 'description:'"):
        c.unknown_keys(body, ("stands_for", "description", "aliases"), who)
        out[lang] = TermTranslation(
            stands_for=c.text(body, "stands_for", who),
            description=c.markup_text(body, "description", who),
            aliases=tuple(a.lower() for a in c.text_list(body, "aliases", who)),
        )
    return out


def _translate_entries(
    c: _Checker,
    data: LineDict,
    language: str,
    entries: dict[str, Entry],
    aliases: dict[str, str],
) -> None:
    """``entries:`` of a language file: FAQ entries' questions and answer."""
    for _, item in section_items(c, data, "entries"):
        ident = c.text(item, "id", None)
        who = ident or f"entry at line {item.line}"
        c.unknown_keys(item, ("id", "questions", "answer"), who)
        translated = entries.get(ident) if ident else None
        if ident and translated is None and ident in aliases:
            translated = entries.get(aliases[ident])
        if ident and translated is None:
            c.error(item.line_of("id"), who, f"no entry has the id '{ident}' (see faq.yaml)")
            continue
        if translated is None:
            continue
        if "glossary" in translated.tags:  # its entry is rebuilt from the term's translations
            c.error(
                item.line_of("id"),
                who,
                "a glossary term is translated under 'glossary:' (term, stands_for, "
                "description, aliases), not under 'entries:'",
            )
            continue
        if language in translated.translations:
            c.error(
                item.line_of("id"),
                who,
                f"'{translated.id}' is already translated into {language} "
                f"at {translated.file}:{translated.line}: keep one of the two",
            )
            continue
        questions = c.text_list(item, "questions", who, minimum=1)
        answer = c.markup_text(item, "answer", who)
        if questions and answer:
            translations = {**translated.translations, language: Translation(questions, answer)}
            entries[translated.id] = replace(translated, translations=translations)


def _translate_terms(
    c: _Checker, data: LineDict, language: str, terms: list[Term], entries: dict[str, Entry]
) -> None:
    """``glossary:`` of a language file: each term then behaves exactly as if glossary.yaml
    carried the translation inline (answerable in that language, aliases matched).

    A term translated both inline and here is an error, as for FAQ entries: two texts
    for one thing would silently disagree one day, and the bot cannot tell which is right.
    """
    by_id = {t.entry_id: i for i, t in enumerate(terms)}
    targets = {}
    for t in terms:
        where = entries[t.entry_id]
        targets[t.entry_id] = Target(
            f"{where.file}:{where.line}", english_fields(t, ("stands_for", "description"))
        )
    for item in read_section(c, data, "glossary", language, targets, glossary_id):
        term = terms[by_id[item.key]]
        where = entries[term.entry_id]
        if language in term.translations:
            c.error(
                item.line,
                term.term,
                f"'{term.term}' is already translated into {language} in "
                f"{where.file}:{where.line}: keep one of the two",
            )
            continue
        v = item.values
        tr = TermTranslation(
            stands_for=v.get("stands_for") or term.stands_for,
            description=v.get("description") or term.description,
            aliases=v.get("aliases", ()),
            fallback=tuple(f for f in ("stands_for", "description") if not v.get(f)),
        )
        term = replace(term, translations={**term.translations, language: tr})
        terms[by_id[item.key]] = term
        # ``related`` as resolved after merges (old ids replaced), not as written.
        entry = _term_entry(term, where.file, where.line)
        entries[term.entry_id] = replace(entry, related=where.related)


def _translate_rest(
    c: _Checker,
    data: LineDict,
    language: str,
    topics: dict[str, Topic],
    events: list[Event],
    sources: dict[str, Source],
) -> None:
    """``topics:``, ``events:`` and ``sources:`` of a language file, field by field."""

    def targets(items: Iterable[Topic | Event | Source], kind: str) -> dict[str, Target]:
        out = {}
        for i in items:
            home = i.defined_in if isinstance(i, Source) else i.file
            out[i.id] = Target(f"{home}:{i.line}", english_fields(i, FIELDS[kind]))
        return out

    for item in read_section(c, data, "topics", language, targets(topics.values(), "topics")):
        topic = topics[item.key]
        topic_texts = {**topic.translations, language: text_of(TopicText, item.values)}
        topics[item.key] = replace(topic, translations=topic_texts)
    at = {e.id: i for i, e in enumerate(events)}
    for item in read_section(c, data, "events", language, targets(events, "events")):
        event = events[at[item.key]]
        event_texts = {**event.translations, language: text_of(EventText, item.values)}
        events[at[item.key]] = replace(event, translations=event_texts)
    for item in read_section(c, data, "sources", language, targets(sources.values(), "sources")):
        source = sources[item.key]
        source_texts = {**source.translations, language: text_of(SourceText, item.values)}
        sources[item.key] = replace(source, translations=source_texts)


# How a glossary term is asked about in each language: every template with the term, the
# first also with the translated long form and each alias. A language without templates
# still matches on the long form and aliases alone.
TERM_QUESTIONS: dict[str, tuple[str, ...]] = {
    "fr": ("Qu'est-ce que {} ?", "Que signifie {} ?"),
    "es": ("¿Qué es {}?", "¿Qué significa {}?"),
    "ar": ("ما هو {}", "ماذا يعني {}"),
}


def _term_entry(t: Term, file: str, line: int) -> Entry:
    """A glossary term as an answerable entry ("what is PERCO", "what does IOM stand for"),
    in each language it is translated into ("qu'est-ce que le CICR", "¿qué es la OIM?")."""
    names = [t.term, *t.aliases]
    questions = [
        f"What is {t.term}?",
        f"What does {t.term} stand for?",
        f"What is the {t.stands_for}?",
    ]
    questions += [f"What is {alias}?" for alias in t.aliases]
    questions += [n for n in names if n.lower() != t.term.lower()]
    translations = {}
    for lang, tr in t.translations.items():
        templates = TERM_QUESTIONS.get(lang, ())
        asked = [template.format(t.term) for template in templates]
        for name in (tr.stands_for, *tr.aliases):
            asked += [template.format(name) for template in templates[:1]]
            asked.append(name)
        if " " in t.term.strip() and tr.stands_for and templates:
            # A name in words ("Climate Centre"), not an acronym: its title, the first
            # question, reads in the language ("Qu'est-ce que le Centre climatique ?").
            first = templates[0].format(tr.stands_for)
            asked = [first, *(q for q in asked if q != first)]
        translations[lang] = Translation(tuple(dict.fromkeys(asked)), tr.description)
    return Entry(
        id=t.entry_id,
        topic=t.topic,
        questions=tuple(dict.fromkeys(questions)),
        answer=t.description,
        sources=t.sources,
        related=t.related,
        tags=("glossary",),
        translations=translations,
        file=file,
        line=line,
    )


def _event(
    c: _Checker,
    item: LineDict,
    who: str,
    check_topic: Callable[[_Checker, LineDict, str | None], str],
    known_sources: set[str],
    entries: dict[str, str] | None,
) -> Event | None:
    c.unknown_keys(
        item,
        (
            "id",
            "title",
            "start",
            "end",
            "place",
            "body",
            "kind",
            "topic",
            "summary",
            "entry",
            "note",
            "outcome",
            "source",
        ),
        who,
    )
    title = c.text(item, "title", who)
    start = _date(c, item, "start", who, required=True)
    end = _date(c, item, "end", who, required=False)
    if start and end and end[0] < start[0]:
        c.error(
            item.line_of("end"), who, f"'end' ({item['end']}) is before 'start' ({item['start']})"
        )
    kind = c.text(item, "kind", who)
    if kind and kind not in EVENT_KINDS:
        c.error(
            item.line_of("kind"),
            who,
            f"kind '{kind}' is not one of: {', '.join(sorted(EVENT_KINDS))}",
        )
    entry = c.text(item, "entry", who, required=False)
    if entry and entries is not None and entry not in entries:
        c.error(
            item.line_of("entry"),
            who,
            f"entry '{entry}' does not exist in faq.yaml or the glossary",
        )
    event = Event(
        id=str(item.get("id")),
        title=title,
        start=start[0] if start else date.min,
        start_precision=start[1] if start else "day",
        end=end[0] if end else None,
        end_precision=end[1] if end else "day",
        kind=kind,
        topic=check_topic(c, item, who),
        summary=c.markup_text(item, "summary", who),
        sources=c.source_refs(item, who, known_sources),
        place=c.text(item, "place", who, False),
        body=c.text(item, "body", who, False),
        entry=entries.get(entry, entry) if entries else entry,
        note=c.text(item, "note", who, False),
        outcome=c.text(item, "outcome", who, False),
        file=c.file,
        line=item.line,
    )
    if event.outcome and kind != "plan":
        c.error(item.line_of("outcome"), who, "'outcome' is only for events of kind 'plan'")
    return event if start else None


def _date(
    c: _Checker, item: LineDict, key: str, who: str, required: bool
) -> tuple[date, str] | None:
    value = item.get(key)
    if value is None:
        if required:
            c.error(item.line, who, f"missing '{key}' (a date: YYYY-MM-DD, YYYY-MM or YYYY)")
        return None
    parsed = parse_date(value)
    if parsed is None:
        c.error(
            item.line_of(key),
            who,
            f"'{key}: {value}' is not a date; write YYYY-MM-DD, YYYY-MM or YYYY",
        )
    return parsed


def _url(c: _Checker, item: LineDict, key: str, who: str | None) -> str:
    url = c.text(item, key, who, False)
    if url and not re.match(r"^https?://\S+$", url):
        c.error(item.line_of(key), who, f"'{key}' must be a web address starting with https://")
        return ""
    return url


def _references(c: _Checker, item: LineDict, who: str | None) -> dict[str, Reference]:
    """``refs:`` of a compiled document: ``11: https://…`` or ``B: {doc: blog-2022}`` or
    ``11: {url: https://…, title: …, date: 2024-04}``."""
    value = item.get("refs")
    if value is None:
        return {}
    if not isinstance(value, LineDict):
        c.error(item.line_of("refs"), who, "'refs' must map a reference number to its web address")
        return {}
    out = {}
    for key, body in value.items():
        line = value.line_of(key)
        name = str(key)
        if isinstance(body, str):
            url = body
            body = LineDict(url=url)
            body.line, body.key_lines = line, {"url": line}
        if not isinstance(body, LineDict):
            c.error(line, who, f"reference [{name}] needs a web address or 'doc:'")
            continue
        c.unknown_keys(body, ("url", "title", "doc", "date"), who)
        published = _date(c, body, "date", who or "source", required=False)
        ref = Reference(
            name,
            _url(c, body, "url", who),
            c.text(body, "title", who, False),
            c.text(body, "doc", who, False),
            published[0] if published else None,
            published[1] if published else "day",
        )
        if not ref.url and not ref.doc:
            c.error(line, who, f"reference [{name}] needs 'url:' or 'doc:'")
        out[name] = ref
    return out


def _check_aliases(
    alias_refs: list[tuple[str, int, str, str]],
    entries: dict[str, Entry],
    entry_where: dict[str, str],
    problems: list[Problem],
) -> dict[str, str]:
    """Old ids kept after a merge: each must look like an id and name nothing else."""
    aliases: dict[str, str] = {}
    for file, line, who, alias in alias_refs:
        if not ID_RE.match(alias):
            problems.append(Problem(file, line, who, f"alias '{alias}' is not a valid id"))
        elif alias in entries:
            problems.append(
                Problem(
                    file,
                    line,
                    who,
                    f"alias '{alias}' is also the id of the entry at {entry_where.get(alias)}",
                )
            )
        elif alias in aliases:
            problems.append(
                Problem(
                    file, line, who, f"alias '{alias}' is already an alias of '{aliases[alias]}'"
                )
            )
        else:
            aliases[alias] = who
    return aliases
