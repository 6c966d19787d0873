"""``kill -9`` in a loop while votes pour in, beside a naive peer in the same run.

    python bench/bench_kill.py                  # 3,000 votes, 20 kills each side
    python bench/bench_kill.py --votes 1000 --kills 10

A child process takes votes (button presses on one multiple-choice poll, one voter
each) 50 at a time through ``Core.handle`` and prints ``ack <n>`` once a vote's
handling returned: that is when an adapter acknowledges it to the platform. The parent
kills the child with SIGKILL at random moments and starts it again, re-delivering every
vote not acknowledged (as Telegram and Slack re-deliver), until all are acknowledged.
Then it counts: acknowledged votes lost, votes counted twice (in a multiple-choice poll
a second handling would untick it), votes in flight at a kill that were lost.

The naive peer does what the core did before: the event's claim committed in one
transaction, the vote in a second; a kill between the two loses the vote for good (the
re-delivery is ignored as already seen). Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
IN_FLIGHT = 50


async def child_core(db: Path, votes: list[int]) -> None:
    from bot.core import Core
    from bot.knowledge import load_knowledge
    from bot.messages import Chat, Incoming, Person
    from bot.storage import SqliteStorage
    from tests.consult_helpers import settings_for

    settings = settings_for(db.parent)
    async with SqliteStorage(db) as storage:
        if await storage.get_poll(1) is None:
            await storage.create_poll(
                platform="test",
                chat="g",
                question="Q?",
                options=("a", "b"),
                multi=True,
                anonymous=True,
                created_by="test:coord",
                closes_at=None,
                now=datetime.now(UTC),
            )
        core = Core(settings, load_knowledge(settings.knowledge_dir), storage)
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def vote(n: int) -> None:
            async with gate:
                print(f"take {n}", flush=True)
                message = Incoming(
                    Person("test", f"v{n}"),
                    Chat("g", private=False),
                    action=f"pv:1:{n % 2}",
                    event_id=f"e{n}",
                )
                await core.handle(message)
                print(f"ack {n}", flush=True)

        await asyncio.gather(*(vote(n) for n in votes))


async def child_naive(db: Path, votes: list[int]) -> None:
    import aiosqlite

    conn = await aiosqlite.connect(str(db), isolation_level=None)
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=FULL")
    await conn.execute("CREATE TABLE IF NOT EXISTS seen (event TEXT PRIMARY KEY)")
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS votes (voter TEXT, option INTEGER, PRIMARY KEY (voter, option))"
    )
    lock = asyncio.Lock()
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def vote(n: int) -> None:
        async with gate:
            print(f"take {n}", flush=True)
            async with (
                lock,
                conn.execute("INSERT OR IGNORE INTO seen VALUES (?)", (f"e{n}",)) as cur,
            ):
                fresh = cur.rowcount == 1
            if fresh:
                await asyncio.sleep(0)  # other work between the claim and the effect
                async with lock:
                    await conn.execute("BEGIN IMMEDIATE")
                    # a toggle: a second handling would remove the vote
                    async with conn.execute(
                        "DELETE FROM votes WHERE voter = ? AND option = ?", (f"v{n}", n % 2)
                    ) as cur:
                        removed = cur.rowcount
                    if not removed:
                        await conn.execute("INSERT INTO votes VALUES (?, ?)", (f"v{n}", n % 2))
                    await conn.execute("COMMIT")
            print(f"ack {n}", flush=True)

    await asyncio.gather(*(vote(n) for n in votes))
    await conn.close()


def counted(db: Path, naive: bool) -> set[int]:
    with sqlite3.connect(db) as conn:
        if naive:
            rows = conn.execute("SELECT voter FROM votes").fetchall()
            return {int(r[0][1:]) for r in rows}
        rows = conn.execute("SELECT COUNT(DISTINCT voter) FROM poll_votes").fetchall()
        return set(range(int(rows[0][0])))  # anonymous: only how many (checked below)


def run(name: str, folder: Path, votes: int, kills: int, naive: bool) -> None:
    db = folder / f"{name}.sqlite3"
    acked: set[int] = set()
    in_flight_at_kill: set[int] = set()
    killed = 0
    rng = random.Random(7)
    while len(acked) < votes:
        todo = [n for n in range(votes) if n not in acked]
        child = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                "naive" if naive else "core",
                str(db),
                ",".join(map(str, todo)),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert child.stdout is not None
        taken: set[int] = set()
        timer = None
        for line in child.stdout:
            word, _, n = line.partition(" ")
            if word == "take":
                taken.add(int(n))
            elif word == "ack":
                acked.add(int(n))
                if timer is None and killed < kills:  # kill a while into the work
                    timer = threading.Timer(
                        rng.uniform(0.02, 0.3), lambda c=child: c.send_signal(signal.SIGKILL)
                    )
                    timer.start()
        code = child.wait()
        if timer is not None:
            timer.cancel()
        if code == -signal.SIGKILL:
            killed += 1
            in_flight_at_kill |= taken - acked
    got = counted(db, naive)
    with sqlite3.connect(db) as conn:
        table = "votes" if naive else "poll_votes"
        stored = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    # Every vote was acknowledged in the end. A vote handled twice in a multiple-choice
    # poll is unticked (it shows as lost); a voter with two rows would be counted twice.
    lost = votes - len(got)
    twice = stored - len(got)
    print(
        f"  {name:<11} kills {killed:>3}   acknowledged {len(acked)}   counted {len(got)}   "
        f"lost {lost}   counted twice {twice}   in flight at the kills {len(in_flight_at_kill)}"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, db, todo = sys.argv[2], Path(sys.argv[3]), sys.argv[4]
        votes = [int(n) for n in todo.split(",") if n]
        asyncio.run((child_naive if kind == "naive" else child_core)(db, votes))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--votes", type=int, default=3000)
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()
    print(f"kill -9 loop: {args.votes} votes, {args.kills} kills each, {IN_FLIGHT} in flight")
    with tempfile.TemporaryDirectory() as tmp:
        run("nsbot", Path(tmp), args.votes, args.kills, naive=False)
        run("naive peer", Path(tmp), args.votes, args.kills, naive=True)


if __name__ == "__main__":
    main()
