"""Matching in turns (bot/turns.py): one call per loop turn, in order, results returned."""

from __future__ import annotations

import asyncio

from bot.turns import Turns


async def test_calls_from_many_chats_run_one_per_loop_turn_in_order() -> None:
    loop = asyncio.get_running_loop()
    turn = 0
    running = True

    def tick() -> None:  # counts the loop's turns: it runs once in each
        nonlocal turn
        turn += 1
        if running:
            loop.call_soon(tick)

    loop.call_soon(tick)
    turns = Turns()
    seen: list[tuple[int, int]] = []

    def work(i: int) -> int:
        seen.append((i, turn))
        return i * i

    results = await asyncio.gather(*(turns.run(work, i) for i in range(8)))
    running = False
    assert results == [i * i for i in range(8)]
    assert [i for i, _ in seen] == list(range(8))
    assert len({t for _, t in seen}) == 8  # no two calls shared a turn of the loop


async def test_an_exception_reaches_the_caller_and_frees_the_turn() -> None:
    turns = Turns()

    def boom() -> None:
        raise ValueError("no")

    try:
        await turns.run(boom)
    except ValueError:
        pass
    else:
        raise AssertionError("the exception was swallowed")
    assert await asyncio.wait_for(turns.run(len, "abc"), 1) == 3
