"""Validation: each broken fixture (kept as a file) fails with a message naming the file,
the line and the entry, and the shipped knowledge base is valid and complete."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.errors import ContentError
from bot.knowledge import KnowledgeBase, check_knowledge, glossary_id, load_knowledge

from .conftest import FIXTURES, KB_MIN

BROKEN = FIXTURES / "broken"


def broken_kb(tmp_path: Path, case: str) -> Path:
    """kb_min with the files of one broken case laid over it; returns the knowledge dir."""
    root = tmp_path / case
    shutil.copytree(KB_MIN.parent, root)
    shutil.copytree(BROKEN / case, root, dirs_exist_ok=True)
    return root / "knowledge"


def messages(tmp_path: Path, case: str) -> list[str]:
    kb, problems = check_knowledge(broken_kb(tmp_path, case))
    assert kb is None, f"{case} should not load"
    return [str(p) for p in problems if not p.warning]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("yaml_syntax", ["faq.yaml:7: error: YAML syntax error", "must be put in quotes"]),
        (
            "yaml_alias",
            ["faq.yaml:10: error: YAML syntax error: aliases (*many) are not supported"],
        ),
        ("missing_answer", ["faq.yaml:2: [policy-adopted] error: missing 'answer'"]),
        (
            "duplicate_id",
            # Paths are absolute outside the current folder: the other place is too.
            ["faq.yaml:7: [policy-adopted] error: duplicate id: already used at /", "faq.yaml:2"],
        ),
        (
            "unknown_related",
            ["faq.yaml:7: [policy-adopted] error: related id 'policy-scope' does not exist"],
        ),
        (
            "bad_date",
            [
                "knowledge/events.yaml:4: [cod-2022] error: 'start: 2022-06-31' is not a date",
                "knowledge/events.yaml:11: [ic-2011] error: 'start: 28 November 2011' is not a date",
            ],
        ),
        (
            "end_before_start",
            [
                "knowledge/events.yaml:5: [cod-2022] error: 'end' (2022-06-22) is before 'start' (2022-06-23)",
                "knowledge/events.yaml:13: [mystery] error: kind 'party' is not one of",
                "knowledge/events.yaml:16: [mystery] error: entry 'no-such-entry' does not exist",
            ],
        ),
        (
            "duplicate_key",
            ["faq.yaml:6: error: YAML syntax error", "the key 'answer' appears twice"],
        ),
        ("not_a_list", ["faq.yaml:1: error: 'entries' must be a list"]),
        (
            "glossary_translation",
            [
                "knowledge/glossary.yaml:11: [MRG] error: unknown field 'stand_for'",
                "knowledge/glossary.yaml:11: [MRG] error: missing 'stands_for'",
                "knowledge/glossary.yaml:14: [MRG] error: missing 'description'",
                "knowledge/glossary.yaml:23: [CoD] error: 'french' is not a language code",
                "knowledge/glossary.yaml:26: [CoD] error: translation 'ar' needs 'stands_for:'",
                "knowledge/glossary.yaml:30: [CoD] error: 'aliases' must be a list",
                "knowledge/glossary.yaml:38: [GA] error: 'translations' must map a language code",
            ],
        ),
    ],
)
def test_broken_fixture_is_reported_precisely(
    tmp_path: Path, case: str, expected: list[str]
) -> None:
    found = "\n".join(messages(tmp_path, case))
    for fragment in expected:
        assert fragment in found, f"{fragment!r} not in:\n{found}"


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    found = "\n".join(messages(tmp_path, "unknown_refs"))
    assert (
        "faq.yaml:3: [policy-adopted] error: topic 'polcy' is not in knowledge/topics.yaml" in found
    )
    assert "faq.yaml:5: [policy-adopted] error: unknown field 'anwser'" in found
    assert (
        "faq.yaml:7: [policy-adopted] error: source doc 'factsheet' is not in knowledge/sources.yaml"
        in found
    )


def test_bad_ids_and_too_few_phrasings(tmp_path: Path) -> None:
    found = "\n".join(messages(tmp_path, "bad_id"))
    assert "faq.yaml:2: [Policy Adopted] error: 'id' must be lower-case letters" in found
    assert "[policy-scope] error: 'questions' must be a list" in found


def test_load_knowledge_raises_with_every_problem(tmp_path: Path) -> None:
    with pytest.raises(ContentError) as info:
        load_knowledge(broken_kb(tmp_path, "end_before_start"))
    assert len(info.value.problems) >= 3
    assert "events.yaml:5" in str(info.value)


def test_missing_folder_is_explained(tmp_path: Path) -> None:
    kb, problems = check_knowledge(tmp_path / "nowhere")
    assert kb is None
    assert "knowledge folder not found" in str(problems[0])


def test_min_kb_loads_with_glossary_entries(min_kb: KnowledgeBase) -> None:
    assert "glossary-cod" in min_kb.entries
    assert "What is CoD?" in min_kb.entries["glossary-cod"].questions
    assert [e.id for e in min_kb.events] == ["policy-adoption", "cod-2022"]
    assert min_kb.events[0].start_precision == "month"


def test_a_translated_term_is_asked_and_answered_in_its_language(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(KB_MIN.parent, root)
    glossary = root / "knowledge" / "glossary.yaml"
    glossary.write_text(
        glossary.read_text(encoding="utf-8")
        + """    translations:
      fr:
        stands_for: Conseil des Délégués
        aliases: [CD]
        description: Le **Conseil des Délégués** réunit les composantes du Mouvement.
      ar:
        stands_for: مجلس المندوبين
        description: يجمع **مجلس المندوبين** مكونات الحركة.
      pt:
        stands_for: Conselho de Delegados
        description: O **Conselho de Delegados** reúne as componentes do Movimento.
""",
        encoding="utf-8",
    )
    kb = load_knowledge(root / "knowledge")
    term = next(t for t in kb.terms if t.term == "CoD")
    assert term.translations["fr"].aliases == ("cd",)
    entry = kb.entries["glossary-cod"]
    assert entry.questions[0] == "What is CoD?"  # the button title stays English
    assert entry.translations["fr"].questions == (
        "Qu'est-ce que CoD ?",
        "Que signifie CoD ?",
        "Qu'est-ce que Conseil des Délégués ?",
        "Conseil des Délégués",
        "Qu'est-ce que cd ?",
        "cd",
    )
    assert "ما هو CoD" in entry.translations["ar"].questions
    assert "ماذا يعني CoD" in entry.translations["ar"].questions
    # No question templates for Portuguese: the long form alone is the phrasing.
    assert entry.translations["pt"].questions == ("Conselho de Delegados",)
    assert entry.answer_in("fr").startswith("Le **Conseil des Délégués**")
    assert entry.answer_in("es") == entry.answer  # not translated: English


def test_shipped_glossary_translations(shipped_kb: KnowledgeBase) -> None:
    translated = {t.term for t in shipped_kb.terms if set(t.translations) == {"fr", "es", "ar"}}
    assert translated >= {
        "IFRC", "ICRC", "CoD", "IC", "GA", "NS", "MRG", "MLG", "GMTF", "GML", "HSP", "RFL",
        "GCM", "IMRF", "PERCO", "APMN", "MENA", "Sahel+", "UNHCR", "IOM",
    }  # fmt: skip
    icrc = next(t for t in shipped_kb.terms if t.term == "ICRC")
    assert "cicr" in icrc.translations["fr"].aliases
    assert "cicr" in icrc.translations["es"].aliases
    unhcr = next(t for t in shipped_kb.terms if t.term == "UNHCR")
    assert {"hcr", "acnur", "المفوضية"} <= {
        a for tr in unhcr.translations.values() for a in tr.aliases
    }


def test_glossary_ids() -> None:
    assert glossary_id("Sahel+") == "glossary-sahel"
    assert glossary_id("Standing Commission") == "glossary-standing-commission"


# ---------------------------------------------------------------- the shipped content


def test_shipped_knowledge_base_is_valid_and_large(shipped_kb: KnowledgeBase) -> None:
    faq = [e for e in shipped_kb.entries.values() if not e.id.startswith("glossary-")]
    assert len(faq) >= 80
    assert len(shipped_kb.events) >= 25
    required = {
        "IFRC",
        "ICRC",
        "NS",
        "CoD",
        "IC",
        "GA",
        "MRG",
        "MLG",
        "GCM",
        "IMRF",
        "RFL",
        "HSP",
        "PSS",
        "APMN",
        "PERCO",
        "MENA",
        "ICVA",
        "UNHCR",
        "IOM",
        "UNODC",
    }
    assert required <= {t.term for t in shipped_kb.terms}


def test_every_shipped_entry_cites_a_known_source(shipped_kb: KnowledgeBase) -> None:
    for entry in shipped_kb.entries.values():
        assert entry.sources, entry.id
        assert all(ref.doc in shipped_kb.sources and ref.section for ref in entry.sources), entry.id


def test_uncertain_facts_stay_out(shipped_kb: KnowledgeBase) -> None:
    """The fact sheet flags these uncertain: no answer may state them as fact."""
    text = "\n".join(e.answer for e in shipped_kb.entries.values()).lower()
    assert "resolution 9" not in text  # 2022 CoD resolution number: uncertain
    for event in shipped_kb.events:  # the exact day of the 2024 CoD is unknown
        if event.start.year == 2024 and event.start.month == 10 and "adopt" in event.title.lower():
            assert event.start_precision == "month", event.id


def test_planned_and_actual_strategy_adoption_both_stated(shipped_kb: KnowledgeBase) -> None:
    answer = shipped_kb.entries["strategy-adoption"].answer
    assert "2023" in answer and "2024" in answer and "October" in answer


def kb_with_translation_file(tmp_path: Path, text: str, name: str = "fr.yaml") -> Path:
    root = tmp_path / "kb"
    shutil.copytree(KB_MIN.parent, root)
    folder = root / "knowledge" / "translations"
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    return root / "knowledge"


def test_a_language_file_adds_translations_to_entries(tmp_path: Path) -> None:
    knowledge = kb_with_translation_file(
        tmp_path,
        "entries:\n"
        "  - id: mrg-chair\n"
        "    questions:\n"
        "      - Qui préside le groupe de référence ?\n"
        "    answer: La FICR présidait le groupe, selon sa page de 2011.\n",
    )
    kb = load_knowledge(knowledge)
    assert kb.entries["mrg-chair"].answer_in("fr").startswith("La FICR présidait")
    assert kb.entries["mrg-chair"].translations["fr"].questions == (
        "Qui préside le groupe de référence ?",
    )


def test_a_language_file_names_its_mistakes(tmp_path: Path) -> None:
    knowledge = kb_with_translation_file(
        tmp_path,
        "entries:\n"
        "  - id: no-such-entry\n"
        "    questions: [x]\n"
        "    answer: y\n"
        "  - id: mrg-chair\n"
        "    answer: une réponse sans questions\n",
        name="fr.yaml",
    )
    _, problems = check_knowledge(knowledge)
    text = "\n".join(str(p) for p in problems)
    assert "translations/fr.yaml:2: [no-such-entry] error: no entry has the id" in text
    assert "translations/fr.yaml:5: [mrg-chair]" in text and "questions" in text
    bad_name = kb_with_translation_file(tmp_path / "b", "entries: []\n", name="french.yaml")
    assert any("language code" in str(p) for p in check_knowledge(bad_name)[1])


def test_an_oversized_content_file_is_refused_with_its_size(tmp_path: Path) -> None:
    root = broken_kb(tmp_path, "yaml_syntax")
    faq = root.parent / "faq.yaml"
    faq.write_text("entries: []\n" + "# padding\n" * 600_000, encoding="utf-8")  # 6 MB
    kb, problems = check_knowledge(root)
    assert kb is None
    assert any("faq.yaml" in str(p) and "6.0 MB, more than the 5 MB" in str(p) for p in problems), (
        problems
    )
