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
