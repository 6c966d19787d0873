"""/subscribe, /unsubscribe, /timezone and the coordinators' /announce.

Subscribing is done from a private chat, which is where reminders and announcements
are then delivered (by :mod:`bot.reminders`). An announcement is stored as a draft
first and goes out only when its author presses the confirmation button, which says
how many people it will reach.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from bot import markup, reminders, typed
from bot.handlers import timeline
from bot.handlers.base import Context
from bot.messages import Choice, Reply

log = logging.getLogger(__name__)

MAX_ANNOUNCEMENT = 3000  # characters: one message on every platform, with the header
ANNOUNCE_CONFIRM_WINDOW = timedelta(hours=1)


def days_phrase(ctx: Context, days: tuple[int, ...]) -> str:
    """(14, 7, 0) -> "14 days before, 7 days before and on the day"."""
    parts = [
        ctx.t("reminders_on_the_day") if d == 0 else ctx.plural("reminders_days_before", d)
        for d in days
    ]
    if len(parts) == 1:
        return parts[0]
    return ctx.t("list_separator").join(parts[:-1]) + ctx.t("reminders_and") + parts[-1]


def _private_only(ctx: Context, command: str) -> list[Reply] | None:
    if ctx.in_group:
        return ctx.reply("reminders_private_only", command=command)
    return None


# --------------------------------------------------------------------------- subscribe


async def subscribe(ctx: Context, args: str) -> list[Reply]:
    """/subscribe [days...]: reminders before events, and news of consultations."""
    refused = _private_only(ctx, "subscribe")
    if refused:
        return refused
    days: tuple[int, ...] | None = None
    if args.strip():
        days = reminders.parse_days(args)
        if days is None:
            return ctx.reply(
                "subscribe_usage", max=reminders.MAX_DAYS, count=reminders.MAX_REMINDERS
            )
    storage = ctx.core.storage
    existing = await storage.get_subscription(ctx.person.key)
    hint = ctx.person.timezone if reminders.zone_info(ctx.person.timezone) else None
    sub = await storage.subscribe(
        ctx.person.key,
        platform=ctx.person.platform,
        chat=ctx.message.chat.chat_id,
        days=days if days is not None or existing else reminders.DEFAULT_DAYS,
        language=ctx.person.language,
        tz_hint=hint,
        now=ctx.now,
    )
    zone = await reminders.person_zone(storage, ctx.person)
    key = "subscribe_unchanged" if existing and days is None else "subscribe_done"
    parts = [
        ctx.t(
            key,
            days=days_phrase(ctx, sub.days),
            hour=f"{reminders.REMINDER_HOUR:02d}:00",
            zone=zone.key,
        )
    ]
    events, _ = await timeline.all_events(ctx)
    coming = timeline.upcoming(ctx, events, zone)
    if coming:
        parts.append(ctx.t("subscribe_next", line=timeline.event_line(ctx, coming[0], zone)))
    parts.append(ctx.t("subscribe_help_line"))
    return [
        Reply("\n\n".join(parts), choices=(Choice(ctx.t("button_unsubscribe"), "cmd:unsubscribe"),))
    ]


async def unsubscribe(ctx: Context, args: str) -> list[Reply]:
    """/unsubscribe: no more reminders or announcements (what is queued is cancelled)."""
    if not await ctx.core.storage.unsubscribe(ctx.person.key, ctx.now):
        return ctx.reply("unsubscribe_not")
    return ctx.reply("unsubscribe_done")


# --------------------------------------------------------------------------- time zone


async def timezone(ctx: Context, args: str) -> list[Reply]:
    """/timezone [name]: show or set the zone dates with a time of day are shown in."""
    refused = _private_only(ctx, "timezone")
    if refused:
        return refused
    typed = " ".join(args.split())
    if not typed:
        return await _show_zone(ctx)
    resets = {w.strip().casefold() for w in ctx.t("timezone_words_reset").split("|")}
    if typed.casefold() in resets:
        await ctx.core.storage.set_timezone(ctx.person.key, None, ctx.now)
        zone = await reminders.person_zone(ctx.core.storage, ctx.person)
        return ctx.reply("timezone_reset", zone=zone.key)
    name, suggestions = reminders.find_zone(typed)
    if name is not None:
        return await _set_zone(ctx, name)
    if suggestions:
        choices = tuple(Choice(s, f"tz:{s}") for s in suggestions)
        return [Reply(ctx.t("timezone_suggest", name=markup.escape(typed)), choices=choices)]
    return ctx.reply("timezone_unknown", name=markup.escape(typed[:60]))


async def on_timezone(ctx: Context, arg: str) -> list[Reply]:
    """Button "tz:<IANA name>" from the suggestions for a typo."""
    if arg not in reminders.zone_names():
        return ctx.reply("unknown_action")
    return await _set_zone(ctx, arg)


async def _set_zone(ctx: Context, name: str) -> list[Reply]:
    await ctx.core.storage.set_timezone(ctx.person.key, name, ctx.now)
    zone = reminders.zone_info(name) or reminders.UTC_ZONE
    return ctx.reply("timezone_set", zone=name, time=f"{ctx.now.astimezone(zone):%H:%M}")


async def _show_zone(ctx: Context) -> list[Reply]:
    chosen = reminders.zone_info(await ctx.core.storage.get_timezone(ctx.person.key))
    hinted = reminders.zone_info(ctx.person.timezone)
    zone = chosen or hinted or reminders.UTC_ZONE
    source = (
        "" if chosen else ctx.t("timezone_from_platform" if hinted else "timezone_from_default")
    )
    return ctx.reply(
        "timezone_current",
        zone=zone.key,
        time=f"{ctx.now.astimezone(zone):%H:%M}",
        source=source,
        hour=f"{reminders.REMINDER_HOUR:02d}:00",
    )


# --------------------------------------------------------------------------- announce


async def announce(ctx: Context, args: str) -> list[Reply]:
    """/announce <text> (coordinators): a preview saying how many it reaches, and buttons."""
    text = args.strip()
    if not text:
        return ctx.reply("announce_usage")
    if len(text) > MAX_ANNOUNCEMENT:
        return ctx.reply("announce_too_long", max=MAX_ANNOUNCEMENT, length=len(text))
    storage = ctx.core.storage
    count = await storage.count_subscriptions()
    if count == 0:
        return ctx.reply("announce_nobody")
    job, _ = await storage.ensure_job(
        f"{reminders.ANNOUNCE}:{secrets.token_hex(8)}",  # each /announce is a new one
        kind=reminders.ANNOUNCE,
        text=text,
        status="draft",
        created_by=ctx.person.key,
        now=ctx.now,
    )
    preview = ctx.t("announce_preview", count=count, text=markup.escape(text))
    choices = (
        Choice(ctx.t("button_announce_send", count=count), f"an:y:{job.id}"),
        Choice(ctx.t("button_announce_cancel"), f"an:n:{job.id}"),
    )
    return [Reply(preview, choices=choices, columns=2)]


async def on_announce(ctx: Context, arg: str) -> list[Reply]:
    """Buttons "an:y:<job>" (send) and "an:n:<job>" (cancel). Buttons are not commands,
    so the coordinator check is made here too."""
    answer, _, number_text = arg.partition(":")
    number = typed.whole_number(number_text)
    if answer not in {"y", "n"} or number is None:
        return ctx.reply("unknown_action")
    if not ctx.is_coordinator:
        log.warning("refused an announcement button to a non-coordinator")
        return ctx.reply("coordinators_only")
    storage = ctx.core.storage
    job = await storage.get_job(number)
    if job is None or job.kind != reminders.ANNOUNCE:
        return ctx.reply("unknown_action")
    if job.created_by != ctx.person.key:
        return ctx.reply("announce_not_yours")
    if job.status != "draft":
        return ctx.reply("announce_already")
    # Whatever happens next, the buttons of the preview go, so they cannot be pressed again.
    shown = ctx.t("announce_decided", text=markup.escape(job.text))
    done = [Reply(shown, edit=ctx.message.origin)] if ctx.message.origin else []
    if answer == "n" or ctx.now - job.created_at > ANNOUNCE_CONFIRM_WINDOW:
        await storage.cancel_announcement(job.id, ctx.person.key)
        key = "announce_cancelled" if answer == "n" else "announce_expired"
        return [*done, *ctx.reply(key)]
    count = await storage.activate_announcement(job.id, ctx.person.key, ctx.now)
    if count is None:  # a second press raced this one
        return ctx.reply("announce_already")
    log.info("announcement %d confirmed for %d subscriber(s)", job.id, count)
    reminders.wake(ctx.core)
    sending = ctx.t("announce_sending", count=count)
    # Deliveries wait for their platform's adapter: say so rather than imply they went.
    away = [sub.platform for sub in await storage.subscriptions()]
    idle = sorted({p for p in away if p not in ctx.core.senders})
    if idle:
        sending += "\n\n" + ctx.t(
            "announce_waiting_platform",
            count=sum(1 for p in away if p in idle),
            platforms=", ".join(idle),
        )
    return [*done, Reply(sending)]
