"""Human date formatting for events whose precision varies (a day, a month, a year).

Pure functions of a :class:`DateStyle`: the month names and the order of day, month
and year of one language. :meth:`bot.ui.UI.dates` builds a style per language from
the locale files (``month_1``.., ``date_day``..); English is the default here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

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


@dataclass(frozen=True)
class DateStyle:
    """How one language writes dates. The patterns take ``{day}``, ``{month}`` and
    ``{year}`` and, for ranges, ``{end_day}`` and ``{end_month}``; a moment takes
    ``{date}``, ``{time}`` and ``{zone}``."""

    months: tuple[str, ...] = MONTHS
    day_format: str = "{day} {month} {year}"
    month_format: str = "{month} {year}"
    days_in_month_format: str = "{day}–{end_day} {month} {year}"
    days_in_year_format: str = "{day} {month} – {end_day} {end_month} {year}"
    months_in_year_format: str = "{month}–{end_month} {year}"
    moment_format: str = "{date}, {time} {zone}"
    first_day: str = "1"  # French writes the first of a month "1er"

    def month(self, day: date) -> str:
        return self.months[day.month - 1]

    def day(self, day: date) -> str:
        return self.first_day if day.day == 1 else str(day.day)

    def format_date(self, day: date, precision: str = "day") -> str:
        if precision == "year":
            return str(day.year)
        if precision == "month":
            return self.month_format.format(month=self.month(day), year=day.year)
        return self.day_format.format(day=self.day(day), month=self.month(day), year=day.year)

    def format_range(
        self, start: date, start_precision: str, end: date | None, end_precision: str = "day"
    ) -> str:
        """ "22–23 June 2022", "28 November – 1 December 2011", "2018–2022", "May 2008"."""
        if end is None or (end == start and end_precision == start_precision):
            return self.format_date(start, start_precision)
        if start_precision == end_precision == "year":
            return f"{start.year}–{end.year}"
        both = {
            "day": self.day(start),
            "month": self.month(start),
            "end_day": self.day(end),
            "end_month": self.month(end),
            "year": end.year,
        }
        if start_precision == end_precision == "day":
            if (start.year, start.month) == (end.year, end.month):
                return self.days_in_month_format.format(**both)
            if start.year == end.year:
                return self.days_in_year_format.format(**both)
        if start_precision == end_precision == "month" and start.year == end.year:
            return self.months_in_year_format.format(**both)
        return (
            f"{self.format_date(start, start_precision)} – {self.format_date(end, end_precision)}"
        )

    def format_moment(self, moment: datetime, zone: tzinfo = UTC) -> str:
        """ "31 March 2027, 23:59 CEST" in the given time zone."""
        local = moment.astimezone(zone)
        return self.moment_format.format(
            date=self.format_date(local.date()), time=f"{local:%H:%M}", zone=local.tzname() or ""
        ).rstrip()


ENGLISH = DateStyle()


def format_date(day: date, precision: str = "day", style: DateStyle = ENGLISH) -> str:
    return style.format_date(day, precision)


def format_range(
    start: date,
    start_precision: str,
    end: date | None,
    end_precision: str = "day",
    style: DateStyle = ENGLISH,
) -> str:
    return style.format_range(start, start_precision, end, end_precision)


def format_moment(moment: datetime, zone: tzinfo = UTC, style: DateStyle = ENGLISH) -> str:
    return style.format_moment(moment, zone)


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
    :meth:`bot.ui.UI.plural` picks the variant of the key for the number in the
    person's language ("rel_days_ago_two" in Arabic, "rel_years_ago_one" in English).
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


def date_argument(value: str) -> datetime:
    """A command line's ``--since`` date (YYYY-MM-DD, or a full ISO time), UTC unless it
    says otherwise."""
    import argparse  # only the command line needs it

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date: write YYYY-MM-DD") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
