"""The list of National Societies: its data file, and matching the names people type."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.config import shipped_knowledge_dir
from bot.consultations import REGIONS
from bot.core import Core
from bot.knowledge import KnowledgeBase
from bot.societies import REGION_IDS, check_societies, load_societies, path_in
from bot.storage import SqliteStorage
from tests.consult_helpers import Setup, make_core

from .conftest import FIXTURES, KB_MIN
from .test_cli import run


def test_the_shipped_list_names_its_source_and_is_valid() -> None:
    path = path_in(shipped_knowledge_dir())
    header = path.read_text(encoding="utf-8").split("societies:")[0]
    assert "IFRC-Secretariat/IFRC-National-Society-Data" in header
    assert "national_societies_info.yml" in header
    societies, problems = check_societies(path)
    assert problems == []
    assert len(societies) == 192
    assert {s.region for s in societies.items} == set(REGIONS) == set(REGION_IDS)
    kenya = societies.exact("Kenya")
    assert kenya is not None and kenya.name == "Kenya Red Cross Society"
    assert kenya.region == "africa"


def test_a_broken_list_is_reported_with_file_and_line() -> None:
    path = FIXTURES / "broken" / "societies" / "knowledge" / "national-societies.yaml"
    societies, problems = check_societies(path)
    found = [str(p) for p in problems]
    assert any(":6: [Atlantis Red Cross] error: region 'atlantis'" in m for m in found), found
    assert any(":9: [Ruritania Red Cross] error: unknown field 'colour'" in m for m in found)
    assert any(
        ":10: [Kenya Red Cross] error: 'Kenya Red Cross Society' is already" in m for m in found
    )
    assert any(":13: error: missing 'name'" in m for m in found)
    assert [s.name for s in societies.items] == ["Kenya Red Cross Society", "Kenya Red Cross"]


def test_kb_check_and_the_start_report_a_broken_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "kb"
    shutil.copytree(KB_MIN.parent, root)
    shutil.copytree(FIXTURES / "broken" / "societies", root, dirs_exist_ok=True)
    monkeypatch.setenv("NSBOT_KNOWLEDGE", str(root / "knowledge"))
    code, out, _ = run(["kb", "check"], capsys)
    assert code == 1 and "national-societies.yaml:6: [Atlantis Red Cross]" in out
    code, _, err = run(["chat"], capsys)
    assert code == 1 and "national-societies.yaml:6: [Atlantis Red Cross]" in err


def test_typed_names_find_the_society_meant() -> None:
    societies = load_societies(shipped_knowledge_dir())
    assert [s.name for s, _ in societies.suggest("kenya red cros")][:1] == [
        "Kenya Red Cross Society"
    ]
    assert [s.name for s, _ in societies.suggest("philipine red cross")][:1] == [
        "Philippine Red Cross"
    ]
    assert societies.suggest("red cross") == []  # names no society in particular
    assert societies.suggest("Not now") == []


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    made = make_core(tmp_path, min_kb, storage)
    # The shipped list of National Societies, with the small fixture knowledge base.
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KB_MIN, knowledge)
    shutil.copy(path_in(shipped_knowledge_dir()), knowledge)
    settings = replace(made.settings, knowledge_dir=knowledge)
    core = Core(settings, min_kb, storage, clock=made.clock, consultations=made.core.consultations)
    return Setup(core, made.clock, settings)


async def test_a_misspelt_name_is_confirmed_and_stored_as_listed(setup: Setup) -> None:
    bot = setup.person()
    await bot.ask("/profile")
    text = await bot.ask("kenya red cros")
    assert "Do you mean Kenya Red Cross Society (Africa)?" in text
    assert bot.buttons == ["Yes, that one", 'None of these: keep "kenya red cros"']
    text = await bot.press("Yes, that one")
    assert "Kenya Red Cross Society" in text and "Africa" in text  # region from the list
    profile = await setup.core.storage.get_profile(bot.person.key)
    assert profile and profile.national_society == "Kenya Red Cross Society"
    assert profile.region == "africa"


@pytest.mark.parametrize("data", ["²", "①", "9" * 400, "7", "x"])
async def test_a_forged_society_button_is_refused_not_a_crash(setup: Setup, data: str) -> None:
    """ "²".isdigit() is True but int("²") raises: the button crashed with the apology."""
    bot = setup.person()
    await bot.ask("/profile")
    await bot.ask("kenya red cros")  # asks which society was meant
    text = MemoryAdapter.plain(await bot.send(action=f"pf:n:{data}"))
    assert "That button belongs to an earlier step" in text, text
    profile = await setup.core.storage.get_profile(bot.person.key)
    assert profile is None or profile.national_society is None  # nothing was saved


async def test_two_spellings_make_one_group_in_the_results(setup: Setup) -> None:
    for user, typed in (("u1", "kenya red cros"), ("u2", "Kenya Red Cross Society")):
        bot = setup.person(user)
        await bot.ask("/consult sample")
        await bot.press("I agree, start")
        await bot.ask(typed)
        if "Yes, that one" in bot.buttons:
            await bot.press("Yes, that one")
        for answer in ("none", "1", "yes", "3", "a story"):
            await bot.ask(answer)
        await bot.ask("send")
    coordinator = setup.coordinator()
    await coordinator.ask("/results sample by ns")
    text = await coordinator.press(coordinator.buttons[0])  # the first question in full
    assert "Kenya Red Cross Society (2)" in text and "kenya red cros" not in text


async def test_an_unlisted_name_is_kept_and_the_region_offered_as_buttons(setup: Setup) -> None:
    bot = setup.person()
    await bot.ask("/profile")
    text = await bot.ask("Red Cross of Narnia")
    assert "region" in text and "Africa" in bot.buttons and "Europe and Central Asia" in bot.buttons
    await bot.press("Europe and Central Asia")
    profile = await setup.core.storage.get_profile(bot.person.key)
    assert profile and profile.national_society == "Red Cross of Narnia"


async def test_several_close_names_are_offered_to_choose_from(setup: Setup) -> None:
    bot = setup.person()
    await bot.ask("/profile")
    text = await bot.ask("korea")
    assert 'Which National Society do you mean by "korea"?' in text
    assert "The Republic of Korea National Red Cross (Asia Pacific)" in bot.buttons
    await bot.press("The Republic of Korea National Red Cross (Asia Pacific)")
    profile = await setup.core.storage.get_profile(bot.person.key)
    assert profile and profile.national_society == "The Republic of Korea National Red Cross"


async def test_keeping_what_was_typed_then_asks_the_region(setup: Setup) -> None:
    bot = setup.person()
    await bot.ask("/profile")
    await bot.ask("kenya red cros")
    text = await bot.press('None of these: keep "kenya red cros"')
    assert "region" in text
    profile = await setup.core.storage.get_profile(bot.person.key)
    assert profile and profile.national_society == "kenya red cros"


async def test_names_stored_before_the_list_are_grouped_under_the_listed_name(
    setup: Setup,
) -> None:
    storage = setup.core.storage
    for n, typed in enumerate(("kenya red cros", "Kenya Red Cross Society", "Red Cross of Narnia")):
        row = await storage.start_response(
            "sample",
            f"r{n}",
            anonymous=True,
            person=None,
            display_name=None,
            position="network",
            profile=("africa", typed),
            now=setup.clock.now,
        )
        await storage.update_response(
            row.id, now=setup.clock.now, answers={"network": "perco"}, position="done", submit=True
        )
    coordinator = setup.coordinator()
    await coordinator.ask("/results sample by ns")
    text = await coordinator.press(coordinator.buttons[0])
    assert "Kenya Red Cross Society (2)" in text and "Red Cross of Narnia (1)" in text


async def test_no_to_the_suggestion_asks_again_and_stores_nothing(setup: Setup) -> None:
    bot = setup.person()
    await bot.ask("/profile")
    await bot.ask("kenya red cros")
    text = await bot.ask("no")
    assert "Which National Society" in text
    profile = await setup.core.storage.get_profile(bot.person.key)
    assert profile is None or profile.national_society is None
    await bot.ask("uganda")
    text = await bot.ask("yes")
    assert "The Uganda Red Cross Society" in text
