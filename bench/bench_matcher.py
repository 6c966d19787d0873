"""Matcher speed and memory beside a naive peer: prints numbers, asserts nothing.

    python bench/bench_matcher.py                 # shipped KB, 10,000 and 100,000 phrasings
    python bench/bench_matcher.py --phrasings 0 10000   # only the shipped KB and 10,000
    python bench/bench_matcher.py --sizes 7 70    # also the shipped KB copied 7 and 70 times
    python bench/bench_matcher.py --startup-only  # only the start-up figures

For each size: index build time and peak memory, match p50/p99 over the evaluation
questions, and the naive peer (rapidfuzz ``extractOne`` over every phrasing) measured in
the same run. Then, on the shipped KB: ``nsbot ask`` start-up, time to the first
``nsbot chat`` prompt, each beside a naive peer started the same way (a script that
reads the YAML files with ``yaml.safe_load`` and answers with ``extractOne``, see
``NAIVE``), and the event loop's lag while 8 chats are matched at once.
Bigger knowledge bases are the shipped entries copied with a distinguishing word, so the
index grows the way a bigger curated one would. Run it on an idle machine, one core:
``taskset -c 0 python bench/bench_matcher.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import pty
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bot import wordlists
from bot.config import shipped_knowledge_dir
from bot.evaluation import Baseline, load_split
from bot.knowledge import Entry, KnowledgeBase, load_knowledge
from bot.matcher import Matcher
from bot.turns import Turns

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO / "tests" / "eval"


def scaled(kb: KnowledgeBase, factor: int, limit: int | None = None) -> KnowledgeBase:
    """The shipped entries copied ``factor - 1`` times, stopping once the knowledge base
    holds ``limit`` phrasings (the issue's targets are set at 10,000 and 100,000)."""
    if factor <= 1:
        return kb
    entries = dict(kb.entries)
    count = phrasings(kb)
    for i in range(1, factor):
        for entry in kb.entries.values():
            if limit is not None and count >= limit:
                break
            count += phrasings_of(entry)
            tag = f"variant{i}"
            copy = dataclasses.replace(
                entry,
                id=f"{entry.id[:30]}-v{i}",
                questions=tuple(f"{q} {tag}" for q in entry.questions),
                related=(),
                aliases=(),
            )
            entries[copy.id] = copy
    return dataclasses.replace(kb, entries=entries, aliases={})


def phrasings_of(entry: Entry) -> int:
    return len(entry.questions) + sum(len(t.questions) for t in entry.translations.values())


def phrasings(kb: KnowledgeBase) -> int:
    return sum(phrasings_of(e) for e in kb.entries.values())


def to_size(kb: KnowledgeBase, target: int) -> KnowledgeBase:
    """The knowledge base grown to (about) ``target`` phrasings; 0 is the shipped one."""
    if target <= phrasings(kb):
        return kb
    return scaled(kb, -(-target // phrasings(kb)), limit=target)


def timings(fn: object, questions: list[str], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            fn(q)  # type: ignore[operator]
            out.append((time.perf_counter() - t) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def one_size(kb: KnowledgeBase, questions: list[str], rounds: int) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    matcher = Matcher(kb)
    build = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    baseline = Baseline(kb)
    ours = timings(matcher.match, questions, rounds)
    naive = timings(baseline.answer, questions, max(1, rounds // 3))
    print(
        f"{phrasings(kb):>8} phrasings | build {build:6.2f} s, peak {peak / 2**20:6.1f} MiB | "
        f"match p50 {p(ours, 50):6.2f} ms p99 {p(ours, 99):6.2f} ms | "
        f"naive extractOne p50 {p(naive, 50):6.2f} ms p99 {p(naive, 99):6.2f} ms | "
        f"naive/ours at p99 {p(naive, 99) / p(ours, 99):5.1f}x"
    )


# The naive peer of the start-up figures: a bot that reads the same YAML files with
# yaml.safe_load at every start, keeps no cache and no index, and answers with
# rapidfuzz's extractOne. Run like ours: ``ask QUESTION`` answers one; ``chat`` shows a
# "> " prompt, as the terminal chat does, and answers each line until "quit".
NAIVE = r"""
import sys
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

questions, answers = [], []


def walk(node):
    if isinstance(node, dict):
        for q in node.get("questions") or []:
            questions.append(str(q))
            answers.append(node.get("answer"))
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            walk(child)


for path in [Path("faq.yaml"), *sorted(Path("knowledge", "translations").glob("*.yaml"))]:
    walk(yaml.safe_load(path.read_text(encoding="utf-8")))


def answer(question):
    best = process.extractOne(question, questions, scorer=fuzz.WRatio)
    return answers[best[2]] if best else None


if sys.argv[1] == "ask":
    print(answer(sys.argv[2]))
else:
    while True:
        sys.stdout.write("\n> ")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            break
        print(answer(line))
"""


def _cpu_of(pid: int) -> float:
    """CPU seconds a running process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _median_run(command: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of a command run to its end. CPU time is the steadier
    figure on a machine other work shares; wall time is what a person waits."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(command, env=env, cwd=REPO, capture_output=True, check=True)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def _median_prompt(command: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds until a chat shows its first "> " prompt."""
    walls, cpus = [], []
    for _ in range(runs):
        # A pseudo-terminal: the chat shows its "> " prompt only to a person at a terminal.
        leader, follower = pty.openpty()
        t = time.perf_counter()
        proc = subprocess.Popen(
            command, env=env, cwd=REPO, stdin=follower, stdout=follower, stderr=subprocess.DEVNULL
        )
        seen = b""
        while b"\n> " not in seen.replace(b"\r", b""):
            chunk = os.read(leader, 4096)
            if not chunk:
                break
            seen += chunk
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu_of(proc.pid))
        os.write(leader, b"quit\n")
        proc.wait(timeout=30)
        os.close(leader)
        os.close(follower)
    return statistics.median(walls), statistics.median(cpus)


def startup(runs: int) -> None:
    """Start-up as a person meets it the second time: the index cache and the compiled
    bytecode written by a first run (both in a fresh folder of this run, so no other
    checkout's files are used), ours and the naive peer alike."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NSBOT_", "TELEGRAM_", "SLACK_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env |= {"NSBOT_CACHE_DIR": str(scratch / "cache"), "NSBOT_DB": str(scratch / "chat.sqlite3")}
    python = [sys.executable, "-X", f"pycache_prefix={scratch / 'pyc'}"]
    question = "who chairs the mrg"
    ours_ask = [*python, "-m", "bot", "ask", question]
    ours_chat = [*python, "-m", "bot", "chat"]
    naive_ask = [*python, "-c", NAIVE, "ask", question]
    naive_chat = [*python, "-c", NAIVE, "chat"]
    for command in (ours_ask, naive_ask):  # the first run: bytecode and cache written
        subprocess.run(command, env=env, cwd=REPO, capture_output=True, check=True)
    _median_prompt(ours_chat, env, 1)  # the chat's own first start (checks, its cache)
    floor, _ = _median_run([*python, "-c", "pass"], env, runs)
    ask = _median_run(ours_ask, env, runs), _median_run(naive_ask, env, runs)
    chat = _median_prompt(ours_chat, env, runs), _median_prompt(naive_chat, env, runs)
    for what, (ours, naive) in [
        ("nsbot ask start-up to answer", ask),
        ("nsbot chat to its first prompt", chat),
    ]:
        print(
            f"{what}: median {ours[0]:.2f} s wall, {ours[1]:.2f} s CPU | naive peer "
            f"{naive[0]:.2f} s wall, {naive[1]:.2f} s CPU | ours/naive {ours[0] / naive[0]:.2f} "
            f"wall, {ours[1] / naive[1]:.2f} CPU ({runs} runs each)"
        )
    print(f"bare python start-up: {floor:.2f} s wall")
    shutil.rmtree(scratch, ignore_errors=True)


async def loop_lag(matcher: Matcher, warm: list[str], questions: list[str], turns: bool) -> float:
    """p99 lag of a 1 ms timer while 8 chats match at once: in turns, as the FAQ handler
    does (bot/turns.py), or each on the loop at once (the naive peer)."""
    lags: list[float] = []
    stop = asyncio.Event()
    matching = Turns()

    async def probe() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append((time.perf_counter() - t - 0.001) * 1000)

    async def chat(offset: int) -> None:
        for q in questions[offset::8]:
            if turns:
                await matching.run(matcher.match, q)
            else:
                matcher.match(q)
            await asyncio.sleep(0)

    for q in warm:  # a bot that has been up a while (other questions than those measured)
        matcher.match(q)
    prober = asyncio.create_task(probe())
    await asyncio.gather(*(chat(i) for i in range(8)))
    stop.set()
    await prober
    return p(lags, 99)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--phrasings",
        type=int,
        nargs="*",
        default=[0, 10_000, 100_000],
        help="knowledge-base sizes in phrasings (0: the shipped KB), as the issue sets them",
    )
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[], help="also: the shipped KB copied N times"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--startup-runs", type=int, default=7, help="runs of each start-up")
    parser.add_argument(
        "--startup-only", action="store_true", help="only the start-up figures (no matching)"
    )
    args = parser.parse_args()
    if args.startup_only:
        startup(args.startup_runs)
        return
    kb = load_knowledge(shipped_knowledge_dir())
    questions = [item.q for item in load_split(EVAL, "dev")]
    grown = [to_size(kb, n) for n in args.phrasings] + [scaled(kb, f) for f in args.sizes]
    for big in grown:
        one_size(big, questions if big is kb else questions[:300], args.rounds)
    startup(args.startup_runs)
    wordlists.preload()  # as running_core() does before serving
    heldout = [item.q for item in load_split(EVAL, "heldout")]
    matcher = Matcher(kb)
    ours = asyncio.run(loop_lag(matcher, questions, heldout, turns=True))
    naive = asyncio.run(loop_lag(matcher, questions, heldout, turns=False))
    print(
        f"event-loop lag with 8 chats matched at once: p99 {ours:.2f} ms in turns "
        f"(as the bot does), {naive:.2f} ms all at once (naive)"
    )


if __name__ == "__main__":
    main()
