"""Coordinators' view: /results text, /export files, and the same from the command line."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.cli import main
from bot.knowledge import KnowledgeBase
from bot.messages import Person
from bot.results import bar, export_csv, neutralise, percent, results_text
from bot.storage import SqliteStorage, Storage
from bot.ui import UI
from tests.consult_helpers import CONSULTATIONS, KB_MIN, NOW, Setup, make_core

SAMPLE_ROWS: list[tuple[str, str, dict[str, Any], tuple[str | None, str | None]]] = [
    # respondent, position, answers, (region, national society)
    (
        "r1",
        "done",
        {
            "network": "apmn",
            "usefulness": 5,
            "priorities": ["services", "climate"],
            "hsp": "yes",
            "staff": 10,
            "story": '=HYPERLINK("http://x")',
        },
        ("asia-pacific", "Philippine Red Cross"),
    ),
    (
        "r2",
        "done",
        {
            "network": "perco",
            "usefulness": 3,
            "priorities": ["services"],
            "hsp": "no",
            "staff": None,
            "story": "Safe routes, clinics; “legal aid” — مرحبا",
        },
        ("europe", "Italian Red Cross"),
    ),
    (
        "r3",
        "done",
        {"network": "none", "priorities": ["missing"], "hsp": "yes", "staff": 30, "story": None},
        (None, None),
    ),
    ("r4", "priorities", {"network": "perco", "usefulness": 4}, ("europe", "italian red cross")),
]


async def fill(storage: Storage, consultation: str = "sample", anonymous: bool = True) -> None:
    """One response a day: anonymous responses keep the day only, and are ordered by it."""
    for n, (who, position, answers, profile) in enumerate(SAMPLE_ROWS):
        row = await storage.start_response(
            consultation,
            who,
            anonymous=anonymous,
            person=f"test:{who}",
            display_name=f"Name {who}",
            position="network",
            profile=profile,
            now=NOW + timedelta(days=n),
        )
        await storage.update_response(
            row.id,
            now=NOW + timedelta(days=n, seconds=30),
            answers=answers,
            position=position,
            submit=position == "done",
        )


@pytest.fixture
def setup(tmp_path: Path, min_kb: KnowledgeBase, storage: SqliteStorage) -> Setup:
    return make_core(tmp_path, min_kb, storage)


UI_STRINGS = UI.load()


def t(key: str, **values: object) -> str:
    return UI_STRINGS.t(key, None, **values)


# --------------------------------------------------------------------------- text


def test_bars_and_percentages() -> None:
    assert bar(1, 2) == "█████░░░░░"
    assert bar(0, 0) == "░" * 10
    assert percent(1, 3) == "33%" and percent(0, 0) == "0%"


async def test_results_text_counts_dropoff_charts_and_free_text(setup: Setup) -> None:
    await fill(setup.core.storage)
    c = setup.core.consultations.get("sample")
    assert c is not None
    text = results_text(t, c, await setup.core.storage.responses("sample"), now=NOW)
    assert "**4** started · **3** completed (75%) · 1 unfinished" in text
    assert "APMN\n███░░░░░░░ 1 · 33%" in text  # 1 of the 3 completed responses
    assert (
        "_1 person stopped at this question_" in text.split("**3. ")[1].split("**4. ")[0]
    )  # r4 left at priorities
    assert "Access to services\n███████░░░ 2 · 67%" in text  # multiple choice: % of people
    assert "Mean **4.0** on 1–5" in text  # (5 + 3) / 2, completed only
    assert "Mean **20**" in text and "median 20" in text  # number: 10 and 30
    assert (
        "2 answers; the latest 2:" in text and "“Safe routes, clinics; “legal aid” — مرحبا”" in text
    )


async def test_a_coordinators_results_are_dated_in_their_language(setup: Setup) -> None:
    c = setup.core.consultations.get("sample")
    assert c is not None
    assert "1 January 2020, 00:00 UTC" in results_text(t, c, [], now=NOW)
    french = Person("test", "coord", "Cora", language="fr")
    coordinator = MemoryAdapter(setup.core, french)
    setup.adapters.append(coordinator)
    text = await coordinator.ask("/results sample")
    assert "1er janvier 2020 à 00:00 UTC" in text and "January" not in text


async def test_results_breakdown_by_region_and_national_society(setup: Setup) -> None:
    await fill(setup.core.storage)
    c = setup.core.consultations.get("sample")
    assert c is not None
    rows = await setup.core.storage.responses("sample")
    by_region = results_text(t, c, rows, now=NOW, by="region")
    assert "- **Asia Pacific** (1): APMN 100%" in by_region
    assert "- **Not given** (1): None or other 100%" in by_region
    by_ns = results_text(t, c, rows, now=NOW, by="ns")
    assert "- **Italian Red Cross** (1): PERCO 100%" in by_ns


async def test_results_command_is_for_coordinators_only(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    await fill(setup.core.storage)
    member = setup.person("m1")
    with caplog.at_level(logging.WARNING):
        for command in ("/results sample", "/export sample", "/close sample", "/results"):
            assert "Only the consultation coordinators" in await member.ask(command)
    assert caplog.text.count("refused /") == 4
    coord = setup.coordinator()
    text = await coord.ask("/results sample by region")
    assert "Results: Sample consultation" in text and "Breakdowns by region" in text
    overview = await coord.ask("/results")
    assert "sample: Sample consultation (open, 4 started, 3 completed)" in overview
    assert "I know no consultation or poll" in await coord.ask("/results nothing")
    assert "by region" in await coord.ask("/results sample by colour")


async def test_results_in_a_group_are_shown_privately(setup: Setup) -> None:
    coord = setup.coordinator(group="g")
    replies = await coord.send("/results sample")
    assert replies[0].private


# --------------------------------------------------------------------------- exports


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens UTF-8 correctly
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def test_csv_export_one_row_per_response_in_question_order(setup: Setup) -> None:
    await fill(setup.core.storage)
    c = setup.core.consultations.get("sample")
    assert c is not None
    table = read_csv(export_csv(t, c, await setup.core.storage.responses("sample")))
    # The labels a person reads first, then the ids scripts use.
    assert table[0][:3] == ["Reference", "Status", "Started (UTC)"]
    assert table[0][7:9] == [c.questions[0].title, c.questions[1].title]
    table = table[1:]
    header = table[0]
    assert header == [
        "reference",
        "status",
        "started_at_utc",
        "updated_at_utc",
        "submitted_at_utc",
        "region",
        "national_society",
        "network",
        "usefulness",
        "priorities",
        "hsp",
        "staff",
        "story",
    ]
    assert "respondent" not in header and "name" not in header  # anonymous: never an identity
    assert len(table) == 5
    first = dict(zip(header, table[1], strict=True))
    assert first["priorities"] == "Access to services; Climate displacement"
    assert (
        first["started_at_utc"] == "2026-11-23T00:00:00Z"  # anonymous: the day only
        and first["submitted_at_utc"] == "2026-11-23T00:00:00Z"
    )
    assert first["story"] == '\'=HYPERLINK("http://x")'  # formula injection neutralised
    assert first["region"] == "Asia Pacific" and first["hsp"] == "Yes"
    second = dict(zip(header, table[2], strict=True))
    assert second["story"] == "Safe routes, clinics; “legal aid” — مرحبا" and second["staff"] == ""
    draft = dict(zip(header, table[4], strict=True))
    assert (
        draft["status"] == "draft" and draft["submitted_at_utc"] == "" and draft["priorities"] == ""
    )


def test_neutralise() -> None:
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert neutralise(cell).startswith("'")
    assert neutralise("1") == "1" and neutralise("a=b") == "a=b"


async def test_named_export_has_identity_and_json_export(setup: Setup, tmp_path: Path) -> None:
    await fill(setup.core.storage, "named-check", anonymous=False)
    await fill(setup.core.storage)
    coord = setup.coordinator()
    text = await coord.ask("/export named-check")
    assert "4 responses" in text
    (file,) = coord.last[0].attachments
    assert file.filename == "named-check-20261123-1200.csv" and file.mime_type == "text/csv"
    header, first = read_csv(file.content)[1:3]
    assert header[5:7] == ["respondent", "name"] and first[5:7] == ["test:r1", "Name r1"]
    await coord.ask("/export sample json")
    document = json.loads(coord.last[0].attachments[0].content)
    assert (
        document["consultation"]["id"] == "sample"
        and document["exported_at"] == "2026-11-23T12:00:00Z"
    )
    first_json = document["responses"][0]
    assert "respondent" not in first_json and "name" not in first_json
    assert first_json["answers"]["priorities"] == ["Access to services", "Climate displacement"]
    assert first_json["answers"]["usefulness"] == 5 and first_json["answers"]["hsp"] == "Yes"
    assert [q["id"] for q in document["consultation"]["questions"]][:2] == ["network", "usefulness"]


async def test_export_since_and_usage(setup: Setup) -> None:
    await fill(setup.core.storage)
    coord = setup.coordinator()
    assert "2 responses" in await coord.ask("/export sample since 2026-11-25T12:02:00")
    assert "is not a date" in await coord.ask("/export sample since yesterday")
    assert "Type /export ID" in await coord.ask("/export sample pdf")
    assert "only sent in a private chat" in await setup.coordinator(group="g").ask("/export sample")


# --------------------------------------------------------------------------- command line


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "cli.sqlite3"

    async def prepare() -> None:
        async with SqliteStorage(db) as storage:
            await fill(storage)

    asyncio.run(prepare())
    for key, value in {
        "NSBOT_DB": str(db),
        "NSBOT_KNOWLEDGE": str(KB_MIN),
        "NSBOT_FAQ": str(KB_MIN.parent / "faq.yaml"),
        "NSBOT_CONSULTATIONS": str(CONSULTATIONS),
        "NSBOT_HASH_KEY": "cli-test-key-0123456789",
    }.items():
        monkeypatch.setenv(key, value)
    return db


def test_cli_consult_list_results_and_export(
    cli_env: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["consult", "list"]) == 0
    out = capsysbinary.readouterr().out.decode()
    assert (
        "sample" in out
        and "4 started, 3 completed" in out
        and "old-survey" in out
        and "closed" in out
    )
    assert main(["consult", "results", "sample", "--by", "region"]) == 0
    out = capsysbinary.readouterr().out.decode()
    assert "Results: Sample consultation" in out and "Asia Pacific (1)" in out and "**" not in out
    assert main(["consult", "export", "sample", "--format", "csv"]) == 0
    table = read_csv(capsysbinary.readouterr().out)
    assert len(table) == 6 and table[1][7] == "network"
    assert (
        main(["consult", "export", "sample", "--format", "json", "--since", "2026-11-26T12:03"])
        == 0
    )
    document = json.loads(capsysbinary.readouterr().out)
    assert [r["status"] for r in document["responses"]] == ["draft"]
    assert main(["consult", "list", "--json"]) == 0
    lines = [json.loads(line) for line in capsysbinary.readouterr().out.decode().splitlines()]
    assert {line["id"]: line["completed"] for line in lines}["sample"] == 3


def test_cli_unknown_consultation(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consult", "results", "nope"]) == 2
    assert "no consultation 'nope'" in capsys.readouterr().err


def test_cli_purge_deletes_a_closed_consultations_responses(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["consult", "purge", "sample", "--yes"]) == 2  # still open
    assert "still open" in capsys.readouterr().err

    async def close_and_count() -> int:
        async with SqliteStorage(cli_env) as storage:
            await storage.close_consultation("sample", "test:coord", NOW)
            return len(await storage.responses("sample"))

    assert asyncio.run(close_and_count()) == 4
    assert main(["consult", "purge", "sample"]) == 2  # asks for --yes
    assert "4 response(s)" in capsys.readouterr().err
    assert main(["consult", "purge", "sample", "--yes"]) == 0
    assert "Deleted 4 response(s)" in capsys.readouterr().out
    assert asyncio.run(close_and_count()) == 0


async def test_xlsx_export_opens_with_labels_and_a_sheet_of_column_ids(setup: Setup) -> None:
    """Excel set to French, Spanish or German reads a CSV with ";" and shows one column:
    the workbook has no separator to get wrong."""
    from openpyxl import load_workbook

    await fill(setup.core.storage)
    coord = setup.coordinator()
    assert "as XLSX" in await coord.ask("/export sample xlsx")
    (file,) = coord.last[0].attachments
    assert file.filename.endswith(".xlsx") and "spreadsheetml" in file.mime_type
    book = load_workbook(io.BytesIO(file.content))
    data, about = book.worksheets
    labels = [cell.value for cell in data[1]]
    assert labels[:2] == ["Reference", "Status"] and len(data["A"]) == 5
    ids = {row[0].value: row[1].value for row in about.iter_rows(min_row=2)}
    story = labels.index(ids["story"])
    formulas = [data.cell(row=r, column=story + 1) for r in range(2, 6)]
    assert any(c.value == '=HYPERLINK("http://x")' for c in formulas)
    assert all(c.data_type == "s" for c in formulas if c.value)  # text, never a formula
    assert ids["network"] == labels[7] and ids["reference"] == "Reference"


def test_cli_exports_a_poll_and_xlsx(
    cli_env: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    async def post() -> None:
        async with SqliteStorage(cli_env) as storage:
            await storage.create_poll(
                platform="test",
                chat="g",
                question="Which first?",
                options=("A", "B"),
                multi=False,
                anonymous=True,
                created_by="test:coord",
                closes_at=None,
                now=NOW,
                language=None,
            )

    asyncio.run(post())
    assert main(["consult", "export", "poll-1", "--format", "csv"]) == 0
    table = read_csv(capsysbinary.readouterr().out)
    assert table[1] == ["option", "votes", "percent_of_voters"] and table[2][0] == "A"
    assert main(["consult", "export", "sample", "--format", "xlsx"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"PK")  # a zip: the xlsx workbook
    assert main(["consult", "export", "poll-9"]) == 2


# --------------------------------------------------------------------------- one screen


async def test_results_start_with_one_screen_and_offer_each_question(setup: Setup) -> None:
    await fill(setup.core.storage)
    coord = setup.coordinator()
    text = await coord.ask("/results sample")
    c = setup.core.consultations.get("sample")
    assert c is not None
    assert len(text.splitlines()) <= 20, text  # a phone screen, not one page per question
    assert "█" not in text  # the bars are in the detail
    assert coord.buttons == [f"{n}. {q.title}" for n, q in enumerate(c.questions, 1)]
    assert "PERCO" in text or "None or other" in text or "APMN" in text  # the top choice
    detail = await coord.press(coord.buttons[0])
    assert c.questions[0].title in detail and "█" in detail
    by_ns = await coord.ask("/results sample by ns")
    assert "National Society" in by_ns
    assert coord.last[0].choices[0].action.endswith(":ns")
    assert "(" in await coord.press(coord.buttons[0])  # "**Kenya…** (n): …" per group


async def test_results_buttons_are_for_coordinators_only(setup: Setup) -> None:
    await fill(setup.core.storage)
    coord = setup.coordinator()
    await coord.ask("/results sample")
    member = setup.person("u9")
    text = MemoryAdapter.plain(await member.send(action=coord.last[0].choices[0].action))
    assert "Only the consultation coordinators" in text


@pytest.mark.parametrize("index", ["²", "①", "9" * 400, "-1", "99"])
async def test_a_forged_question_number_in_a_results_button_is_refused(
    setup: Setup, index: str
) -> None:
    """ "²".isdigit() is True but int("²") raises: the button crashed with the apology."""
    await fill(setup.core.storage)
    coord = setup.coordinator()
    text = MemoryAdapter.plain(await coord.send(action=f"rq:sample:{index}"))
    assert "That button is no longer active" in text, text


async def test_a_chart_image_where_the_platform_shows_images(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.handlers import coordinator

    await fill(setup.core.storage)
    coord = setup.coordinator()
    await coord.ask("/results sample")
    assert not [a for r in coord.last for a in r.attachments]  # "test" shows no images
    monkeypatch.setattr(coordinator, "IMAGE_PLATFORMS", frozenset({"test"}))
    await coord.ask("/results sample")
    (chart,) = [a for r in coord.last for a in r.attachments]
    assert chart.mime_type == "image/png" and chart.content.startswith(b"\x89PNG")
    await coord.press(coord.buttons[0])
    (detail,) = [a for r in coord.last for a in r.attachments]
    assert detail.filename == "sample-network.png"


async def test_a_coordinators_results_and_close_are_in_their_time_zone(setup: Setup) -> None:
    coord = setup.coordinator()
    await coord.ask("/timezone Africa/Nairobi")
    assert "1 January 2020, 03:00 EAT" in await coord.ask("/results sample")
    assert "1 January 2100, 03:00 EAT" in await coord.ask("/close sample")
