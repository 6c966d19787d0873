"""The shape the codebase promises (STYLE.md), checked so it stays true."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
PLATFORM_LIBS = ("telegram", "slack_bolt", "slack_sdk")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_platform_libraries_are_imported_only_by_adapters() -> None:
    offenders = []
    for path in BOT.rglob("*.py"):
        if (BOT / "adapters") in path.parents:
            continue
        for name in imported_modules(path):
            if name.split(".")[0] in PLATFORM_LIBS:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, offenders


def test_core_runs_without_any_platform_library_installed() -> None:
    """Block the platform packages and use the bot: the core must not need them."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {PLATFORM_LIBS!r}: raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from bot.cli import main\n"
        "raise SystemExit(main(['ask', 'when was the migration policy adopted']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "2009" in proc.stdout


def test_handlers_are_registered_in_one_place() -> None:
    """Only bot/handlers/__init__.py builds the registries: no import-time self-registration."""
    for path in (BOT / "handlers").glob("*.py"):
        if path.name == "__init__.py":
            continue
        source = path.read_text(encoding="utf-8")
        for registry in ("COMMANDS", "ACTIONS", "CONVERSATIONS", "PIPELINE"):
            assert f"{registry}.append" not in source and f"{registry}[" not in source, (
                path,
                registry,
            )


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff not installed",
)
def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    proc = subprocess.run(
        [ruff, "check", "bot", "tests"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_is_clean() -> None:
    pytest.importorskip("mypy")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy"], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
