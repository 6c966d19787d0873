"""The UI strings' language machinery: plural forms, dates and typed words per language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.errors import ContentError
from bot.ui import LOCALES_DIR, UI, plural_category


@pytest.fixture(scope="module")
def ui() -> UI:
    return UI.load()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        # n:    0        1      2        3      10     11      99      100      102      103    111
        ("ar", ["zero", "one", "two", "few", "few", "many", "many", "other", "other", "few", "many"]),
        ("fr", ["one", "one", "other", "other", "other", "other", "other", "other", "other", "other", "other"]),
        ("en", ["other", "one", "other", "other", "other", "other", "other", "other", "other", "other", "other"]),
        ("es-419", ["other", "one", "other", "other", "other", "other", "other", "other", "other", "other", "other"]),
        ("sw", ["other", "one", "other", "other", "other", "other", "other", "other", "other", "other", "other"]),
    ],
)  # fmt: skip
def test_plural_categories_follow_cldr(language: str, expected: list[str]) -> None:
    numbers = [0, 1, 2, 3, 10, 11, 99, 100, 102, 103, 111]
    assert [plural_category(language, n) for n in numbers] == expected


@pytest.mark.parametrize(
    ("language", "n", "text"),
    [
        ("en", 1, "1 day ago"),
        ("en", 5, "5 days ago"),
        ("fr", 1, "il y a 1 jour"),
        ("fr", 5, "il y a 5 jours"),
        ("es", 1, "hace 1 día"),
        ("ar", 2, "قبل يومين"),
        ("ar", 5, "قبل 5 أيام"),
        ("ar", 14, "قبل 14 يومًا"),
        ("ar", 100, "قبل 100 يوم"),
        ("sw", 1, "1 day ago"),  # no Swahili: English, with English's categories
    ],
)
def test_plural_picks_the_variant_for_the_number(ui: UI, language: str, n: int, text: str) -> None:
    assert ui.plural("rel_days_ago", language, n) == text


def test_english_one_variants_still_work(ui: UI) -> None:
    assert ui.plural("rel_months_ago", "en", 1) == "about a month ago"
    assert ui.plural("rel_months_ago", "en", 3) == "about 3 months ago"
    assert ui.plural("reminders_days_before", "en", 1) == "1 day before"
    assert ui.plural("rel_years_ago", "ar", 2) == "قبل سنتين تقريبًا"


def copy_locales(tmp_path: Path) -> Path:
    for path in LOCALES_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_a_plural_variant_needs_no_english_key_but_no_new_placeholder(tmp_path: Path) -> None:
    folder = copy_locales(tmp_path)
    (folder / "fr.extra.yaml").write_text("rel_in_days_many: 'dans {n} jours'\n", encoding="utf-8")
    assert UI.load(folder).plural("rel_in_days", "fr", 3) == "dans 3 jours"
    (folder / "fr.extra.yaml").write_text("rel_in_days_few: 'dans {count}'\n", encoding="utf-8")
    with pytest.raises(ContentError, match="not among rel_in_days's"):
        UI.load(folder)
    (folder / "fr.extra.yaml").write_text("rel_soon_few: 'bientôt'\n", encoding="utf-8")
    with pytest.raises(ContentError, match="key not in English"):
        UI.load(folder)


def test_month_names_come_from_each_language(ui: UI) -> None:
    assert ui.dates("fr").months[10] == "novembre"
    assert ui.dates("es").months[10] == "noviembre"
    assert ui.dates("ar").months[10] == "نوفمبر"
    for language in ("en", "fr", "es", "ar"):
        assert len(set(ui.dates(language).months)) == 12


@pytest.mark.parametrize(
    ("language", "day", "month", "days", "across", "moment"),
    [
        (
            "en",
            "1 December 2011",
            "November 2009",
            "22–23 June 2022",
            "28 November – 1 December 2011",
            "1 April 2027, 09:00 UTC",
        ),
        (
            "fr",
            "1er décembre 2011",
            "novembre 2009",
            "22–23 juin 2022",
            "28 novembre – 1er décembre 2011",
            "1er avril 2027 à 09:00 UTC",
        ),
        (
            "es",
            "1 de diciembre de 2011",
            "noviembre de 2009",
            "22–23 de junio de 2022",
            "28 de noviembre – 1 de diciembre de 2011",
            "1 de abril de 2027, 09:00 UTC",
        ),
        (
            "ar",
            "1 ديسمبر 2011",
            "نوفمبر 2009",
            "22–23 يونيو 2022",
            "28 نوفمبر – 1 ديسمبر 2011",
            "1 أبريل 2027، الساعة 09:00 UTC",
        ),
        (
            "sw",  # a language the bot does not speak: English
            "1 December 2011",
            "November 2009",
            "22–23 June 2022",
            "28 November – 1 December 2011",
            "1 April 2027, 09:00 UTC",
        ),
    ],
)
def test_dates_are_written_the_languages_way(
    ui: UI, language: str, day: str, month: str, days: str, across: str, moment: str
) -> None:
    dates = ui.dates(language)
    assert dates.format_date(date(2011, 12, 1)) == day
    assert dates.format_date(date(2009, 11, 1), "month") == month
    assert dates.format_range(date(2022, 6, 22), "day", date(2022, 6, 23)) == days
    assert dates.format_range(date(2011, 11, 28), "day", date(2011, 12, 1)) == across
    assert dates.format_moment(datetime(2027, 4, 1, 9, 0, tzinfo=UTC)) == moment
    assert dates.format_range(date(2018, 1, 1), "year", date(2022, 1, 1), "year") == "2018–2022"


def test_yes_and_no_words_cover_every_language_and_never_overlap(ui: UI) -> None:
    yes, no = ui.words("consult_words_yes"), ui.words("consult_words_no")
    assert {"yes", "oui", "sí", "si", "نعم"} <= yes
    assert {"no", "non", "لا"} <= no
    assert not yes & no
