"""Consultations: short questionnaires coordinators define in YAML, and the rules for
walking through them (which questions show, what comes next, what counts as an answer).

A consultation is one file under ``knowledge/consultations/``. It is validated when
loaded with the knowledge base's file/line/entry problems, so a broken condition or an
empty choice list stops the bot with a message a curator can act on, and
``nsbot kb check`` reports the same list.

Answers are plain JSON values, so storage and exports need no knowledge of types:
single choice and yes/no -> the option id; multiple choice -> a list of option ids in
the file's order; scale -> an int; number -> an int or a float; free text -> a str;
``None`` -> the person skipped an optional question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from bot import markup, typed
from bot.consultation_translations import check_translations, translate
from bot.errors import ContentError, Problem
from bot.knowledge import ID_RE, _Checker
from bot.messages import MAX_ACTION_BYTES
from bot.yamlfile import LineDict, LineList, colon_hint, display_path, load_yaml

QUESTION_TYPES = ("single", "multiple", "scale", "yesno", "number", "text")
CHOICE_TYPES = frozenset({"single", "multiple", "scale", "yesno"})
AUDIENCES = ("everyone", "registered")
# The IFRC's five regions: people may give theirs in /profile, for breakdowns of results.
REGIONS = ("africa", "americas", "asia-pacific", "europe", "mena")
MAX_QUESTIONS = 60
MAX_OPTIONS = 20
MAX_SCALE_STEPS = 11  # 0-10 is the widest scale that still fits as buttons
MAX_TEXT_LENGTH = 4000  # one chat message
DEFAULT_TEXT_LENGTH = 1000
REVIEW = "review"  # response positions besides a question id
DONE = "done"
# The longest button action: "cm:<consultation id>:<question>:<option>".
assert len("cm:") + 40 + len(":99:99") <= MAX_ACTION_BYTES

_CONSULTATION_KEYS = (
    "id",
    "title",
    "introduction",
    "consent",
    "opens",
    "closes",
    "timezone",
    "anonymous",
    "audience",
    "questions",
    "thanks",
    "translations",
)
_QUESTION_KEYS = {
    "single": ("choices",),
    "multiple": ("choices", "min_choices", "max_choices"),
    "scale": ("min", "max", "min_label", "max_label"),
    "yesno": (),
    "number": ("min", "max", "integer", "unit"),
    "text": ("max_length",),
}
_COMMON_KEYS = ("id", "type", "text", "short", "hint", "required", "show_if", "error")


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    aliases: tuple[str, ...] = ()  # other labels typed answers may use (the English one)


@dataclass(frozen=True)
class Condition:
    """``show_if``: show a question only when an earlier answer matches."""

    question: str
    values: frozenset[str] = frozenset()  # option ids (or scale values as text)
    at_least: float | None = None
    at_most: float | None = None

    def holds(self, answer: Any) -> bool:
        if answer is None or answer == []:
            return False
        if self.values:
            given = answer if isinstance(answer, list) else [answer]
            return any(str(a) in self.values for a in given)
        if isinstance(answer, bool) or not isinstance(answer, int | float):
            return False
        return (self.at_least is None or answer >= self.at_least) and (
            self.at_most is None or answer <= self.at_most
        )


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    required: bool = True
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = True
    unit: str = ""
    min_label: str = ""
    max_label: str = ""
    min_choices: int = 1
    max_choices: int = 0  # 0: as many as there are options
    max_length: int = DEFAULT_TEXT_LENGTH
    condition: Condition | None = None
    error: str = ""  # the curator's validation message, shown when an answer is not accepted
    hint: str = ""
    short: str = ""  # a short name for summaries and results
    line: int = 0

    @property
    def is_choice(self) -> bool:
        return self.type in CHOICE_TYPES

    @property
    def title(self) -> str:
        """How the question is named in summaries: its short name, else its text cut short."""
        if self.short:
            return self.short
        text = " ".join(markup.to_plain(self.text).split())
        return text if len(text) <= 70 else text[:69].rsplit(" ", 1)[0] + "…"

    def option(self, option_id: Any) -> Option | None:
        return next((o for o in self.options if o.id == str(option_id)), None)

    def display(self, value: Any) -> str:
        """An answer in words, for summaries and exports (labels, not ids)."""
        if value is None:
            return ""
        if isinstance(value, list):
            return "; ".join(self.display(v) for v in value)
        if self.type in {"single", "multiple", "yesno"}:
            opt = self.option(value)
            return opt.label if opt else str(value)
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    def parse(self, text: str) -> Any | None:
        """A typed answer as a value, or None when the text is not a valid answer.

        Choice questions take a number, a label, or a close misspelling of a label;
        the range and length limits are checked by :meth:`problem` afterwards.
        """
        text = " ".join(text.split())
        if not text:
            return None
        if self.type == "text":
            return text
        if self.type in {"number", "scale"}:
            try:
                number = typed.number(text)
            except typed.TooLong:
                return TOO_LONG  # :meth:`problem` says why
            if self.type == "number":
                return number
            if number is not None:  # a scale: a whole number is its option's id
                return int(number) if number == int(number) else number
        if self.type == "multiple":
            return self._parse_many(text)
        if self.type == "scale":
            # "very useful": the label of either end of the scale, as the hint shows it.
            ends = tuple(
                Option(o.id, label)
                for o, label in (
                    (self.options[0], self.min_label),
                    (self.options[-1], self.max_label),
                )
                if label
            )
            end = match_option(ends, text) if ends and typed.whole_number(text) is None else None
            if end is not None:
                return int(end.id)
        if self.type == "yesno" and _fold(text) in {"y", "n"}:
            return "yes" if _fold(text) == "y" else "no"
        opt = match_option(self.options, text)
        if opt is None:
            return None
        return int(opt.id) if self.type == "scale" else opt.id

    def _parse_many(self, text: str) -> list[str] | None:
        """ "1, 3", "1 3", "access; climate", "access and climate" or one label."""
        whole = match_option(self.options, text)
        if whole is not None:
            return [whole.id]
        parts = typed.split_list(text)
        picked: set[str] = set()
        for part in parts:
            opt = match_option(self.options, part)
            if opt is None:
                return None
            picked.add(opt.id)
        return [o.id for o in self.options if o.id in picked]

    def problem(self, value: Any) -> tuple[str, dict[str, Any]] | None:
        """Why a parsed value is not acceptable: (locale key, its placeholders), or None."""
        if self.type == "text":
            if len(value) > self.max_length:
                return "consult_text_too_long", {"length": len(value), "max": self.max_length}
            return None
        if self.type in {"number", "scale"}:
            if value is TOO_LONG:
                return "consult_number_too_long", {"max": typed.MAX_DIGITS}
            if not isinstance(value, int | float) or isinstance(value, bool):
                return "consult_not_a_number", {}
            if self.type == "scale" and value not in {int(o.id) for o in self.options}:
                return "consult_scale_range", {
                    "min": self.options[0].id,
                    "max": self.options[-1].id,
                }
            if self.integer and not float(value).is_integer():
                return "consult_whole_number", {}
            low = -math.inf if self.minimum is None else self.minimum
            high = math.inf if self.maximum is None else self.maximum
            if not low <= value <= high:
                if self.minimum is None:
                    return "consult_number_max", {"max": _num(self.maximum)}
                if self.maximum is None:
                    return "consult_number_min", {"min": _num(self.minimum)}
                return "consult_number_range", {
                    "min": _num(self.minimum),
                    "max": _num(self.maximum),
                }
            return None
        if self.type == "multiple":
            count = len(value)
            if count < self.min_choices:
                return "consult_too_few", {"min": self.min_choices}
            if self.max_choices and count > self.max_choices:
                return "consult_too_many", {"max": self.max_choices}
        return None


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


# A typed number too long to be an answer: :meth:`Question.problem` explains the limit.
TOO_LONG: Final = object()


def parse_number(text: str) -> int | float | None:
    """ "12", "-3", "2.5", "2,5", "1 200", "1,200", "١٢" as numbers; anything else None."""
    try:
        return typed.number(text)
    except typed.TooLong:
        return None


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s+-]", " ", typed.ascii_digits(text).casefold()).split())


def match_option(options: tuple[Option, ...], text: str) -> Option | None:
    """The option a typed text means: its number, its label or id, a close misspelling of
    the label, or the one label that contains every typed word."""
    said = _fold(text)
    if not said:
        return None
    index = typed.whole_number(said)
    if index is not None:
        by_id = next((o for o in options if o.id == said), None)  # scale values are their ids
        if by_id is not None:
            return by_id
        return options[index - 1] if 1 <= index <= len(options) else None
    for o in options:
        if said in {_fold(o.label), o.id, *(_fold(a) for a in o.aliases)}:
            return o
    # One slip (a swap, a missing or extra letter) in a short label: "yse" is "Yes".
    close = [
        o for o in options if len(_fold(o.label)) >= 3 and OSA.distance(said, _fold(o.label)) <= 1
    ]
    if len(close) == 1:
        return close[0]
    scored = sorted(((fuzz.ratio(said, _fold(o.label)), o) for o in options), key=lambda s: -s[0])
    if scored and scored[0][0] >= 80 and (len(scored) == 1 or scored[0][0] - scored[1][0] >= 5):
        return scored[0][1]
    words = [w for w in said.split() if len(w) >= 3]
    if words:
        holders = [o for o in options if all(w in _fold(o.label).split() for w in words)]
        if len(holders) == 1:
            return holders[0]
    return None


@dataclass(frozen=True)
class Consultation:
    id: str
    title: str
    introduction: str
    consent: str
    opens: datetime
    closes: datetime
    timezone: tzinfo
    anonymous: bool
    audience: str
    questions: tuple[Question, ...]
    thanks: str = ""
    file: str = ""
    line: int = 0
    # language -> translated fields (bot.consultation_translations); English is the above.
    translations: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def in_language(
        self, language: str | None, yes_no: tuple[str, str] | None = None
    ) -> Consultation:
        """This consultation as a person reading ``language`` sees it: each field in
        that language where it is translated, in English where it is not; yes/no
        options worded ``yes_no`` when given."""
        return translate(self, language or "en", yes_no)

    def __post_init__(self) -> None:
        self._index.update({q.id: i for i, q in enumerate(self.questions)})

    def question(self, question_id: str) -> Question | None:
        i = self._index.get(question_id)
        return None if i is None else self.questions[i]

    def index(self, question_id: str) -> int:
        return self._index.get(question_id, -1)

    def is_open(self, now: datetime, closed_early: datetime | None = None) -> bool:
        closes = min(self.closes, closed_early) if closed_early else self.closes
        return self.opens <= now < closes

    def visible(self, answers: Mapping[str, Any]) -> list[Question]:
        """The questions shown given these answers, in order (conditions chain)."""
        shown: set[str] = set()
        out = []
        for q in self.questions:
            cond = q.condition
            if cond is None or (cond.question in shown and cond.holds(answers.get(cond.question))):
                shown.add(q.id)
                out.append(q)
        return out

    def hidden_answers(self, answers: Mapping[str, Any]) -> list[str]:
        """Answered questions that these answers now hide: they no longer count."""
        shown = {q.id for q in self.visible(answers)}
        return [qid for qid in answers if qid not in shown]

    def expected(self, answers: Mapping[str, Any]) -> list[Question]:
        """The questions a person can expect to see: visible ones, plus those whose
        condition depends on a question not reached yet."""
        out: list[Question] = []
        kept: set[str] = set()
        for q in self.questions:
            cond = q.condition
            if cond is not None and cond.question not in kept:
                continue
            if (
                cond is not None
                and cond.question in answers
                and not cond.holds(answers[cond.question])
            ):
                continue
            kept.add(q.id)
            out.append(q)
        return out

    def progress(self, answers: Mapping[str, Any], question_id: str) -> tuple[int, int]:
        """("Question 3 of 8"): this question's place among those the person can expect."""
        expected = [q.id for q in self.expected(answers)]
        if question_id not in expected:
            expected.append(question_id)
            expected.sort(key=self.index)
        return expected.index(question_id) + 1, len(expected)

    def next_position(self, answers: Mapping[str, Any], after: str | None = None) -> str:
        """The first visible question after ``after`` not yet answered or skipped, else REVIEW."""
        start = -1 if after is None else self.index(after)
        for q in self.visible(answers):
            if self.index(q.id) > start and q.id not in answers:
                return q.id
        return REVIEW

    def previous(self, answers: Mapping[str, Any], question_id: str) -> str | None:
        before = [q.id for q in self.visible(answers) if self.index(q.id) < self.index(question_id)]
        return before[-1] if before else None

    def missing(self, answers: Mapping[str, Any]) -> list[Question]:
        """Visible required questions without an answer (blocks submitting)."""
        return [q for q in self.visible(answers) if q.required and answers.get(q.id) in (None, [])]

    def effective(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The answers that count: visible questions only, skips and empty picks left out."""
        return {
            q.id: answers[q.id]
            for q in self.visible(answers)
            if answers.get(q.id) not in (None, [])
        }


class Catalog:
    """The loaded consultations, by id, in file order."""

    def __init__(self, consultations: list[Consultation] | None = None) -> None:
        self.by_id: dict[str, Consultation] = {c.id: c for c in consultations or []}
        self._languages: dict[tuple[str, tuple[str, str] | None], Catalog] = {}

    def in_language(self, language: str | None, yes_no: tuple[str, str] | None = None) -> Catalog:
        """The same consultations worded in a language (field by field, English where
        a field is not translated); made once per language."""
        key = (language or "en", yes_no)
        if key not in self._languages:
            self._languages[key] = Catalog([c.in_language(key[0], yes_no) for c in self])
        return self._languages[key]

    def get(self, consultation_id: str) -> Consultation | None:
        return self.by_id.get(consultation_id)

    def __iter__(self) -> Iterator[Consultation]:
        return iter(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)


# --------------------------------------------------------------------------- loading


def load_consultations(directory: Path, *, yes_no: tuple[str, str] = ("Yes", "No")) -> Catalog:
    """Load every ``*.yaml`` in ``directory``; raise :class:`ContentError` on any error.

    ``yes_no`` are the labels of yes/no questions' two options (the UI's words).
    A missing folder is no error: the bot simply has no consultations.
    """
    catalog, problems = check_consultations(directory, yes_no=yes_no)
    if any(not p.warning for p in problems):
        raise ContentError(problems)
    return catalog


def check_consultations(
    directory: Path, *, root: Path | None = None, yes_no: tuple[str, str] = ("Yes", "No")
) -> tuple[Catalog, list[Problem]]:
    """Validate without raising: (the valid consultations, every problem found)."""
    if not directory.is_dir():
        return Catalog(), []
    problems: list[Problem] = []
    loaded: list[Consultation] = []
    where: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        display = _relative(path, root)
        consultation, found = load_consultation_file(path, display, yes_no=yes_no)
        problems += found
        if consultation is None:
            continue
        if consultation.id in where:
            problems.append(
                Problem(
                    display,
                    consultation.line,
                    consultation.id,
                    f"duplicate consultation id: already used in {where[consultation.id]}",
                )
            )
            continue
        where[consultation.id] = display
        loaded.append(consultation)
    return Catalog(loaded), problems


def _relative(path: Path, root: Path | None) -> str:
    """Relative to ``root`` when the caller names one; else as a curator can open it."""
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return display_path(path)


def load_consultation_file(
    path: Path, display: str | None = None, *, yes_no: tuple[str, str] = ("Yes", "No")
) -> tuple[Consultation | None, list[Problem]]:
    """One consultation file: (the consultation if valid, its problems)."""
    display = display or str(path)
    data, errors = load_yaml(path, display)
    if errors:
        return None, errors
    c = _Checker(display)
    result = _consultation(c, data, yes_no)
    if any(not p.warning for p in c.problems):
        return None, c.problems
    return result, c.problems


def _consultation(c: _Checker, data: Any, yes_no: tuple[str, str]) -> Consultation | None:
    if not isinstance(data, LineDict):
        c.error(
            getattr(data, "line", 1),
            None,
            "a consultation file is a mapping: id, title, ... questions",
        )
        return None
    ident = c.ident(data, "id", {}, lambda line: f"{c.file}:{line}")
    who = ident or "consultation"
    c.unknown_keys(data, _CONSULTATION_KEYS, who)
    title = c.text(data, "title", who)
    introduction = c.markup_text(data, "introduction", who)
    consent = c.markup_text(data, "consent", who)
    thanks = c.markup_text(data, "thanks", who, required=False)

    zone: tzinfo | None = None
    zone_name = c.text(data, "timezone", who, required=False)
    if zone_name:
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            c.error(
                data.line_of("timezone"),
                who,
                f"unknown time zone '{zone_name}' (use a name like Europe/Zurich or UTC)",
            )
            zone = UTC  # the error above says it all; spare the "no time zone" ones
    opens = _moment(c, data, "opens", who, zone, end_of_day=False)
    closes = _moment(c, data, "closes", who, zone, end_of_day=True)
    if opens and closes and closes <= opens:
        c.error(
            data.line_of("closes"),
            who,
            f"'closes' ({data['closes']}) is not after 'opens' ({data['opens']})",
        )

    anonymous = data.get("anonymous", True)
    if not isinstance(anonymous, bool):
        c.error(data.line_of("anonymous"), who, "'anonymous' must be true or false")
        anonymous = True
    audience = str(data.get("audience", "everyone"))
    if audience not in AUDIENCES:
        c.error(
            data.line_of("audience"),
            who,
            f"audience '{audience}' is not one of: {', '.join(AUDIENCES)}",
        )

    questions = _questions(c, data, who, yes_no)
    translations = check_translations(c, data, who, questions)
    if not ident or not opens or not closes:
        return None
    return Consultation(
        id=ident,
        title=title,
        introduction=introduction,
        consent=consent,
        opens=opens,
        closes=closes,
        timezone=zone or opens.tzinfo or ZoneInfo("UTC"),
        anonymous=anonymous,
        audience=audience,
        questions=tuple(questions),
        thanks=thanks,
        file=c.file,
        line=data.line,
        translations=translations,
    )


def _moment(
    c: _Checker, item: LineDict, key: str, who: str, zone: tzinfo | None, end_of_day: bool
) -> datetime | None:
    raw = item.get(key)
    if raw is None:
        c.error(item.line, who, f"missing '{key}' (a date and time, like 2026-11-23 09:00)")
        return None
    text = str(raw).strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        c.error(
            item.line_of(key),
            who,
            f"'{key}: {text}' is not a date and time; write YYYY-MM-DD HH:MM",
        )
        return None
    if end_of_day and len(text) == 10:  # "closes: 2027-03-31" means through the end of that day
        moment += timedelta(days=1)
    if moment.tzinfo is None:
        if zone is None:
            c.error(
                item.line_of(key),
                who,
                f"'{key}' has no time zone: add an offset (2026-11-23 09:00+01:00) or a "
                "'timezone:' line (Europe/Zurich, UTC)",
            )
            return None
        moment = moment.replace(tzinfo=zone)
    return moment


def _questions(c: _Checker, data: LineDict, who: str, yes_no: tuple[str, str]) -> list[Question]:
    items = data.get("questions")
    if not isinstance(items, LineList) or not items:
        c.error(
            data.line_of("questions"),
            who,
            "'questions' must be a list with at least one question, each starting with '- '",
        )
        return []
    if len(items) > MAX_QUESTIONS:
        c.error(
            data.line_of("questions"), who, f"at most {MAX_QUESTIONS} questions, found {len(items)}"
        )
    seen: dict[str, str] = {}
    out: list[Question] = []
    for line, item in zip(items.item_lines, items, strict=True):
        if not isinstance(item, LineDict):
            c.error(line, who, "each question must be a mapping of 'key: value' lines")
            continue
        q = _question(c, item, seen, out, yes_no)
        if q is not None:
            out.append(q)
    return out


def _question(
    c: _Checker,
    item: LineDict,
    seen: dict[str, str],
    earlier: list[Question],
    yes_no: tuple[str, str],
) -> Question | None:
    qid = c.ident(item, "id", seen, lambda line: f"line {line}")
    who = f"question {qid}" if qid else f"question at line {item.line}"
    kind = str(item.get("type", ""))
    if kind not in QUESTION_TYPES:
        c.error(
            item.line_of("type"),
            who,
            f"type '{kind}' is not one of: {', '.join(QUESTION_TYPES)}"
            if kind
            else "missing 'type'",
        )
        return None
    c.unknown_keys(item, _COMMON_KEYS + _QUESTION_KEYS[kind], who)
    text = c.markup_text(item, "text", who)
    required = item.get("required", True)
    if not isinstance(required, bool):
        c.error(item.line_of("required"), who, "'required' must be true or false")
        required = True
    short = c.text(item, "short", who, required=False)
    if len(short) > 60:
        c.warn(item.line_of("short"), who, "'short' is longer than 60 characters")
    fields: dict[str, Any] = {}
    if kind in {"single", "multiple"}:
        fields["options"] = _options(c, item, who)
        if kind == "multiple":
            n = len(fields["options"])
            fields["min_choices"] = _int(c, item, "min_choices", who, 1 if required else 0, 0, n)
            fields["max_choices"] = _int(c, item, "max_choices", who, n, 1, n)
            if fields["max_choices"] < fields["min_choices"]:
                c.error(item.line_of("max_choices"), who, "'max_choices' is below 'min_choices'")
    elif kind == "yesno":
        fields["options"] = (Option("yes", yes_no[0]), Option("no", yes_no[1]))
    elif kind == "scale":
        low = _int(c, item, "min", who, 1, -100, 100)
        high = _int(c, item, "max", who, 5, -100, 100)
        if high <= low:
            c.error(
                item.line_of("max"), who, f"the scale's 'max' ({high}) must be above 'min' ({low})"
            )
        elif high - low + 1 > MAX_SCALE_STEPS:
            c.error(
                item.line_of("max"),
                who,
                f"a scale has at most {MAX_SCALE_STEPS} steps (like 0 to 10)",
            )
        fields["options"] = tuple(Option(str(v), str(v)) for v in range(low, high + 1))
        fields["minimum"], fields["maximum"] = float(low), float(high)
        fields["min_label"] = c.text(item, "min_label", who)
        fields["max_label"] = c.text(item, "max_label", who)
    elif kind == "number":
        fields["integer"] = item.get("integer", True)
        if not isinstance(fields["integer"], bool):
            c.error(item.line_of("integer"), who, "'integer' must be true or false")
            fields["integer"] = True
        fields["minimum"] = _float(c, item, "min", who)
        fields["maximum"] = _float(c, item, "max", who)
        if (
            fields["minimum"] is not None
            and fields["maximum"] is not None
            and fields["maximum"] < fields["minimum"]
        ):
            c.error(
                item.line_of("max"), who, f"'max' ({item['max']}) is below 'min' ({item['min']})"
            )
        fields["unit"] = c.text(item, "unit", who, required=False)
    elif kind == "text":
        fields["max_length"] = _int(
            c, item, "max_length", who, DEFAULT_TEXT_LENGTH, 1, MAX_TEXT_LENGTH
        )
    condition = _condition(c, item, who, earlier)
    if not qid:
        return None
    return Question(
        id=qid,
        type=kind,
        text=text,
        required=required,
        condition=condition,
        error=c.text(item, "error", who, required=False),
        hint=c.markup_text(item, "hint", who, required=False),
        short=short,
        line=item.line,
        **fields,
    )


def _options(c: _Checker, item: LineDict, who: str) -> tuple[Option, ...]:
    raw = item.get("choices")
    if not isinstance(raw, LineList) or not raw:
        c.error(
            item.line_of("choices"),
            who,
            "'choices' must be a list with at least two options, each starting with '- '",
        )
        return ()
    options: list[Option] = []
    seen: set[str] = set()
    for line, value in zip(raw.item_lines, raw, strict=True):
        if isinstance(value, LineDict) and not {"id", "label"} & set(value):
            # "- Climate: displacement": a text with ': ' that YAML read as a mapping.
            c.error(line, who, f"each choice is a text, or 'id:' and 'label:'{colon_hint(value)}")
            continue
        if isinstance(value, LineDict):
            c.unknown_keys(value, ("id", "label"), who)
            label = c.text(value, "label", who)
            oid = str(value.get("id") or _slug(label))
        elif isinstance(value, bool):
            if not any(isinstance(v, bool) for v in raw[: raw.index(value)]):  # say it once
                c.error(
                    line,
                    who,
                    "YAML reads Yes/No/On/Off as true/false: put the choice in quotes, "
                    "or use type: yesno",
                )
            continue
        elif isinstance(value, str | int | float) and str(value).strip():
            label = str(value).strip()
            oid = _slug(label)
        else:
            c.error(line, who, "each choice is a text, or 'id:' and 'label:'")
            continue
        if not ID_RE.match(oid):
            c.error(
                line,
                who,
                f"choice id '{oid}' must be lower-case letters, digits and hyphens, "
                "starting with a letter",
            )
            continue
        if oid in seen:
            c.error(line, who, f"choice '{label}' appears twice (id '{oid}')")
            continue
        if len(label) > 60:
            c.warn(
                line,
                who,
                f"choice '{label[:30]}…' is longer than 60 characters; buttons will cut it",
            )
        seen.add(oid)
        options.append(Option(oid, label))
    if len(options) == 1:
        c.error(item.line_of("choices"), who, "a choice question needs at least two options")
    if len(options) > MAX_OPTIONS:
        c.error(
            item.line_of("choices"), who, f"at most {MAX_OPTIONS} options, found {len(options)}"
        )
    return tuple(options)


def _slug(label: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40].strip("-")
    return slug if slug and slug[0].isalpha() else f"o-{slug}"[:40].strip("-")


def _int(c: _Checker, item: LineDict, key: str, who: str, default: int, low: int, high: int) -> int:
    value = item.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        c.error(item.line_of(key), who, f"'{key}' must be a whole number")
        return default
    if not low <= value <= high:
        c.error(item.line_of(key), who, f"'{key}' must be between {low} and {high}")
        return default
    return value


def _float(c: _Checker, item: LineDict, key: str, who: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        c.error(item.line_of(key), who, f"'{key}' must be a number")
        return None
    return float(value)


def _condition(c: _Checker, item: LineDict, who: str, earlier: list[Question]) -> Condition | None:
    raw = item.get("show_if")
    if raw is None:
        return None
    line = item.line_of("show_if")
    if not isinstance(raw, LineDict):
        c.error(
            line,
            who,
            "'show_if' needs 'question:' and one of 'equals:', 'in:', 'at_least:', 'at_most:'",
        )
        return None
    c.unknown_keys(raw, ("question", "equals", "in", "at_least", "at_most"), who)
    target_id = str(raw.get("question", ""))
    target = next((q for q in earlier if q.id == target_id), None)
    if not target_id:
        c.error(line, who, "'show_if' is missing 'question:' (the id of an earlier question)")
        return None
    if target is None:
        c.error(
            raw.line_of("question"),
            who,
            f"'show_if' names question '{target_id}', which is not an earlier question "
            "in this consultation",
        )
        return None
    if target.type == "text":
        c.error(
            raw.line_of("question"),
            who,
            f"'show_if' cannot depend on the free-text question '{target_id}'",
        )
        return None
    ops = [k for k in ("equals", "in", "at_least", "at_most") if k in raw]
    if not ops:
        c.error(line, who, "'show_if' needs one of 'equals:', 'in:', 'at_least:', 'at_most:'")
        return None
    if {"equals", "in"} & set(ops):
        if len(ops) > 1:
            c.error(line, who, "'show_if' takes either 'equals:' or 'in:', alone")
            return None
        wanted = raw.get("equals") if "equals" in raw else raw.get("in")
        values = [wanted] if not isinstance(wanted, list) else list(wanted)
        if not values:
            c.error(raw.line_of(ops[0]), who, "'show_if' 'in:' needs at least one value")
            return None
        if target.type == "number":
            c.error(
                raw.line_of(ops[0]),
                who,
                f"'{target_id}' is a number question: use 'at_least:' / 'at_most:'",
            )
            return None
        known = {o.id for o in target.options}
        texts = []
        for v in values:
            text = "yes" if v is True else "no" if v is False else str(v)
            if text not in known:
                c.error(
                    raw.line_of(ops[0]),
                    who,
                    f"'{text}' is not a choice of question '{target_id}' "
                    f"(choices: {', '.join(sorted(known))})",
                )
                return None
            texts.append(text)
        return Condition(target_id, values=frozenset(texts))
    if target.type not in {"number", "scale"}:
        c.error(
            line,
            who,
            f"'at_least'/'at_most' need a number or scale question; '{target_id}' is {target.type}",
        )
        return None
    bounds = {k: _float(c, raw, k, who) for k in ("at_least", "at_most")}
    return Condition(target_id, at_least=bounds["at_least"], at_most=bounds["at_most"])
