"""Matcher speed and memory: prints numbers, asserts nothing (tests never time things).

    python bench/bench_matcher.py            # the shipped knowledge base
    python bench/bench_matcher.py --scale 40 # the shipped entries copied 40 times (~5,000)

Copies keep their phrasings with a distinguishing word added, so the index grows the
way a bigger curated knowledge base would: more entries, more vocabulary.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
import tracemalloc
from pathlib import Path

import yaml

from bot.config import shipped_knowledge_dir
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.matcher import Matcher

EVAL = Path(__file__).resolve().parent.parent / "tests" / "eval" / "questions.yaml"


def scaled(kb: KnowledgeBase, factor: int) -> KnowledgeBase:
    if factor <= 1:
        return kb
    entries = dict(kb.entries)
    for i in range(1, factor):
        for entry in kb.entries.values():
            tag = f"variant{i}"
            copy = dataclasses.replace(
                entry,
                id=f"{entry.id[:30]}-v{i}",
                questions=tuple(f"{q} {tag}" for q in entry.questions),
                related=(),
            )
            entries[copy.id] = copy
    return dataclasses.replace(kb, entries=entries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    kb = scaled(load_knowledge(shipped_knowledge_dir()), args.scale)
    questions = [item["q"] for item in yaml.safe_load(EVAL.read_text())["in_scope"]]
    questions += yaml.safe_load(EVAL.read_text())["out_of_scope"]

    tracemalloc.start()
    started = time.perf_counter()
    matcher = Matcher(kb)
    build = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    timings = []
    for _ in range(args.rounds):
        for q in questions:
            t = time.perf_counter()
            matcher.match(q)
            timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95)]
    print(
        f"entries: {len(kb.entries)}  phrasings indexed: {sum(len(e.questions) for e in kb.entries.values())}"
    )
    print(f"index build: {build * 1000:.0f} ms  peak memory during build: {peak / 1e6:.1f} MB")
    print(
        f"match latency over {len(timings)} questions: median {statistics.median(timings):.2f} ms, "
        f"p95 {p95:.2f} ms, max {timings[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
