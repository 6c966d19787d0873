"""Reloading the content without a restart: in process, then ``nsbot run`` on SIGHUP
and with NSBOT_WATCH=1. A good edit is answered after the reload; a broken one is
refused with kb check's file:line messages, and the old content keeps answering."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.memory import MemoryAdapter
from bot.content import load_content
from bot.core import Core
from bot.knowledge import load_knowledge
from bot.reload import Reloader
from bot.storage import SqliteStorage
from tests.bot_process import WEBHOOK_SECRET, BotProcess, bot_env, free_port, telegram_webhook_env
from tests.conftest import FIXED_NOW, KB_MIN, make_settings
from tests.fake_telegram import TOKEN, FakeTelegram, user

PROBE = "Where is the reload probe kept?"
PROBE_ANSWER = "The reload probe is kept in the test folder."
GOOD_ENTRY = f"""
  - id: reload-probe
    topic: policy
    questions:
      - {PROBE}
      - Which folder keeps the reload probe?
    answer: {PROBE_ANSWER}
    source:
      - doc: sheet
        section: "§2"
"""
# No answer, no source, one phrasing: three errors, on the entry's lines.
BROKEN_ENTRY = """
  - id: broken-entry
    topic: policy
    questions:
      - Where is the broken probe kept?
"""


def copy_kb(tmp_path: Path) -> Path:
    """A copy of the small test knowledge base; returns its faq.yaml."""
    root = tmp_path / "content"
    shutil.copytree(KB_MIN.parent, root)
    return root / "faq.yaml"


def append(faq: Path, text: str) -> int:
    """Append entries to faq.yaml; the line number of the first one's ``- id:``."""
    before = faq.read_text(encoding="utf-8")
    faq.write_text(before.rstrip("\n") + "\n" + text.lstrip("\n"), encoding="utf-8")
    return before.rstrip("\n").count("\n") + 2


@pytest.fixture
async def kb_core(tmp_path: Path, storage: SqliteStorage) -> tuple[Core, Path]:
    faq = copy_kb(tmp_path)
    settings = make_settings(tmp_path, faq.parent / "knowledge")
    content = load_content(settings)
    core = Core(
        settings,
        content.kb,
        storage,
        matcher=content.matcher,
        consultations=content.consultations,
        clock=lambda: FIXED_NOW,
    )
    return core, faq


async def test_a_good_edit_is_answered_after_a_reload(kb_core: tuple[Core, Path]) -> None:
    core, faq = kb_core
    bot = MemoryAdapter(core)
    reloader = Reloader(core, core.settings)
    assert PROBE_ANSWER not in await bot.ask(PROBE)
    append(faq, GOOD_ENTRY)
    assert await reloader.reload("test")
    assert PROBE_ANSWER in await bot.ask(PROBE)
    assert "November 2009" in await bot.ask("When was the migration policy adopted?")


async def test_a_broken_edit_is_refused_with_kb_checks_messages_and_the_old_content_stays(
    kb_core: tuple[Core, Path], caplog: pytest.LogCaptureFixture
) -> None:
    core, faq = kb_core
    bot = MemoryAdapter(core)
    reloader = Reloader(core, core.settings)
    append(faq, GOOD_ENTRY)
    assert await reloader.reload("test")
    before = core.content
    line = append(faq, BROKEN_ENTRY)
    with caplog.at_level(logging.ERROR, logger="bot.reload"):
        assert not await reloader.reload("test")
    assert core.content is before
    logged = [r.getMessage() for r in caplog.records]
    assert any("refused: 3 error(s)" in m for m in logged), logged
    # The very lines kb check prints: file:line [entry] error: ...
    assert f"{faq}:{line}: [broken-entry] error: missing 'answer'" in logged
    assert (
        f"{faq}:{line + 2}: [broken-entry] error: 'questions' needs at least 2 item(s), found 1"
        in logged
    )
    assert PROBE_ANSWER in await bot.ask(PROBE)


async def test_an_event_being_answered_when_a_reload_lands_finishes_with_the_old_content(
    kb_core: tuple[Core, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """faq answers an entry, stores that it did, then words the reply with its related
    entries: a swap during that store must not give it another knowledge base's."""
    core, _ = kb_core
    old = core.content
    kb = load_knowledge(core.settings.knowledge_dir, core.settings.faq_file)
    del kb.entries["mrg-chair"]  # the entry the answer's button points to
    new = dataclasses.replace(old, kb=kb)
    real = core.storage.remember_answer

    async def reload_meanwhile(*args: Any, **kwargs: Any) -> None:
        core.use(new)  # what a reload does, landing while this event awaits its store
        await real(*args, **kwargs)

    monkeypatch.setattr(core.storage, "remember_answer", reload_meanwhile)
    bot = MemoryAdapter(core)
    [reply] = await bot.send("When was the migration policy adopted?")
    assert "November 2009" in reply.text
    assert "faq:mrg-chair" in [c.action for c in reply.choices]  # from the content it began with
    assert core.content is new
    monkeypatch.setattr(core.storage, "remember_answer", real)
    [after] = await bot.send("When was the migration policy adopted?")
    assert "faq:mrg-chair" not in [c.action for c in after.choices]  # the next event: the new


# ------------------------------------------------------------------ nsbot run


async def ask(fake: FakeTelegram, port: int, text: str) -> str:
    """Post one message to the bot's webhook; the text of the answer it sends."""
    before = len(fake.of("sendMessage"))
    update = fake.message(user(424242), text)
    update["update_id"] = 10_000 + before + len(fake.calls)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{port}/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        ) as response,
    ):
        assert response.status == 200
    calls = await fake.wait_calls("sendMessage", count=before + 1)
    return str(calls[before]["text"])


@pytest.mark.parametrize("trigger", ["sighup", "watch"])
async def test_nsbot_run_reloads_a_good_edit_and_refuses_a_broken_one(
    tmp_path: Path, trigger: str
) -> None:
    faq = copy_kb(tmp_path)
    fake = FakeTelegram()
    await fake.start()
    port = free_port()
    env = bot_env(
        tmp_path,
        NSBOT_KNOWLEDGE=str(faq.parent / "knowledge"),
        **telegram_webhook_env(port, fake.base_url, TOKEN),
    )
    if trigger == "watch":
        env.update(NSBOT_WATCH="1", NSBOT_WATCH_INTERVAL="0.2")

    def nudge(bot: BotProcess) -> None:
        if trigger == "sighup":
            bot.signal(signal.SIGHUP)

    try:
        async with BotProcess(tmp_path, env) as bot:
            await bot.wait_status(port, "/readyz", 200)
            assert PROBE_ANSWER not in await ask(fake, port, PROBE)
            append(faq, GOOD_ENTRY)
            nudge(bot)
            await bot.wait_log("content reloaded")
            assert PROBE_ANSWER in await ask(fake, port, PROBE)
            line = append(faq, BROKEN_ENTRY)
            nudge(bot)
            log = await bot.wait_log("refused: 3 error(s)")
            await bot.wait_log(f"{faq}:{line + 2}: [broken-entry] error:")
            assert f"{faq}:{line}: [broken-entry] error: missing 'answer'" in log
            assert PROBE_ANSWER in await ask(fake, port, PROBE)  # the old content answers
            assert (await bot.get(port, "/readyz"))[0] == 200
            assert await bot.stop() == 0
        assert bot.stderr().count("content reloaded") == 1
        assert "Traceback" not in bot.stderr()
    finally:
        await fake.stop()
