"""A poll's counts, kept beside its votes: what one voter's change does to them.

Both storage backends keep one row per (poll, option) with its number of votes, and
the poll's number of voters, updated in the transaction that changes the votes. The
tally then reads as many rows as the poll has options, however many people voted.
"""

from __future__ import annotations

from collections.abc import Iterable


def voted_after(
    before: Iterable[int], option: int, *, multi: bool, removed: bool
) -> tuple[int, ...]:
    """A voter's options after pressing ``option``, in order, without reading them
    back: one choice replaces the vote; several toggle it (``removed``: it was
    taken back; a double tap's second press keeps it, as an INSERT OR IGNORE does)."""
    if not multi:
        return (option,)
    mine = set(before)
    if removed:
        mine.discard(option)
    else:
        mine.add(option)
    return tuple(sorted(mine))


def count_changes(before: Iterable[int], after: Iterable[int]) -> tuple[list[tuple[int, int]], int]:
    """One voter's options before and after a change, as (option, +1 or -1) for the
    counts, in option order (rows are always locked in the same order: two changes
    at once cannot deadlock), and the change to the number of voters (-1, 0 or +1)."""
    old, new = set(before), set(after)
    deltas = [(o, 1) for o in new - old] + [(o, -1) for o in old - new]
    return sorted(deltas), int(bool(new)) - int(bool(old))


def removed_votes(
    options: Iterable[tuple[int, int, str]],
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    """Votes deleted at once (/forget: rows of (poll, option, voter)) as the count
    changes (poll, option, -n) and voter changes (poll, -voters), in key order."""
    counts: dict[tuple[int, int], int] = {}
    voters: dict[int, set[str]] = {}
    for poll_id, option, voter in options:
        counts[(poll_id, option)] = counts.get((poll_id, option), 0) + 1
        voters.setdefault(poll_id, set()).add(voter)
    return (
        [(p, o, -n) for (p, o), n in sorted(counts.items())],
        [(p, -len(v)) for p, v in sorted(voters.items())],
    )
