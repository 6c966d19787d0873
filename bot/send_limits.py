"""Platform send limits that hold for every replica together.

Each replica's :class:`~bot.outbox.Outbox` spaces its own sends, but Telegram counts a
bot's messages whichever process sends them: three replicas each sending one message a
second to a group send three. So before a send, the outbox reserves a slot for the
send's keys (its chat, its group, the whole bot) in a limiter every replica shares, and
waits for it. The PostgreSQL backend keeps the limiter in the database
(:mod:`bot.storage.postgres.send_limits`), one statement per send; SQLite serves one
process, whose outbox limits are then the only ones.

The algorithm is GCRA (the "generic cell rate algorithm", a token bucket kept as one
moment per key): a key with ``step`` seconds between sends and a ``burst`` keeps its
"theoretical arrival time" ``tat``. A send may go at ``t >= tat - (burst - 1) * step``;
it then moves ``tat`` to ``max(tat, t) + step``. A send with several keys goes at the
latest moment any of them allows, and moves them all.

A live tally's intermediate states in a group leave one slot of the group's burst
free (``Rate.reserved``: a smaller tolerance on the same key), so its final state,
which uses the whole burst, never waits behind them.

A slot is taken only when it is near (within :data:`HORIZON`); a farther one is only
announced, and the sender asks again then. Otherwise a message to a chat told to wait
(a 429, a group's full minute) would take the whole bot's slot that far ahead, and
every other chat would wait with it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.outbox import Limits

GROUP_WINDOW = 60.0  # seconds over which a group's messages are counted
GROUP_BURST = 5  # a group's messages that may go at once before the spacing applies
HORIZON = 0.1  # seconds: a slot this near is taken; a farther one is asked for again then


@dataclass(frozen=True)
class Rate:
    """One limit a send counts against: at most ``burst`` back to back, one per ``step``
    seconds in the long run."""

    key: str
    step: float
    burst: int = 1
    reserved: int = 0  # of the burst, slots this send must leave to others

    @property
    def tolerance(self) -> float:
        """How far ahead of its key's arrival time a send may go."""
        return max(0, self.burst - 1 - self.reserved) * self.step


def group_rate(key: str, per_minute: int, burst: int = GROUP_BURST) -> Rate:
    """``per_minute`` messages in any minute, a few of them at once.

    GCRA lets at most ``floor((W + tolerance) / step) + 1`` sends into any window of W
    seconds; with ``step = 60 / (per_minute - burst + 1)`` that is ``per_minute`` for a
    minute, whatever the order of bursts and pauses."""
    burst = max(1, min(burst, per_minute))
    return Rate(key, GROUP_WINDOW / (per_minute - burst + 1), burst)


def chat_key(scope: str, chat_id: str) -> str:
    """The key of one chat's spacing on platform ``scope``. A private chat's names the
    person (on Telegram, their account id): /forget deletes it."""
    return f"{scope}:chat:{chat_id}"


def send_rates(
    scope: str, limits: Limits, chat_id: str, *, group: bool, live: bool = False
) -> list[Rate]:
    """The keys one message to ``chat_id`` counts against on platform ``scope``.

    ``live``: an intermediate state of a live tally in a group, which leaves one slot
    of the group's burst to the tally's final state (as :class:`~bot.outbox.Outbox`
    does alone): the final count goes at once after a burst of edits, instead of a
    group spacing (3.75 s on Telegram) later."""
    rates = []
    if limits.per_chat_interval > 0:
        rates.append(Rate(chat_key(scope, chat_id), limits.per_chat_interval))
    if group and limits.group_per_minute:
        rate = group_rate(f"{scope}:group:{chat_id}", limits.group_per_minute)
        if live:
            rate = Rate(rate.key, rate.step, rate.burst, reserved=1)
        rates.append(rate)
    if limits.global_per_second > 0:
        rates.append(Rate(f"{scope}:bot", 1.0 / limits.global_per_second))
    return rates


@dataclass(frozen=True)
class Slot:
    wait: float  # seconds until the slot
    taken: bool  # reserved for the caller (it sends then); else ask again in ``wait``


class SharedLimiter(ABC):
    """A limiter every replica on one database shares."""

    @abstractmethod
    async def reserve(self, rates: Sequence[Rate], horizon: float = HORIZON) -> Slot:
        """The earliest slot all ``rates`` allow, taken when it is at most ``horizon``
        seconds away. A taken slot is the caller's: it sends then, or wastes it."""

    @abstractmethod
    async def pause(self, keys: Sequence[str], seconds: float) -> None:
        """The platform said "retry after ``seconds``" for these keys: no replica
        reserves a slot on them before then."""


def reserve_slot(
    tats: dict[str, float], rates: Sequence[Rate], now: float, horizon: float = HORIZON
) -> tuple[float, dict[str, float]]:
    """GCRA for several keys at once: (the moment the send may go, the keys' new
    arrival times: none when the slot is beyond the horizon, so not taken). The
    reference the SQL of the PostgreSQL limiter follows."""
    slot = max([now] + [tats[r.key] - r.tolerance for r in rates if r.key in tats])
    if slot - now > horizon:
        return slot, {}
    return slot, {r.key: max(tats.get(r.key, slot), slot) + r.step for r in rates}


class MemoryLimiter(SharedLimiter):
    """The same algorithm in one process's memory: what the outbox tests run against
    on virtual time, and a model of the PostgreSQL limiter."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._tats: dict[str, float] = {}

    async def reserve(self, rates: Sequence[Rate], horizon: float = HORIZON) -> Slot:
        now = self._clock()
        slot, moved = reserve_slot(self._tats, rates, now, horizon)
        self._tats.update(moved)
        # Forget keys whose spacing has passed: nothing to remember about a quiet chat.
        for key in [k for k, tat in self._tats.items() if tat < now]:
            del self._tats[key]
        return Slot(slot - now, bool(moved) or not rates)

    async def pause(self, keys: Sequence[str], seconds: float) -> None:
        until = self._clock() + seconds
        for key in keys:
            self._tats[key] = max(self._tats.get(key, until), until)
