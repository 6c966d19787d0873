"""/profile, /mydata and /forget: what a person tells the bot, sees of it, and erases.

The profile (National Society and region, both optional) is asked once, on first use
of /consult, and only serves breakdowns of results. /mydata shows everything stored
about the person (and attaches it as JSON); /forget deletes it after a confirmation.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from bot import markup, relay, typed
from bot.consultations import REGIONS, Option, match_option
from bot.handlers import consult
from bot.handlers.base import Context
from bot.handlers.faq import label
from bot.handlers.subscriptions import days_phrase
from bot.messages import Attachment, Choice, Reply
from bot.results import region_label
from bot.societies import Society, load_societies
from bot.storage.handoff import DRAFT, ERASE, HandoffRow

PROFILE = "profile"
NS_CONFIRM = "ns-confirm"  # profile step: which listed National Society was meant
MAX_NS_LENGTH = 100
FORGET_CONFIRM_WINDOW = timedelta(minutes=15)
MYDATA_POLLS = 500  # anonymous votes are looked up in this many recent polls


# --------------------------------------------------------------------------- profile


async def profile(ctx: Context, args: str) -> list[Reply]:
    """/profile: set or change National Society and region."""
    if ctx.in_group:
        return ctx.reply("privacy_private_only")
    return await ask_profile(ctx, then="")


async def ask_profile(
    ctx: Context, then: str, *, first: bool = False, reason: str | None = None
) -> list[Reply]:
    """Start the two profile questions; ``then`` is what follows: "list" (the open
    consultations), "c:<id>" (open one consultation), "b:<id>" (begin one the person
    has consented to) or "" (nothing)."""
    current = await ctx.core.storage.get_profile(ctx.person.key)
    if current is None:  # remember that we asked, so skipping is respected
        await ctx.core.storage.set_profile(ctx.person.key, None, None, ctx.now)
    await ctx.set_state(PROFILE, {"step": "ns", "then": then})
    parts = []
    if reason:
        parts.append(ctx.t(reason))
    elif first:
        parts.append(ctx.t("profile_intro"))
    parts.append(ns_question(ctx, current.national_society if current else None))
    return [
        Reply(
            "\n\n".join(parts), choices=ns_buttons(ctx, bool(current and current.national_society))
        )
    ]


def ns_question(ctx: Context, current: str | None) -> str:
    if current:
        return ctx.t("profile_ask_ns_current", current=markup.escape(current))
    return ctx.t("profile_ask_ns")


def ns_buttons(ctx: Context, has_value: bool) -> tuple[Choice, ...]:
    if has_value:
        return (
            Choice(ctx.t("profile_button_keep"), "pf:ns:k"),
            Choice(ctx.t("profile_button_remove"), "pf:ns:x"),
        )
    return (Choice(ctx.t("profile_button_skip"), "pf:ns:k"),)


def region_options(ctx: Context) -> tuple[Option, ...]:
    return tuple(Option(r, region_label(ctx.t, r)) for r in REGIONS)


async def ask_region(ctx: Context, then: str) -> list[Reply]:
    await ctx.set_state(PROFILE, {"step": "region", "then": then})
    current = await ctx.core.storage.get_profile(ctx.person.key)
    region = current.region if current else None
    choices = [Choice(o.label, f"pf:r:{o.id}") for o in region_options(ctx)]
    if region:
        choices.append(Choice(ctx.t("profile_button_keep"), "pf:r:k"))
        choices.append(Choice(ctx.t("profile_button_remove"), "pf:r:x"))
        text = ctx.t("profile_ask_region_current", current=region_label(ctx.t, region))
    else:
        choices.append(Choice(ctx.t("profile_button_skip"), "pf:r:k"))
        text = ctx.t("profile_ask_region")
    return [Reply(text, choices=tuple(choices), columns=2)]


def _plain_name(typed: str) -> str:
    """A typed National Society name as it is kept and shown again: no angle brackets
    (no society's name has them, and "<!channel>" pings a Slack channel) and no
    "@here"-style mention (a word joiner after the "@")."""
    name = re.sub(r"[<>]", "", typed)
    return re.sub(r"@(?=(channel|here|everyone)\b)", "@\u2060", name, flags=re.I).strip()


async def save(
    ctx: Context, *, ns: str | bool | None = False, region: str | bool | None = False
) -> None:
    """Change one field (False: keep it as it is)."""
    if isinstance(ns, str):
        ns = _plain_name(ns) or None
    current = await ctx.core.storage.get_profile(ctx.person.key)
    new_ns = current.national_society if current and ns is False else ns
    new_region = current.region if current and region is False else region
    await ctx.core.storage.set_profile(
        ctx.person.key,
        new_ns if isinstance(new_ns, str) else None,
        new_region if isinstance(new_region, str) else None,
        ctx.now,
    )


async def finish(ctx: Context, then: str) -> list[Reply]:
    await ctx.clear_state()
    current = await ctx.core.storage.get_profile(ctx.person.key)
    ns = current.national_society if current else None
    region = current.region if current else None
    none = ctx.t("profile_not_given")
    saved = Reply(
        ctx.t(
            "profile_saved",
            ns=markup.escape(ns) if ns else none,
            region=region_label(ctx.t, region) if region else none,
        )
    )
    if then == consult.LIST:
        return [saved, *await consult.list_open(ctx)]
    if then.startswith(consult.BEGIN):
        c = ctx.consultations.get(then.removeprefix(consult.BEGIN))
        return [saved, *(await consult.begin(ctx, c) if c else [])]
    if then.startswith("c:"):
        return [saved, *await consult.open_consultation(ctx, then[2:])]
    return [saved]


def society_label(ctx: Context, society: Society) -> str:
    return f"{society.name} ({region_label(ctx.t, society.region)})"


async def match_society(ctx: Context, then: str, typed: str) -> list[Reply]:
    """A typed National Society: the name from the list when it is exactly that, else
    the closest names offered for a confirmation (or to keep it as typed)."""
    known = load_societies(ctx.core.settings.knowledge_dir)
    exact = known.exact(typed)
    if exact is not None and exact.name.casefold() == " ".join(typed.split()).casefold():
        return await choose_society(ctx, then, known.index(exact))
    found = [exact] if exact is not None else [s for s, _ in known.suggest(typed)]
    if not found:  # not in the list (or no list): kept as typed, region asked
        await save(ctx, ns=typed)
        return await ask_region(ctx, then)
    options = [known.index(s) for s in found]
    await ctx.set_state(
        PROFILE, {"step": NS_CONFIRM, "then": then, "typed": typed, "options": options}
    )
    if len(found) == 1:
        text = ctx.t("profile_ns_confirm", name=markup.escape(society_label(ctx, found[0])))
        choices = [Choice(ctx.t("profile_button_ns_yes"), f"pf:n:{options[0]}")]
    else:
        text = ctx.t("profile_ns_choose", typed=markup.escape(typed))
        choices = [
            Choice(label(society_label(ctx, s)), f"pf:n:{i}")
            for s, i in zip(found, options, strict=True)
        ]
    choices.append(Choice(label(ctx.t("profile_button_ns_typed", typed=typed)), "pf:n:t"))
    return [Reply(text, choices=tuple(choices))]


async def choose_society(ctx: Context, then: str, index: int) -> list[Reply]:
    """A National Society from the list: its name and its region are saved together."""
    society = load_societies(ctx.core.settings.knowledge_dir).get(index)
    if society is None:  # the list changed under the button
        return await ask_profile(ctx, then)
    await save(ctx, ns=society.name, region=society.region)
    return await finish(ctx, then)


async def on_profile(ctx: Context, arg: str) -> list[Reply]:
    """Buttons "pf:ns:k|x" (keep/skip, remove), "pf:n:<society>|t" (the one meant, or
    keep what was typed) and "pf:r:<region>|k|x"."""
    state = await ctx.state()
    step, _, what = arg.partition(":")
    expected = {"ns": "ns", "n": NS_CONFIRM}.get(step, "region")
    if state is None or state[0] != PROFILE or state[1].get("step") != expected:
        return [Reply(ctx.t("consult_stale"), notice=True)]
    then = str(state[1].get("then", ""))
    if step == "n":
        if what != "t":
            # typed.whole_number, not isdigit() then int(): forged data such as "²" crashed.
            index = typed.whole_number(what)
            if index is None or index not in state[1].get("options", []):
                return [Reply(ctx.t("consult_stale"), notice=True)]
            return await choose_society(ctx, then, index)
        await save(ctx, ns=str(state[1].get("typed", ""))[:MAX_NS_LENGTH] or None)
        return await ask_region(ctx, then)
    if step == "ns":
        if what == "x":
            await save(ctx, ns=None)
        return await ask_region(ctx, then)
    if what == "x":
        await save(ctx, region=None)
    elif what in REGIONS:
        await save(ctx, region=what)
    elif what != "k":
        return ctx.reply("unknown_action")
    return await finish(ctx, then)


async def converse(ctx: Context, data: dict[str, Any]) -> list[Reply] | None:
    """Typed text during the profile questions."""
    if ctx.message.action is not None:
        return None
    text = " ".join(ctx.text.split())
    word = consult.control_word(ctx, text)
    then = str(data.get("then", ""))
    if word is None and text.startswith("/"):
        await ctx.clear_state()  # the person moved on to something else
        return None
    if word == "cancel":
        await ctx.clear_state()
        return ctx.reply("profile_cancelled")
    if data.get("step") == NS_CONFIRM:
        options = [int(i) for i in data.get("options", []) if isinstance(i, int)]
        said = consult.yes_no_typed(ctx, text)
        if options and said == "yes":
            return await choose_society(ctx, then, options[0])
        if word == "skip":
            return await ask_region(ctx, then)
        if said == "no":  # not that one: ask for the name again, not store "no"
            await ctx.set_state(PROFILE, {"step": "ns", "then": then})
            return [Reply(ns_question(ctx, None), choices=ns_buttons(ctx, False))]
        data = {"step": "ns", "then": then}  # anything else: another name, matched again
    if data.get("step") == "ns":
        if word == "skip":
            return await ask_region(ctx, then)
        if consult.looks_like_question(text) and text.endswith("?"):
            await ctx.clear_state()
            return None  # a question, not a National Society: let question answering take it
        if not text or len(text) > MAX_NS_LENGTH or not any(ch.isalpha() for ch in text):
            current = await ctx.core.storage.get_profile(ctx.person.key)
            has = bool(current and current.national_society)
            return [
                Reply(ctx.t("profile_ns_invalid", max=MAX_NS_LENGTH), choices=ns_buttons(ctx, has))
            ]
        return await match_society(ctx, then, text)
    if word == "skip":
        return await finish(ctx, then)
    option = match_option(region_options(ctx), text)
    if option is None:
        return [Reply(ctx.t("profile_region_invalid")), *await ask_region(ctx, then)]
    await save(ctx, region=option.id)
    return await finish(ctx, then)


# --------------------------------------------------------------------------- mydata / forget


async def pseudonyms(ctx: Context) -> list[str]:
    """The person's keyed codes in every consultation and recent anonymous poll."""
    storage = ctx.core.storage
    codes = [
        ctx.core.pseudonyms.respondent(cid, ctx.person.key)
        for cid in await storage.response_consultations()
    ]
    codes += [
        ctx.core.pseudonyms.voter(p.id, ctx.person.key)
        for p in await storage.recent_polls(MYDATA_POLLS)
        if p.anonymous
    ]
    return codes


def _title(ctx: Context, consultation_id: str) -> str:
    c = ctx.consultations.get(consultation_id)
    return markup.escape(c.title if c else consultation_id)


async def mydata(ctx: Context, args: str) -> list[Reply]:
    """/mydata: everything the bot holds about the person, in words and as a JSON file."""
    if ctx.in_group:
        return ctx.reply("privacy_private_only")
    data = await ctx.core.storage.person_data(ctx.person.key, await pseudonyms(ctx))
    none = ctx.t("privacy_none")
    lines = [ctx.t("privacy_mydata_header", account=markup.escape(ctx.person.key))]
    prof = data.get("profile")
    if prof and (prof["national_society"] or prof["region"]):
        lines.append(
            ctx.t(
                "privacy_mydata_profile",
                ns=markup.escape(prof["national_society"] or none),
                region=region_label(ctx.t, prof["region"]) or none,
            )
        )
    else:
        lines.append(ctx.t("privacy_mydata_no_profile"))
    responses = data.get("responses", [])
    if responses:
        items = []
        for r in responses:
            kind = ctx.t("privacy_anonymous" if r["anonymous"] else "privacy_named")
            status = ctx.t("privacy_submitted" if r["status"] == "submitted" else "privacy_draft")
            answered = sum(1 for v in r["answers"].values() if v not in (None, []))
            line = ctx.t(
                "privacy_mydata_response",
                title=_title(ctx, r["consultation"]),
                status=status,
                kind=kind,
                answers=ctx.t("privacy_answers", count=answered),
            )
            items.append(f"- {line}")
        lines.append(ctx.t("privacy_mydata_responses") + "\n" + "\n".join(items))
    else:
        lines.append(ctx.t("privacy_mydata_no_responses"))
    votes = data.get("poll_votes", [])
    if votes:
        items = [
            "- "
            + ctx.t(
                "privacy_mydata_vote",
                question=markup.escape(v["question"]),
                option=markup.escape(v["option"]),
            )
            for v in votes
        ]
        lines.append(ctx.t("privacy_mydata_votes") + "\n" + "\n".join(items))
    if data.get("polls_created"):
        lines.append(ctx.t("privacy_mydata_polls", count=len(data["polls_created"])))
    if data.get("conversations"):
        lines.append(ctx.t("privacy_mydata_conversations", count=len(data["conversations"])))
    # Updates stored before they are handled (Telegram polling). This /mydata is one
    # of them until its own transaction ends: it is left out, of the count and the file.
    kept = [
        e
        for e in data.get("events_not_handled_yet", [])
        if (e["platform"], e["event"]) != (ctx.person.platform, ctx.message.event_id)
    ]
    data["events_not_handled_yet"] = kept
    if kept:
        lines.append(ctx.t("privacy_mydata_inbox", count=len(kept)))
    sub = data.get("subscription")
    if sub:
        days = days_phrase(ctx, tuple(int(d) for d in sub["days_before"]))
        lines.append(ctx.t("privacy_mydata_subscription", days=days))
    stopped = data.get("reminders_stopped")
    if stopped:
        on = ctx.dates.format_date(datetime.fromisoformat(stopped["stopped_at"]).date())
        lines.append(ctx.t(f"privacy_mydata_stopped_{stopped['reason']}", date=on))
    if data.get("timezone"):
        lines.append(
            ctx.t("privacy_mydata_timezone", timezone=markup.escape(str(data["timezone"])))
        )
    if data.get("messages_scheduled"):
        # By state: a row still pending was not delivered, whatever is kept of it.
        states = [str(m.get("state")) for m in data["messages_scheduled"]]
        sent = states.count("sent")
        waiting = sum(1 for s in states if s in {"pending", "claimed"})
        lines.append(
            ctx.t(
                "privacy_mydata_messages",
                sent=sent,
                waiting=waiting,
                other=len(states) - sent - waiting,
            )
        )
    handoffs = [
        await handoff_data(ctx, h) for h in await ctx.core.storage.handoffs_of(ctx.person.key)
    ]
    if handoffs:
        lines.append(ctx.t("handoff_mydata", count=len(handoffs)))
    # Votes on answers are kept under codes nobody can trace back (bot.feedback): said,
    # since they cannot be listed.
    lines.append(ctx.t("feedback_mydata"))
    lines.append(ctx.t("privacy_mydata_footer"))
    document = {"person": ctx.person.key, "exported_at": ctx.now.isoformat(), **data}
    document["responses"] = [with_labels(ctx, r) for r in responses]
    if handoffs:
        document["questions_to_the_secretariat"] = handoffs
    file = Attachment(
        "my-data.json",
        (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        "application/json",
    )
    return [Reply("\n\n".join(lines), attachments=(file,))]


async def handoff_data(ctx: Context, h: HandoffRow) -> dict[str, Any]:
    """One question to the desk as /mydata shows it, with every message relayed."""
    relays = await ctx.core.storage.relays_of(h.id)
    return {
        "reference": h.ref,
        "status": h.status,
        "question": h.question,
        "language": h.language,
        "asked_at": h.created_at.isoformat(),
        "sent_at": h.sent_at.isoformat() if h.sent_at else None,
        "name_and_society_shared": h.shared,
        "name_shown": h.name,
        "society_shown": h.society,
        "closed_at": h.closed_at.isoformat() if h.closed_at else None,
        "helpful": h.helpful,
        "messages": [
            {
                "kind": r.kind,
                # By where it went: a note goes either way (the desk's close, to you).
                "to": "you" if (r.platform, r.chat) == (h.platform, h.chat) else "secretariat",
                "text": r.text,
                "state": r.state,
                "at": r.created_at.isoformat(),
            }
            for r in relays
            if r.edits is None
        ],
    }


async def forget_handoffs(ctx: Context) -> int:
    """Delete the person's questions to the desk; the copies the desk saw are edited
    to say so (sent later by :mod:`bot.relay`). How many questions went."""
    storage = ctx.core.storage
    asked = [h for h in await storage.handoffs_of(ctx.person.key) if h.status != DRAFT]
    desks = {(h.desk_platform, h.desk_chat) for h in asked}
    erased = ctx.core.ui.t("handoff_erased", "en")
    for r in await storage.forget_handoffs(ctx.person.key):
        if (r.platform, r.chat) not in desks:
            continue  # the person's own chat: theirs to clear
        await storage.queue_relay(
            handoff_id=None,
            kind=ERASE,
            platform=r.platform,
            chat=r.chat,
            key=f"erase:{r.key}",
            text=erased,
            now=ctx.now,
            edits=r.message_key,
        )
    if asked:
        relay.wake(ctx.core)
    return len(asked)


def with_labels(ctx: Context, response: dict[str, Any]) -> dict[str, Any]:
    """A stored response as the person saw it: ``answers`` keeps the ids stored,
    ``answers_as_shown`` gives the labels of the choices (what the buttons said)."""
    c = ctx.consultations.get(str(response.get("consultation")))
    answers = response.get("answers") or {}
    if c is None:
        return response
    shown = {}
    for qid, value in answers.items():
        q = c.question(qid)
        if q is None or value is None:
            shown[qid] = value
        elif isinstance(value, list):
            shown[qid] = [consult.shown_answer(ctx, q, v) for v in value]
        else:
            shown[qid] = consult.shown_answer(ctx, q, value)
    return {**response, "answers_as_shown": shown}


async def forget(ctx: Context, args: str) -> list[Reply]:
    """/forget: ask for confirmation; the button carries when it was offered."""
    if ctx.in_group:
        return ctx.reply("privacy_private_only")
    stamp = int(ctx.now.timestamp())
    return [
        Reply(
            ctx.t("privacy_forget_confirm"),
            choices=(
                Choice(ctx.t("privacy_button_forget"), f"fg:y:{stamp}"),
                Choice(ctx.t("privacy_button_keep"), "fg:n"),
            ),
            columns=2,
        )
    ]


async def on_forget(ctx: Context, arg: str) -> list[Reply]:
    """Buttons "fg:y:<when offered>" and "fg:n"."""
    answer, _, stamp = arg.partition(":")
    edit = (
        [Reply(ctx.t("privacy_forget_confirm"), edit=ctx.message.origin)]
        if ctx.message.origin
        else []
    )
    if answer == "n":
        return [*edit, *ctx.reply("privacy_forget_kept")]
    when = typed.whole_number(stamp)
    if answer != "y" or when is None:
        return ctx.reply("unknown_action")
    if ctx.in_group:  # a crafted press: /forget only ever offers this button in private
        return ctx.reply("privacy_private_only")
    age = ctx.now.timestamp() - when
    if not -60 <= age <= FORGET_CONFIRM_WINDOW.total_seconds():
        return ctx.reply("privacy_forget_expired")
    # /forget runs only in the person's private chat with the bot: that chat is theirs.
    questions = await forget_handoffs(ctx)
    deleted = await ctx.core.storage.forget_person(
        ctx.person.key, await pseudonyms(ctx), [ctx.message.chat.chat_id], now=ctx.now
    )
    text = ctx.t(
        "privacy_forgotten",
        responses=deleted.get("responses", 0),
        answers=deleted.get("answers", 0),
        votes=deleted.get("poll_votes", 0),
    )
    if questions:
        text += "\n\n" + ctx.t("handoff_forgotten", count=questions)
    return [*edit, Reply(text)]
