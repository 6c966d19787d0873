"""Sources a person can open, old ids that keep working after a merge, plans worded from
today, and the content warnings of ``nsbot kb check`` (bot/kb_lint.py): each warning is
shown firing on a small broken knowledge base and staying quiet on the fixed one."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot import kb_lint
from bot.adapters.memory import MemoryAdapter
from bot.config import shipped_knowledge_dir
from bot.core import Core
from bot.knowledge import KnowledgeBase, SourceRef, check_knowledge, load_knowledge
from bot.storage import SqliteStorage

from .conftest import KB_MIN, make_settings

TODAY = date(2026, 12, 2)

SOURCES = """\
sources:
  - id: sheet
    title: Fact sheet
    refs:
      A: {doc: page}
      11: {url: "https://example.org/april-2024", date: 2024-04}
      12: "https://www.example.net/outcomes"
  - id: page
    title: Old page
    label: Group page on example.org
    date: 2011
    url: https://example.org/group
  - id: notes
    title: Notes without a page
"""

FAQ = """\
entries:
  - id: policy-adopted
    aliases: [policy-adoption-old, policy-when]
    topic: policy
    questions:
      - When was the migration policy adopted?
      - What year was the IFRC migration policy approved?
    answer: The IFRC Policy on Migration was adopted in **November 2009**.
    source:
      - doc: sheet
        section: "§2 [11][12]"
    related: [chair-old]
  - id: mrg-chair
    aliases: [chair-old]
    topic: groups
    questions:
      - Who chairs the Migration Reference Group?
      - Who leads the MRG?
    answer: In 2011 the Migration Reference Group was chaired by the **IFRC**.
    source:
      - doc: sheet
        section: "§1, seed [A]"
    related: [policy-when]
"""


def make_kb(tmp_path: Path, **files: str) -> Path:
    """kb_min with some files replaced: ``faq="..."``, ``sources="..."``, ``events="..."``."""
    root = tmp_path / "kb"
    shutil.copytree(KB_MIN.parent, root)
    names = {"faq": root / "faq.yaml", "sources": root / "knowledge" / "sources.yaml"}
    names["events"] = root / "knowledge" / "events.yaml"
    for name, text in files.items():
        names[name].write_text(text, encoding="utf-8")
    return root / "knowledge"


def loaded(tmp_path: Path, **files: str) -> KnowledgeBase:
    return load_knowledge(make_kb(tmp_path, **{"sources": SOURCES, "faq": FAQ, **files}))


def messages(kb: KnowledgeBase) -> list[str]:
    return [str(p) for p in kb_lint.content_warnings(kb, TODAY)]


# ------------------------------------------------------------------ aliases


def test_old_ids_resolve_to_the_merged_entry(tmp_path: Path) -> None:
    kb = loaded(tmp_path)
    assert kb.canonical("policy-when") == "policy-adopted"
    assert kb.entry("chair-old") is kb.entries["mrg-chair"]
    assert kb.entry("no-such-id") is None
    assert "chair-old" not in kb.entries  # the matcher indexes each entry once
    # related ids written as old ids are stored as the current ones
    assert kb.entries["policy-adopted"].related == ("mrg-chair",)
    assert kb.entries["mrg-chair"].related == ("policy-adopted",)


def test_an_event_may_name_an_entry_by_its_old_id(tmp_path: Path) -> None:
    events = (
        (KB_MIN / "events.yaml")
        .read_text()
        .replace("entry: policy-adopted", "entry: policy-adoption-old")
    )
    kb = loaded(tmp_path, events=events)
    assert {e.entry for e in kb.events if e.id == "policy-adoption"} == {"policy-adopted"}


@pytest.mark.parametrize(
    ("faq", "expected"),
    [
        (FAQ.replace("[chair-old]\n    topic: groups", "[policy-when]\n    topic: groups"),
         "alias 'policy-when' is already an alias of 'policy-adopted'"),
        (FAQ.replace("[chair-old]\n    topic", "[policy-adopted]\n    topic"),
         "alias 'policy-adopted' is also the id of the entry at"),
        (FAQ.replace("[chair-old]\n    topic", "[Chair Old]\n    topic"),
         "alias 'Chair Old' is not a valid id"),
    ],
)  # fmt: skip
def test_alias_clashes_are_errors(tmp_path: Path, faq: str, expected: str) -> None:
    kb, problems = check_knowledge(make_kb(tmp_path, sources=SOURCES, faq=faq))
    assert kb is None
    assert any(expected in str(p) for p in problems), [str(p) for p in problems]


async def test_a_button_posted_before_a_merge_still_answers(
    tmp_path: Path, storage: SqliteStorage
) -> None:
    kb = loaded(tmp_path)
    core = Core(make_settings(tmp_path, KB_MIN), kb, storage, clock=lambda: datetime.now(UTC))
    bot = MemoryAdapter(core)
    replies = await bot.send(action="faq:chair-old")
    assert "Migration Reference Group was chaired" in bot.plain(replies)
    assert "November 2009" in bot.plain(await bot.send(action="faq:policy-when"))


# ------------------------------------------------------------------ citations


def test_fact_sheet_references_resolve_to_their_public_pages(tmp_path: Path) -> None:
    kb = loaded(tmp_path)
    cited = kb.citations(kb.entries["policy-adopted"].sources)
    assert [(c.label, c.url) for c in cited] == [
        ("example.org", "https://example.org/april-2024"),
        ("example.net", "https://www.example.net/outcomes"),
    ]
    assert cited[0].published == date(2024, 4, 1) and cited[0].precision == "month"
    repeated = kb.citations([SourceRef("sheet", "§2 [11][12]; §3 [11]"), SourceRef("page", "p1")])
    assert [c.url for c in repeated] == [
        "https://example.org/april-2024",
        "https://www.example.net/outcomes",
        "https://example.org/group",
    ]  # each page once, in order
    seed = kb.citations(kb.entries["mrg-chair"].sources)  # "[A]" is another document
    assert [(c.label, c.url, c.published) for c in seed] == [
        ("Group page on example.org", "https://example.org/group", date(2011, 1, 1))
    ]


async def test_an_answer_shows_its_source_as_a_link_with_its_date(
    tmp_path: Path, storage: SqliteStorage
) -> None:
    kb = loaded(tmp_path)
    core = Core(make_settings(tmp_path, KB_MIN), kb, storage, clock=lambda: datetime.now(UTC))
    bot = MemoryAdapter(core)
    await bot.ask("who chairs the migration reference group")
    text = bot.last[0].text
    assert "[Group page on example.org, 2011](https://example.org/group)" in text
    await bot.ask("when was the migration policy adopted")
    text = bot.last[0].text
    assert "[example.org, April 2024](https://example.org/april-2024)" in text
    assert "[example.net](https://www.example.net/outcomes)" in text


def test_shipped_sources_all_have_public_pages() -> None:
    kb = load_knowledge(shipped_knowledge_dir())
    for source in kb.sources.values():
        assert source.url or source.refs, source.id
        for ref in source.refs.values():
            assert ref.url.startswith("http") or ref.doc in kb.sources, (source.id, ref.key)
    blog = kb.citations(kb.entries["resolution-2022"].sources)
    assert (
        blog[0].url == "https://rcrcconference.org/blog/towards-a-movement-strategy-on-migration/"
    )
    assert blog[0].published == date(2022, 6, 1)


# ------------------------------------------------------------------ the warnings


def test_warns_about_present_tense_from_a_dated_source(tmp_path: Path) -> None:
    faq = FAQ.replace(
        "In 2011 the Migration Reference Group was chaired by the **IFRC**.",
        "The Migration Reference Group is currently chaired by the **IFRC**.",
    )
    warned = messages(loaded(tmp_path, faq=faq))
    assert any(
        "faq.yaml:13: [mrg-chair] warning: the answer says 'currently'" in w
        and "dates from 2011" in w
        for w in warned
    ), warned
    assert not any("currently" in w or "'will'" in w for w in messages(loaded(tmp_path / "ok")))


def test_present_tense_in_a_translation_and_quotations(tmp_path: Path) -> None:
    faq = FAQ.replace(
        "    related: [policy-when]\n",
        "    related: [policy-when]\n    translations:\n      fr:\n        questions:\n          - Qui préside le MRG ?\n"
        "        answer: La FICR préside actuellement le groupe.\n",
    )
    warned = messages(loaded(tmp_path, faq=faq))
    assert any("(fr translation) says 'actuellement'" in w for w in warned), warned
    # a quoted title is the source's words, not our tense
    assert kb_lint.present_tense('the blog "We will meet" was read', "en") is None
    assert kb_lint.present_tense("the group said it would meet", "en") is None
    assert kb_lint.present_tense("the group will meet", "en") == "will"


def test_present_tense_is_fine_when_no_source_is_dated(tmp_path: Path) -> None:
    faq = FAQ.replace('section: "§1, seed [A]"', 'section: "§1 [12]"').replace(
        "In 2011 the Migration Reference Group was", "The Migration Reference Group is currently"
    )
    assert not any("currently" in w for w in messages(loaded(tmp_path, faq=faq)))


def test_warns_about_an_answer_over_120_words(tmp_path: Path) -> None:
    long = " ".join(["word"] * 121)
    faq = FAQ.replace("The IFRC Policy on Migration was adopted in **November 2009**.", long)
    warned = messages(loaded(tmp_path, faq=faq))
    assert "faq.yaml:2: [policy-adopted] warning: the answer has 121 words, more than 120" in (
        " ".join(warned)
    )
    exactly = FAQ.replace(
        "The IFRC Policy on Migration was adopted in **November 2009**.", " ".join(["w"] * 120)
    )
    assert not any("words" in w for w in messages(loaded(tmp_path / "ok", faq=exactly)))


def test_warns_about_a_draft_source_until_it_is_named(tmp_path: Path) -> None:
    faq = FAQ.replace('section: "§1, seed [A]"', 'section: "DRAFT: name the section (d7)"')
    warned = messages(loaded(tmp_path, faq=faq))  # it loads: a draft does not stop the bot
    assert any("faq.yaml:13: [mrg-chair] warning: draft: source sheet" in w for w in warned), warned
    assert not any("warning: draft:" in w for w in messages(loaded(tmp_path / "ok")))


def test_warns_about_a_source_without_a_page(tmp_path: Path) -> None:
    faq = FAQ.replace('section: "§1, seed [A]"', 'section: "§1"').replace(
        'section: "§2 [11][12]"', 'section: "§2 [99]"'
    )
    faq = faq.replace("  - id: mrg-chair", "  - id: mrg-chair").replace(
        '      - doc: sheet\n        section: "§1"',
        '      - doc: sheet\n        section: "§1"\n      - doc: notes\n        section: p. 3',
    )
    warned = messages(loaded(tmp_path, faq=faq))
    assert any(
        "faq.yaml:2: [policy-adopted]" in w and "cites [99], not in the references" in w
        for w in warned
    ), warned
    assert any("[mrg-chair]" in w and "section names no numbered reference" in w for w in warned), (
        warned
    )
    assert any("source notes" in w and "no web address" in w for w in warned), warned
    assert not any(
        "faq.yaml:" in w.split(" ")[0] and ("web address" in w or "references" in w)
        for w in messages(loaded(tmp_path / "ok"))
    )


EVENTS = """\
events:
  - id: co-chairs
    title: New co-chairs take over
    start: 2021
    kind: founding
    topic: groups
    summary: Three National Societies co-chair the platform.
    source:
      - doc: sheet
        section: "§12 [12]"
  - id: first-meeting
    title: First meeting of the group
    start: 2022-06-17
    kind: meeting
    topic: groups
    summary: The blog announced the group's first in-person meeting.
    source:
      - doc: sheet
        section: "§7 [A]"
  - id: pledge
    title: Network pledge
    start: 2015
    end: 2019
    kind: strategy-period
    topic: groups
    summary: Period covered by the network's pledge.
    source:
      - doc: sheet
        section: "§12 [12]"
"""


def test_warns_about_a_kind_that_contradicts_the_wording(tmp_path: Path) -> None:
    warned = messages(loaded(tmp_path, events=EVENTS))
    assert "knowledge/events.yaml:2: [co-chairs] warning: kind 'founding' but neither" in (
        " ".join(warned)
    )
    assert any(
        "[first-meeting]" in w and "kind 'meeting' says it took place" in w and "'announced'" in w
        for w in warned
    ), warned
    assert any("[pledge] warning: kind 'strategy-period'" in w for w in warned), warned
    fixed = (
        EVENTS.replace("kind: founding", "kind: leadership")
        .replace("kind: meeting", "kind: plan")
        .replace("kind: strategy-period", "kind: pledge")
    )
    assert not any(" kind " in w for w in messages(loaded(tmp_path / "ok", events=fixed)))


def test_an_outcome_belongs_to_a_plan_only(tmp_path: Path) -> None:
    events = EVENTS.replace(
        "    summary: Three National", "    outcome: it happened\n    summary: Three National"
    )
    kb, problems = check_knowledge(make_kb(tmp_path, sources=SOURCES, faq=FAQ, events=events))
    assert kb is None
    assert any("'outcome' is only for events of kind 'plan'" in str(p) for p in problems)


def test_the_shipped_knowledge_base_has_no_content_warning() -> None:
    kb = load_knowledge(shipped_knowledge_dir())
    assert [str(p) for p in kb_lint.content_warnings(kb, TODAY)] == []


# ------------------------------------------------------------------ plans worded from today

PLAN = """\
events:
  - id: first-meeting
    title: First in-person meeting of the group
    start: 2022-06-17
    kind: plan
    topic: groups
    summary: The blog announced the group's first in-person meeting.
    outcome: the sources do not confirm it took place
    source:
      - doc: sheet
        section: "§7 [A]"
"""


@pytest.mark.parametrize(
    ("now", "expected", "absent"),
    [
        (datetime(2022, 6, 1, tzinfo=UTC), "(planned)", "planned at the time"),
        (
            datetime(2026, 12, 2, tzinfo=UTC),
            "(planned at the time; what followed: the sources do not confirm it took place)",
            "(planned)",
        ),
    ],
)
async def test_a_plan_is_worded_from_todays_date(
    tmp_path: Path, storage: SqliteStorage, now: datetime, expected: str, absent: str
) -> None:
    kb = loaded(tmp_path, events=PLAN)
    core = Core(make_settings(tmp_path, KB_MIN), kb, storage, clock=lambda: now)
    text = await MemoryAdapter(core).ask("/timeline")
    assert expected in text and absent not in text


def test_the_merged_london_entries_keep_their_old_ids(shipped_kb: KnowledgeBase) -> None:
    for old in ("mrg-london-outcome", "mrg-london-conference-issues", "mrg-london-ga-cod"):
        entry = shipped_kb.entry(old)
        assert entry is not None and entry.id == "mrg-london-meeting", old
    merged = shipped_kb.entries["mrg-london-meeting"]
    assert "What was the outcome of the London meeting?" in merged.questions
    assert "Why did the GA need to discuss the migration resolution?" in merged.questions


async def test_a_long_list_of_sources_shows_four_links_and_a_count(bot: MemoryAdapter) -> None:
    await bot.ask("migration timeline")
    text = bot.last[0].text
    source = next(line for line in text.splitlines() if line.startswith("Source:"))
    assert source.count("](http") == 4 and source.endswith(")") and "(+" in source


def test_resolve_gives_the_current_id(tmp_path: Path) -> None:
    kb = loaded(tmp_path)
    assert kb.resolve("chair-old") == "mrg-chair"
    assert kb.resolve("mrg-chair") == "mrg-chair"
    assert kb.resolve("no-such-id") == "no-such-id"


def test_warns_about_a_period_that_ended_told_as_running(tmp_path: Path) -> None:
    faq = FAQ.replace(
        "The IFRC Policy on Migration was adopted in **November 2009**.",
        "The RFL Strategy covers **2020–2025** and follows the 2008–2018 strategy.",
    )
    warned = messages(loaded(tmp_path, faq=faq))
    assert any(
        "[policy-adopted] warning: the answer says 'covers' a period that ended in 2025" in w
        for w in warned
    ), warned
    past = faq.replace("covers", "covered")
    assert not any("period that ended" in w for w in messages(loaded(tmp_path / "a", faq=past)))
    running = faq.replace("2020–2025", "2024–2030")
    assert not any("period that ended" in w for w in messages(loaded(tmp_path / "b", faq=running)))


def test_undated_present_tense_membership_from_a_dated_source(tmp_path: Path) -> None:
    faq = FAQ.replace(
        "In 2011 the Migration Reference Group was chaired by the **IFRC**.",
        "The **IFRC** chairs the Migration Reference Group.",
    )
    warned = messages(loaded(tmp_path, faq=faq))
    assert any("[mrg-chair] warning: the answer says 'chairs'" in w for w in warned), warned
    dated = faq.replace("The **IFRC** chairs", "According to its 2011 page, the **IFRC** chairs")
    assert not any("'chairs'" in w for w in messages(loaded(tmp_path / "ok", faq=dated)))
    assert kb_lint.present_tense("The group has 15 National Societies.", "en") == "has 15"
    assert kb_lint.present_tense("In 2011 the group has 15 members.", "en") is None


def test_a_phrasing_naming_a_subject_kept_out_is_a_warning(tmp_path: Path) -> None:
    faq = FAQ.replace(
        "      - What year was the IFRC migration policy approved?\n",
        "      - What year was the IFRC migration policy approved?\n"
        "      - What budget does the migration policy have?\n",
    )
    found = [m for m in messages(loaded(tmp_path, faq=faq)) if "foreign_subjects" in m]
    assert len(found) == 1, found
    assert "[policy-adopted]" in found[0] and "'budget'" in found[0]
    assert not [m for m in messages(loaded(tmp_path / "plain")) if "foreign_subjects" in m]
