"""Consultations in other languages: a ``translations:`` block per file, field by field.

A consultation file is written in English; under ``translations:`` each language code
(fr, es, ar, or any other) maps the same fields to their translation::

    translations:
      fr:
        title: ...
        introduction: ...
        questions:
          network:
            text: ...
            choices: {apmn: APMN (réseau Asie-Pacifique), none: Aucun ou autre}

Every field is optional: a field without a translation stays in English, so a
half-translated consultation never shows a reply half in one language for want of
one field. Curators add a language by adding its block; no code changes.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from bot import markup
from bot.yamlfile import LineDict

if TYPE_CHECKING:
    from bot.consultations import Consultation, Question
    from bot.knowledge import _Checker

# The consultation's and each question's fields a person reads; the markup ones may
# use **bold** and the like, as in English.
CONSULTATION_FIELDS = ("title", "introduction", "consent", "thanks")
MARKUP_FIELDS = frozenset({"introduction", "consent", "thanks", "text", "hint"})
QUESTION_FIELDS = ("text", "short", "hint", "error", "min_label", "max_label", "unit")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")

Translations = dict[str, dict[str, Any]]  # language -> {field: text, "questions": {...}}


def check_translations(
    c: _Checker, data: LineDict, who: str, questions: list[Question]
) -> Translations:
    """The ``translations:`` block, checked: known languages' shape, known question and
    choice ids, and only the fields the English has. Problems name file and line."""
    raw = data.get("translations")
    if raw is None:
        return {}
    if not isinstance(raw, LineDict):
        c.error(
            data.line_of("translations"), who, "'translations' must map fr, es, ar... to fields"
        )
        return {}
    by_id = {q.id: q for q in questions}
    out: Translations = {}
    for lang, block in raw.items():
        lang = str(lang)
        if not LANGUAGE_RE.match(lang) or lang == "en":
            c.error(raw.line_of(lang), who, f"'{lang}' is not a language code like fr, es or ar")
            continue
        if not isinstance(block, LineDict):
            c.error(raw.line_of(lang), who, f"translations.{lang} must be a mapping of fields")
            continue
        where = f"{who} ({lang})"
        c.unknown_keys(block, (*CONSULTATION_FIELDS, "questions"), where)
        fields = _texts(c, block, CONSULTATION_FIELDS, where)
        qs = block.get("questions")
        if qs is not None and not isinstance(qs, LineDict):
            c.error(block.line_of("questions"), where, "'questions' maps question ids to fields")
        elif qs is not None:
            fields["questions"] = {}
            for qid, qblock in qs.items():
                q = by_id.get(str(qid))
                if q is None:
                    c.error(qs.line_of(qid), where, f"no question '{qid}' to translate")
                    continue
                if not isinstance(qblock, LineDict):
                    c.error(qs.line_of(qid), where, f"question {qid}: a mapping of fields")
                    continue
                fields["questions"][q.id] = _question_fields(c, qblock, q, f"{where} {q.id}")
        out[lang] = fields
    return out


def _texts(c: _Checker, block: LineDict, names: tuple[str, ...], who: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in names:
        if name not in block:
            continue
        value = block[name]
        if not isinstance(value, str) or not value.strip():
            c.error(block.line_of(name), who, f"'{name}' must be a text")
            continue
        value = value.strip()
        if name in MARKUP_FIELDS and not markup.parse(value):
            c.error(block.line_of(name), who, f"'{name}' has no text")
            continue
        fields[name] = value
    return fields


def _question_fields(c: _Checker, block: LineDict, q: Question, who: str) -> dict[str, Any]:
    allowed = [f for f in QUESTION_FIELDS if _has(q, f)]
    c.unknown_keys(
        block, (*allowed, *(("choices",) if q.type in {"single", "multiple"} else ())), who
    )
    fields = _texts(c, block, tuple(allowed), who)
    choices = block.get("choices")
    if choices is not None:
        if not isinstance(choices, LineDict):
            c.error(block.line_of("choices"), who, "'choices' maps choice ids to labels")
        else:
            labels = {}
            ids = {o.id for o in q.options}
            for oid, label in choices.items():
                if str(oid) not in ids:
                    c.error(choices.line_of(oid), who, f"no choice '{oid}' to translate")
                elif not isinstance(label, str) or not label.strip():
                    c.error(choices.line_of(oid), who, f"choice '{oid}' must be a text")
                else:
                    labels[str(oid)] = label.strip()
            fields["choices"] = labels
    return fields


def _has(q: Question, name: str) -> bool:
    """Whether the English question has the field at all ("unit" only for numbers...)."""
    return name in {"text", "short", "hint", "error"} or bool(getattr(q, name, ""))


def translate(
    consultation: Consultation, language: str, yes_no: tuple[str, str] | None = None
) -> Consultation:
    """The consultation with each field in ``language`` where it is translated, the
    English elsewhere; yes/no questions' two options worded ``yes_no`` (the UI's words
    in that language). Choices keep their English label as an alias, so a label typed
    in English is still understood."""
    block = consultation.translations.get(language) or {}
    if not block and yes_no is None:
        return consultation
    top = {name: block[name] for name in CONSULTATION_FIELDS if name in block}
    per_question = dict(block.get("questions", {}))
    if yes_no is not None:
        for q in consultation.questions:
            if q.type == "yesno":
                fields = dict(per_question.get(q.id, {}))
                fields["choices"] = {"yes": yes_no[0], "no": yes_no[1]}
                per_question[q.id] = fields
    questions = tuple(
        _translate_question(q, per_question.get(q.id, {})) for q in consultation.questions
    )
    return dataclasses.replace(consultation, questions=questions, **top)


def _translate_question(q: Question, fields: dict[str, Any]) -> Question:
    if not fields:
        return q
    labels = fields.get("choices", {})
    options = tuple(
        dataclasses.replace(o, label=labels[o.id], aliases=(*o.aliases, o.label))
        if o.id in labels and labels[o.id] != o.label
        else o
        for o in q.options
    )
    changes = {name: fields[name] for name in QUESTION_FIELDS if name in fields}
    return dataclasses.replace(q, options=options, **changes)


def untranslated(consultation: Consultation, language: str) -> list[str]:
    """The fields of a consultation without a translation in ``language``, named like
    "title" or "questions.network.choices.apmn", for ``nsbot kb check``."""
    block = consultation.translations.get(language, {})
    missing = [
        name for name in CONSULTATION_FIELDS if getattr(consultation, name) and name not in block
    ]
    per_question = block.get("questions", {})
    for q in consultation.questions:
        fields = per_question.get(q.id, {})
        missing += [
            f"questions.{q.id}.{name}"
            for name in QUESTION_FIELDS
            if getattr(q, name) and name not in fields
        ]
        if q.type in {"single", "multiple"}:
            labels = fields.get("choices", {})
            missing += [f"questions.{q.id}.choices.{o.id}" for o in q.options if o.id not in labels]
    return missing


def pairs(consultation: Consultation, language: str) -> list[tuple[str, str, str]]:
    """(field, English, translation) for every translated field, to compare their
    numbers, dates and placeholders."""
    block = consultation.translations.get(language, {})
    out = [
        (name, getattr(consultation, name), block[name])
        for name in CONSULTATION_FIELDS
        if name in block
    ]
    for q in consultation.questions:
        fields = block.get("questions", {}).get(q.id, {})
        out += [
            (f"questions.{q.id}.{n}", getattr(q, n), fields[n])
            for n in QUESTION_FIELDS
            if n in fields
        ]
        labels = fields.get("choices", {})
        out += [
            (f"questions.{q.id}.choices.{o.id}", o.label, labels[o.id])
            for o in q.options
            if o.id in labels
        ]
    return out
