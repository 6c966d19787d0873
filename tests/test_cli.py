"""The ``nsbot`` command line, as curators and operators use it."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import shipped_knowledge_dir
from bot.knowledge import load_knowledge
from bot.matcher import Matcher

from .conftest import KB_MIN, vague_question
from .test_knowledge import broken_kb

ROOT = Path(__file__).resolve().parent.parent


def run(
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_kb_check_passes_on_the_shipped_knowledge_base(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["kb", "check"], capsys)
    assert code == 0, out
    assert "0 error(s)" in out
    assert "entries" in out and "events" in out


def test_kb_check_reports_every_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NSBOT_KNOWLEDGE", str(broken_kb(tmp_path, "unknown_refs")))
    code, out, _ = run(["kb", "check"], capsys)
    assert code == 1
    assert (
        "topic 'polcy'" in out
        and "unknown field 'anwser'" in out
        and "source doc 'factsheet'" in out
    )
    assert "3 error(s)" in out


def test_kb_check_warns_about_phrasings_that_steal_each_others_questions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "kb"
    shutil.copytree(KB_MIN.parent, root)
    faq = root / "faq.yaml"
    faq.write_text(
        faq.read_text().replace(
            "      - Who leads the MRG?",
            "      - Who leads the MRG?\n      - When was the migration policy adopted?",
        )
    )
    monkeypatch.setenv("NSBOT_KNOWLEDGE", str(root / "knowledge"))
    code, out, _ = run(["kb", "check"], capsys)
    assert code == 0  # a warning, not an error
    warning = next(line for line in out.splitlines() if "warning" in line)
    assert "'When was the migration policy adopted?'" in warning
    assert "policy-adopted" in warning and "mrg-chair" in warning


def test_ask_json_is_the_public_interface(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "--json", "when was the migration policy adopted"], capsys)
    assert code == 0
    record = json.loads(out)
    assert list(record) == [
        "question",
        "status",
        "id",
        "answer",
        "score",
        "suggestions",
        "language",
    ]
    assert record["status"] == "answer" and record["id"] == "policy-adopted"
    assert "November 2009" in record["answer"] and "**" not in record["answer"]
    assert isinstance(record["score"], float) and record["suggestions"] == []


def test_ask_reads_questions_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, shipped_matcher: Matcher
) -> None:
    matcher = shipped_matcher
    code, out, _ = run(
        ["ask", "--json"],
        capsys,
        stdin=f"what is perco\n\nweather tomorrow\n{vague_question(matcher)}\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in records] == [
        "what is perco",
        "weather tomorrow",
        vague_question(matcher),
    ]
    assert records[1] == {
        "question": "weather tomorrow",
        "status": "fallback",
        "id": None,
        "answer": None,
        "score": records[1]["score"],
        "suggestions": [],
        "language": "en",
    }
    assert (
        records[2]["status"] == "suggest"
        and records[2]["id"] is None
        and records[2]["answer"] is None
    )
    assert all(set(s) == {"id", "question"} for s in records[2]["suggestions"])


def test_ask_with_nothing_to_ask_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, `nsbot ask ""` printed nothing and exited 0."""
    code, out, err = run(["ask", "  "], capsys)
    assert code == 2 and out == "" and "nothing to ask" in err
    code, out, err = run(["ask"], capsys, stdin="\n\n", monkeypatch=monkeypatch)
    assert code == 2 and "nothing to ask" in err


def test_ask_plain_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "who chairs the mrg"], capsys)
    assert code == 0 and "IFRC" in out and "[mrg-chair" in out


def test_ask_answers_each_argument_as_one_question(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "--json", "what is perco", "when was the policy adopted"], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["question"] for r in records] == ["what is perco", "when was the policy adopted"]
    assert records[1]["id"] == "policy-adopted"


def test_kb_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["kb", "list", "--json"], capsys)
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) >= 80
    assert all(list(r) == ["id", "questions", "answer", "topic", "source"] for r in records)
    assert all(r["source"] for r in records)


def test_kb_gaps_lists_unanswered_questions_most_frequent_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    from datetime import UTC, datetime

    from bot.storage import SqliteStorage

    db = tmp_path / "gaps.sqlite3"
    monkeypatch.setenv("NSBOT_DB", str(db))

    async def seed() -> None:
        async with SqliteStorage(db) as s:
            for q in ["ifrc budget", "weather", "ifrc budget"]:
                await s.log_gap(q, "fallback", "telegram", datetime(2026, 11, 1, tzinfo=UTC))

    asyncio.run(seed())
    code, out, _ = run(["kb", "gaps"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert "2" in lines[0] and "ifrc budget" in lines[0] and "weather" in lines[1]
    code, out, _ = run(["kb", "gaps", "--json"], capsys)
    assert json.loads(out.splitlines()[0])["count"] == 2
    code, out, _ = run(["kb", "gaps", "--clear", "0"], capsys)
    assert code == 0 and "Cleared 3 logged question(s)" in out
    code, out, _ = run(["kb", "gaps"], capsys)
    assert "No unanswered questions" in out


def test_run_without_platforms_says_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["run"], capsys)
    assert code == 2
    assert "TELEGRAM_BOT_TOKEN" in err and "SLACK_BOT_TOKEN" in err


def test_bot_refuses_to_start_on_a_broken_knowledge_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NSBOT_KNOWLEDGE", str(broken_kb(tmp_path, "bad_date")))
    code, _, err = run(["chat"], capsys)
    assert code == 1
    assert "will not start" in err and "events.yaml:4: [cod-2022]" in err


def test_bad_configuration_is_explained(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NSBOT_COORDINATORS", "telegram-12345")
    code, _, err = run(["kb", "check"], capsys)
    assert code == 1 and "NSBOT_COORDINATORS" in err and "platform:user_id" in err


def test_terminal_chat_end_to_end(tmp_path: Path) -> None:
    """The real console script path: a subprocess fed through a pipe, as a user types."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("NSBOT_", "TELEGRAM_", "SLACK_"))
    }
    env.update(NSBOT_DB=str(tmp_path / "chat.sqlite3"), PYTHONPATH=str(ROOT))
    vague = vague_question(Matcher(load_knowledge(shipped_knowledge_dir())))
    typed = f"when was the migration policy adopted\n1\n{vague}\n1\n/timeline\nquit\n"
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input=typed,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "migration assistant" in out  # the /start greeting
    assert "November 2009" in out
    assert "  1. " in out  # buttons shown as numbered options
    assert "Did you mean" in out
    assert "Timeline" in out and "22–23 June 2022" in out
    assert (tmp_path / "chat.sqlite3").exists()


def test_kb_check_names_the_copy_it_checked_not_the_shipped_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    knowledge = broken_kb(tmp_path, "unknown_refs")
    monkeypatch.setenv("NSBOT_KNOWLEDGE", str(knowledge))
    monkeypatch.chdir(ROOT)  # a checkout, with its own knowledge/ and faq.yaml
    _, out, _ = run(["kb", "check"], capsys)
    errors = [line for line in out.splitlines() if " error: " in line]
    assert errors and all(line.startswith(str(knowledge.parent)) for line in errors), errors


def test_kb_check_lists_errors_by_file_then_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    knowledge = broken_kb(tmp_path, "bad_date")
    faq = knowledge.parent / "faq.yaml"
    text = faq.read_text().replace("topic: groups", "topic: nowhere")  # line 14
    faq.write_text(text.replace("related: [mrg-chair]", "related: [nothing]"), encoding="utf-8")
    monkeypatch.setenv("NSBOT_KNOWLEDGE", str(knowledge))
    _, out, _ = run(["kb", "check"], capsys)
    where = [
        (line.split(":")[0], int(line.split(":")[1]))
        for line in out.splitlines()
        if " error: " in line
    ]
    assert len({f for f, _ in where}) == 2, out  # faq.yaml and knowledge/events.yaml
    assert where == sorted(where)


def test_refusing_to_start_lists_what_kb_check_lists_consultations_included(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    consultations = tmp_path / "consultations"
    consultations.mkdir()
    broken = ROOT / "tests" / "fixtures" / "consultations" / "broken"
    shutil.copy(broken / "unknown_condition.yaml", consultations)
    monkeypatch.setenv("NSBOT_KNOWLEDGE", str(broken_kb(tmp_path, "bad_date")))
    monkeypatch.setenv("NSBOT_CONSULTATIONS", str(consultations))
    monkeypatch.setenv("NSBOT_DB", str(tmp_path / "bot.sqlite3"))
    _, out, _ = run(["kb", "check"], capsys)
    checked = [line for line in out.splitlines() if " error: " in line]
    code, _, err = run(["chat"], capsys)
    refused = [line for line in err.splitlines() if " error: " in line]
    assert code == 1 and "will not start" in err
    assert any("unknown_condition.yaml" in line for line in refused)
    assert refused == checked
    assert not (tmp_path / "bot.sqlite3").exists()  # refused before touching any file


def test_ask_imports_neither_storage_nor_the_core_nor_the_adapters() -> None:
    """``nsbot ask`` answers from the knowledge base alone: what it does not use stays
    unimported, which was half of its start-up (python -X importtime -m bot ask ...)."""
    code = (
        "import os, sys\n"
        "from bot.cli import main\n"
        "print('NUMPY BEFORE', 'numpy' in sys.modules, os.environ['OPENBLAS_NUM_THREADS'])\n"
        "main(['ask', 'who chairs the mrg'])\n"
        "print('MODULES', *sorted(sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "IFRC" in proc.stdout
    # One OpenBLAS thread, set before numpy is first imported (it reads it then).
    assert "NUMPY BEFORE False 1" in proc.stdout
    loaded = set(proc.stdout.split("MODULES", 1)[1].split())
    unused = {
        "asyncio",
        "asyncpg",
        "dotenv",
        "sqlite3",
        "bot.app",
        "bot.core",
        "bot.storage",
        "bot.consultations",
        "bot.handlers",
        "bot.ui",
        "bot.curation",
        "bot.promote",
        "bot.results",
        "bot.adapters",
    }
    assert not unused & loaded, sorted(unused & loaded)


def test_the_export_formats_of_the_parser_are_those_of_the_exports() -> None:
    """The parser names them itself (importing bot.results would slow every command)."""
    from bot.cli import build_parser
    from bot.results import EXPORT_FORMATS

    parser = build_parser()
    args = parser.parse_args(["consult", "export", "x"])
    assert args.format == "csv"
    for fmt in EXPORT_FORMATS:
        assert parser.parse_args(["consult", "export", "x", "--format", fmt]).format == fmt
    with pytest.raises(SystemExit):
        parser.parse_args(["consult", "export", "x", "--format", "pdf"])
