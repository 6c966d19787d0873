"""The shared send limiter in PostgreSQL (the algorithm: :mod:`bot.send_limits`).

One row per key holds its arrival time, in seconds of the database server's clock, so
replicas on machines whose clocks disagree still agree on the slots. A reservation is
one statement, a call of ``nsbot_reserve_send``: it locks the send's keys (advisory
locks, in one order, so two sends sharing keys queue instead of deadlocking), takes the
latest moment they allow, moves them, and returns how long the caller waits.

The table is UNLOGGED (no write-ahead log: a reservation costs no disk flush), and a
server crash only forgets the last few seconds of spacing. A key's row is deleted once
its moment has passed (by the next reservations, a few at a time), so a private chat's
key does not outlive the second or so its spacing lasts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.send_limits import HORIZON, Rate, SharedLimiter, Slot

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

# The first half of the advisory lock keys (the second is the key's hash): "sl".
LOCK_CLASS = 0x736C

SCHEMA = f"""
CREATE UNLOGGED TABLE send_slots (
    key TEXT PRIMARY KEY,
    tat DOUBLE PRECISION NOT NULL  -- epoch seconds on the server's clock
);
CREATE INDEX send_slots_tat ON send_slots (tat);

CREATE FUNCTION nsbot_lock_send_keys(keys TEXT[]) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    h INTEGER;
BEGIN
    FOR h IN SELECT DISTINCT hashtext(k) FROM unnest(keys) AS k ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock({LOCK_CLASS}, h);
    END LOOP;
END $$;

CREATE FUNCTION nsbot_reserve_send(
    keys TEXT[], steps DOUBLE PRECISION[], tolerances DOUBLE PRECISION[],
    horizon DOUBLE PRECISION, OUT wait DOUBLE PRECISION, OUT taken BOOLEAN
)
LANGUAGE plpgsql AS $$
DECLARE
    now_s DOUBLE PRECISION;
    slot DOUBLE PRECISION;
    i INTEGER;
BEGIN
    PERFORM nsbot_lock_send_keys(keys);
    now_s := extract(epoch FROM clock_timestamp());  -- after the wait for the locks
    SELECT greatest(now_s, max(s.tat - u.tolerance)) INTO slot
    FROM send_slots s JOIN unnest(keys, tolerances) AS u(key, tolerance) ON s.key = u.key;
    wait := slot - now_s;
    taken := wait <= horizon;
    IF NOT taken THEN
        RETURN;  -- too far: nothing moves, the caller asks again then
    END IF;
    FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
        INSERT INTO send_slots (key, tat) VALUES (keys[i], slot + steps[i])
        ON CONFLICT (key) DO UPDATE SET tat = greatest(send_slots.tat, slot) + steps[i];
    END LOOP;
    -- Keys whose moment has passed limit nothing: forget a few (never waiting for one
    -- another send holds; a row deleted under a reservation is simply written again).
    DELETE FROM send_slots WHERE key IN (
        SELECT key FROM send_slots WHERE tat < now_s - 1
        ORDER BY tat LIMIT 20 FOR UPDATE SKIP LOCKED
    );
END $$;

CREATE FUNCTION nsbot_pause_send(keys TEXT[], seconds DOUBLE PRECISION) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    until DOUBLE PRECISION;
    k TEXT;
BEGIN
    PERFORM nsbot_lock_send_keys(keys);
    until := extract(epoch FROM clock_timestamp()) + seconds;
    FOREACH k IN ARRAY keys LOOP
        INSERT INTO send_slots (key, tat) VALUES (k, until)
        ON CONFLICT (key) DO UPDATE SET tat = greatest(send_slots.tat, until);
    END LOOP;
END $$;
"""


class PostgresLimiter(SharedLimiter):
    """Slots reserved in the database every replica uses.

    Not through the storage's unit-of-work gate: a send must not wait for a batch of
    events to commit, and a reservation is its own transaction."""

    def __init__(self, pool: Callable[[], asyncpg.Pool[asyncpg.Record]]) -> None:
        self._pool = pool  # the storage's, once it is open

    async def reserve(self, rates: Sequence[Rate], horizon: float = HORIZON) -> Slot:
        if not rates:
            return Slot(0.0, True)
        row = await self._pool().fetchrow(
            "SELECT wait, taken FROM nsbot_reserve_send($1::text[], $2::float8[], $3::float8[], $4)",
            [r.key for r in rates],
            [r.step for r in rates],
            [r.tolerance for r in rates],
            float(horizon),
        )
        assert row is not None
        return Slot(max(0.0, float(row[0])), bool(row[1]))

    async def pause(self, keys: Sequence[str], seconds: float) -> None:
        if keys and seconds > 0:
            await self._pool().execute(
                "SELECT nsbot_pause_send($1::text[], $2::float8)", list(keys), float(seconds)
            )
