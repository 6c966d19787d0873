"""How well the bot serves people: the figures of /stats and ``nsbot stats``.

Computed from what is kept without identity: the question counts (per UTC day,
platform, language and outcome), the votes on answers (bot.feedback), the moments
questions to the desk were sent and first answered, and the gap log. Pure functions of
those rows (:func:`compute`), worded for a chat (:func:`as_text`), a chart
(:func:`day_bars`) or a file (:func:`as_json`, :func:`as_csv`).
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot import markup
from bot.feedback import Feedback
from bot.results import bar, neutralise, percent
from bot.storage.base import GapRow, QuestionCount, Storage

Translate = Callable[..., str]

OUTCOMES = ("answer", "suggest", "fallback")
TOP_GAPS = 10
TOP_ENTRIES = 10  # entries listed in chat with their votes (every one in a file)
DAYS_SHOWN = 14  # days listed in chat (every one in a file and a chart)


@dataclass(frozen=True)
class EntryVotes:
    entry_id: str
    up: int
    down: int
    comments: int  # 👎 votes with a comment


@dataclass(frozen=True)
class DeskTimes:
    """Questions sent to the desk, how many got a reply, and how long the first took."""

    sent: int
    answered: int
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True)
class Stats:
    since: datetime | None
    days: list[tuple[date, int]]  # every day from the first to the last, zeros included
    platforms: list[tuple[str, int]]  # most questions first
    languages: list[tuple[str, int]]
    outcomes: dict[str, int]  # "answer" | "suggest" | "fallback" -> questions
    votes: list[EntryVotes]  # most votes first
    desk: DeskTimes
    gaps: list[GapRow]

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (p90: ``share`` 0.9) of a non-empty list: a value
    that occurred, so "90% of questions had a reply within" it holds exactly."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def desk_times(rows: Sequence[tuple[datetime, datetime | None]]) -> DeskTimes:
    waits = [(reply - sent).total_seconds() for sent, reply in rows if reply is not None]
    if not waits:
        return DeskTimes(len(rows), 0, None, None)
    return DeskTimes(
        sent=len(rows),
        answered=len(waits),
        median=timedelta(seconds=statistics.median(waits)),
        p90=timedelta(seconds=percentile(waits, 0.9)),
    )


def _ranked(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def compute(
    counts: Sequence[QuestionCount],
    votes: Sequence[Feedback],
    desk: Sequence[tuple[datetime, datetime | None]],
    gaps: Sequence[GapRow],
    *,
    since: datetime | None = None,
    today: date | None = None,
) -> Stats:
    """The figures from the stored rows. ``today`` ends the list of days (zeros up to
    it); ``since`` starts it, else the first day with a question."""
    per_day: Counter[date] = Counter()
    platforms: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    outcomes: Counter[str] = Counter({o: 0 for o in OUTCOMES})
    for c in counts:
        per_day[c.day.astimezone(UTC).date()] += c.count
        platforms[c.platform] += c.count
        languages[c.language] += c.count
        outcomes[c.outcome] += c.count
    days: list[tuple[date, int]] = []
    if per_day or since is not None:
        first = since.astimezone(UTC).date() if since is not None else min(per_day)
        last = max([*per_day, today or first])
        days = [
            (first + timedelta(days=n), per_day[first + timedelta(days=n)])
            for n in range((last - first).days + 1)
        ]
    up: Counter[str] = Counter()
    down: Counter[str] = Counter()
    comments: Counter[str] = Counter()
    for v in votes:
        (up if v.helpful else down)[v.entry_id] += 1
        if not v.helpful and v.comment:
            comments[v.entry_id] += 1
    entries = sorted(set(up) | set(down), key=lambda e: (-(up[e] + down[e]), -down[e], e))
    asked_since = [g for g in gaps if since is None or g.last_asked >= since]
    return Stats(
        since=since,
        days=days,
        platforms=_ranked(platforms),
        languages=_ranked(languages),
        outcomes=dict(outcomes),
        votes=[EntryVotes(e, up[e], down[e], comments[e]) for e in entries],
        desk=desk_times(desk),
        gaps=asked_since[:TOP_GAPS],
    )


async def gather(storage: Storage, since: datetime | None, now: datetime) -> Stats:
    """Read what the figures need and compute them."""
    return compute(
        await storage.question_counts(since),
        await storage.feedback_since(since),
        await storage.desk_reply_times(since),
        # Counted over the period asked (all-time without ``since``), not all-time and
        # then filtered: an old frequent gap would outrank this month's.
        await storage.gaps(TOP_GAPS, since),
        since=since,
        today=now.astimezone(UTC).date(),
    )


# --------------------------------------------------------------------------- words


def duration(t: Translate, span: timedelta) -> str:
    """ "2 h 5 min", "3 d 4 h", "12 min" (at least one minute)."""
    minutes = max(1, round(span.total_seconds() / 60))
    if minutes < 60:
        return t("stats_duration_minutes", m=minutes)
    hours, minute = divmod(minutes, 60)
    if hours < 48:
        return t("stats_duration_hours", h=hours, m=minute)
    return t("stats_duration_days", d=hours // 24, h=hours % 24)


def _bars(rows: Sequence[tuple[str, int]], total: int) -> list[str]:
    """A label line, then its share of ``total`` as a bar (as /results shows answers)."""
    return [f"{markup.escape(name)}\n{bar(n, total)} {n} · {percent(n, total)}" for name, n in rows]


def as_text(
    stats: Stats,
    t: Translate,
    *,
    title_of: Callable[[str], str] = str,
    day_label: Callable[[date], str] = date.isoformat,
    platform_label: Callable[[str], str] = str,
    language_label: Callable[[str], str] = str,
) -> str:
    """The figures in the neutral markup, with text bars: what /stats shows in a chat.
    The labels name an entry (its title), a day, a platform and a language in the
    reader's language; by default, the ids as stored."""
    total = stats.total
    head = (
        t("stats_header_since", date=day_label(stats.since.astimezone(UTC).date()), count=total)
        if stats.since is not None
        else t("stats_header", count=total)
    )
    parts = [head]
    if total:
        parts.append(
            "\n".join(
                _bars(
                    [(t(f"stats_outcome_{o}"), stats.outcomes.get(o, 0)) for o in OUTCOMES], total
                )
            )
        )
        recent = stats.days[-DAYS_SHOWN:]
        top = max((n for _, n in recent), default=0)
        lines = [f"{day_label(d)}  {bar(n, top)} {n}" for d, n in recent]
        parts.append(t("stats_per_day", count=len(recent)) + "\n" + "\n".join(lines))
        platforms = [(platform_label(p), n) for p, n in stats.platforms]
        languages = [(language_label(lang), n) for lang, n in stats.languages]
        parts.append(t("stats_per_platform") + "\n" + "\n".join(_bars(platforms, total)))
        parts.append(t("stats_per_language") + "\n" + "\n".join(_bars(languages, total)))
    if stats.votes:
        lines = [
            "- "
            + t(
                "stats_votes_line",
                title=markup.escape(title_of(v.entry_id)),
                up=v.up,
                down=v.down,
                comments=v.comments,
            )
            for v in stats.votes[:TOP_ENTRIES]
        ]
        parts.append(t("stats_votes") + "\n" + "\n".join(lines))
    else:
        parts.append(t("stats_no_votes"))
    desk = stats.desk
    if desk.sent:
        parts.append(t("stats_desk", sent=desk.sent, answered=desk.answered))
        if desk.median is not None and desk.p90 is not None:
            parts.append(
                t("stats_desk_times", median=duration(t, desk.median), p90=duration(t, desk.p90))
            )
    if stats.gaps:
        lines = [
            "- " + t("stats_gap_line", count=g.count, question=markup.escape(g.question))
            for g in stats.gaps
        ]
        parts.append(t("stats_gaps") + "\n" + "\n".join(lines))
    return "\n\n".join(parts)


def day_bars(stats: Stats, label: Callable[[date], str] = date.isoformat) -> list[tuple[str, int]]:
    """(day, questions) for a chart: the latest days, as many as a chart shows."""
    from bot.charts import MAX_BARS

    return [(label(d), n) for d, n in stats.days[-MAX_BARS:]]


# --------------------------------------------------------------------------- files


def _seconds(span: timedelta | None) -> float | None:
    return None if span is None else round(span.total_seconds(), 1)


def as_json(stats: Stats) -> dict[str, Any]:
    """Every figure, for scripts: ids and ISO dates, no wording."""
    total = stats.total
    return {
        "since": stats.since.astimezone(UTC).date().isoformat() if stats.since else None,
        "questions": total,
        "outcomes": {
            o: {"count": stats.outcomes.get(o, 0), "share": _share(stats.outcomes.get(o, 0), total)}
            for o in OUTCOMES
        },
        "per_day": [{"day": d.isoformat(), "questions": n} for d, n in stats.days],
        "per_platform": [{"platform": p, "questions": n} for p, n in stats.platforms],
        "per_language": [{"language": lang, "questions": n} for lang, n in stats.languages],
        "votes": [
            {"entry": v.entry_id, "up": v.up, "down": v.down, "comments": v.comments}
            for v in stats.votes
        ],
        "desk": {
            "sent": stats.desk.sent,
            "answered": stats.desk.answered,
            "median_seconds": _seconds(stats.desk.median),
            "p90_seconds": _seconds(stats.desk.p90),
        },
        "top_gaps": [
            {
                "question": g.question,
                "count": g.count,
                "last_asked": g.last_asked.isoformat(),
                "status": g.status,
            }
            for g in stats.gaps
        ],
    }


def _share(n: int, total: int) -> float:
    return round(n / total, 4) if total else 0.0


def as_csv(stats: Stats) -> bytes:
    """One figure per row: section, key, value (UTF-8 with a byte-order mark, as the
    other exports, and no cell a spreadsheet would run as a formula)."""
    data = as_json(stats)
    rows: list[list[str]] = [["section", "key", "value"]]
    rows.append(["questions", "total", str(data["questions"])])
    for outcome, figures in data["outcomes"].items():
        rows.append(["outcome", outcome, str(figures["count"])])
        rows.append(["outcome_share", outcome, str(figures["share"])])
    rows += [["day", d["day"], str(d["questions"])] for d in data["per_day"]]
    rows += [["platform", p["platform"], str(p["questions"])] for p in data["per_platform"]]
    rows += [["language", x["language"], str(x["questions"])] for x in data["per_language"]]
    for v in data["votes"]:
        rows += [
            ["votes_up", v["entry"], str(v["up"])],
            ["votes_down", v["entry"], str(v["down"])],
            ["votes_comments", v["entry"], str(v["comments"])],
        ]
    for key, value in data["desk"].items():
        rows.append(["desk", key, "" if value is None else str(value)])
    rows += [["gap", g["question"], str(g["count"])] for g in data["top_gaps"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")
