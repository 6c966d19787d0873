"""``nsbot kb promote``: one question of the review becomes knowledge, as an edit of the
YAML files a curator then reviews and commits.

Either a new phrasing of an existing entry, written where that entry's phrasings in the
question's language live (``questions:`` in faq.yaml for English; the entry's inline
``translations: fr:`` or its item in knowledge/translations/fr.yaml for French), or a
draft entry at the end of faq.yaml. Files are edited with ruamel.yaml's round trip, so
comments, order, quoting and folding stay as they were: outside the edit, the file is
the same byte for byte (a file that does not survive a plain round trip unchanged is
refused rather than reformatted).
"""

from __future__ import annotations

import copy
import difflib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
)

from bot.curation import gap_key
from bot.errors import BotError
from bot.kb_lint import DRAFT_MARK
from bot.knowledge import ID_RE, Entry, KnowledgeBase

# (mapping, sequence, offset) indents tried, in order, until one round-trips the file
# unchanged: the shipped files' style first, then the other common one.
_INDENTS = ((2, 4, 2), (2, 2, 0))
_FOLD_AT = 88  # columns of a folded answer's lines, as the shipped files wrap them


class PromoteError(BotError):
    """A promotion that cannot be done as asked; the message says what to do instead."""


@dataclass(frozen=True)
class Edit:
    """One file's text before and after a promotion."""

    path: Path
    before: str
    after: str
    summary: str

    def diff(self, root: Path | None = None) -> str:
        """A unified diff, its file named as git would inside ``root`` (the folder of
        faq.yaml and knowledge/, where the curator commits)."""
        try:
            name = str(self.path.resolve().relative_to((root or Path.cwd()).resolve()))
            before, after = f"a/{name}", f"b/{name}"
        except ValueError:
            before = after = str(self.path)
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=before,
                tofile=after,
            )
        )


class _Document:
    """A YAML file loaded for a round trip, with the dumper settings it was written in."""

    def __init__(self, path: Path, text: str | None = None) -> None:
        self.path = path
        self.before = path.read_text(encoding="utf-8") if text is None else text
        for mapping, sequence, offset in _INDENTS:
            yaml = YAML()  # round trip: comments, key order, quotes, block styles
            yaml.preserve_quotes = True
            yaml.width = 4096  # never rewrap a long line
            yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
            try:
                data = yaml.load(self.before)
            except YAMLError as exc:
                raise PromoteError(
                    f"{path}: not valid YAML ({exc}); run 'nsbot kb check'"
                ) from None
            if self._dump(yaml, data) == self.before:
                self.yaml, self.data = yaml, data
                self.indent = mapping
                return
        raise PromoteError(
            f"{path}: its layout (indentation or line breaks) would change on rewriting, so "
            "it is left alone; add the phrasing by hand"
        )

    @staticmethod
    def _dump(yaml: YAML, data: Any) -> str:
        out = io.StringIO()
        yaml.dump(data, out)
        return out.getvalue()

    def entries(self) -> CommentedSeq:
        if not isinstance(self.data, CommentedMap):
            raise PromoteError(f"{self.path}: expected 'entries:' at the top")
        if self.data.get("entries") is None:
            self.data["entries"] = CommentedSeq()
        entries = self.data["entries"]
        if not isinstance(entries, CommentedSeq):
            raise PromoteError(f"{self.path}: 'entries' must be a list")
        return entries

    def item(self, ids: set[str]) -> CommentedMap | None:
        for item in self.entries():
            if isinstance(item, CommentedMap) and str(item.get("id")) in ids:
                return item
        return None

    def edit(self, summary: str) -> Edit:
        return Edit(self.path, self.before, self._dump(self.yaml, self.data), summary)


def _append(seq: CommentedSeq, value: object) -> None:
    """Append to a list. ruamel keeps what follows the last item (its end-of-line
    comment, then the blank lines and comments before the next key) in one token on
    that item: the end-of-line comment stays with it, the rest follows the new item."""
    last = len(seq) - 1
    seq.append(value)
    slot = seq.ca.items.get(last) if last >= 0 else None
    token = slot[0] if slot else None
    if token is None:
        return
    text = str(token.value)
    eol, newline, rest = ("", "", text[1:]) if text.startswith("\n") else text.partition("\n")
    if not rest:
        return
    moved = copy.copy(token)
    moved.value = "\n" + rest
    seq.ca.items[last + 1] = [moved, None, None, None]
    if eol:
        token.value = eol + newline
    else:
        del seq.ca.items[last]


def _block(text: str, indent: int) -> str:
    """An answer as the shipped files write it: folded (``>-``) at about 88 columns, or
    literal (``|-``) when it has line breaks of its own (paragraphs, bullets)."""
    text = text.strip()
    if "\n" in text:
        literal: str = LiteralScalarString(text)
        return literal
    folded: str = FoldedScalarString(text)
    width, positions, column = _FOLD_AT - indent, [], 0
    for i, ch in enumerate(text):
        column += 1
        if ch == " " and column > width and i + 1 < len(text) and text[i + 1] != " ":
            positions.append(i)
            column = 0
    folded.fold_pos = positions  # type: ignore[attr-defined]
    return folded


def _known(question: str, phrasings: tuple[str, ...]) -> bool:
    return gap_key(question) in {gap_key(p) for p in phrasings}


def add_phrasing(
    kb: KnowledgeBase,
    entry_id: str,
    question: str,
    language: str,
    *,
    faq_path: Path,
    knowledge_dir: Path,
    answer: str | None = None,
) -> Edit:
    """``question`` as a new phrasing of an entry, in ``language``. An entry not yet
    translated into that language gets its translation started only from a desk
    answer (``answer``); otherwise that is refused, with what to do."""
    entry = kb.entries.get(kb.resolve(entry_id))
    if entry is None:
        raise PromoteError(f"no entry '{entry_id}' (nsbot kb list shows them)")
    if "glossary" in entry.tags:
        raise PromoteError(
            f"'{entry.id}' is a glossary term: add the wording to its 'aliases' in "
            "knowledge/glossary.yaml by hand, or choose another entry with --entry"
        )
    question = " ".join(question.split())
    ids = {entry.id, *entry.aliases}
    known = entry.questions if language == "en" else _translated(entry, language)
    if _known(question, known):
        raise PromoteError(f"{question!r} is already a phrasing of '{entry.id}' ({language})")
    faq = _Document(faq_path)
    item = faq.item(ids)
    if item is None:
        raise PromoteError(f"'{entry.id}' is not in {faq_path}")
    where = f"a new phrasing of '{entry.id}'"
    if language == "en":
        _append(_questions(item, faq.path), question)
        return faq.edit(f"{where} in {faq_path.name}")
    inline = item.get("translations")
    if isinstance(inline, CommentedMap) and isinstance(inline.get(language), CommentedMap):
        _append(_questions(inline[language], faq.path), question)
        return faq.edit(f"{where} ({language}, inline in {faq_path.name})")
    path = knowledge_dir / "translations" / f"{language}.yaml"
    if not path.is_file():
        raise PromoteError(
            f"there are no {language} translations yet ({path} is missing): create that file "
            "first, or pass --lang en if the question is English"
        )
    doc = _Document(path)
    translated = doc.item(ids)
    if translated is not None:
        _append(_questions(translated, path), question)
        return doc.edit(f"{where} ({language}, in translations/{path.name})")
    if not answer:
        raise PromoteError(
            f"'{entry.id}' has no {language} translation yet, and only a desk conversation "
            f"brings an answer to start one from: translate the entry in {path} first, "
            "choose an entry that is translated with --entry, or pass --lang en"
        )
    new = CommentedMap()
    new["id"] = entry.id
    new["questions"] = CommentedSeq([question])
    new["answer"] = _block(answer, 3 * doc.indent)
    entries = doc.entries()
    entries.append(new)
    if len(entries) > 1:  # a blank line before it, as between the others
        entries.yaml_set_comment_before_after_key(len(entries) - 1, before="\n", indent=0)
    return doc.edit(f"{where}, starting its {language} translation with the desk's answer")


def _translated(entry: Entry, language: str) -> tuple[str, ...]:
    tr = entry.translations.get(language)
    return tr.questions if tr else ()


def _questions(item: CommentedMap, path: Path) -> CommentedSeq:
    questions = item.get("questions")
    if not isinstance(questions, CommentedSeq):
        raise PromoteError(f"{path}: '{item.get('id')}' has no list of questions to add to")
    return questions


def add_draft(
    kb: KnowledgeBase,
    new_id: str,
    *,
    faq_path: Path,
    questions: list[str],
    answer: str,
    topic: str,
    source_doc: str,
    origin: str,
) -> Edit:
    """A draft entry at the end of faq.yaml. Its source names a real document (so the
    bot still starts), with a section that begins ``DRAFT:``, which ``kb check`` warns
    about until the curator names the section that confirms the answer."""
    if not ID_RE.match(new_id):
        raise PromoteError(
            f"'{new_id}' is not a usable id: lower-case letters, digits and hyphens, "
            "starting with a letter, at most 40 characters"
        )
    if kb.entry(new_id) is not None or new_id in kb.aliases:
        raise PromoteError(f"the id '{new_id}' is taken; ids are never reused")
    if topic not in kb.topics:
        raise PromoteError(f"no topic '{topic}' in knowledge/topics.yaml (pass --topic)")
    if source_doc not in kb.sources:
        raise PromoteError(f"no source '{source_doc}' in knowledge/sources.yaml (pass --source)")
    phrasings = list(dict.fromkeys(" ".join(q.split()) for q in questions if q.strip()))
    if len(phrasings) < 2:
        raise PromoteError(
            "an entry needs at least 2 phrasings and this question has 1: add another way "
            "people ask it with --question '...'"
        )
    faq = _Document(faq_path)
    entries = faq.entries()
    indent = 2 * faq.indent
    new = CommentedMap()
    new["id"] = new_id
    new["topic"] = topic
    new["questions"] = CommentedSeq(phrasings)
    new["answer"] = _block(answer, indent + faq.indent)
    source = CommentedMap()
    source["doc"] = source_doc
    source["section"] = DoubleQuotedScalarString(
        f"{DRAFT_MARK} name the section that confirms this answer ({origin})"
    )
    new["source"] = CommentedSeq([source])
    entries.append(new)
    entries.yaml_set_comment_before_after_key(
        len(entries) - 1,
        before=f"\nDraft from 'nsbot kb promote' ({origin}):\ncheck the answer, complete its "
        "source, then move it to its topic's section.",
        indent=faq.indent,
    )
    return faq.edit(f"a draft entry '{new_id}' at the end of {faq_path.name}")


def write(edit: Edit) -> None:
    edit.path.write_text(edit.after, encoding="utf-8")


def restore(edit: Edit) -> None:
    edit.path.write_text(edit.before, encoding="utf-8")
