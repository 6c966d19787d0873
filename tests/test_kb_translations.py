"""The per-language overlay files: glossary, topics, events and sources translated in
knowledge/translations/<lang>.yaml, checked with file:line errors, merged field by
field, and shown in the person's language by /topics, /timeline, /next, /calendar,
answers' citations and glossary answers.

tests/fixtures/kb_lang holds a French and an Arabic overlay of kb_min (some fields left
out on purpose); tests/fixtures/broken/overlay_mistakes one mistake of each kind.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest

from bot.adapters.memory import MemoryAdapter
from bot.core import Core
from bot.ics import events_ics
from bot.knowledge import KnowledgeBase, check_knowledge, load_knowledge
from bot.matcher import Matcher
from bot.messages import Person
from bot.storage import SqliteStorage
from bot.ui import UI

from .conftest import FIXTURES, KB_MIN, make_settings

BEFORE_COD_2022 = datetime(2022, 6, 1, 9, 0, tzinfo=UTC)


def overlay_kb(tmp_path: Path, case: str = "kb_lang") -> Path:
    """kb_min with the files of ``case`` laid over it; returns the knowledge folder."""
    root = tmp_path / "kb"
    shutil.copytree(KB_MIN.parent, root)
    shutil.copytree(FIXTURES / case, root, dirs_exist_ok=True)
    return root / "knowledge"


@pytest.fixture
def lang_kb(tmp_path: Path) -> KnowledgeBase:
    return load_knowledge(overlay_kb(tmp_path))


@pytest.fixture
async def lang_core(tmp_path: Path, lang_kb: KnowledgeBase) -> AsyncIterator[Core]:
    async with SqliteStorage(tmp_path / "lang.sqlite3") as storage:
        yield Core(
            make_settings(tmp_path, tmp_path / "kb" / "knowledge"),
            lang_kb,
            storage,
            clock=lambda: BEFORE_COD_2022,
        )


def speaker(core: Core, language: str) -> MemoryAdapter:
    return MemoryAdapter(core, Person("test", f"p-{language}", "Amal", language=language))


# ------------------------------------------------------------------ loading and merging


def test_topics_events_and_sources_fall_back_to_english_field_by_field(
    lang_kb: KnowledgeBase,
) -> None:
    groups = lang_kb.topic("groups", "fr")
    assert groups is not None
    assert groups.title == "Groupes"
    assert groups.description == "Who is involved."  # not translated: that field alone
    policy = lang_kb.topic("policy", "fr")
    assert policy is not None and policy.description == "La politique de 2009."
    events = {e.id: e for e in lang_kb.events_in("fr")}
    assert events["cod-2022"].title == "Conseil des Délégués 2022"
    assert events["cod-2022"].place == "Genève"
    adoption = events["policy-adoption"]
    assert adoption.title == "Adoption de la Politique relative à la migration"
    assert adoption.summary == "The General Assembly adopted the policy."
    # Untouched: English, and the English objects themselves are not changed.
    assert lang_kb.topic("groups", "es") == lang_kb.topics["groups"]
    assert lang_kb.events[1].title == "Council of Delegates 2022"
    (cited,) = lang_kb.citations(lang_kb.entries["mrg-chair"].sources, "fr")
    assert cited.label == "Fiche d'information d'exemple"
    (english,) = lang_kb.citations(lang_kb.entries["mrg-chair"].sources)
    assert english.label == "Example fact sheet"


def test_a_glossary_overlay_behaves_like_inline_translations(
    tmp_path: Path, lang_kb: KnowledgeBase
) -> None:
    """The same term translated in the language file or inline in glossary.yaml gives the
    same term, the same answerable entry and the same matches."""
    inline_root = tmp_path / "inline"
    shutil.copytree(KB_MIN.parent, inline_root)
    glossary = inline_root / "knowledge" / "glossary.yaml"
    glossary.write_text(
        glossary.read_text(encoding="utf-8")
        + """    translations:
      fr:
        stands_for: Conseil des Délégués
        description: Le **Conseil des Délégués** réunit les composantes du Mouvement.
        aliases: [CD, le conseil]
""",
        encoding="utf-8",
    )
    inline = load_knowledge(inline_root / "knowledge")

    def french(e: Any) -> Any:  # the entry or term with its French translation only
        return replace(e, translations={"fr": e.translations["fr"]})

    overlay_entry = french(lang_kb.entries["glossary-cod"])
    assert replace(overlay_entry, file="") == replace(
        french(inline.entries["glossary-cod"]), file=""
    )
    overlay_term = next(t for t in lang_kb.terms if t.term == "CoD")
    inline_term = next(t for t in inline.terms if t.term == "CoD")
    assert french(overlay_term) == french(inline_term)
    entry = lang_kb.entries["glossary-cod"]
    assert "Qu'est-ce que Conseil des Délégués ?" in entry.translations["fr"].questions
    assert entry.answer_in("fr").startswith("Le **Conseil des Délégués**")
    for question in ("qu'est-ce que le CD ?", "Que signifie CoD ?"):
        result = Matcher(lang_kb).match(question)
        assert (result.status, result.id) == ("answer", "glossary-cod"), question
        assert result.id == Matcher(inline).match(question).id
    # MRG gives only a French alias: its long form and description stay English, and
    # the alias folds onto the term like any other.
    mrg = next(t for t in lang_kb.terms if t.term == "MRG").translations["fr"]
    assert (mrg.aliases, mrg.fallback) == (("grm",), ("stands_for", "description"))
    assert mrg.description.startswith("The **MRG**")
    matcher = Matcher(lang_kb)
    assert matcher.tokens("le GRM") == matcher.tokens("the MRG") == ["mrg"]
    assert Matcher(load_knowledge(KB_MIN)).tokens("le GRM") != ["mrg"]


def test_a_new_language_is_a_new_file(tmp_path: Path) -> None:
    knowledge = overlay_kb(tmp_path)
    (knowledge / "translations" / "pt.yaml").write_text(
        "topics:\n  - id: groups\n    title: Grupos\n"
        "events:\n  - id: cod-2022\n    title: Conselho de Delegados 2022\n",
        encoding="utf-8",
    )
    kb = load_knowledge(knowledge)
    groups = kb.topic("groups", "pt")
    assert groups is not None and groups.title == "Grupos"
    assert [e.title for e in kb.events_in("pt")][1] == "Conselho de Delegados 2022"


def test_overlay_mistakes_are_named_by_file_and_line(tmp_path: Path) -> None:
    kb, problems = check_knowledge(overlay_kb(tmp_path, "broken/overlay_mistakes"))
    assert kb is None
    errors = [str(p) for p in problems if not p.warning]
    warnings = [str(p) for p in problems if p.warning]
    expected_errors = [
        "translations/fr.yaml:2: [MRG] error: 'MRG' is already translated into fr in ",
        "translations/fr.yaml:4: [XYZ] error: no term 'XYZ' in knowledge/glossary.yaml",
        "translations/fr.yaml:8: [policy] error: 'title' must be text",
        "translations/fr.yaml:9: [policy] error: unknown field 'colour' (allowed: description, id, title)",
        "translations/fr.yaml:10: [no-such-topic] error: no topic 'no-such-topic' in knowledge/topics.yaml",
        "translations/fr.yaml:16: [policy-adoption] error: 'policy-adoption' is translated twice (also at line 13)",
        "translations/fr.yaml:21: error: unknown top-level key 'extras'",
        "translations/fr.yaml:24: [glossary-cod] error: a glossary term is translated under 'glossary:'",
    ]  # fmt: skip
    for expected in expected_errors:
        assert any(expected in e for e in errors), (expected, errors)
    assert len(errors) == len(expected_errors), errors
    assert any(
        "translations/fr.yaml:15: [policy-adoption] warning: the English" in w
        and "has no 'place'" in w
        for w in warnings
    ), warnings
    assert any("fr.yaml:19: [sheet] warning: translates nothing into fr" in w for w in warnings)


# ------------------------------------------------------------------ what a person reads


async def test_topics_in_the_persons_language(lang_core: Core) -> None:
    fr = speaker(lang_core, "fr")
    await fr.ask("/topics")
    assert fr.buttons == ["Politique migratoire", "Groupes"]
    text = await fr.press("Groupes")
    assert "Groupes" in text and "Who is involved." in text  # the untranslated field
    assert "Qui préside le groupe de référence ?" in fr.buttons  # the entry's French title
    assert "Qu'est-ce que CoD ?" in fr.buttons  # a glossary term translated in the overlay
    ar = speaker(lang_core, "ar")
    await ar.ask("/topics")
    assert ar.buttons == ["سياسة الهجرة", "الأفرقة"]
    en = speaker(lang_core, "en")
    await en.ask("/topics")
    assert en.buttons == ["Migration policy", "Groups"]


async def test_timeline_next_and_calendar_in_the_persons_language(lang_core: Core) -> None:
    fr = speaker(lang_core, "fr")
    timeline = await fr.ask("/timeline")
    assert "Adoption de la Politique relative à la migration" in timeline
    assert "Conseil des Délégués 2022" in timeline and "Genève" in timeline
    assert "Council of Delegates" not in timeline and "Geneva" not in timeline
    nxt = await fr.ask("/next")
    assert "Conseil des Délégués 2022" in nxt
    assert fr.buttons == ["📅 Ajouter au calendrier : Conseil des Délégués 2022"]
    sent = await fr.press(fr.buttons[0])
    assert "« Conseil des Délégués 2022 »" in sent
    (event,) = icalendar.Calendar.from_ical(fr.last[0].attachments[0].content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Conseil des Délégués 2022"
    assert str(event["LOCATION"]) == "Genève"
    assert "Le Conseil s'est réuni." in str(event["DESCRIPTION"])
    assert "Source : Fiche d'information d'exemple: https://example.org/fact-sheet" in str(
        event["DESCRIPTION"]
    )
    await fr.ask("/calendar")
    cal = icalendar.Calendar.from_ical(fr.last[0].attachments[0].content)
    summaries = [str(e["SUMMARY"]) for e in cal.walk("VEVENT")]
    assert "Adoption de la Politique relative à la migration" in summaries
    assert str(cal["X-WR-CALNAME"]).startswith("Chronologie de la migration")
    # The day is unknown for the 2009 adoption (a month): said in French, not English.
    adoption = next(e for e in cal.walk("VEVENT") if "Adoption" in str(e["SUMMARY"]))
    assert "Jour exact inconnu" in str(adoption["DESCRIPTION"])
    assert "The General Assembly adopted the policy." in str(adoption["DESCRIPTION"])


async def test_timeline_is_searched_in_every_language(lang_core: Core) -> None:
    fr = speaker(lang_core, "fr")
    assert "Conseil des Délégués 2022" in await fr.ask("/timeline Genève")
    assert "Conseil des Délégués 2022" in await fr.ask("/timeline Geneva")
    assert "Adoption de la Politique" not in await fr.ask("/timeline Genève")


async def test_arabic_timeline_and_calendar(lang_core: Core) -> None:
    ar = speaker(lang_core, "ar")
    timeline = await ar.ask("/timeline")
    assert "مجلس المندوبين 2022" in timeline and "جنيف" in timeline
    assert "اعتماد السياسة بشأن الهجرة" in timeline
    await ar.ask("/calendar")
    cal = icalendar.Calendar.from_ical(ar.last[0].attachments[0].content)
    assert {str(e["SUMMARY"]) for e in cal.walk("VEVENT")} == {
        "مجلس المندوبين 2022",
        "اعتماد السياسة بشأن الهجرة",
    }


async def test_citations_and_glossary_answers_in_the_persons_language(lang_core: Core) -> None:
    fr = speaker(lang_core, "fr")
    answer = await fr.ask("Qui préside le groupe de référence ?")
    assert "présidé par la FICR" in answer
    assert "Source : Fiche d'information d'exemple" in answer
    glossary = await fr.ask("Qu'est-ce que le CD ?")
    assert glossary.startswith("Le Conseil des Délégués réunit")
    en = speaker(lang_core, "en")
    assert "Source: Example fact sheet" in await en.ask("Who chairs the Migration Reference Group?")


def test_calendar_file_stays_english_without_a_language(lang_kb: KnowledgeBase) -> None:
    data = events_ics(lang_kb, lang_kb.events, BEFORE_COD_2022, UI.load())
    cal = icalendar.Calendar.from_ical(data)
    assert {str(e["SUMMARY"]) for e in cal.walk("VEVENT")} == {
        "Policy on Migration adopted",
        "Council of Delegates 2022",
    }
    assert str(cal["X-WR-CALNAME"]) == "RCRC migration timeline"


async def test_event_reminders_are_in_the_subscribers_language(
    tmp_path: Path, lang_kb: KnowledgeBase
) -> None:
    from bot import reminders
    from bot.messages import Reply
    from tests.consult_helpers import Clock, make_core

    async with SqliteStorage(tmp_path / "r.sqlite3") as storage:
        setup = make_core(tmp_path, lang_kb, storage, Clock(BEFORE_COD_2022))
        sent: list[Reply] = []

        async def inbox(replies: list[Reply]) -> None:
            sent.extend(replies)

        setup.core.register_sender("test", inbox)
        french, arabic = speaker(setup.core, "fr"), speaker(setup.core, "ar")
        setup.adapters += [french, arabic]
        await french.ask("/subscribe")
        await arabic.ask("/subscribe")
        setup.clock.now = datetime(2022, 6, 15, 9, 0, tzinfo=UTC)  # 7 days before
        await reminders.tick(setup.core)
    by_chat = {r.chat.chat_id: r for r in sent if r.chat is not None}
    fr, ar = by_chat["p-fr"], by_chat["p-ar"]
    assert "Conseil des Délégués 2022" in fr.text and "Genève" in fr.text
    assert [c.label for c in fr.choices] == ["📅 Ajouter au calendrier : Conseil des Délégués 2022"]
    assert "مجلس المندوبين 2022" in ar.text and "جنيف" in ar.text
    assert "Council of Delegates" not in fr.text + ar.text
