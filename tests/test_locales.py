"""French, Spanish and Arabic: the locale files, small talk, and answers in the asker's language.

The UI strings live in bot/locales/<lang>[.<feature>].yaml; the FAQ translations in
faq.yaml's ``translations:``. A person's language hint (Telegram's language_code, Slack's
locale) picks the UI language; an answer comes in the language the question was asked in.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.core import Core
from bot.matcher import normalise
from bot.messages import Person
from bot.ui import LOCALES_DIR, UI, plural_base
from bot.yamlfile import load_yaml

LANGUAGES = ("fr", "es", "ar")
# "/topics", "/timeline 2022": a command must survive translation exactly. Not "73/195" or
# "Africa/Nairobi" (a word character before the slash).
COMMAND = re.compile(r"(?<![\w/])/[a-z_]+")


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.fixture(scope="module")
def ui() -> UI:
    return UI.load()


def locale_files(language: str) -> list[Path]:
    return sorted(LOCALES_DIR.glob(f"{language}.*yaml"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_locale_file_is_a_flat_mapping_of_text(language: str) -> None:
    files = locale_files(language)
    assert {p.name for p in files} >= {
        f"{language}.yaml",
        f"{language}.consult.yaml",
        f"{language}.slack.yaml",
    }
    for path in files:
        data, problems = load_yaml(path, path.name)
        assert not problems, problems
        assert isinstance(data, dict) and data, path.name
        for key, value in data.items():
            # An unquoted "No" or "Yes" is a YAML boolean: the bot would say "False".
            assert isinstance(value, str), f"{path.name}: {key} is {value!r}, not text"


def test_ui_loads_every_language(ui: UI) -> None:
    assert set(LANGUAGES) <= set(ui.strings)


@pytest.mark.parametrize("language", LANGUAGES)
def test_keys_exist_in_english_and_placeholders_match(ui: UI, language: str) -> None:
    english = ui.strings["en"]
    for key, text in ui.strings[language].items():
        base = plural_base(key, english)
        if base is not None:  # "rel_days_ago_two": a plural form of an English key
            assert fields(text) <= fields(english[base]), f"{language}: {key} placeholders"
            assert COMMAND.findall(text) == COMMAND.findall(english[base]), f"{language}: {key}"
            continue
        assert key in english, f"{language}: {key} is not an English key"
        assert fields(text) == fields(english[key]), f"{language}: {key} placeholders"
        assert COMMAND.findall(text) == COMMAND.findall(english[key]), f"{language}: {key}"
        assert text.count("**") == english[key].count("**"), f"{language}: {key} bold markup"


@pytest.mark.parametrize("language", LANGUAGES)
def test_core_and_consultation_words_are_all_translated(ui: UI, language: str) -> None:
    for feature in ("", ".consult", ".slack", ".handoff", ".feedback", ".stats"):
        data, _ = load_yaml(LOCALES_DIR / f"en{feature}.yaml", "en")
        missing = sorted(set(data) - set(ui.strings[language]))
        assert not missing, f"{language}{feature}.yaml lacks {missing}"


def test_a_placeholder_mismatch_is_refused(tmp_path: Path) -> None:
    for path in LOCALES_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    broken = tmp_path / "fr.slack.yaml"
    broken.write_text("slack_invite_me: 'Invitez-moi avec /invite, {nom}.'\n", encoding="utf-8")
    with pytest.raises(Exception, match="placeholders"):
        UI.load(tmp_path)


@pytest.mark.parametrize(
    ("said", "reply"),
    [
        ("Merci beaucoup !", "smalltalk_thanks"),
        ("Bonjour à tous", "smalltalk_greeting"),
        ("Ça va ?", "smalltalk_how"),
        ("¡Muchas gracias!", "smalltalk_thanks"),
        ("Hasta luego", "smalltalk_bye"),
        ("¿Quién eres?", "smalltalk_who"),
        ("شكراً جزيلاً", "smalltalk_thanks"),
        ("السلام عليكم", "smalltalk_greeting"),
        ("مرحباً", "smalltalk_greeting"),
        ("أهلاً وسهلاً", "smalltalk_greeting"),
        ("مع السلامة", "smalltalk_bye"),
    ],
)
def test_small_talk_in_other_languages_is_recognised(ui: UI, said: str, reply: str) -> None:
    assert [key for key, phrases in ui.smalltalk if normalise(said) in phrases] == [reply]


def person(language: str, name: str = "") -> Person:
    return Person("test", f"u-{language}", name, language=language)


async def test_french_speaker(core: Core) -> None:
    bot = MemoryAdapter(core, person("fr-FR", "Marie Dupont"))
    start = await bot.ask("/start")
    assert start.startswith("Bonjour, Marie !") and "assistant migration" in start
    assert bot.buttons == ["Parcourir les thèmes", "Chronologie", "Aide"]
    assert "Posez une question avec vos propres mots" in await bot.ask("/help")

    answer = await bot.ask("quand la politique migratoire de la FICR a-t-elle été adoptée ?")
    assert "adoptée en novembre 2009 par la 17e Assemblée générale" in answer
    assert "Source :" in answer
    # Asked in English by a French speaker: answered in English, the question's language.
    assert "22–23 June 2022" in await bot.ask("when was the 2022 council of delegates")
    assert "Je vous en prie" in await bot.ask("merci")


async def test_spanish_speaker(core: Core) -> None:
    bot = MemoryAdapter(core, person("es-419", "Ana"))
    assert (await bot.ask("/start")).startswith("¡Hola, Ana! Soy el asistente sobre migración")
    assert "Escriba una pregunta con sus propias palabras" in await bot.ask("/help")
    answer = await bot.ask("¿Cuándo fue el Consejo de Delegados de 2024?")
    assert "del 23 al 31 de octubre de 2024" in answer and "nueve resoluciones" in answer
    assert "Fuente:" in answer
    assert "De nada" in await bot.ask("gracias")


async def test_arabic_speaker(core: Core) -> None:
    bot = MemoryAdapter(core, person("ar"))
    assert (await bot.ask("/start")).startswith("مرحبًا! أنا مساعد الهجرة")
    assert "اكتبوا سؤالكم بكلماتكم الخاصة" in await bot.ask("/help")
    answer = await bot.ask("من يرأس الفريق المرجعي المعني بالهجرة؟")
    # dated to its 2011 source: "the IFRC chaired", not "chairs"
    assert "كان الاتحاد الدولي يرأس الفريق المرجعي المعني بالهجرة" in answer
    assert "المصدر:" in answer
    unsure = await bot.ask("ما هو الطقس في نيروبي")  # no answer: the fallback, or at most a guess
    assert "ليست لديّ إجابة" in unsure or "هل تقصدون" in unsure


async def test_the_question_language_wins_over_the_hint(core: Core) -> None:
    """Someone whose app is in English but who asks in Spanish reads the Spanish answer;
    the bot's own words stay in the app's language."""
    bot = MemoryAdapter(core, person("en"))
    answer = await bot.ask("¿Cuándo se adoptó la Política de la FICR sobre Migración?")
    assert "fue adoptada en noviembre de 2009" in answer
    assert "Source:" in answer
    assert "The IFRC Policy on Migration was adopted" in await bot.ask(
        "when was the migration policy adopted"
    )


async def test_unknown_language_falls_back_to_english(core: Core) -> None:
    bot = MemoryAdapter(core, person("sw", "Amani"))
    assert (await bot.ask("/start")).startswith("Hello, Amani!")
    assert "November 2009" in await bot.ask("when was the migration policy adopted")


async def test_the_greeting_separator_is_the_languages(core: Core) -> None:
    arabic = MemoryAdapter(core, person("ar", "أحمد علي"))
    assert (await arabic.ask("/start")).startswith("مرحبًا، أحمد!")
    assert "مرحبًا، أحمد!" in await arabic.ask("مرحباً")
    english = MemoryAdapter(core, person("en", "Amani Njoroge"))
    assert (await english.ask("/start")).startswith("Hello, Amani!")


async def test_dates_and_how_long_ago_follow_the_persons_language(core: Core) -> None:
    """Timeline, /next and an answer's 📅 lines: month names and plural forms of the
    person's language (the clock is 23 November 2026)."""
    french = MemoryAdapter(core, person("fr-FR"))
    timeline = await french.ask("/timeline 2011")
    assert "28 novembre – 1er décembre 2011" in timeline and "December" not in timeline
    assert "il y a environ 15 ans" in timeline
    answer = await french.ask("when was the 2022 council of delegates")
    assert "📅 22–23 juin 2022" in answer and "il y a environ 4 ans" in answer

    spanish = MemoryAdapter(core, person("es"))
    assert "22–23 de junio de 2022" in await spanish.ask("/timeline 2022")

    arabic = MemoryAdapter(core, person("ar"))
    timeline = await arabic.ask("/timeline")
    assert "نوفمبر 2009" in timeline and "November" not in timeline
    assert "قبل 17 سنة تقريبًا" in timeline  # 11 to 99: the singular noun
    assert "قبل سنتين تقريبًا" in timeline  # two: the dual
    assert "قبل 4 سنوات تقريبًا" in timeline  # 3 to 10: the plural

    english = MemoryAdapter(core, person("en"))
    timeline = await english.ask("/timeline 2011")
    assert "28 November – 1 December 2011" in timeline and "about 15 years ago" in timeline
