"""The storage contract, by aggregate, over every method of :class:`Storage`.

Runs against every implementation in ``tests.test_storage.IMPLEMENTATIONS`` (a
PostgreSQL backend adds itself there). Together with tests/test_storage.py it covers
every abstract method; ``test_every_method_has_a_contract`` keeps it that way.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.send_limits import Rate
from bot.storage import SqliteStorage, Storage
from bot.storage.base import ABSENT, PollRow, Recipient
from tests.test_storage import IMPLEMENTATIONS

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    async with IMPLEMENTATIONS[request.param](tmp_path) as s:
        yield s


def test_every_method_has_a_contract() -> None:
    """Each abstract method is called by name in this file or in tests/test_storage.py."""
    here = Path(__file__).read_text(encoding="utf-8")
    there = (Path(__file__).parent / "test_storage.py").read_text(encoding="utf-8")
    names = {n for n, _ in inspect.getmembers(Storage) if n in Storage.__abstractmethods__}
    names -= {"open", "close"}  # every test runs them, through ``async with``
    missing = sorted(n for n in names if not re.search(rf"\.{n}\(", here + there))
    assert missing == [], f"no contract test calls {missing}"


def test_the_interface_is_split_by_aggregate_into_small_parts() -> None:
    from bot.storage import (
        ConsultationStore,
        DeliveryStore,
        EventStore,
        FeedbackStore,
        HandoffStore,
        PollStore,
    )

    parts = (EventStore, ConsultationStore, PollStore, DeliveryStore, HandoffStore, FeedbackStore)
    assert all(issubclass(Storage, part) for part in parts)
    assert all(len(part.__abstractmethods__) <= 25 for part in parts)
    own = Storage.__abstractmethods__ - set().union(*(p.__abstractmethods__ for p in parts))
    # Beside the six: connecting, what spans them all (a person's data), and the send
    # limiter replicas share.
    assert own == {"open", "close", "person_data", "forget_person", "send_limiter"}


# --------------------------------------------------------------------------- units of work


class TestUnits:
    async def test_a_unit_commits_everything_or_nothing(self, store: Storage) -> None:
        with pytest.raises(RuntimeError):
            async with store.unit():
                await store.claim_event("t", "e1", NOW)
                await store.set_state("t:1", "c", "k", {}, NOW)
                raise RuntimeError("power cut")
        assert await store.claim_event("t", "e1", NOW)  # it was not kept
        assert await store.get_state("t:1", "c") is None
        async with store.unit():
            await store.set_state("t:1", "c", "k", {"a": 1}, NOW)
        assert await store.get_state("t:1", "c") == ("k", {"a": 1})

    async def test_a_savepoint_undoes_only_its_own_block(self, store: Storage) -> None:
        async with store.unit():
            await store.claim_event("t", "e2", NOW)
            with pytest.raises(ValueError):
                async with store.savepoint():
                    await store.set_state("t:1", "c", "k", {}, NOW)
                    raise ValueError("handler bug")
        assert not await store.claim_event("t", "e2", NOW)  # the claim outside it stayed
        assert await store.get_state("t:1", "c") is None

    async def test_others_wait_for_a_unit_and_see_it_whole(self, store: Storage) -> None:
        seen: list[object] = []
        started = asyncio.Event()

        async def reader() -> None:
            await started.wait()
            seen.append(await store.get_state("t:1", "c"))

        async def writer() -> None:
            async with store.unit():
                await store.set_state("t:1", "c", "k", {"step": 1}, NOW)
                started.set()
                await asyncio.sleep(0.01)
                await store.set_state("t:1", "c", "k", {"step": 2}, NOW)

        await asyncio.gather(writer(), reader())
        assert seen == [("k", {"step": 2})]


# --------------------------------------------------------------------------- consultations


async def start(store: Storage, respondent: str = "r1", *, anonymous: bool = False) -> int:
    row = await store.start_response(
        "c1",
        respondent,
        anonymous=anonymous,
        person=None if anonymous else f"t:{respondent}",
        display_name=None if anonymous else "Name",
        position="q1",
        profile=("Africa", "Kenya Red Cross Society"),
        now=NOW,
    )
    return row.id


class TestConsultations:
    async def test_start_is_once_per_respondent(self, store: Storage) -> None:
        first = await start(store)
        again = await start(store)
        assert first == again
        row = await store.get_response("c1", "r1")
        assert row is not None and row.status == "draft" and row.position == "q1"
        assert row.region == "Africa" and row.person == "t:r1"
        assert await store.get_response("c1", "nobody") is None

    async def test_anonymous_responses_keep_no_identity_and_the_day_only(
        self, store: Storage
    ) -> None:
        rid = await start(store, "hash", anonymous=True)
        await store.update_response(rid, now=NOW + timedelta(hours=3), answers={"q1": "a"})
        row = await store.get_response("c1", "hash")
        assert row is not None and row.person is None and row.display_name is None
        assert row.updated_at == NOW.replace(hour=0)  # no moment to match to an account

    async def test_update_is_atomic_with_position_and_answer_checks(self, store: Storage) -> None:
        rid = await start(store)
        assert await store.update_response(
            rid, now=NOW, answers={"q1": ["a"]}, position="q2", expect_position="q1"
        )
        # The same press again: the position moved on, nothing changes.
        assert not await store.update_response(
            rid, now=NOW, answers={"q1": ["b"]}, position="q3", expect_position="q1"
        )
        # Compare-and-set on an answer: only from the value read.
        assert not await store.update_response(
            rid, now=NOW, answers={"q1": ["a", "b"]}, expect_answer=("q1", ABSENT)
        )
        assert await store.update_response(
            rid, now=NOW, answers={"q1": ["a", "b"]}, expect_answer=("q1", ["a"])
        )
        assert await store.update_response(
            rid, now=NOW, answers={"q9": 1}, expect_answer=("q9", ABSENT)
        )
        assert await store.update_response(rid, now=NOW, drop=["q9"], submit=True, position="done")
        row = await store.get_response("c1", "r1")
        assert row is not None and row.answers == {"q1": ["a", "b"]}
        assert row.status == "submitted" and row.submitted_at == NOW and row.position == "done"
        assert not await store.update_response(999_999, now=NOW, position="x")

    async def test_concurrent_compare_and_set_lets_one_win(self, store: Storage) -> None:
        rid = await start(store)
        results = await asyncio.gather(
            *(
                store.update_response(
                    rid, now=NOW, answers={"q1": [str(i)]}, expect_answer=("q1", ABSENT)
                )
                for i in range(10)
            )
        )
        assert results.count(True) == 1

    async def test_responses_listing_closing_and_deleting(self, store: Storage) -> None:
        await start(store, "r1")
        later = await store.start_response(
            "c1",
            "r2",
            anonymous=False,
            person="t:r2",
            display_name=None,
            position="q1",
            profile=(None, None),
            now=NOW + timedelta(days=2),
        )
        assert [r.respondent for r in await store.responses("c1")] == ["r1", "r2"]
        since = await store.responses("c1", NOW + timedelta(days=1))
        assert [r.id for r in since] == [later.id]
        assert await store.response_consultations() == ["c1"]
        assert await store.consultation_closures() == {}
        await store.close_consultation("c1", "t:coord", NOW)
        await store.close_consultation("c1", "t:coord", NOW + timedelta(hours=1))  # kept first
        assert await store.consultation_closures() == {"c1": NOW}
        assert await store.delete_responses("c1") == 2
        assert await store.responses("c1") == [] and await store.response_consultations() == []


# --------------------------------------------------------------------------- polls


async def poll(store: Storage, *, multi: bool = False, closes: datetime | None = None) -> PollRow:
    return await store.create_poll(
        platform="telegram",
        chat="-100",
        question="Q?",
        options=("a", "b", "c"),
        multi=multi,
        anonymous=False,
        created_by="t:coord",
        closes_at=closes,
        now=NOW,
    )


async def assert_counts_match_votes(store: Storage, poll_id: int) -> None:
    """The kept counts against a recount of the poll's vote rows. In these named
    polls each voter's name is their id, and the tally's names are read from the vote
    rows themselves, one per vote: counting them is a recount."""
    tally = await store.poll_tally(poll_id)
    recount = {o: len(names) for o, names in tally.names.items() if names}
    voters = {name for names in tally.names.values() for name in names}
    assert tally.counts == recount
    assert tally.voters == len(voters)


class TestPolls:
    async def test_single_choice_replaces_and_tallies(self, store: Storage) -> None:
        p = await poll(store)
        assert await store.cast_vote(p.id, "v1", 0, name="Ann", now=NOW) == (0,)
        assert await store.cast_vote(p.id, "v1", 2, name="Ann", now=NOW) == (2,)
        assert await store.cast_vote(p.id, "v2", 2, name="Bo", now=NOW) == (2,)
        assert await store.cast_vote(p.id, "v3", 7, name="Cy", now=NOW) is None  # no option 7
        tally = await store.poll_tally(p.id)
        assert tally.counts == {2: 2} and tally.voters == 2 and tally.names == {2: ["Ann", "Bo"]}

    async def test_multiple_choice_toggles_except_a_double_tap(self, store: Storage) -> None:
        p = await poll(store, multi=True)
        tap = timedelta(seconds=2)
        assert await store.cast_vote(p.id, "v", 0, name=None, now=NOW, debounce=tap) == (0,)
        assert await store.cast_vote(p.id, "v", 1, name=None, now=NOW, debounce=tap) == (0, 1)
        later = NOW + timedelta(seconds=1)
        assert await store.cast_vote(p.id, "v", 0, name=None, now=later, debounce=tap) == (0, 1)
        later = NOW + timedelta(seconds=5)
        assert await store.cast_vote(p.id, "v", 0, name=None, now=later, debounce=tap) == (1,)
        assert await store.cast_vote(p.id, "w", 0, name=None, now=later) == (0,)
        assert await store.cast_vote(p.id, "w", 1, name=None, now=later) == (0, 1)
        tally = await store.poll_tally(p.id)  # two people, three ticks
        assert tally.counts == {0: 1, 1: 2} and tally.voters == 2 and tally.names == {}

    async def test_concurrent_votes_all_count(self, store: Storage) -> None:
        p = await poll(store)
        await asyncio.gather(
            *(store.cast_vote(p.id, f"v{i}", i % 3, name=None, now=NOW) for i in range(60))
        )
        tally = await store.poll_tally(p.id)
        assert tally.voters == 60 and sum(tally.counts.values()) == 60

    async def test_kept_counts_follow_every_kind_of_change(self, store: Storage) -> None:
        """Insert, change, retract, double tap, several choices: the counts read by
        poll_tally always equal a recount of the vote rows (the names: one per vote)."""
        single, multi = await poll(store), await poll(store, multi=True)
        tap, later = timedelta(seconds=2), NOW + timedelta(seconds=5)
        steps = [
            (single, "a", 0, NOW, (0,)),
            (single, "a", 0, NOW, (0,)),  # the same option again: still one vote
            (single, "a", 1, NOW, (1,)),  # changed
            (single, "b", 1, NOW, (1,)),
            (multi, "a", 0, NOW, (0,)),
            (multi, "a", 2, NOW, (0, 2)),
            (multi, "a", 0, NOW + timedelta(seconds=1), (0, 2)),  # a double tap keeps it
            (multi, "a", 0, later, (2,)),  # retracted
            (multi, "a", 2, later, ()),  # nothing left: no longer a voter
            (multi, "b", 1, later, (1,)),
        ]
        for p, voter, option, when, mine in steps:
            assert (
                await store.cast_vote(p.id, voter, option, name=voter, now=when, debounce=tap)
                == mine
            )
            await assert_counts_match_votes(store, p.id)
        assert (await store.poll_tally(single.id)).counts == {1: 2}
        tally = await store.poll_tally(multi.id)
        assert tally.counts == {1: 1} and tally.voters == 1

    async def test_counts_stay_exact_under_a_race_of_votes_and_changes(
        self, store: Storage
    ) -> None:
        """Many voters at once, each voting, changing and unticking concurrently with
        everyone else (several presses of one voter in flight together too)."""
        single, multi = await poll(store), await poll(store, multi=True)

        async def voter(i: int) -> None:
            who = f"v{i}"
            for step in range(4):
                await asyncio.gather(
                    store.cast_vote(single.id, who, (i + step) % 3, name=who, now=NOW),
                    store.cast_vote(multi.id, who, (i * step) % 3, name=who, now=NOW),
                    store.cast_vote(multi.id, who, (i + step) % 3, name=who, now=NOW),
                )

        await asyncio.gather(*(voter(i) for i in range(40)))
        for p in (single, multi):
            await assert_counts_match_votes(store, p.id)
        assert (await store.poll_tally(single.id)).voters == 40

    async def test_forgetting_a_voter_takes_their_votes_out_of_the_counts(
        self, store: Storage
    ) -> None:
        single, multi = await poll(store), await poll(store, multi=True)
        for who in ("t:1", "t:2"):
            await store.cast_vote(single.id, who, 0, name=who, now=NOW)
            await store.cast_vote(multi.id, who, 1, name=who, now=NOW)
        await store.cast_vote(multi.id, "t:1", 2, name="t:1", now=NOW)
        deleted = await store.forget_person("t:1", (), [], now=NOW)
        assert deleted["poll_votes"] == 3
        for p in (single, multi):
            await assert_counts_match_votes(store, p.id)
        assert (await store.poll_tally(single.id)).counts == {0: 1}
        tally = await store.poll_tally(multi.id)
        assert tally.counts == {1: 1} and tally.voters == 1

    async def test_closing_due_polls_and_final_shown(self, store: Storage) -> None:
        due = await poll(store, closes=NOW + timedelta(hours=1))
        open_ = await poll(store)
        assert await store.polls_due(NOW) == []
        assert [p.id for p in await store.polls_due(NOW + timedelta(hours=2))] == [due.id]
        after = NOW + timedelta(hours=2)
        assert await store.cast_vote(due.id, "v", 0, name=None, now=after) is None
        assert await store.close_poll(open_.id, NOW) and not await store.close_poll(open_.id, NOW)
        assert {p.id for p in await store.polls_due(after)} == {due.id, open_.id}
        await store.mark_poll_final_shown(due.id)
        assert [p.id for p in await store.polls_due(after)] == [open_.id]
        closed = await store.get_poll(open_.id)
        assert closed is not None and closed.closed_at == NOW and not closed.is_open(NOW)
        assert [p.id for p in await store.recent_polls(limit=1)] == [open_.id]


# --------------------------------------------------------------------------- people


class TestPeople:
    async def test_profile_timezone_subscription_and_answer_context(self, store: Storage) -> None:
        assert await store.get_profile("t:1") is None
        await store.set_profile("t:1", "Nepal Red Cross Society", "Asia Pacific", NOW)
        profile = await store.get_profile("t:1")
        assert profile is not None and profile.region == "Asia Pacific"
        assert await store.get_timezone("t:1") is None
        await store.set_timezone("t:1", "Africa/Nairobi", NOW)
        assert await store.get_timezone("t:1") == "Africa/Nairobi"
        await store.set_timezone("t:1", None, NOW)
        assert await store.get_timezone("t:1") is None
        sub = await store.subscribe(
            "t:1", platform="t", chat="1", days=[2, 14], language="fr", tz_hint=None, now=NOW
        )
        assert sub.days == (14, 2) and await store.count_subscriptions() == 1
        again = await store.subscribe(
            "t:1",
            platform="t",
            chat="1",
            days=None,
            language="fr",
            tz_hint=None,
            now=NOW + timedelta(days=1),
        )
        assert again.days == (14, 2) and again.updated_at == sub.updated_at
        assert [s.person for s in await store.subscriptions()] == ["t:1"]
        found = await store.get_subscription("t:1")
        assert found is not None and found.language == "fr"
        assert "t:1" in await store.known_people()
        await store.remember_answer("t:1", "1", "mrg-chair", "fr", NOW)
        assert await store.last_answer("t:1", "1", NOW - timedelta(minutes=5)) == (
            "mrg-chair",
            "fr",
        )
        assert await store.last_answer("t:1", "1", NOW + timedelta(minutes=5)) is None
        assert await store.unsubscribe("t:1", NOW) and not await store.unsubscribe("t:1", NOW)
        deleted = await store.forget_person("t:1", (), ["1"], now=NOW)
        assert deleted["profile"] == 1 and await store.get_profile("t:1") is None
        data = await store.person_data("t:1")
        assert data["profile"] is None and data["subscription"] is None


# --------------------------------------------------------------------------- deliveries


class TestDeliveries:
    async def test_a_job_exists_once_and_its_rows_move_through_their_states(
        self, store: Storage
    ) -> None:
        people = [Recipient(f"t:{i}", "t", str(i)) for i in range(3)]
        job, created = await store.ensure_job(
            "reminder:x", kind="reminder", now=NOW, recipients=people
        )
        same, again = await store.ensure_job(
            "reminder:x", kind="reminder", now=NOW, recipients=people[:1]
        )
        assert created and not again and same.id == job.id
        assert (
            await store.get_job(job.id) == job and await store.get_job_by_key("reminder:x") == job
        )
        assert await store.job_people(job.id) == {"t:0", "t:1", "t:2"}
        assert await store.add_deliveries(job.id, [Recipient("t:3", "t", "3"), people[0]], NOW) == 1
        pending = await store.pending_deliveries(["t"], NOW)
        assert {d.person for d in pending} == {"t:0", "t:1", "t:2", "t:3"}
        assert await store.claim_delivery(job.id, "t:0", NOW)
        assert not await store.claim_delivery(job.id, "t:0", NOW)  # claimed once
        await store.finish_delivery(job.id, "t:0", "sent", NOW)
        assert await store.claim_delivery(job.id, "t:1", NOW)
        await store.release_delivery(job.id, "t:1", NOW + timedelta(minutes=5))
        assert "t:1" not in {d.person for d in await store.pending_deliveries(["t"], NOW)}
        assert await store.claim_delivery(job.id, "t:2", NOW)
        assert await store.recover_claimed() == 1  # after a crash: t:2 is pending again
        states = await store.delivery_states(job.id)
        assert states == {"sent": 1, "pending": 3}
        with pytest.raises(ValueError):
            await store.finish_delivery(job.id, "t:3", "lost", NOW)

    async def test_a_claim_is_its_owners_until_its_lease_runs_out(self, store: Storage) -> None:
        """A replica that died while sending loses its claims when their lease ends;
        one that is alive renews them and keeps them."""
        people = [Recipient(f"t:{i}", "t", str(i)) for i in range(2)]
        job, _ = await store.ensure_job("k", kind="reminder", now=NOW, recipients=people)
        lease = timedelta(seconds=30)
        assert await store.claim_delivery(job.id, "t:0", NOW, owner="dead", lease=lease)
        assert await store.claim_delivery(job.id, "t:1", NOW, owner="alive", lease=lease)
        assert await store.recover_claimed(NOW + timedelta(seconds=29)) == 0  # still held
        assert await store.renew_claims("alive", NOW + timedelta(seconds=20), lease) == 1
        assert await store.recover_claimed(NOW + timedelta(seconds=30)) == 1  # the dead one's
        assert {d.person for d in await store.pending_deliveries(["t"], NOW)} == {"t:0"}
        # Taken over by another replica: the dead one's late answer changes nothing.
        assert await store.claim_delivery(job.id, "t:0", NOW + timedelta(seconds=31), owner="b")
        await store.finish_delivery(job.id, "t:0", "failed", NOW, owner="dead")
        await store.release_delivery(job.id, "t:0", NOW, owner="dead")
        assert await store.delivery_states(job.id) == {"claimed": 2}
        await store.finish_delivery(job.id, "t:0", "sent", NOW, owner="b")
        assert await store.recover_claimed(NOW + timedelta(seconds=49)) == 0  # renewed at 20
        assert await store.recover_claimed(NOW + timedelta(seconds=50)) == 1
        assert await store.delivery_states(job.id) == {"sent": 1, "pending": 1}

    async def test_concurrent_claims_of_one_delivery_succeed_once(self, store: Storage) -> None:
        job, _ = await store.ensure_job(
            "k", kind="reminder", now=NOW, recipients=[Recipient("t:0", "t", "0")]
        )
        results = await asyncio.gather(
            *(store.claim_delivery(job.id, "t:0", NOW) for _ in range(20))
        )
        assert results.count(True) == 1

    async def test_announcements_activate_once_for_their_author(self, store: Storage) -> None:
        for i in range(2):
            await store.subscribe(
                f"t:{i}", platform="t", chat=str(i), days=[1], language=None, tz_hint=None, now=NOW
            )
        job, _ = await store.ensure_job(
            "announce:1", kind="announce", now=NOW, text="Hi", status="draft", created_by="t:coord"
        )
        assert await store.activate_announcement(job.id, "t:other", NOW) is None
        assert await store.activate_announcement(job.id, "t:coord", NOW) == 2
        assert await store.activate_announcement(job.id, "t:coord", NOW) is None
        draft, _ = await store.ensure_job(
            "announce:2", kind="announce", now=NOW, text="Hi", status="draft", created_by="t:coord"
        )
        assert not await store.cancel_announcement(draft.id, "t:other")
        assert await store.cancel_announcement(draft.id, "t:coord")

    async def test_draft_reminder_rows_go_when_done_or_closed(self, store: Storage) -> None:
        closes = NOW + timedelta(days=1)
        job, _ = await store.ensure_job(
            "draft:c1",
            kind="draft",
            now=NOW,
            subject_at=closes.isoformat(),
            recipients=[Recipient("t:0", "t", "0"), Recipient("t:1", "t", "1")],
        )
        assert await store.claim_delivery(job.id, "t:0", NOW)
        await store.finish_delivery(job.id, "t:0", "skipped", NOW)
        assert await store.job_people(job.id) == {"t:1"}  # a done row says nothing
        assert await store.purge_draft_deliveries(NOW) == 0
        assert await store.purge_draft_deliveries(closes) == 1
        assert await store.job_people(job.id) == set()


# --------------------------------------------------------------------------- inbox


class TestInbox:
    async def test_kept_in_order_until_handled_and_kept_once(self, store: Storage) -> None:
        await store.inbox_put("t", [("7", '{"n": 7}', "t:a"), ("8", '{"n": 8}', None)], NOW)
        await store.inbox_put(
            "t", [("8", "again", None), ("9", '{"n": 9}', "t:b")], NOW
        )  # 8 re-fetched
        await store.inbox_put("s", [("7", "slack", None)], NOW)
        await store.inbox_put("t", [], NOW)
        assert await store.inbox_pending("t") == [
            ("7", '{"n": 7}'),
            ("8", '{"n": 8}'),
            ("9", '{"n": 9}'),
        ]
        await store.inbox_done("t", ["7", "9", "unknown"])
        await store.inbox_done("t", [])
        assert await store.inbox_pending("t") == [("8", '{"n": 8}')]
        assert await store.inbox_pending("s") == [("7", "slack")]

    async def test_a_persons_kept_events_are_listed_and_forgotten(self, store: Storage) -> None:
        await store.inbox_put("t", [("1", '{"text": "mine"}', "t:a"), ("2", "{}", "t:b")], NOW)
        await store.inbox_put("t", [("3", '{"text": "again"}', "t:a"), ("4", "{}", None)], NOW)
        data = await store.person_data("t:a")
        kept = data["events_not_handled_yet"]
        assert [(e["platform"], e["event"], e["as_received"]) for e in kept] == [
            ("t", "1", '{"text": "mine"}'),
            ("t", "3", '{"text": "again"}'),
        ]
        assert all(e["received_at"] for e in kept)
        deleted = await store.forget_person("t:a", (), ["a"], now=NOW)
        assert deleted["inbox"] == 2
        assert (await store.person_data("t:a"))["events_not_handled_yet"] == []
        assert await store.inbox_pending("t") == [("2", "{}"), ("4", "{}")]  # others' stay

    async def test_handled_with_the_claim_or_not_at_all(self, store: Storage) -> None:
        await store.inbox_put("t", [("e5", "{}", None)], NOW)
        with pytest.raises(RuntimeError):
            async with store.unit():
                await store.claim_event("t", "e5", NOW)
                await store.inbox_done("t", ["e5"])
                raise RuntimeError("power cut")
        assert await store.inbox_pending("t") == [("e5", "{}")]
        async with store.unit():
            await store.claim_event("t", "e5", NOW)
            await store.inbox_done("t", ["e5"])
        assert await store.inbox_pending("t") == []


# --------------------------------------------------------------------------- owed replies


class TestOwedReplies:
    async def test_owed_until_paid_and_forgotten_when_expired(self, store: Storage) -> None:
        await store.owe_replies("t", "e1", "route-1", '[{"text": "a"}]', NOW)
        await store.owe_replies("t", "e2", "route-2", "[]", NOW + timedelta(minutes=5))
        await store.owe_replies("s", "e1", "route-3", "[]", NOW)
        assert await store.owed_replies("t", NOW - timedelta(minutes=1)) == [
            ("e1", "route-1", '[{"text": "a"}]'),
            ("e2", "route-2", "[]"),
        ]
        await store.paid_replies("t", ["e1"])
        assert [e for e, _, _ in await store.owed_replies("t", NOW)] == ["e2"]
        # Too old to be worth sending: deleted, not returned.
        assert await store.owed_replies("t", NOW + timedelta(minutes=10)) == []
        assert await store.owed_replies("t", NOW - timedelta(days=1)) == []
        assert [e for e, _, _ in await store.owed_replies("s", NOW)] == ["e1"]

    async def test_forget_deletes_replies_owed_to_the_person_or_to_their_chat(
        self, store: Storage
    ) -> None:
        await store.owe_replies("t", "e1", "r1", "[]", NOW, person="t:1", chats=["g"])
        # Another person's event whose replies go to t:1's private chat "1".
        await store.owe_replies("t", "e2", "r2", "[]", NOW, person="t:2", chats=["g", "1"])
        await store.owe_replies("t", "e3", "r3", "[]", NOW, person="t:2", chats=["g"])
        await store.owe_replies("s", "e4", "r4", "[]", NOW)  # who and where unknown: kept
        deleted = await store.forget_person("t:1", (), ["1"], now=NOW)
        assert deleted["owed_replies"] == 2
        assert [e for e, _, _ in await store.owed_replies("t", NOW)] == ["e3"]
        assert [e for e, _, _ in await store.owed_replies("s", NOW)] == ["e4"]

    async def test_owed_replies_are_held_under_a_lease_and_taken_once_when_it_ran_out(
        self, store: Storage
    ) -> None:
        lease = timedelta(seconds=30)
        await store.owe_replies("t", "e1", "r1", "[1]", NOW, owner="A", lease=lease)
        await store.owe_replies("t", "e2", "r2", "[2]", NOW + timedelta(seconds=1))  # no holder
        await store.owe_replies("s", "e3", "r3", "[3]", NOW, owner="A", lease=lease)
        since = NOW - timedelta(minutes=10)
        # B takes what nobody holds; A's are A's while the lease holds.
        assert await store.claim_owed("t", "B", NOW, since, lease=lease) == [("e2", "r2", "[2]")]
        assert await store.claim_owed("t", "C", NOW, since, lease=lease) == []
        # A renews: still A's after the first lease would have run out.
        assert await store.renew_owed("t", "A", NOW + timedelta(seconds=20), lease) == 1
        later = NOW + timedelta(seconds=40)
        # B's lease (from NOW) ran out, A's (renewed) did not: of two claiming at once,
        # one gets e2, and neither e1.
        taken = await asyncio.gather(
            store.claim_owed("t", "C", later, since, lease=lease),
            store.claim_owed("t", "D", later, since, lease=lease),
        )
        assert sorted(taken) == [[], [("e2", "r2", "[2]")]]
        # A's own, at its adapter's start (``mine``); not for another owner.
        assert await store.claim_owed("t", "B", later, since, mine=True, lease=lease) == []
        assert await store.claim_owed("t", "A", later, since, mine=True, lease=lease) == [
            ("e1", "r1", "[1]")
        ]
        # Paid by someone who does not hold it (a repeat of the event): still owed.
        await store.paid_replies("t", ["e1"], owner="B")
        assert [e for e, *_ in await store.owed_replies("t", since)] == ["e1", "e2"]
        await store.paid_replies("t", ["e1"], owner="A")
        assert [e for e, *_ in await store.owed_replies("t", since)] == ["e2"]
        # Another platform's rows are apart; a released row is anyone's at once.
        assert await store.renew_owed("s", "A", later, lease) == 1
        assert await store.release_owed("s", "A") == 1
        assert await store.claim_owed("s", "B", later, since, lease=lease) == [("e3", "r3", "[3]")]
        assert await store.release_owed("s", "A") == 0
        # Too old to be worth sending: deleted, not taken.
        assert await store.claim_owed("t", "E", later + lease, later) == []
        assert await store.owed_replies("t", since) == []

    async def test_replies_are_owed_with_the_claim_or_not_at_all(self, store: Storage) -> None:
        with pytest.raises(RuntimeError):
            async with store.unit():
                await store.claim_event("t", "e9", NOW)
                await store.owe_replies("t", "e9", "r", "[]", NOW)
                raise RuntimeError("power cut")
        assert await store.owed_replies("t", NOW) == []
        assert await store.claim_event("t", "e9", NOW)


# --------------------------------------------------------------------------- handoffs


async def draft(store: Storage, person: str = "t:1", chat: str = "1") -> int:
    row = await store.save_draft(
        person=person,
        platform="t",
        chat=chat,
        language="fr",
        question="where is the form?",
        tried=["e1", "e2"],
        now=NOW,
    )
    return row.id


async def opened(store: Storage, person: str = "t:1", chat: str = "1") -> int:
    hid = await draft(store, person, chat)
    assert await store.open_handoff(
        hid,
        person=person,
        shared=False,
        name="Amina",
        society="Kenya RC",
        desk_platform="slack",
        desk_chat="CDESK",
        now=NOW,
    )
    return hid


class TestHandoffs:
    async def test_a_draft_is_replaced_and_opens_once_for_its_person(self, store: Storage) -> None:
        first = await draft(store)
        second = await draft(store)
        assert await store.get_handoff(first) is None  # the newer offer replaced it
        assert second != first  # and an old button cannot act on it
        row = await store.get_handoff(second)
        assert row is not None and row.status == "draft" and row.tried == ("e1", "e2")
        assert len(row.ref) == 8 and row.language == "fr" and row.desk_ref is None
        args = dict(
            shared=False, name="Amina", society="Kenya RC", desk_platform="slack", desk_chat="CDESK"
        )
        assert not await store.open_handoff(second, person="t:2", now=NOW, **args)  # not theirs
        results = await asyncio.gather(
            *(store.open_handoff(second, person="t:1", now=NOW, **args) for _ in range(3))
        )
        assert sorted(results) == [False, False, True]
        row = await store.get_handoff(second)
        assert row is not None and row.status == "open" and row.sent_at == NOW
        assert row.name is None and row.society is None  # not shared: not kept
        assert await store.current_handoff("t:1", "1") == row
        assert await store.current_handoff("t:1", "other chat") is None

    async def test_replies_reminders_helpful_and_closing(self, store: Storage) -> None:
        hid = await opened(store)
        assert [h.id for h in await store.handoffs_to_remind(NOW + timedelta(hours=1))] == [hid]
        assert await store.mark_reminded(hid, NOW)
        assert not await store.mark_reminded(hid, NOW)
        assert await store.handoffs_to_remind(NOW + timedelta(hours=1)) == []
        await store.note_desk_reply(hid, NOW + timedelta(minutes=5))
        await store.note_desk_reply(hid, NOW + timedelta(minutes=9))  # the first one stays
        await store.set_helpful(hid, False)
        row = await store.get_handoff(hid)
        assert row is not None and row.first_reply_at == NOW + timedelta(minutes=5)
        assert row.helpful is False and row.reminded_at == NOW
        assert await store.close_handoff(hid, "desk", NOW)
        assert not await store.close_handoff(hid, "asker", NOW)
        row = await store.get_handoff(hid)
        assert row is not None and row.status == "closed" and row.closed_by == "desk"
        assert await store.current_handoff("t:1", "1") is None
        assert [h.id for h in await store.handoffs_of("t:1")] == [hid]

    async def test_relays_move_once_through_their_states(self, store: Storage) -> None:
        hid = await opened(store)
        base = dict(handoff_id=hid, platform="slack", chat="CDESK", now=NOW)
        assert await store.queue_relay(
            kind="question", key="q", text="Q?", choices=[("Close", "ho:x:1")], **base
        )
        assert not await store.queue_relay(kind="question", key="q", text="again", **base)
        assert await store.queue_relay(kind="follow-up", key="f", text="F", in_thread=True, **base)
        assert await store.pending_relays(["telegram"], NOW) == []
        pending = await store.pending_relays(["slack"], NOW)
        assert [r.key for r in pending] == ["q", "f"]
        q, f = pending
        assert q.choices == (("Close", "ho:x:1"),) and not q.in_thread and f.in_thread
        claims = await asyncio.gather(*(store.claim_relay(q.id, NOW) for _ in range(3)))
        assert sorted(claims) == [False, False, True]
        await store.finish_relay(q.id, "sent", NOW, "CDESK:1.5")
        row = await store.get_handoff(hid)
        assert row is not None and row.desk_ref == "CDESK:1.5"
        assert await store.handoff_at("slack", "CDESK:1.5") == row
        assert await store.handoff_at("telegram", "CDESK:1.5") is None
        assert await store.claim_relay(f.id, NOW)
        await store.release_relay(f.id, NOW + timedelta(minutes=1))
        assert [r.key for r in await store.pending_relays(["slack"], NOW)] == []
        later = await store.pending_relays(["slack"], NOW + timedelta(minutes=1))
        assert [(r.key, r.attempts) for r in later] == [("f", 1)]
        assert await store.claim_relay(f.id, NOW)
        assert await store.recover_relays() == 1  # a restart
        lease = timedelta(seconds=30)
        assert await store.claim_relay(f.id, NOW, owner="A", lease=lease)
        assert await store.recover_relays(NOW + lease / 2) == 0  # A's lease holds
        assert await store.renew_relays("A", NOW + lease / 2, lease) == 1
        assert await store.renew_relays("B", NOW + lease / 2, lease) == 0
        assert await store.recover_relays(NOW + lease) == 0  # renewed: still A's
        assert await store.recover_relays(NOW + lease * 1.5) == 1  # A died
        assert await store.claim_relay(f.id, NOW)
        await store.finish_relay(f.id, "failed", NOW)
        states = {r.key: (r.state, r.ref) for r in await store.relays_of(hid)}
        assert states == {"q": ("sent", "CDESK:1.5"), "f": ("failed", None)}
        with pytest.raises(ValueError):
            await store.finish_relay(f.id, "claimed", NOW)

    async def test_a_relay_is_finished_or_released_only_by_its_claims_holder(
        self, store: Storage
    ) -> None:
        """A's lease lapsed and B took the row over: A's late report changes nothing."""
        hid = await opened(store)
        await store.queue_relay(
            handoff_id=hid, kind="question", platform="slack", chat="CDESK", key="q",
            text="Q?", now=NOW,
        )  # fmt: skip
        (row,) = await store.pending_relays(["slack"], NOW)
        lease = timedelta(seconds=30)
        assert await store.claim_relay(row.id, NOW, owner="A", lease=lease)
        assert await store.recover_relays(NOW + lease * 2) == 1  # A stopped renewing
        assert await store.claim_relay(row.id, NOW + lease * 2, owner="B", lease=lease)
        await store.finish_relay(row.id, "sent", NOW, "CDESK:A", owner="A")
        await store.release_relay(row.id, NOW, owner="A")
        (mine,) = await store.relays_of(hid)
        assert (mine.state, mine.ref) == ("claimed", None)  # still B's
        assert not await store.claim_relay(row.id, NOW + lease * 2, owner="C")
        await store.release_relay(row.id, NOW + lease * 2, owner="B")  # B may
        assert await store.claim_relay(row.id, NOW + lease * 2, owner="B", lease=lease)
        await store.finish_relay(row.id, "sent", NOW, "CDESK:B", owner="B")
        (mine,) = await store.relays_of(hid)
        assert (mine.state, mine.ref) == ("sent", "CDESK:B")

    async def test_forgetting_returns_what_was_shown_and_keeps_others(self, store: Storage) -> None:
        hid = await opened(store)
        other = await opened(store, "t:2", "2")
        for key, owner in (("mine", hid), ("theirs", other)):
            await store.queue_relay(
                handoff_id=owner, kind="question", platform="slack", chat="CDESK", key=key,
                text="x", now=NOW,
            )  # fmt: skip
            (row,) = [r for r in await store.pending_relays(["slack"], NOW) if r.key == key]
            assert await store.claim_relay(row.id, NOW)
            await store.finish_relay(row.id, "sent", NOW, f"CDESK:{key}")
        await store.queue_relay(
            handoff_id=None, kind="erase", platform="slack", chat="CDESK", key="e",
            text="[deleted]", now=NOW, edits="mine",
        )  # fmt: skip
        sent = await store.forget_handoffs("t:1")
        assert [(r.key, r.ref) for r in sent] == [("mine", "CDESK:mine")]
        assert await store.handoffs_of("t:1") == [] and await store.get_handoff(hid) is None
        assert await store.relays_of(hid) == []
        assert [h.id for h in await store.handoffs_of("t:2")] == [other]
        (erase,) = await store.pending_relays(["slack"], NOW)  # an erasure outlives its handoff
        assert erase.handoff_id is None and erase.edits == "mine" and erase.message_key == "mine"

    async def test_closed_handoffs_since_a_moment_oldest_first(self, store: Storage) -> None:
        first = await opened(store, "t:1", "1")
        second = await opened(store, "t:2", "2")
        still_open = await opened(store, "t:3", "3")
        await draft(store, "t:4", "4")
        assert await store.closed_handoffs() == []
        assert await store.close_handoff(second, "desk", NOW + timedelta(hours=1))
        assert await store.close_handoff(first, "asker", NOW + timedelta(hours=2))
        closed = await store.closed_handoffs()
        assert [h.id for h in closed] == [second, first]
        assert all(h.status == "closed" for h in closed) and still_open not in [
            h.id for h in closed
        ]
        later = await store.closed_handoffs(NOW + timedelta(minutes=90))
        assert [h.id for h in later] == [first]

    async def test_old_drafts_are_purged_but_not_sent_ones(self, store: Storage) -> None:
        old = await draft(store, "t:1", "1")
        sent = await opened(store, "t:2", "2")
        assert await store.purge_drafts(NOW) == 0
        assert await store.purge_drafts(NOW + timedelta(days=1)) == 1
        assert await store.get_handoff(old) is None and await store.get_handoff(sent) is not None


# --------------------------------------------------------------------------- send limits


class TestSendLimits:
    async def test_a_shared_limiter_gives_concurrent_senders_distinct_slots(
        self, store: Storage
    ) -> None:
        limiter = store.send_limiter()
        if limiter is None:  # one process: its outboxes keep the limits in memory
            assert isinstance(store, SqliteStorage)
            return
        chat = Rate("telegram:chat:1", 0.5)
        got = await asyncio.gather(*(limiter.reserve([chat], horizon=5.0) for _ in range(4)))
        waits = sorted(slot.wait for slot in got)
        assert all(slot.taken for slot in got) and waits[0] < 0.05
        assert all(0.4 < b - a <= 0.5 + 1e-6 for a, b in itertools.pairwise(waits))
        await limiter.pause(["telegram:chat:2"], 30.0)  # a 429 for that chat
        held = await limiter.reserve([Rate("telegram:chat:2", 0.5)])
        assert not held.taken and held.wait > 29.0
        assert (await limiter.reserve([Rate("telegram:chat:3", 0.5)])).taken


# --------------------------------------------------------------------------- roles


class TestLeases:
    async def test_a_role_has_one_holder_until_it_is_dropped_or_runs_out(
        self, store: Storage
    ) -> None:
        ttl = timedelta(seconds=30)
        assert await store.take_lease("telegram-polling:1", "a", NOW, ttl)
        assert not await store.take_lease("telegram-polling:1", "b", NOW, ttl)
        assert await store.take_lease("telegram-polling:2", "b", NOW, ttl)  # another role
        assert await store.take_lease("telegram-polling:1", "a", NOW + timedelta(seconds=20), ttl)
        later = NOW + timedelta(seconds=49)
        assert not await store.take_lease("telegram-polling:1", "b", later, ttl)  # renewed
        assert await store.take_lease("telegram-polling:1", "b", NOW + timedelta(seconds=50), ttl)
        await store.drop_lease("telegram-polling:1", "a")  # not a's any more: no change
        assert not await store.take_lease(
            "telegram-polling:1", "a", NOW + timedelta(seconds=51), ttl
        )
        await store.drop_lease("telegram-polling:1", "b")
        assert await store.take_lease("telegram-polling:1", "a", NOW + timedelta(seconds=51), ttl)

    async def test_concurrent_takers_of_a_free_role_get_it_once(self, store: Storage) -> None:
        ttl = timedelta(seconds=30)
        results = await asyncio.gather(
            *(store.take_lease("role", f"p{i}", NOW, ttl) for i in range(10))
        )
        assert results.count(True) == 1


# --------------------------------------------------------------------------- feedback and stats


class TestFeedback:
    async def test_questions_are_counted_per_day_platform_language_and_outcome(
        self, store: Storage
    ) -> None:
        later = NOW + timedelta(hours=5)  # the same UTC day
        for moment, outcome in ((NOW, "answer"), (later, "answer"), (NOW, "fallback")):
            await store.count_question(outcome=outcome, platform="t", language="fr", now=moment)
        await asyncio.gather(
            *(
                store.count_question(outcome="suggest", platform="s", language="en", now=NOW)
                for _ in range(5)
            )
        )
        await store.count_question(
            outcome="answer", platform="t", language="fr", now=NOW + timedelta(days=1)
        )
        day = NOW.replace(hour=0)
        counts = await store.question_counts()
        assert [(c.day, c.platform, c.language, c.outcome, c.count) for c in counts] == [
            (day, "s", "en", "suggest", 5),
            (day, "t", "fr", "answer", 2),
            (day, "t", "fr", "fallback", 1),
            (day + timedelta(days=1), "t", "fr", "answer", 1),
        ]
        # From the day of ``since`` on, whatever its hour.
        since = await store.question_counts(NOW + timedelta(days=1, hours=11))
        assert [c.count for c in since] == [1]

    async def test_an_answer_reference_lasts_the_window(self, store: Storage) -> None:
        ref = await store.save_answer(
            entry_id="e1", question="when?", language="fr", platform="t", now=NOW
        )
        assert len(ref) >= 12 and ref.isascii()
        answer = await store.get_answer(ref, NOW + timedelta(days=1))
        assert answer is not None
        assert (answer.entry_id, answer.question, answer.language, answer.platform) == (
            "e1",
            "when?",
            "fr",
            "t",
        )
        assert answer.at == NOW.replace(hour=0)  # the day only
        assert await store.get_answer("nope", NOW) is None
        assert await store.get_answer(ref, NOW + timedelta(days=8)) is None
        # A later answer purges the references past the window.
        await store.save_answer(
            entry_id="e2", question="", language="en", platform="t", now=NOW + timedelta(days=9)
        )
        assert await store.get_answer(ref, NOW) is None

    async def test_one_vote_per_voter_code_with_a_comment_on_thumbs_down(
        self, store: Storage
    ) -> None:
        ref = await store.save_answer(
            entry_id="e1", question="q\x00?", language="fr", platform="t", now=NOW
        )
        answer = await store.get_answer(ref, NOW)
        assert answer is not None
        results = await asyncio.gather(
            *(store.cast_feedback("code-a", answer, False, NOW) for _ in range(4))
        )
        assert results.count(None) == 1 and results.count(False) == 3  # counted once
        assert await store.comment_feedback("code-a", "wrong year")
        assert not await store.comment_feedback("code-x", "no such vote")
        assert await store.cast_feedback("code-b", answer, True, NOW + timedelta(days=2)) is None
        assert not await store.comment_feedback("code-b", "a 👍 takes no comment")
        votes = await store.feedback_since()
        assert [(v.entry_id, v.helpful, v.comment) for v in votes] == [
            ("e1", False, "wrong year"),
            ("e1", True, None),
        ]
        assert votes[0].language == "fr" and votes[0].platform == "t"
        assert votes[0].question.startswith("q") and votes[0].at == NOW.replace(hour=0)
        assert len(await store.feedback_since(NOW + timedelta(days=2, hours=3))) == 1
        # A changed mind: one row still, and the comment goes with the old verdict.
        assert await store.cast_feedback("code-a", answer, True, NOW) is False
        assert [v.helpful for v in await store.feedback_since()] == [True, True]
        assert [v.comment for v in await store.feedback_since()] == [None, None]

    async def test_gaps_are_counted_over_the_period_asked(self, store: Storage) -> None:
        """/stats since a day ranks the gaps by how often they were asked since then:
        an old frequent one neither outranks nor hides this period's."""
        old = NOW - timedelta(days=30)
        for n in range(5):
            await store.log_gap("visa letter", "suggest", "t", old + timedelta(minutes=n))
        await store.log_gap("Visa letter?", "fallback", "t", NOW + timedelta(hours=1))
        for n in range(2):
            await store.log_gap("hotel in Geneva", "fallback", "s", NOW + timedelta(minutes=n))
        await store.log_gap("only long ago", "fallback", "t", old)
        period = await store.gaps(10, NOW - timedelta(days=1))
        assert [(g.question, g.count, g.status) for g in period] == [
            ("hotel in Geneva", 2, "fallback"),
            ("Visa letter?", 1, "fallback"),
        ]
        assert period[0].last_asked == NOW + timedelta(minutes=1)
        ever = await store.gaps(10)
        assert [(g.question, g.count) for g in ever] == [
            ("Visa letter?", 6),
            ("hotel in Geneva", 2),
            ("only long ago", 1),
        ]
        assert await store.gaps(1, NOW - timedelta(days=1)) == period[:1]
        assert await store.gaps(10, NOW + timedelta(days=1)) == []

    async def test_votes_are_purged_by_their_day(self, store: Storage) -> None:
        ref = await store.save_answer(
            entry_id="e1", question="q?", language="en", platform="t", now=NOW
        )
        answer = await store.get_answer(ref, NOW)
        assert answer is not None
        for n, code in enumerate(("old", "edge", "new")):
            await store.cast_feedback(code, answer, False, NOW + timedelta(days=n))
            assert await store.comment_feedback(code, f"comment {code}")
        # Before the day of ``before``, whatever its hour: the day's votes stay whole.
        assert await store.purge_feedback(NOW + timedelta(days=1, hours=11)) == 1
        left = await store.feedback_since()
        assert [v.comment for v in left] == ["comment edge", "comment new"]
        assert await store.purge_feedback(NOW + timedelta(days=1, hours=11)) == 0
        assert await store.purge_feedback(NOW + timedelta(days=30)) == 2
        assert await store.feedback_since() == []

    async def test_desk_reply_times_of_sent_questions(self, store: Storage) -> None:
        args = dict(shared=False, name=None, society=None, desk_platform="slack", desk_chat="CDESK")
        sent = await draft(store)
        await store.open_handoff(sent, person="t:1", now=NOW, **args)
        await store.note_desk_reply(sent, NOW + timedelta(hours=2))
        waiting = await store.save_draft(
            person="t:2", platform="t", chat="2", language="en", question="?", tried=[], now=NOW
        )
        later = NOW + timedelta(days=1)
        await store.open_handoff(waiting.id, person="t:2", now=later, **args)
        await draft(store, person="t:3")  # a draft was never sent: not counted
        assert await store.desk_reply_times() == [
            (NOW, NOW + timedelta(hours=2)),
            (later, None),
        ]
        assert await store.desk_reply_times(NOW + timedelta(hours=1)) == [(later, None)]
