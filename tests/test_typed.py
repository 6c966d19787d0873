"""Numbers and lists typed in any script, and input that used to crash a handler."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import typed
from bot.adapters.memory import MemoryAdapter
from bot.core import Core
from bot.knowledge import KnowledgeBase
from bot.messages import Person
from bot.reminders import parse_days
from bot.storage import SqliteStorage
from tests.consult_helpers import Setup, make_core, skip_profile


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        (" ٣ ", 3),  # Arabic-Indic
        ("۱۲", 12),  # Persian (Extended Arabic-Indic)
        ("３", 3),  # fullwidth
        ("१२", 12),  # Devanagari
        ("²", None),  # a superscript is a digit to str.isdigit, not to int()
        ("①", None),
        ("3.5", None),
        ("-1", None),
        ("", None),
        ("9" * 400, None),
    ],
)
def test_whole_number(text: str, expected: int | None) -> None:
    assert typed.whole_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("-3", -3),
        ("2,5", 2.5),
        ("1 200", 1200),
        ("١٢", 12),
        ("٢٫٥", 2.5),  # the Arabic decimal separator
        ("١٬٢٠٠", 1200),  # the Arabic thousands separator
        ("²", None),
        ("①", None),
        ("12 apples", None),
    ],
)
def test_number(text: str, expected: float | None) -> None:
    assert typed.number(text) == expected


def test_a_400_digit_number_is_refused_with_a_reason() -> None:
    with pytest.raises(typed.TooLong):
        typed.number("9" * 400)
    with pytest.raises(typed.TooLong):
        typed.number("1." + "1" * 20)
    assert typed.number("0" * 30 + "7") == 7  # leading zeros are not digits that count


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1, 3", ["1", "3"]),
        ("1، 3", ["1", "3"]),  # the Arabic comma
        ("١، ٣", ["1", "3"]),
        ("1؛ 3", ["1", "3"]),  # the Arabic semicolon
        ("1 3", ["1", "3"]),
        ("١ ٣", ["1", "3"]),
        ("1 و 3", ["1", "3"]),
        ("1 و3", ["1", "3"]),
        ("accès et climat", ["accès", "climat"]),
        ("access and climate", ["access", "climate"]),
        ("climate", ["climate"]),
    ],
)
def test_split_list(text: str, expected: list[str]) -> None:
    assert typed.split_list(text) == expected


def test_subscribe_days_in_arabic_digits_and_separators() -> None:
    assert parse_days("١٤، ٢") == (14, 2)
    assert parse_days("14 et 2 jours") == (14, 2)
    assert parse_days("²") is None


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    return make_core(tmp_path, min_kb, storage)


async def arabic_at_priorities(setup: Setup) -> MemoryAdapter:
    bot = setup._keep(MemoryAdapter(setup.core, Person("test", "ar", "", language="ar")))
    await bot.ask("/consult sample")
    await bot.press("أوافق، لنبدأ")
    await skip_profile(bot)
    await bot.ask("٣")  # network: the third option, "None or other"
    return bot


async def test_arabic_lists_and_digits_answer_a_consultation(setup: Setup) -> None:
    """The Arabic hint says "مثل 1، 3"; typing exactly that, or in Arabic digits, works."""
    bot = await arabic_at_priorities(setup)
    assert "Do you run Humanitarian Service Points?" in await bot.ask("١، ٣")  # accepted
    await bot.ask("نعم")
    await bot.ask("١٢")  # staff: a number in Arabic-Indic digits
    review = await bot.ask("تخط")
    assert "Access to services" in review and "Missing migrants" in review
    assert "\n12" in review


@pytest.mark.parametrize("typed_text", ["²", "①", "⑶"])
async def test_odd_digits_get_a_message_not_a_crash(setup: Setup, typed_text: str) -> None:
    """ "²".isdigit() is True but int("²") raises: choice questions crashed on it."""
    bot = setup._keep(MemoryAdapter(setup.core, Person("test", "ar", "", language="ar")))
    await bot.ask("/consult sample")
    await bot.press("أوافق، لنبدأ")
    await skip_profile(bot)
    text = await bot.ask(typed_text)  # the first question: one of three options
    assert "لم أتعرف على ذلك كأحد الخيارات" in text and "حدث خطأ" not in text


async def test_a_400_digit_number_answer_gets_the_limit(setup: Setup) -> None:
    bot = await arabic_at_priorities(setup)
    await bot.ask("1, 3")
    await bot.ask("نعم")
    assert "هذا الرقم طويل جدًا: يُرجى كتابة 15 رقمًا على الأكثر" in await bot.ask("9" * 400)


async def test_a_400_digit_scale_answer_is_refused(setup: Setup) -> None:
    bot = setup.person()
    await bot.ask("/consult sample")
    await bot.press("I agree, start")
    await skip_profile(bot)
    await bot.ask("1")  # APMN: the scale question follows
    assert "That number is too long" in await bot.ask("9" * 400)
    assert "Question 3 of 6" in await bot.ask("٤")  # accepted: the next question


async def test_forged_button_data_with_odd_digits_is_refused(setup: Setup) -> None:
    bot = setup.person()
    await bot.ask("/consult sample")
    await bot.press("I agree, start")
    await skip_profile(bot)
    for action in ("ca:sample:0:²", "ca:sample:①:0", "cv:sample:e²", "pv:²:0", "pv:1:①"):
        reply = await bot.send(action=action)
        assert "no longer active" in reply[0].text, action


async def test_review_and_region_take_arabic_digits(setup: Setup) -> None:
    bot = await arabic_at_priorities(setup)
    for answer in ("1", "نعم", "تخط", "تخط"):
        await bot.ask(answer)
    assert "إجاباتكم" in bot.plain(bot.last)  # the review
    assert "Which priorities?" in await bot.ask("٢")  # "٢" changes answer 2
    profile = setup._keep(MemoryAdapter(setup.core, Person("test", "ar2", "", language="ar")))
    await profile.ask("/profile")
    await profile.ask("تخط")
    assert "آسيا والمحيط الهادئ" in await profile.ask("٣")


async def test_timeline_year_in_arabic_digits(core: Core) -> None:
    bot = MemoryAdapter(core, Person("test", "ar3", "", language="ar"))
    arabic_digits = (await bot.ask("/timeline ٢٠١١")).splitlines()[1:]
    assert arabic_digits and arabic_digits == (await bot.ask("/timeline 2011")).splitlines()[1:]
