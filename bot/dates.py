"""Human date formatting for events whose precision varies (a day, a month, a year)."""

from __future__ import annotations

from datetime import date

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_date(day: date, precision: str = "day") -> str:
    if precision == "year":
        return str(day.year)
    if precision == "month":
        return f"{MONTHS[day.month - 1]} {day.year}"
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def format_range(
    start: date, start_precision: str, end: date | None, end_precision: str = "day"
) -> str:
    """ "22–23 June 2022", "28 November – 1 December 2011", "2018–2022", "May 2008"."""
    if end is None or (end == start and end_precision == start_precision):
        return format_date(start, start_precision)
    if start_precision == end_precision == "year":
        return f"{start.year}–{end.year}"
    if start_precision == end_precision == "day":
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.day}–{end.day} {MONTHS[start.month - 1]} {start.year}"
        if start.year == end.year:
            return f"{start.day} {MONTHS[start.month - 1]} – {end.day} {MONTHS[end.month - 1]} {end.year}"
    if start_precision == end_precision == "month" and start.year == end.year:
        return f"{MONTHS[start.month - 1]}–{MONTHS[end.month - 1]} {start.year}"
    return f"{format_date(start, start_precision)} – {format_date(end, end_precision)}"


def last_day(day: date, precision: str) -> date:
    """The last day a date of this precision covers ("2008-05" covers all of May)."""
    if precision == "year":
        return date(day.year, 12, 31)
    if precision == "month":
        nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        return date.fromordinal(nxt.toordinal() - 1)
    return day


def relative(
    start: date, end: date | None, precision: str, end_precision: str, today: date
) -> tuple[str, int]:
    """Where an event stands relative to today, as (locale key, number).

    "22–23 June 2022" seen on 23 Nov 2026 is ("rel_years_ago", 4); an event next week is
    ("rel_in_days", 7). Keys live in the locale files so the words can be translated;
    a key with an ``_one`` variant is used for a count of one.
    """
    first = start
    last = last_day(end, end_precision) if end else last_day(start, precision)
    if first <= today <= last:
        return ("rel_ongoing", 0)
    if today < first:
        days = (first - today).days
        if days == 1:
            return ("rel_tomorrow", 1)
        if days < 45:
            return ("rel_in_days", days)
        if days < 365:
            return ("rel_in_months", max(1, round(days / 30.44)))
        return ("rel_in_years", max(1, round(days / 365.25)))
    days = (today - last).days
    if days == 1:
        return ("rel_yesterday", 1)
    if days < 45:
        return ("rel_days_ago", days)
    if days < 365:
        return ("rel_months_ago", max(1, round(days / 30.44)))
    return ("rel_years_ago", max(1, round(days / 365.25)))
