"""The UI strings' language machinery: plural forms, dates and typed words per language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.core import Core
from bot.errors import ContentError
from bot.messages import Person
from bot.ui import LOCALES_DIR, UI, plural_base, plural_category


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


# --------------------------------------------------------------------------- counted words


def test_babel_supplies_cldrs_categories_beyond_the_small_numbers() -> None:
    # CLDR 42+: French and Spanish millions take "many" ("1 000 000 de réponses").
    assert plural_category("fr", 1_000_000) == "many"
    assert plural_category("es", 1_000_000) == "many"
    assert plural_category("xx-unknown", 1) == "one"  # Babel does not know it: English


@pytest.mark.parametrize(
    ("language", "key", "values", "expected", "wrong"),
    [
        # The examples of the language issue, each now through the plural rules.
        ("fr", "consult_welcome_back", {"title": "T", "answered": 5}, "répondu à 5 questions", "(s)"),
        ("fr", "consult_welcome_back", {"title": "T", "answered": 1}, "répondu à 1 question ", "(s)"),
        ("es", "privacy_answers", {"count": 1}, "1 respuesta", "(s)"),
        ("es", "privacy_answers", {"count": 4}, "4 respuestas", "(s)"),
        ("ar", "privacy_answers", {"count": 6}, "6 إجابات", "6 إجابة"),
        ("ar", "privacy_answers", {"count": 2}, "إجابتين", "2 إجابة"),
        ("ar", "privacy_answers", {"count": 12}, "12 إجابة", "إجابات"),
        ("en", "privacy_answers", {"count": 1}, "1 answer", "(s)"),
        ("en", "poll_voters", {"count": 1}, "1 voter", "(s)"),
        ("en", "announce_sending", {"count": 1}, "Sending to 1 subscriber now", "(s)"),
        ("fr", "poll_voters", {"count": 0}, "0 votant", "votants"),
        ("es", "export_done", {"count": 1, "title": "T", "format": "CSV"}, "1 participación en", "(es)"),
        ("fr", "results_dropoff", {"count": 1}, "1 personne s'est arrêtée", "sont"),
        ("en", "calendar_sent", {"count": 1}, "with 1 event.", "events"),
    ],
)  # fmt: skip
def test_every_count_takes_the_form_of_its_number(
    ui: UI, language: str, key: str, values: dict[str, object], expected: str, wrong: str
) -> None:
    text = ui.t(key, language, **values)
    assert expected in text and wrong not in text


@pytest.mark.parametrize(
    ("n", "questions", "minutes"),
    [
        (1, "سؤال قصير واحد", "نحو دقيقة واحدة"),  # one: the singular and واحد
        (2, "سؤالين قصيرين", "نحو دقيقتين"),  # two: the dual, no digit
        (3, "3 أسئلة قصيرة", "نحو 3 دقائق"),  # 3–10: the plural
        (10, "10 أسئلة قصيرة", "نحو 10 دقائق"),
        (11, "11 سؤالًا قصيرًا", "نحو 11 دقيقة"),  # 11–99: the accusative singular
        (100, "100 سؤال قصير", "نحو 100 دقيقة"),  # 100: the genitive singular
    ],
)
def test_arabic_consultation_length_for_one_two_few_and_many(
    ui: UI, n: int, questions: str, minutes: str
) -> None:
    text = ui.t("consult_length", "ar", count=n, minutes=n, closes="X")
    assert questions in text and minutes in text


def test_no_locale_string_writes_a_plural_in_brackets(ui: UI) -> None:
    """ "answer(s)", "respuesta(s)", "suscriptor(es)": counts go through count_ keys."""
    for language, table in ui.strings.items():
        for key, text in table.items():
            assert not re.search(r"\w\((s|es|x)\)", text), f"{language}: {key}: {text}"


def test_count_keys_are_complete_in_every_language(ui: UI) -> None:
    english = {
        k
        for k in ui.strings["en"]
        if k.startswith("count_") and plural_base(k, ui.strings["en"]) is None
    }
    for language in ("fr", "es", "ar"):
        assert english <= set(ui.strings[language]), sorted(english - set(ui.strings[language]))


def test_a_count_spec_needs_its_count_key(tmp_path: Path) -> None:
    folder = copy_locales(tmp_path)
    (folder / "fr.extra.yaml").write_text("poll_voters: '{count:votants}'\n", encoding="utf-8")
    with pytest.raises(ContentError, match="count_votants"):
        UI.load(folder)


def test_a_count_spec_words_only_whole_numbers(ui: UI) -> None:
    with pytest.raises(TypeError, match="whole number"):
        ui.t("privacy_answers", "en", count="3")


async def test_the_reminder_days_in_mydata_are_worded(core: Core) -> None:
    """ "subscribed, 7, 1 day(s) before" was the days joined with a Latin comma."""
    for language, expected in (
        ("en", "7 days before and 1 day before each event"),
        ("fr", "7 jours avant et 1 jour avant chaque événement"),
        ("ar", "لكل حدث (قبل 7 أيام وقبل يوم واحد)"),
    ):
        bot = MemoryAdapter(core, Person("test", f"u-{language}", "", language=language))
        await bot.ask("/subscribe 7 1")
        text = await bot.ask("/mydata")
        assert expected in text, text
