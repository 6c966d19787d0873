"""Separators, punctuation and small grammar of each language: from the locale files,
never hard-coded in the code that assembles a line (timeline, /mydata, lists)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.core import Core
from bot.knowledge import KnowledgeBase
from bot.messages import Person
from bot.storage import SqliteStorage
from bot.ui import UI
from tests.consult_helpers import Setup, make_core, skip_profile


@pytest.fixture(scope="module")
def ui() -> UI:
    return UI.load()


def person(language: str) -> Person:
    return Person("test", f"p-{language}", "", language=language)


async def test_timeline_lines_use_the_languages_colon_and_comma(core: Core) -> None:
    french = await MemoryAdapter(core, person("fr")).ask("/timeline 2011")
    # "août 1997:" had no space before the colon; French puts one there.
    assert "2011 : " in french and "2011: " not in french
    arabic = await MemoryAdapter(core, person("ar")).ask("/timeline 2011")
    lines = [line for line in arabic.splitlines() if line.startswith("•")]
    # The comma before "how long ago" is Arabic; a Latin one stuck to the English title.
    assert lines and all(re.search("، قبل [0-9]+ (سنوات|سنة) تقريبًا$", line) for line in lines)


async def test_arabic_lists_join_with_the_arabic_comma(core: Core) -> None:
    bot = MemoryAdapter(core, person("ar"))
    await bot.ask("/subscribe 14 7 1")
    assert "قبل 14 يومًا، قبل 7 أيام وقبل يوم واحد" in await bot.ask("/mydata")


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    return make_core(tmp_path, min_kb, storage)


async def test_mydata_response_line_in_arabic_has_no_latin_comma(setup: Setup) -> None:
    """ "مُرسلة, مجهولة الهوية": the separators of /mydata's lines came from the code."""
    bot = setup._keep(MemoryAdapter(setup.core, Person("test", "ar1", "", language="ar")))
    await bot.ask("/consult sample")
    await bot.press("أوافق، لنبدأ")
    await skip_profile(bot)
    for answer in ("none", "1", "yes", "3", "قصة"):
        await bot.ask(answer)
    await bot.ask("إرسال")
    text = await bot.ask("/mydata")
    assert "مُرسلة، مجهولة الهوية، " in text and "مُرسلة," not in text


@pytest.mark.parametrize(
    ("language", "expected", "wrong"),
    [
        ("fr", "ouverte jusqu'au 31 mars 2027 à 23:59 UTC", "jusqu'à 31"),
        ("es", "abierta hasta el 31 de marzo de 2027, 23:59 UTC", "hasta 31"),
    ],
)
def test_until_a_date_takes_the_article(ui: UI, language: str, expected: str, wrong: str) -> None:
    closes = ui.dates(language).format_moment(datetime(2027, 3, 31, 23, 59, tzinfo=UTC))
    text = ui.t("consult_status_new", language, closes=closes)
    assert expected in text and wrong not in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "jusqu'au 31 mars 2027 inclus"), ("es", "hasta el 31 de marzo de 2027 inclusive")],
)
def test_until_the_end_of_a_day_reads_naturally(ui: UI, language: str, expected: str) -> None:
    day = ui.t(
        "consult_end_of_day", language, day=ui.dates(language).format_date(datetime(2027, 3, 31))
    )
    assert expected in ui.t("consult_paused", language, closes=day)


def test_arabic_not_given_agrees_with_its_feminine_nouns(ui: UI) -> None:
    # Said of الجمعية الوطنية and المنطقة, both feminine.
    assert ui.t("profile_not_given", "ar") == "غير محددة"
    assert ui.t("results_not_given", "ar") == "غير محددة"
