"""A fixture database for the curators' loop: logged gaps, desk conversations (one that
ended with the desk's answer, one with the asker's word, one still open) and a 👎 log,
written through the real SQLite storage and the real handoff wording."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import shipped_knowledge_dir
from bot.feedback import Feedback
from bot.handoff import desk_follow_up, to_asker
from bot.storage import SqliteStorage
from bot.storage.handoff import FOLLOW_UP, REPLY, HandoffRow
from bot.ui import UI

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
VOTED = "What year was the policy voted?"  # suggests policy-adopted
VOTED_AGAIN = "what year was policy voted"  # a near-duplicate wording of it
VOTED_FR = "Quelle année la politique a été votée"  # the same, asked in French
SIGN_OFF = "in which year did the federation sign off on its migration policy"  # policy-what
FUNDING = "how do I get funding for a migration project"  # close to no curated answer
DESK_ANSWER = (
    "National Societies can ask the IFRC for support through the **Emergency Appeal** or "
    "their partner National Societies; the migration team can advise on a proposal."
)

FEEDBACK = [
    Feedback("policy-what", SIGN_OFF, "en", "telegram", False, "I asked for the year", T0),
    Feedback("policy-what", SIGN_OFF, "en", "slack", False, None, T0 + timedelta(hours=3)),
    Feedback("policy-what", "what is the migration policy", "en", "slack", True, None, T0),
]


def kb_copy(tmp_path: Path) -> Path:
    """The shipped faq.yaml and knowledge/ in a temporary folder (tests never edit the
    repository's files); returns the knowledge folder, faq.yaml is beside it."""
    shipped = shipped_knowledge_dir()
    target = tmp_path / "kb"
    shutil.copytree(shipped, target / "knowledge")
    shutil.copy(shipped.parent / "faq.yaml", target / "faq.yaml")
    return target / "knowledge"


async def _handoff(store: SqliteStorage, person: str, question: str, at: datetime) -> HandoffRow:
    h = await store.save_draft(
        person=person,
        platform="telegram",
        chat=person,
        language="en",
        question=question,
        tried=["policy-implementation-strategy"],
        now=at,
    )
    assert await store.open_handoff(
        h.id,
        person=person,
        shared=False,
        name=None,
        society=None,
        desk_platform="slack",
        desk_chat="CDESK",
        now=at,
    )
    opened = await store.get_handoff(h.id)
    assert opened is not None
    return opened


async def _relay(store: SqliteStorage, h: HandoffRow, kind: str, text: str, n: int) -> None:
    ui = UI.load()
    body = to_asker(ui, h, text) if kind == REPLY else desk_follow_up(ui, h, text)
    await store.queue_relay(
        handoff_id=h.id,
        kind=kind,
        platform="telegram" if kind == REPLY else "slack",
        chat=h.chat if kind == REPLY else "CDESK",
        key=f"{h.id}:{kind}:{n}",
        text=body,
        now=h.created_at + timedelta(minutes=n),
    )


async def fill(db: Path) -> dict[str, int]:
    """Write the fixture; returns the handoff ids by role."""
    async with SqliteStorage(db) as store:
        for i in range(3):
            await store.log_gap(VOTED, "suggest", "telegram", T0 + timedelta(hours=i))
        await store.log_gap(VOTED_AGAIN, "suggest", "slack", T0 + timedelta(hours=4))
        await store.log_gap("weather in nairobi", "fallback", "slack", T0 + timedelta(hours=5))
        await store.log_gap(VOTED_FR, "suggest", "telegram", T0 + timedelta(hours=6))
        answered = await _handoff(store, "telegram:1", FUNDING, T0 + timedelta(days=1))
        await _relay(store, answered, REPLY, "Let me check with the team.", 1)
        await _relay(store, answered, FOLLOW_UP, "Thanks, it is for a project in Sahel.", 2)
        await _relay(store, answered, REPLY, DESK_ANSWER, 3)
        assert await store.close_handoff(answered.id, "desk", T0 + timedelta(days=1, hours=2))
        unanswered = await _handoff(store, "telegram:2", "who signs our MoU", T0)
        await _relay(store, unanswered, REPLY, "Which MoU?", 1)
        await _relay(store, unanswered, FOLLOW_UP, "Never mind.", 2)
        assert await store.close_handoff(unanswered.id, "asker", T0 + timedelta(hours=1))
        still_open = await _handoff(store, "telegram:3", FUNDING, T0)
        await _relay(store, still_open, REPLY, "Looking into it.", 1)
    return {"answered": answered.id, "unanswered": unanswered.id, "open": still_open.id}
