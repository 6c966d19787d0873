"""Consultations in French, Spanish and Arabic: the schema, the per-field fallback to
English, and a whole consultation answered in each language."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.config import shipped_knowledge_dir
from bot.consultation_translations import untranslated
from bot.consultations import load_consultation_file, load_consultations
from bot.knowledge import KnowledgeBase
from bot.messages import Person
from bot.storage import SqliteStorage
from tests.consult_helpers import FIXTURES, Setup, make_core, skip_profile

BROKEN = FIXTURES / "consultations" / "broken_translations"
SHIPPED = shipped_knowledge_dir() / "consultations"
PARTIAL = """\
id: t
title: Translated test
introduction: An introduction.
consent: Agree?
opens: 2020-01-01 00:00
closes: 2099-12-31
timezone: UTC
questions:
  - id: pick
    type: single
    text: Pick one
    choices:
      - {id: a, label: Alpha}
      - {id: b, label: Beta}
translations:
  fr:
    title: Test traduit
    questions:
      pick:
        choices: {a: Alpha en français}
"""


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("unknown_question.yaml", 22, "no question 'nowhere' to translate"),
        ("unknown_choice.yaml", 23, "no choice 'c' to translate"),
        ("field_english_lacks.yaml", 23, "unknown field 'unit'"),
        ("bad_language.yaml", 21, "'english' is not a language code"),
    ],
)
def test_a_broken_translation_is_refused_with_its_line(name: str, line: int, message: str) -> None:
    consultation, problems = load_consultation_file(BROKEN / name, name)
    assert consultation is None
    assert any(p.line == line and message in p.message for p in problems), problems


def test_each_field_falls_back_to_english_on_its_own(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(PARTIAL, encoding="utf-8")
    c = load_consultations(tmp_path).get("t")
    assert c is not None
    french = c.in_language("fr")
    assert french.title == "Test traduit"
    assert french.introduction == "An introduction."  # not translated: English
    q = french.questions[0]
    assert [o.label for o in q.options] == ["Alpha en français", "Beta"]
    assert q.text == "Pick one"
    assert c.in_language("es") == c and c.in_language(None) == c  # no Spanish at all
    assert untranslated(c, "fr") == [
        "introduction",
        "consent",
        "questions.pick.text",
        "questions.pick.choices.b",
    ]


def test_the_shipped_consultation_is_translated_in_every_field() -> None:
    catalog = load_consultations(SHIPPED)
    for c in catalog:
        for language in ("fr", "es", "ar"):
            assert untranslated(c, language) == [], (c.id, language)


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    return make_core(tmp_path, min_kb, storage, catalog=load_consultations(SHIPPED))


WALKS = {
    # language: consent button, answers in order, words that must show, the send word
    "fr": (
        "J'accepte, commencer",
        ["PERCO (Europe)", "4", "1, 3", "Oui", "passer", "Financement", "3", "45", "passer"],
        ["Stratégie du Mouvement", "De quel **réseau"],
        "envoyer",
    ),
    "es": (
        "Acepto, empezar",
        ["PERCO (Europa)", "4", "1, 3", "Sí", "omitir", "Financiación", "3", "45", "omitir"],
        ["Estrategia del Movimiento", "¿De qué **red"],
        "enviar",
    ),
    "ar": (
        "أوافق، لنبدأ",
        ["PERCO (أوروبا)", "٤", "١، ٣", "نعم", "تخط", "التمويل", "٣", "٤٥", "تخط"],
        ["استراتيجية الحركة", "ما **الشبكة"],
        "إرسال",
    ),
}


@pytest.mark.parametrize("language", sorted(WALKS))
async def test_a_whole_consultation_in_each_language(setup: Setup, language: str) -> None:
    consent, answers, shown, send = WALKS[language]
    bot = setup._keep(
        MemoryAdapter(setup.core, Person("test", f"w-{language}", "", language=language))
    )
    intro = await bot.ask("/consult movement-strategy-input")
    assert shown[0] in intro
    await bot.press(consent)
    first = await skip_profile(bot)
    assert shown[1].replace("**", "") in first
    for answer in answers:
        await bot.ask(answer)
    review = bot.plain(bot.last)
    assert "PERCO" in review and "45" in review
    thanks = await bot.ask(send)
    response = await setup.core.storage.responses("movement-strategy-input")
    assert [r.status for r in response] == ["submitted"], thanks
    assert response[0].answers["network"] == "perco" and response[0].answers["people"] == 45


async def test_an_english_label_typed_in_a_french_consultation_is_understood(setup: Setup) -> None:
    bot = setup._keep(MemoryAdapter(setup.core, Person("test", "fr-en", "", language="fr")))
    await bot.ask("/consult movement-strategy-input")
    await bot.press("J'accepte, commencer")
    await skip_profile(bot)
    assert "Quelle est l'utilité du réseau" in await bot.ask("PERCO (Europe)")
