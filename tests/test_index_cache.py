"""The knowledge base and matcher index kept between runs (bot/index_cache.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import ContentError
from bot.index_cache import cache_dir, cached_index, content_key, load_indexed

from .conftest import KB_MIN


def settings_for(tmp_path: Path) -> Settings:
    root = tmp_path / "kb"
    shutil.copytree(KB_MIN.parent, root)
    return Settings(
        db_path=tmp_path / "bot.sqlite3",
        knowledge_dir=root / "knowledge",
        cache_dir=tmp_path / "cache",
    )


def test_the_second_start_reads_the_index_back(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    assert cached_index(settings) is None
    kb, matcher = load_indexed(settings)
    again = cached_index(settings)
    assert again is not None
    kb2, matcher2 = again
    assert kb2.entries.keys() == kb.entries.keys()
    question = "who chairs the mrg"
    assert matcher2.match(question).id == matcher.match(question).id
    folder = cache_dir(settings)
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in folder.iterdir())


def test_an_edit_to_the_content_is_never_served_from_the_cache(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    load_indexed(settings)
    before = content_key(settings)
    faq = settings.faq_file
    faq.write_text(faq.read_text(encoding="utf-8").replace("IFRC", "IFRC Secretariat", 1))
    assert content_key(settings) != before
    assert cached_index(settings) is None


def test_broken_content_is_refused_and_not_cached(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    settings.faq_file.write_text("entries: [\n", encoding="utf-8")
    with pytest.raises(ContentError):
        load_indexed(settings)
    assert cached_index(settings) is None


def test_a_clean_start_is_not_checked_again_until_something_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The start-up checks (consultations, societies, warnings) run once per content and
    code; a consultation edited into an error is caught at the next start."""
    from bot import cli

    settings = settings_for(tmp_path)
    consultations = settings.consultations_dir
    consultations.mkdir(parents=True, exist_ok=True)
    valid = sorted((Path(__file__).parent / "fixtures" / "consultations" / "valid").glob("*.yaml"))
    shutil.copy(valid[0], consultations / valid[0].name)
    runs: list[int] = []
    real = cli.extra_checks

    def counting(*args: object, **kwargs: object) -> list[object]:
        runs.append(1)
        return real()  # type: ignore[return-value]

    monkeypatch.setattr(cli, "extra_checks", counting)
    assert cli._load_or_explain(settings) is not None
    assert cli._load_or_explain(settings) is not None
    assert len(runs) == 1
    (consultations / valid[0].name).write_text("id: [broken\n", encoding="utf-8")
    assert cli._load_or_explain(settings) is None
    assert len(runs) == 2
    assert "will not start" in capsys.readouterr().err


# ------------------------------------------------------------------ answers from the cache

EVAL_EN = Path(__file__).parent / "eval" / "dev" / "en.yaml"


def sample_questions(n: int = 50) -> list[str]:
    """Every k-th English dev question: bare, framed, follow-ups and non-questions alike."""
    import yaml

    questions = [str(item["q"]) for item in yaml.safe_load(EVAL_EN.read_text(encoding="utf-8"))]
    return questions[:: max(1, len(questions) // n)][:n]


def shipped_settings(tmp_path: Path) -> Settings:
    return Settings(db_path=tmp_path / "bot.sqlite3", cache_dir=tmp_path / "cache")


def same(a: object, b: object) -> bool:
    """Deep equality that also compares numpy arrays (and their dtype) element by element."""
    import numpy as np

    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and np.array_equal(a, b)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return type(a) is type(b) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    return a == b


def test_a_matcher_read_back_from_the_cache_is_the_one_that_was_built(tmp_path: Path) -> None:
    """Every attribute of the index, arrays stored packed included, comes back as it was."""
    from bot import index_cache

    settings = shipped_settings(tmp_path)
    kb, built = load_indexed(settings)
    index_cache._read.clear()  # read from the file, not from this process's memory
    found = cached_index(settings)
    assert found is not None
    assert found[1] is not built
    assert vars(found[1]).keys() == vars(built).keys()
    different = [k for k in vars(built) if not same(vars(found[1])[k], vars(built)[k])]
    assert not different
    (path,) = cache_dir(settings).glob("index-*.pickle")
    assert b"_Arrays" in path.read_bytes()  # the posting lists were stored packed
    assert found[0] == kb


def test_nsbot_ask_answers_the_same_from_a_warm_cache_as_from_a_fresh_index(
    tmp_path: Path,
) -> None:
    """``nsbot ask --json`` on 50 dev questions: the first run builds and stores the index,
    the second reads it (and the word lists) back; both equal a matcher built here."""
    import json
    import os
    import subprocess
    import sys

    from bot.cli import ask_record
    from bot.knowledge import load_knowledge
    from bot.matcher import Matcher

    questions = sample_questions()
    assert len(questions) == 50
    kb = load_knowledge(Settings().knowledge_dir)
    fresh = Matcher(kb)
    expected = [ask_record(fresh, kb, q) for q in questions]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NSBOT_")}
    env["NSBOT_CACHE_DIR"] = str(tmp_path / "cache")
    runs = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--json"],
            input="\n".join(questions) + "\n",
            env=env,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
            timeout=120,
            check=True,
        )
        runs.append([json.loads(line) for line in proc.stdout.splitlines()])
    assert len(list((tmp_path / "cache").glob("index-*.pickle"))) == 1
    assert runs[0] == expected
    assert runs[1] == expected
    assert sum(r["status"] == "answer" for r in expected) > 10  # not 50 fallbacks


def test_a_start_reads_the_index_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The checks before ``ask`` and the answering after them share one read."""
    from bot import cli, index_cache

    settings = settings_for(tmp_path)
    load_indexed(settings)
    index_cache._read.clear()
    reads: list[object] = []
    real = index_cache.pickle.load

    def counting(handle: object) -> object:
        reads.append(handle)
        return real(handle)  # type: ignore[arg-type]

    monkeypatch.setattr(index_cache.pickle, "load", counting)
    monkeypatch.setenv("NSBOT_KNOWLEDGE", str(settings.knowledge_dir))
    monkeypatch.setenv("NSBOT_CACHE_DIR", str(settings.cache_dir))
    assert cli.main(["ask", "who chairs the mrg"]) == 0
    assert "mrg" in capsys.readouterr().out.lower()
    assert len(reads) == 1


def test_a_replaced_cache_file_is_read_again(tmp_path: Path) -> None:
    """What this process remembers of a file is keyed by the file itself: one rewritten
    (or broken) since is not answered from memory."""
    settings = settings_for(tmp_path)
    load_indexed(settings)
    assert cached_index(settings) is not None
    (path,) = cache_dir(settings).glob("index-*.pickle")
    path.write_bytes(b"not a pickle")
    assert cached_index(settings) is None


def test_a_process_remembers_the_last_index_it_read_only(tmp_path: Path) -> None:
    """A bot reloaded after each of many edits keeps one index in memory, not all."""
    from bot import index_cache

    settings = settings_for(tmp_path)
    load_indexed(settings)
    assert cached_index(settings) is not None
    faq = settings.faq_file
    faq.write_text(faq.read_text(encoding="utf-8").replace("IFRC", "IFRC Secretariat", 1))
    load_indexed(settings)
    assert cached_index(settings) is not None
    remembered = [p for p in index_cache._read if p.name.startswith("index-")]
    assert remembered == [cache_dir(settings) / f"index-{content_key(settings)}.pickle"]


def test_the_word_lists_come_back_from_the_cache(tmp_path: Path) -> None:
    from bot import index_cache, wordlists

    settings = settings_for(tmp_path)
    load_indexed(settings)
    from_files = {lang: wordlists.centibels(lang) for lang in wordlists.LANGUAGES}
    index_cache._read.clear()
    wordlists._adopted.clear()
    try:
        assert cached_index(settings) is not None
        assert set(wordlists._adopted) == set(wordlists.LANGUAGES)
        wordlists.centibels.cache_clear()
        for lang in wordlists.LANGUAGES:
            assert wordlists.centibels(lang) == from_files[lang]
            assert len(from_files[lang]) > 20000
    finally:
        wordlists._adopted.clear()
        wordlists.centibels.cache_clear()


def test_new_word_lists_make_a_new_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """wordfreq upgraded: the index (typo correction reads the lists) and the lists kept
    beside it are built again."""
    from bot import wordlists

    settings = settings_for(tmp_path)
    lists = tmp_path / "small_en.msgpack.gz"
    lists.write_bytes(b"one version")
    monkeypatch.setattr(wordlists, "data_files", lambda: [lists])
    before = content_key(settings)
    lists.write_bytes(b"another version")
    assert content_key(settings) != before


# ------------------------------------------------------------------ a chat's start


async def test_a_start_keeps_its_ui_and_consultations_until_one_changes(tmp_path: Path) -> None:
    from bot.app import running_core
    from bot.index_cache import cached_start

    settings = settings_for(tmp_path)
    consultations = settings.consultations_dir
    consultations.mkdir(parents=True, exist_ok=True)
    valid = sorted((Path(__file__).parent / "fixtures" / "consultations" / "valid").glob("*.yaml"))
    shutil.copy(valid[0], consultations / valid[0].name)
    assert cached_start(settings) is None
    async with running_core(settings) as core:
        first = [c.id for c in core.content.consultations]
    found = cached_start(settings)
    assert found is not None
    ui, catalog = found
    assert ui.strings == core.ui.strings
    assert [c.id for c in catalog] == first and first
    async with running_core(settings) as again:  # from the cache, the same content
        assert [c.id for c in again.content.consultations] == first
        assert again.ui.t("consult_yes") == core.ui.t("consult_yes")
    (consultations / valid[0].name).write_text("id: [broken\n", encoding="utf-8")
    assert cached_start(settings) is None
    with pytest.raises(ContentError):
        async with running_core(settings):
            pass
