"""``nsbot kb review``: gaps, 👎 answers and desk answers, grouped by the entry each is
closest to, most frequent first, with references that ``kb promote`` takes."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.curation import (
    DeskConversation,
    desk_conversation,
    desk_words,
    find,
    near_duplicates,
    review,
)
from bot.matcher import Matcher
from bot.storage import SqliteStorage
from bot.storage.base import LoggedGap
from bot.ui import UI

from .curation_fixtures import (
    DESK_ANSWER,
    FEEDBACK,
    FUNDING,
    SIGN_OFF,
    T0,
    VOTED,
    VOTED_AGAIN,
    VOTED_FR,
    fill,
)


async def _evidence(db: Path) -> tuple[list[LoggedGap], list[DeskConversation]]:
    ui = UI.load()
    async with SqliteStorage(db) as store:
        gaps = await store.logged_gaps()
        desk = []
        for h in await store.closed_handoffs():
            c = desk_conversation(ui, h, await store.relays_of(h.id))
            if c is not None:
                desk.append(c)
    return gaps, desk


async def test_review_groups_by_closest_entry_most_frequent_first(
    tmp_path: Path, shipped_matcher: Matcher
) -> None:
    ids = await fill(tmp_path / "bot.sqlite3")
    gaps, desk = await _evidence(tmp_path / "bot.sqlite3")
    groups = review(shipped_matcher, gaps, FEEDBACK, desk)

    first, second = groups[0], groups[1]
    # Four asks of one question, however worded, one in French, then two 👎 on one answer.
    assert (first.entry_id, first.count) == ("policy-adopted", 5)
    voted, french = first.clusters
    assert [(i.ref, i.question, i.language) for i in french.items] == [("g6", VOTED_FR, "fr")]
    assert [(i.question, i.count) for i in voted.items] == [(VOTED, 3), (VOTED_AGAIN, 1)]
    assert [i.ref for i in voted.items] == ["g1", "g4"]  # the oldest row of each wording
    assert voted.items[0].status == "suggest" and voted.items[0].kind == "gap"
    assert (second.entry_id, second.count) == ("policy-what", 2)
    (thumbs,) = second.clusters[0].items
    assert (thumbs.ref, thumbs.kind, thumbs.question) == ("f1", "feedback", SIGN_OFF)
    assert thumbs.comments == ("I asked for the year",)  # the 👍 is not listed
    # Only the conversation that ended with the desk's word: its last answer, as written.
    (conversation,) = [i for g in groups for c in g.clusters for i in c.items if i.kind == "desk"]
    assert conversation.ref == f"d{ids['answered']}" and conversation.question == FUNDING
    assert conversation.answer == DESK_ANSWER
    assert all(g.count == 1 for g in groups[2:])
    assert [g.last_at for g in groups[2:]] == sorted((g.last_at for g in groups[2:]), reverse=True)


async def test_references_stay_and_resolve_with_since(
    tmp_path: Path, shipped_matcher: Matcher
) -> None:
    db = tmp_path / "bot.sqlite3"
    await fill(db)
    async with SqliteStorage(db) as store:  # the same question asked again, later
        await store.log_gap(VOTED, "fallback", "slack", T0 + timedelta(days=3))
    gaps, desk = await _evidence(db)
    everything = review(shipped_matcher, gaps, FEEDBACK, desk)
    found = find(everything, "g1")
    assert found is not None and found[0].count == 4 and found[0].status == "fallback"
    since = T0 + timedelta(hours=2)
    recent = review(shipped_matcher, gaps, FEEDBACK, desk, since=since)
    latest = find(recent, "g3")  # since then, its oldest row is the third
    assert latest is not None and latest[0].count == 2 and latest[0].question == VOTED
    assert find(everything, "g3") == found  # which names the same question for promote
    later_thumb = find(recent, "f2")  # the second 👎 ever, the only one since
    assert later_thumb is not None and later_thumb[0].comments == ()
    assert find(everything, "f2") == find(everything, "f1")  # the same question
    assert find(everything, "x1") is None and find(everything, "d1") is not None
    assert find(everything, "d2") is None  # ended with the asker's word: not listed


def test_near_duplicates_are_wordings_not_topics() -> None:
    assert near_duplicates(VOTED, VOTED_AGAIN)
    assert near_duplicates("When is the COD?", "when is the cod")
    assert not near_duplicates(VOTED, "what year was the strategy voted")
    assert not near_duplicates("who chairs the mrg", "who are the mrg members")


def test_desk_words_undo_the_framing_and_escaping_of_a_relayed_reply() -> None:
    from bot.handoff import to_asker
    from bot.storage.handoff import HandoffRow

    ui = UI.load()
    h = HandoffRow(
        1, "7F3A09BB", "t:1", "telegram", "1", "fr", "q", (), "closed", False, None, None,
        "slack", "C", None, T0, T0, T0, None, T0, "desk", None,
    )  # fmt: skip
    typed = "- see _the_ [form](https://example.org) **now**"
    assert desk_words(ui, h, to_asker(ui, h, typed)) == typed
    assert desk_words(ui, h, "an older wording") == "an older wording"


async def vote(db: Path) -> None:
    """The fixture's votes, cast the way the 👍 / 👎 buttons cast them."""
    async with SqliteStorage(db) as store:
        for n, f in enumerate(FEEDBACK):
            ref = await store.save_answer(
                entry_id=f.entry_id, question=f.question, language=f.language,
                platform=f.platform, now=f.at,
            )  # fmt: skip
            answer = await store.get_answer(ref, f.at)
            assert answer is not None
            await store.cast_feedback(f"voter-{n}", answer, f.helpful, f.at)
            if f.comment:
                assert await store.comment_feedback(f"voter-{n}", f.comment)


def test_kb_review_command_lists_and_exports_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "bot.sqlite3"
    ids = asyncio.run(fill(db))
    monkeypatch.setenv("NSBOT_DB", str(db))

    asyncio.run(vote(db))
    assert main(["kb", "review"]) == 0
    out = capsys.readouterr().out
    assert out.index("policy-adopted:") < out.index("policy-what:") < out.index(FUNDING)
    assert f"d{ids['answered']}" in out and "desk answer: National Societies" in out
    assert "≈ what year was policy voted" in out and "[4]" in out
    assert "weather in nairobi" in out and f"d{ids['unanswered']}" not in out
    assert main(["kb", "review", "--json", "--since", "2026-11-21"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (group,) = lines  # only the desk answer closed since then
    assert group["clusters"][0]["items"][0]["answer"] == DESK_ANSWER
