"""Consultation results as text for a phone screen, and exports as CSV, Excel or JSON.

Everything here is a pure function of a consultation and its stored responses, so the
chat command (/results, /export) and the command line (nsbot consult ...) show the same.
Words come from the UI strings through ``t`` (a ``(key, **values) -> str`` function).
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from bot import markup
from bot.consultations import REGIONS, Consultation, Question
from bot.dates import ENGLISH, DateStyle
from bot.dates import format_moment as format_moment  # where callers have found it
from bot.storage.base import PollRow, PollTally, ResponseRow

Translate = Callable[..., str]

BAR_WIDTH = 10
LATEST_TEXTS = 3
TEXT_PREVIEW = 160
# Spreadsheets run a cell starting with these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def bar(count: int, total: int) -> str:
    """A 10-character bar: reads well in a proportional font on a phone."""
    full = round(BAR_WIDTH * count / total) if total else 0
    return "█" * full + "░" * (BAR_WIDTH - full)


def percent(count: int, total: int) -> str:
    return f"{round(100 * count / total)}%" if total else "0%"


def utc_stamp(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def region_label(t: Translate, region: str | None) -> str:
    return t(f"region_{region}") if region in REGIONS else (region or "")


def _short(text: str, limit: int = TEXT_PREVIEW) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _choice_lines(q: Question, values: list[Any]) -> list[str]:
    """Counts per option, each as a label line and a bar line."""
    counts = dict.fromkeys((o.id for o in q.options), 0)
    for value in values:
        for v in value if isinstance(value, list) else [value]:
            if str(v) in counts:
                counts[str(v)] += 1
    lines = []
    for o in q.options:
        n = counts[o.id]
        lines.append(
            f"{markup.escape(o.label)}\n{bar(n, len(values))} {n} · {percent(n, len(values))}"
        )
    return lines


def _numbers(values: list[Any]) -> list[float]:
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _summary(t: Translate, q: Question, values: list[Any], rows: list[ResponseRow]) -> list[str]:
    """The paragraphs describing one question's answers."""
    if not values:
        return [t("results_no_answers")]
    if q.type in {"single", "multiple", "yesno"}:
        out = _choice_lines(q, values)
        if q.type == "multiple":
            out.append(f"_{t('results_multiple_note')}_")
        return out
    if q.type == "scale":
        numbers = _numbers(values)
        mean = statistics.fmean(numbers)
        out = [t("results_mean", mean=f"{mean:.1f}", min=q.options[0].id, max=q.options[-1].id)]
        ends = {q.options[0].id: q.min_label, q.options[-1].id: q.max_label}
        for o in q.options:
            n = sum(1 for v in numbers if v == int(o.id))
            end = f" ({markup.escape(ends[o.id])})" if ends.get(o.id) else ""
            out.append(f"{o.id}{end}\n{bar(n, len(numbers))} {n} · {percent(n, len(numbers))}")
        return out
    if q.type == "number":
        numbers = _numbers(values)
        return [
            t(
                "results_number",
                mean=_num(statistics.fmean(numbers)),
                median=_num(statistics.median(numbers)),
                min=_num(min(numbers)),
                max=_num(max(numbers)),
                unit=f" {markup.escape(q.unit)}" if q.unit else "",
            )
        ]
    latest = sorted(
        (r for r in rows if isinstance(r.answers.get(q.id), str)), key=lambda r: r.updated_at
    )[-LATEST_TEXTS:]
    quotes = "\n".join(
        "- " + t("results_quote", text=markup.escape(_short(r.answers[q.id])))
        for r in reversed(latest)
    )
    return [t("results_texts", count=len(values), shown=len(latest)), quotes]


Canonical = Callable[[str], str]


def _group_of(t: Translate, row: ResponseRow, by: str, canonical: Canonical | None) -> str:
    if by == "region":
        return region_label(t, row.region) or t("results_not_given")
    ns = " ".join((row.national_society or "").split())
    if ns and canonical is not None:
        ns = canonical(ns)  # a name typed before the list was used: its listed name
    return ns or t("results_not_given")


def _breakdown(
    t: Translate,
    c: Consultation,
    q: Question,
    rows: list[ResponseRow],
    by: str,
    canonical: Canonical | None = None,
) -> str:
    groups: dict[str, list[Any]] = {}
    folded: dict[str, str] = {}
    for row in rows:
        value = c.effective(row.answers).get(q.id)
        if value is None:
            continue
        name = _group_of(t, row, by, canonical)
        name = folded.setdefault(name.casefold(), name)  # "kenya red cross" == "Kenya Red Cross"
        groups.setdefault(name, []).append(value)
    lines = []
    for name, values in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
        if q.type in {"single", "multiple", "yesno"}:
            counts = {o.label: 0 for o in q.options}
            for value in values:
                for v in value if isinstance(value, list) else [value]:
                    opt = q.option(v)
                    if opt:
                        counts[opt.label] += 1
            detail = t("list_separator").join(
                f"{markup.escape(label)} {percent(n, len(values))}"
                for label, n in sorted(counts.items(), key=lambda kv: -kv[1])
                if n
            )
        elif q.type in {"scale", "number"}:
            detail = t("results_group_mean", mean=_num(statistics.fmean(_numbers(values))))
        else:
            detail = t("results_group_texts", count=len(values))
        lines.append(
            "- "
            + t("results_group_line", name=markup.escape(name), count=len(values), detail=detail)
        )
    return "\n".join(lines)


def _head(
    t: Translate,
    c: Consultation,
    rows: list[ResponseRow],
    *,
    now: datetime,
    closed_early: datetime | None,
    dates: DateStyle,
    zone: tzinfo | None,
) -> list[str]:
    completed = [r for r in rows if r.status == "submitted"]
    closes = min(c.closes, closed_early) if closed_early else c.closes
    state = (
        t("results_state_open")
        if c.is_open(now, closed_early)
        else (t("results_state_upcoming") if now < c.opens else t("results_state_closed"))
    )
    shown_in = zone or c.timezone
    return [
        t("results_header", title=markup.escape(c.title), id=c.id),
        t(
            "results_window",
            state=state,
            opens=dates.format_moment(c.opens, shown_in),
            closes=dates.format_moment(closes, shown_in),
            kind=t("results_anonymous") if c.anonymous else t("results_named"),
        ),
        t(
            "results_counts",
            started=len(rows),
            completed=len(completed),
            rate=percent(len(completed), len(rows)),
            in_progress=len(rows) - len(completed),
        ),
    ]


def question_section(
    t: Translate,
    c: Consultation,
    rows: Sequence[ResponseRow],
    q: Question,
    by: str | None = None,
    canonical: Canonical | None = None,
) -> list[str]:
    """One question's results in full: answered, drop-off, the distribution, a breakdown."""
    rows = list(rows)
    completed = [r for r in rows if r.status == "submitted"]
    effective = [c.effective(r.answers) for r in completed]
    values = [e[q.id] for e in effective if q.id in e]
    reached = sum(1 for r in rows if q.id in c.effective(r.answers))
    stopped = sum(1 for r in rows if r.status == "draft" and r.position == q.id)
    head = f"**{c.index(q.id) + 1}. {markup.escape(q.title)}**\n" + t(
        "results_answered", answered=len(values), completed=len(completed), reached=reached
    )
    if stopped:
        head += "\n" + t("results_dropoff", count=stopped)
    parts = [head]
    parts += _summary(t, q, values, [r for r in completed if q.id in c.effective(r.answers)])
    if by and values:
        parts.append(_breakdown(t, c, q, completed, by, canonical))
    return [p for p in parts if p]


def results_text(
    t: Translate,
    c: Consultation,
    rows: Sequence[ResponseRow],
    *,
    now: datetime,
    closed_early: datetime | None = None,
    by: str | None = None,
    dates: DateStyle = ENGLISH,
    zone: tzinfo | None = None,
    canonical: Canonical | None = None,
) -> str:
    """Everything, every question in full (the command line's view), in the neutral
    markup (words from ``t``, dates the ``dates`` way, moments in ``zone``, else the
    consultation's own)."""
    rows = list(rows)
    parts = _head(t, c, rows, now=now, closed_early=closed_early, dates=dates, zone=zone)
    if not rows:
        parts.append(t("results_empty"))
        return "\n\n".join(parts)
    if by:
        parts.append(t("results_by_note", by=t(f"results_by_{by}")))
    for q in c.questions:
        parts += question_section(t, c, rows, q, by, canonical)
    return "\n\n".join(p for p in parts if p)


def _brief(t: Translate, q: Question, values: list[Any]) -> str:
    """A question's answers in a few words: the top choice, the mean, or a count."""
    if not values:
        return t("results_no_answers").strip("_")
    if q.type in {"single", "multiple", "yesno"}:
        counts = dict.fromkeys((o.id for o in q.options), 0)
        for value in values:
            for v in value if isinstance(value, list) else [value]:
                if str(v) in counts:
                    counts[str(v)] += 1
        top = max(q.options, key=lambda o: counts[o.id])
        return t(
            "results_brief_top",
            label=markup.escape(top.label),
            percent=percent(counts[top.id], len(values)),
        )
    numbers = _numbers(values)
    if q.type in {"scale", "number"} and numbers:
        unit = f" {markup.escape(q.unit)}" if q.unit else ""
        return t("results_brief_mean", mean=_num(round(statistics.fmean(numbers), 1)), unit=unit)
    return t("results_group_texts", count=len(values))


def results_summary(
    t: Translate,
    c: Consultation,
    rows: Sequence[ResponseRow],
    *,
    now: datetime,
    closed_early: datetime | None = None,
    by: str | None = None,
    dates: DateStyle = ENGLISH,
    zone: tzinfo | None = None,
) -> str:
    """One phone screen: the counts, then a line per question (the detail is a button)."""
    rows = list(rows)
    parts = _head(t, c, rows, now=now, closed_early=closed_early, dates=dates, zone=zone)
    if not rows:
        parts.append(t("results_empty"))
        return "\n\n".join(parts)
    completed = [c.effective(r.answers) for r in rows if r.status == "submitted"]
    lines = []
    for number, q in enumerate(c.questions, 1):
        values = [e[q.id] for e in completed if q.id in e]
        lines.append(
            f"{number}. **{markup.escape(q.title)}**: {len(values)}/{len(completed)} · "
            + _brief(t, q, values)
        )
    parts.append("\n".join(lines))
    note = t("results_pick_question")
    if by:
        note += " " + t("results_by_note", by=t(f"results_by_{by}"))
    parts.append(note)
    return "\n\n".join(parts)


def answers_per_question(c: Consultation, rows: Sequence[ResponseRow]) -> list[tuple[str, int]]:
    """("1. <question>", completed responses answering it) per question, for a chart."""
    completed = [c.effective(r.answers) for r in rows if r.status == "submitted"]
    return [
        (f"{n}. {q.title}", sum(1 for e in completed if q.id in e))
        for n, q in enumerate(c.questions, 1)
    ]


def chart_data(c: Consultation, rows: Sequence[ResponseRow], q: Question) -> list[tuple[str, int]]:
    """(label, count) per option of a choice or scale question, for a chart."""
    completed = [c.effective(r.answers) for r in rows if r.status == "submitted"]
    counts = dict.fromkeys((o.id for o in q.options), 0)
    for e in completed:
        value = e.get(q.id)
        for v in value if isinstance(value, list) else [value]:
            if v is not None and str(v) in counts:
                counts[str(v)] += 1
    return [(o.label, counts[o.id]) for o in q.options]


# --------------------------------------------------------------------------- exports


def _answer_cell(q: Question, value: Any) -> str:
    if value is None:
        return ""
    return q.display(value)


def neutralise(cell: str) -> str:
    """Keep spreadsheets from running a cell as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


# The formats coordinators can ask for: csv for any tool, xlsx for spreadsheets set to
# a language whose list separator is ";" (Excel then shows a CSV as one column), json
# for scripts.
EXPORT_FORMATS = ("csv", "xlsx", "json")
MIME_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


@dataclass(frozen=True)
class ExportTable:
    """Rows for a spreadsheet: each column has an id (stable, for scripts) and a label
    (what a person reads); ``columns`` describes each column for the xlsx sheet."""

    ids: list[str]
    labels: list[str]
    rows: list[list[str]]
    columns: list[list[str]] = field(default_factory=list)  # id, label, details

    def as_dicts(self) -> list[dict[str, str]]:
        return [dict(zip(self.ids, row, strict=True)) for row in self.rows]


def _choices_text(q: Question) -> str:
    if q.type == "scale":
        low, high = q.options[0].id, q.options[-1].id
        return f"{low} = {q.min_label} … {high} = {q.max_label}" if q.min_label else f"{low}–{high}"
    return "; ".join(f"{o.id} = {o.label}" for o in q.options) if q.is_choice else ""


def export_table(t: Translate, c: Consultation, rows: Sequence[ResponseRow]) -> ExportTable:
    """One row per response, one column per question in the file's order."""
    identity = [] if c.anonymous else ["respondent", "name"]
    fixed = [
        "reference",
        "status",
        "started_at_utc",
        "updated_at_utc",
        "submitted_at_utc",
        *identity,
        "region",
        "national_society",
    ]
    ids = [*fixed, *(q.id for q in c.questions)]
    labels = [t(f"export_column_{name}") for name in fixed] + [q.title for q in c.questions]
    columns = [[name, t(f"export_column_{name}"), ""] for name in fixed] + [
        [q.id, q.title, " · ".join(x for x in (markup.to_plain(q.text), _choices_text(q)) if x)]
        for q in c.questions
    ]
    table = []
    for r in rows:
        answers = c.effective(r.answers)
        who = [] if c.anonymous else [r.person or "", r.display_name or ""]
        table.append(
            [
                r.ref,
                r.status,
                utc_stamp(r.started_at),
                utc_stamp(r.updated_at),
                utc_stamp(r.submitted_at),
                *who,
                region_label(t, r.region),
                r.national_society or "",
                *(_answer_cell(q, answers.get(q.id)) for q in c.questions),
            ]
        )
    return ExportTable(ids, labels, table, columns)


def poll_table(t: Translate, poll: PollRow, tally: PollTally) -> ExportTable:
    """One row per option: votes, share of the voters and, for named polls only, who.
    Anonymous votes are stored under one-way codes, which mean nothing to a reader."""
    ids = ["option", "votes", "percent_of_voters"] + ([] if poll.anonymous else ["voters"])
    labels = [t(f"export_column_{name}") for name in ids]
    rows = []
    for i, option in enumerate(poll.options):
        n = tally.counts.get(i, 0)
        row = [option, str(n), percent(n, tally.voters)]
        if not poll.anonymous:
            row.append("; ".join(tally.names.get(i, [])))
        rows.append(row)
    columns = [[name, label, ""] for name, label in zip(ids, labels, strict=True)]
    return ExportTable(ids, labels, rows, columns)


def table_csv(table: ExportTable) -> bytes:
    """UTF-8 with a byte-order mark (so Excel reads accents and scripts right), CRLF rows;
    the labels first, then the column ids, then the data."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in (table.labels, table.ids, *table.rows):
        writer.writerow([neutralise(cell) for cell in line])
    return buffer.getvalue().encode("utf-8-sig")


def table_xlsx(table: ExportTable, title: str, columns_title: str) -> bytes:
    """An Excel workbook: the data under the labels, and a second sheet naming each
    column's id and what it holds. Opens the same whatever the reader's list separator."""
    from openpyxl import Workbook  # imported here: only exports need it
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _sheet_title(title)
    _append(sheet, table.labels)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        _append(sheet, row)
    sheet.freeze_panes = "A2"
    about = book.create_sheet(_sheet_title(columns_title))
    _append(about, ["id", "label", ""])
    for cell in about[1]:
        cell.font = Font(bold=True)
    for column in table.columns:
        _append(about, column)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_title(text: str) -> str:
    # Excel allows 31 characters and none of []:*?/\ in a sheet name.
    return "".join(ch for ch in text if ch not in "[]:*?/\\")[:31] or "Sheet"


def _append(sheet: Any, values: list[str]) -> None:
    """A row of text cells: a value starting with "=" stays text, never a formula."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def export_csv(t: Translate, c: Consultation, rows: Sequence[ResponseRow]) -> bytes:
    return table_csv(export_table(t, c, rows))


def export_xlsx(t: Translate, c: Consultation, rows: Sequence[ResponseRow]) -> bytes:
    return table_xlsx(export_table(t, c, rows), c.id, t("export_sheet_columns"))


def poll_export(t: Translate, poll: PollRow, tally: PollTally, fmt: str, *, now: datetime) -> bytes:
    """A poll's results in one of :data:`EXPORT_FORMATS`."""
    table = poll_table(t, poll, tally)
    if fmt == "csv":
        return table_csv(table)
    if fmt == "xlsx":
        return table_xlsx(table, f"poll-{poll.id}", t("export_sheet_columns"))
    document = {
        "poll": {
            "id": f"poll-{poll.id}",
            "question": poll.question,
            "options": list(poll.options),
            "anonymous": poll.anonymous,
            "multiple": poll.multi,
            "created_at": utc_stamp(poll.created_at),
            "closes_at": utc_stamp(poll.closes_at) or None,
            "closed_at": utc_stamp(poll.closed_at) or None,
        },
        "exported_at": utc_stamp(now),
        "voters": tally.voters,
        "results": [
            {
                "option": row[0],
                "votes": int(row[1]),
                **({} if poll.anonymous else {"voters": tally.names.get(i, [])}),
            }
            for i, row in enumerate(table.rows)
        ],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def consultation_export(
    t: Translate, c: Consultation, rows: Sequence[ResponseRow], fmt: str, *, now: datetime
) -> bytes:
    """A consultation's responses in one of :data:`EXPORT_FORMATS`."""
    if fmt == "csv":
        return export_csv(t, c, rows)
    if fmt == "xlsx":
        return export_xlsx(t, c, rows)
    return export_json(t, c, rows, now=now)


def _json_value(q: Question, value: Any) -> Any:
    if q.type in {"single", "yesno"}:
        return q.display(value)
    if q.type == "multiple":
        return [q.display(v) for v in value]
    return value


def export_json(
    t: Translate, c: Consultation, rows: Sequence[ResponseRow], *, now: datetime
) -> bytes:
    questions = [
        {
            "id": q.id,
            "type": q.type,
            "text": markup.to_plain(q.text),
            "required": q.required,
            **(
                {"choices": [{"id": o.id, "label": o.label} for o in q.options]}
                if q.is_choice
                else {}
            ),
        }
        for q in c.questions
    ]
    responses = []
    for r in rows:
        answers = c.effective(r.answers)
        item: dict[str, Any] = {
            "reference": r.ref,
            "status": r.status,
            "started_at": utc_stamp(r.started_at),
            "updated_at": utc_stamp(r.updated_at),
            "submitted_at": utc_stamp(r.submitted_at) or None,
        }
        if not c.anonymous:
            item["respondent"] = r.person
            item["name"] = r.display_name
        item["region"] = region_label(t, r.region) or None
        item["national_society"] = r.national_society
        item["answers"] = {
            q.id: _json_value(q, answers[q.id]) for q in c.questions if q.id in answers
        }
        responses.append(item)
    document = {
        "consultation": {
            "id": c.id,
            "title": c.title,
            "anonymous": c.anonymous,
            "opens": utc_stamp(c.opens),
            "closes": utc_stamp(c.closes),
            "questions": questions,
        },
        "exported_at": utc_stamp(now),
        "responses": responses,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
