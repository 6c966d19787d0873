"""Quick polls: one question a coordinator posts from chat, answered with buttons.

``/poll Which topic first? | Access to services | Climate displacement --closes 48h``
posts the question with one button per option. The posted message carries the live
tally under the durable key ``poll-<id>``, so adapters edit it in place (and coalesce
bursts of edits); closing shows the final results in the same message. That message is
worded in the language of the coordinator who posted the poll, whoever votes; each
voter's own confirmation is in the voter's language.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot import leases, markup
from bot.dates import ENGLISH, DateStyle
from bot.errors import BotError
from bot.messages import Chat, Choice, Reply
from bot.results import bar, percent
from bot.storage.base import PollRow, PollTally
from bot.ui import UI

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

Translate = Callable[..., str]

MAX_OPTIONS = 10
MAX_OPTION_LENGTH = 100
MAX_QUESTION_LENGTH = 300
MAX_DURATION = timedelta(days=90)
SWEEP_SECONDS = 30.0
# Two presses of one option this close together are a double tap, not "tick, untick":
# in a multiple-choice poll the second one keeps the vote instead of removing it.
DOUBLE_TAP = timedelta(seconds=2)
_DURATION_RE = re.compile(r"^(\d{1,4})\s*(m|min|h|d|w)$", re.IGNORECASE)
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
# "--closes 48h" takes a value; "--multi", "--named" and "--anonymous" do not.
_FLAG_RE = re.compile(
    r"(?:^|\s)--(?:(closes)(?:[ =](?!--)(\S+))?|(multi|named|anonymous))(?=\s|$)", re.IGNORECASE
)


class PollUsageError(BotError):
    """A /poll command that cannot become a poll; ``key`` names the UI string to show."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class PollSpec:
    question: str
    options: tuple[str, ...]
    multi: bool = False
    anonymous: bool = True
    closes_at: datetime | None = None


def parse_closing(value: str, now: datetime) -> datetime:
    """ "48h", "30m", "2d", "1w", or a date/time ("2026-12-01", "2026-12-01 18:00", UTC)."""
    m = _DURATION_RE.match(value.strip())
    if m:
        return now + timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2).lower()])
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PollUsageError("poll_bad_closes", value=markup.escape(value)) from None
    if len(value.strip()) == 10:  # a date alone: through the end of that day
        moment += timedelta(days=1)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_poll(args: str, now: datetime) -> PollSpec:
    """The /poll arguments as a poll, or :class:`PollUsageError` saying what is wrong."""
    flags: dict[str, str] = {}

    def take(m: re.Match[str]) -> str:
        flags[(m.group(1) or m.group(3)).lower()] = m.group(2) or ""
        return " "

    text = _FLAG_RE.sub(take, args)
    parts = [" ".join(p.split()) for p in text.split("|")]
    if len(parts) < 2 or not parts[0]:
        raise PollUsageError("poll_usage")  # no question, or no option at all
    question, options = parts[0], [p for p in parts[1:] if p]
    if len(question) > MAX_QUESTION_LENGTH:
        raise PollUsageError("poll_question_too_long", max=MAX_QUESTION_LENGTH)
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise PollUsageError("poll_option_count", max=MAX_OPTIONS)
    if any(len(o) > MAX_OPTION_LENGTH for o in options):
        raise PollUsageError("poll_option_too_long", max=MAX_OPTION_LENGTH)
    if len({o.casefold() for o in options}) != len(options):
        raise PollUsageError("poll_option_twice")
    closes_at = None
    if "closes" in flags:
        if not flags["closes"]:
            raise PollUsageError("poll_bad_closes", value="")
        closes_at = parse_closing(flags["closes"], now)
        if closes_at <= now or closes_at - now > MAX_DURATION:
            raise PollUsageError("poll_closes_range", days=MAX_DURATION.days)
    return PollSpec(
        question=question,
        options=tuple(options),
        multi="multi" in flags,
        anonymous="named" not in flags,
        closes_at=closes_at,
    )


def poll_key(poll_id: int) -> str:
    return f"poll-{poll_id}"


def _poll_of_key(key: str | None) -> int | None:
    m = re.fullmatch(r"poll-(\d{1,9})", key or "")
    return int(m.group(1)) if m else None


async def redraw(core: Core, replies: list[Reply]) -> list[Reply]:
    """``replies`` with each poll message drawn again from the tally of now.

    A vote's replies are stored with it (:mod:`bot.owed`) and carry the tally of that
    moment. Sent late, by a replica taking over a dead one's, they would show an older
    count until the next vote. A poll deleted since (``/forget`` of its poster) drops
    its redraw."""
    fresh: list[Reply] = []
    for reply in replies:
        poll_id = _poll_of_key(reply.key)
        if poll_id is None:
            fresh.append(reply)
            continue
        poll = await core.storage.get_poll(poll_id)
        if poll is not None:
            tally = await core.storage.poll_tally(poll_id)
            fresh.append(poll_reply(core.ui, poll, tally, core.clock(), chat=reply.chat))
    return fresh


def parse_poll_id(text: str) -> int | None:
    """ "12", "poll-12" or "#12" as a poll id."""
    m = re.fullmatch(r"(?:poll-?|#)?(\d{1,9})", text.strip().lower())
    return int(m.group(1)) if m else None


def tally_text(
    t: Translate, poll: PollRow, tally: PollTally, now: datetime, dates: DateStyle = ENGLISH
) -> str:
    """The poll as posted: question, a bar per option, and a footer (final when closed)."""
    final = not poll.is_open(now)
    # Percentages of the people who voted: with several choices each, they add up past 100%.
    total = tally.voters
    parts = [
        t("poll_final_header" if final else "poll_header", question=markup.escape(poll.question))
    ]
    for i, option in enumerate(poll.options):
        n = tally.counts.get(i, 0)
        line = f"{markup.escape(option)}\n{bar(n, total)} {n} · {percent(n, total)}"
        if final and tally.names.get(i):
            line += "\n_" + markup.escape(t("list_separator").join(tally.names[i])) + "_"
        parts.append(line)
    details = [
        poll_key(poll.id),  # what /results, /export and /close take
        t("poll_voters", count=total),
        t("poll_anonymous") if poll.anonymous else t("poll_named"),
        t("poll_multi") if poll.multi else t("poll_single"),
    ]
    if final:
        details.append(
            t("poll_closed_at", when=dates.format_moment(poll.closed_at or poll.closes_at or now))
        )
    elif poll.closes_at:
        details.append(t("poll_closes_at", when=dates.format_moment(poll.closes_at)))
    parts.append("_" + " · ".join(details) + "_")
    return "\n\n".join(parts)


def poll_buttons(poll: PollRow) -> tuple[Choice, ...]:
    return tuple(Choice(markup.shorten(o), f"pv:{poll.id}:{i}") for i, o in enumerate(poll.options))


def poll_reply(
    ui: UI, poll: PollRow, tally: PollTally, now: datetime, *, chat: Chat | None = None
) -> Reply:
    """The posted poll message, in the poll's language; adapters upsert it by its key."""

    def t(key: str, **values: object) -> str:
        return ui.t(key, poll.language, **values)

    open_ = poll.is_open(now)
    return Reply(
        tally_text(t, poll, tally, now, ui.dates(poll.language)),
        choices=poll_buttons(poll) if open_ else (),
        key=poll_key(poll.id),
        chat=chat,
    )


async def finish_poll(core: Core, poll: PollRow, now: datetime) -> PollRow:
    """Close a poll whose time is up (or that a coordinator closes); returns it closed.
    A poll past its time is recorded as closed at its closing time, not when noticed."""
    when = min(now, poll.closes_at) if poll.closes_at else now
    await core.storage.close_poll(poll.id, when)
    closed = await core.storage.get_poll(poll.id)
    return closed or poll


async def close_due_polls(core: Core) -> int:
    """Show the final results of polls whose closing time has passed, in their chat.

    Only for platforms whose adapter is running; a poll on another platform shows its
    results at the next button press there instead.
    """
    now = core.clock()
    shown = 0
    for poll in await core.storage.polls_due(now):
        if poll.platform not in core.senders:
            continue
        # Every replica sweeps: the one holding the poll's lease shows the results,
        # once; if it dies meanwhile, another does when the lease has run out.
        lease = f"poll-closing:{poll.id}"
        async with leases.held(
            core.storage, lease, leases.owner(core), core.clock, lease=core.settings.lease
        ) as mine:
            if not mine:
                continue
            current = await core.storage.get_poll(poll.id)
            if current is None or current.final_shown:
                continue  # shown by another replica since we looked
            poll = await finish_poll(core, current, now)
            tally = await core.storage.poll_tally(poll.id)
            reply = poll_reply(core.ui, poll, tally, now, chat=Chat(poll.chat, private=False))
            if await core.push(poll.platform, [reply]):
                await core.storage.mark_poll_final_shown(poll.id)
                shown += 1
    return shown


async def sweep_forever(core: Core, interval: float = SWEEP_SECONDS) -> None:
    """Background task of a running bot: close polls on time."""
    while True:
        await asyncio.sleep(interval)
        try:
            await close_due_polls(core)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("closing due polls failed; will retry")
