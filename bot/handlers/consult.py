"""/consult: answering a consultation in a private chat, one question at a time.

Where a person is lives in their response row (``position``: a question id, "review"
or "done"), written in the same transaction as each answer, so a crash or a restart
never loses an answer and the person resumes at the same question. The conversation
state only says which consultation typed text belongs to.

Buttons carry "<prefix>:<consultation>:<question index>:<option index>"; a press is
accepted only while that question is the response's current one, so a stale button
(an earlier question, a second press) changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

from bot import markup, reminders, typed
from bot.consultations import DONE, REVIEW, Consultation, Option, Question
from bot.handlers import privacy
from bot.handlers.base import Context
from bot.handlers.faq import label
from bot.messages import Choice, Reply
from bot.storage.base import ABSENT, ResponseRow

KIND = "consult"
LIST = "list"  # after the profile questions, show the list of open consultations
BEGIN = "b:"  # after the profile questions, begin this consultation (consent was given)
MAX_QUESTION_FOR_FAQ = 300
TOGGLE_ATTEMPTS = 5  # compare-and-set retries of one tick against concurrent ones
_QUESTION_WORDS = re.compile(
    r"^(what|when|who|whom|whose|where|why|how|which|is|are|can|could|do|does|did|should|will)\b",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- helpers


def respondent(ctx: Context, c: Consultation) -> str:
    """Who a response belongs to: the person key, or its keyed hash when anonymous."""
    if c.anonymous:
        return ctx.core.pseudonyms.respondent(c.id, ctx.person.key)
    return ctx.person.key


async def closed_early(ctx: Context, c: Consultation) -> datetime | None:
    return (await ctx.core.storage.consultation_closures()).get(c.id)


async def when(ctx: Context, c: Consultation, moment: datetime, *, closing: bool = False) -> str:
    """A moment in the person's time zone (/timezone, else the platform's hint, else
    UTC), as /next and /timeline show it. A closing at midnight in that zone reads as
    the end of the day before ("closes: 2027-03-31" in the file means through 31 March)."""
    zone = await reminders.person_zone(ctx.core.storage, ctx.person)
    local = moment.astimezone(zone)
    if closing and (local.hour, local.minute, local.second) == (0, 0, 0):
        day = local.date() - timedelta(days=1)
        return ctx.t("consult_end_of_day", day=ctx.dates.format_date(day))
    return ctx.dates.format_moment(moment, zone)


def closes_at(c: Consultation, early: datetime | None) -> datetime:
    return min(c.closes, early) if early else c.closes


async def closed_reply(ctx: Context, c: Consultation, early: datetime | None) -> Reply:
    if ctx.now < c.opens:
        return Reply(
            ctx.t(
                "consult_not_yet", title=markup.escape(c.title), opens=await when(ctx, c, c.opens)
            )
        )
    closes = await when(ctx, c, closes_at(c, early), closing=True)
    return Reply(ctx.t("consult_closed", title=markup.escape(c.title), closes=closes))


def words(ctx: Context, key: str) -> set[str]:
    return {w.strip().casefold() for w in ctx.t(key).split("|") if w.strip()}


def yes_no_typed(ctx: Context, text: str) -> str | None:
    """ "yes" or "no" for a typed "oui", "Sí!", "نعم", "n"...: every language's words
    count, since people type in their own language whatever their app's is."""
    said = " ".join(text.casefold().strip(" .!¡").split())
    ui = ctx.core.ui
    for option in ("yes", "no"):
        if said in ui.words(f"consult_words_{option}") or said in ui.words(f"consult_{option}"):
            return option
    return None


def option_label(ctx: Context, q: Question, option: Option) -> str:
    """An option as the person reads it: a yes/no question's in their language (the
    file's labels, in the bot's default language, stay for results and exports)."""
    return ctx.t(f"consult_{option.id}") if q.type == "yesno" else option.label


def shown_answer(ctx: Context, q: Question, value: object) -> str:
    option = q.option(value) if q.type == "yesno" else None
    return option_label(ctx, q, option) if option else q.display(value)


def control_word(ctx: Context, text: str) -> str | None:
    """ "back", "skip", "cancel" or "help" when the text is one of those words (or /word)."""
    said = text.strip().casefold().rstrip(".!").lstrip("/").split("@")[0].strip()
    for word in ("back", "skip", "cancel", "help"):
        if said == word or said in words(ctx, f"consult_words_{word}"):
            return word
    return None


def looks_like_question(text: str) -> bool:
    return text.rstrip().endswith("?") or bool(_QUESTION_WORDS.match(text.strip()))


def state_data(ctx: Context, c: Consultation) -> dict[str, object]:
    """What the conversation state says about the consultation: for an anonymous one,
    a keyed code instead of its id, so the account's row does not tell which
    anonymous consultation it is answering."""
    if c.anonymous:
        return {"a": ctx.core.pseudonyms.conversation(c.id, ctx.person.key)}
    return {"c": c.id}


def state_consultation(ctx: Context, data: dict[str, object]) -> Consultation | None:
    if "c" in data:
        return ctx.consultations.get(str(data["c"]))
    code = data.get("a")
    for c in ctx.consultations:
        if c.anonymous and ctx.core.pseudonyms.conversation(c.id, ctx.person.key) == code:
            return c
    return None


async def ensure_state(ctx: Context, c: Consultation) -> None:
    """Typed text goes to this consultation from now on (buttons work without it)."""
    if ctx.message.action is not None:
        await ctx.set_state(KIND, state_data(ctx, c))


# --------------------------------------------------------------------------- replies


def type_hint(ctx: Context, q: Question) -> str:
    if q.type == "single":
        return ctx.t("consult_hint_single")
    if q.type == "multiple":
        if q.max_choices and q.max_choices < len(q.options):
            return ctx.t("consult_hint_multiple_max", max=q.max_choices)
        return ctx.t("consult_hint_multiple")
    if q.type == "scale":
        return ctx.t(
            "consult_hint_scale",
            min=q.options[0].id,
            max=q.options[-1].id,
            min_label=markup.escape(q.min_label),
            max_label=markup.escape(q.max_label),
        )
    if q.type == "number":
        unit = f" ({markup.escape(q.unit)})" if q.unit else ""
        if q.minimum is not None and q.maximum is not None:
            return ctx.t(
                "consult_hint_number_range", min=f"{q.minimum:g}", max=f"{q.maximum:g}", unit=unit
            )
        return ctx.t("consult_hint_number", unit=unit)
    if q.type == "text":
        return ctx.t("consult_hint_text", max=q.max_length)
    return ""


def question_text(ctx: Context, c: Consultation, answers: dict[str, object], q: Question) -> str:
    n, total = c.progress(answers, q.id)
    return f"{ctx.t('consult_progress', n=n, total=total)}\n\n{q.text}"


def question_reply(ctx: Context, c: Consultation, answers: dict[str, object], q: Question) -> Reply:
    parts = [question_text(ctx, c, answers, q)]
    hint = q.hint or type_hint(ctx, q)
    if hint:
        parts.append(hint)
    if not q.required:
        parts.append(ctx.t("consult_optional"))
    current = answers.get(q.id)
    if current not in (None, []) and q.type != "multiple":
        answer = _cut(shown_answer(ctx, q, current), 300)
        parts.append(ctx.t("consult_current", answer=markup.escape(answer)))
    qi = c.index(q.id)
    choices: list[Choice] = []
    if q.type == "multiple":
        picked = set(current) if isinstance(current, list) else set()
        for oi, o in enumerate(q.options):
            mark = "☑" if o.id in picked else "☐"
            choices.append(Choice(f"{mark} {label(o.label)}", f"cm:{c.id}:{qi}:{oi}"))
        choices.append(Choice(ctx.t("consult_button_done"), f"cn:{c.id}:{qi}:d"))
    elif q.is_choice:
        choices += [
            Choice(label(option_label(ctx, q, o)), f"ca:{c.id}:{qi}:{oi}")
            for oi, o in enumerate(q.options)
        ]
    if c.previous(answers, q.id) is not None:
        choices.append(Choice(ctx.t("consult_button_back"), f"cn:{c.id}:{qi}:b"))
    if not q.required:
        choices.append(Choice(ctx.t("consult_button_skip"), f"cn:{c.id}:{qi}:s"))
    columns = 1
    if q.type == "scale":
        columns = min(len(q.options), 6)
    elif q.type == "yesno" or not q.is_choice:
        columns = 2
    expects = None if q.is_choice or q.type == "multiple" else q.type
    return Reply("\n\n".join(parts), choices=tuple(choices), columns=columns, expects=expects)


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def review_replies(ctx: Context, c: Consultation, resp: ResponseRow) -> list[Reply]:
    """The summary of every answer, with a button to change each, then Submit."""
    lines = [ctx.t("consult_review_header", title=markup.escape(c.title))]
    changes: list[Choice] = []
    for number, q in enumerate(c.visible(resp.answers), 1):
        value = resp.answers.get(q.id)
        shown = (
            markup.escape(_cut(shown_answer(ctx, q, value), 200))
            if value not in (None, [])
            else ctx.t("consult_review_skipped")
        )
        lines.append(f"{number}. **{markup.escape(q.title)}**\n{shown}")
        changes.append(
            Choice(ctx.t("consult_button_change", n=number), f"cv:{c.id}:e{c.index(q.id)}")
        )
    submitted = resp.status == "submitted"
    prompt = ctx.t("consult_review_prompt_submitted" if submitted else "consult_review_prompt")
    send = ctx.t("consult_button_keep" if submitted else "consult_button_submit")
    return [
        Reply("\n\n".join(lines), choices=tuple(changes), columns=4),
        Reply(prompt, choices=(Choice(send, f"cv:{c.id}:s"),)),
    ]


async def consent_reply(ctx: Context, c: Consultation) -> Reply:
    count = len(c.expected({}))
    parts = [
        f"**{markup.escape(c.title)}**",
        c.introduction,
        ctx.t("consult_anonymous_note" if c.anonymous else "consult_named_note"),
        ctx.t(
            "consult_length",
            count=count,
            minutes=max(1, round(count * 0.5)),
            closes=await when(ctx, c, c.closes, closing=True),
        ),
        c.consent,
    ]
    return Reply(
        "\n\n".join(parts),
        choices=(
            Choice(ctx.t("consult_button_agree"), f"ck:{c.id}:y"),
            Choice(ctx.t("consult_button_decline"), f"ck:{c.id}:n"),
        ),
        columns=2,
    )


async def show_position(ctx: Context, c: Consultation, resp: ResponseRow) -> list[Reply]:
    """What the person sees next: their current question, or the summary."""
    if resp.position == REVIEW:
        return review_replies(ctx, c, resp)
    q = c.question(resp.position)
    if q is None or q not in c.visible(resp.answers):
        # The file changed under a draft (a question removed or now hidden): move on.
        position = c.next_position(resp.answers)
        await ctx.core.storage.update_response(resp.id, now=ctx.now, position=position)
        return await show_position(ctx, c, replace(resp, position=position))
    return [question_reply(ctx, c, resp.answers, q)]


def echo(ctx: Context, text: str) -> list[Reply]:
    """Replace the pressed message with its text plus what was chosen, without buttons,
    so old buttons cannot be pressed again by mistake (only when there is a message to edit)."""
    if ctx.message.origin is None:
        return []
    return [Reply(text, edit=ctx.message.origin)]


def stale(ctx: Context) -> list[Reply]:
    return [Reply(ctx.t("consult_stale"), notice=True)]


# --------------------------------------------------------------------------- entry points


async def consult(ctx: Context, args: str) -> list[Reply]:
    """/consult lists the open consultations; /consult <id> opens one."""
    if ctx.in_group:
        return ctx.reply("consult_private_only")
    wanted = args.strip().split()[0].lower() if args.strip() else ""
    if wanted:
        return await open_consultation(ctx, wanted)
    return await list_open(ctx)


async def list_open(ctx: Context) -> list[Reply]:
    closures = await ctx.core.storage.consultation_closures()
    lines: list[str] = []
    choices: list[Choice] = []
    for c in ctx.consultations:
        if not c.is_open(ctx.now, closures.get(c.id)):
            continue
        resp = await ctx.core.storage.get_response(c.id, respondent(ctx, c))
        closes = await when(ctx, c, closes_at(c, closures.get(c.id)), closing=True)
        if resp is None:
            status = ctx.t("consult_status_new", closes=closes)
        elif resp.status == "submitted":
            status = ctx.t("consult_status_submitted", closes=closes)
        else:
            status = ctx.t(
                "consult_status_draft", answered=len(c.effective(resp.answers)), closes=closes
            )
        lines.append("- " + ctx.t("consult_list_item", title=markup.escape(c.title), status=status))
        choices.append(Choice(label(c.title), f"cs:{c.id}"))
    if not choices:
        return ctx.reply("consult_none_open")
    text = ctx.t("consult_list_header") + "\n\n" + "\n".join(lines)
    return [Reply(text, choices=tuple(choices))]


async def open_consultation(ctx: Context, consultation_id: str) -> list[Reply]:
    """Start, resume or revisit one consultation."""
    c = ctx.consultations.get(consultation_id)
    if c is None:
        # Echoed as an id can be spelled (letters, digits, - and _): typed text such as
        # "<!channel" must not come back as a Slack mention in the bot's own words.
        shown = re.sub(r"[^\w-]+", "", consultation_id)[:40]
        return ctx.reply("consult_unknown", id=markup.escape(shown))
    if ctx.in_group:
        return ctx.reply("consult_private_only")
    early = await closed_early(ctx, c)
    if not c.is_open(ctx.now, early):
        return [await closed_reply(ctx, c, early)]
    if c.audience == "registered":
        profile = await ctx.core.storage.get_profile(ctx.person.key)
        if profile is None or not profile.national_society:
            return await privacy.ask_profile(
                ctx, then=f"c:{c.id}", reason="consult_registered_only"
            )
    resp = await ctx.core.storage.get_response(c.id, respondent(ctx, c))
    await ctx.set_state(KIND, state_data(ctx, c))
    if resp is None:
        return [await consent_reply(ctx, c)]
    if resp.status == "submitted":
        moment = resp.submitted_at or resp.updated_at
        # Anonymous responses keep only the day (see the storage): no time of day to show.
        submitted = (
            ctx.dates.format_date(moment.date()) if c.anonymous else await when(ctx, c, moment)
        )
        intro = Reply(
            ctx.t(
                "consult_already_submitted",
                when=submitted,
                closes=await when(ctx, c, c.closes, closing=True),
            )
        )
        if resp.position == DONE:
            await ctx.core.storage.update_response(resp.id, now=ctx.now, position=REVIEW)
            resp = replace(resp, position=REVIEW)
        return [intro, *await show_position(ctx, c, resp)]
    answered = len(c.effective(resp.answers))
    welcome = Reply(ctx.t("consult_welcome_back", title=markup.escape(c.title), answered=answered))
    return [welcome, *await show_position(ctx, c, resp)]


async def on_start(ctx: Context, arg: str) -> list[Reply]:
    """Button "cs:<id>" from the list."""
    return await open_consultation(ctx, arg)


async def on_consent(ctx: Context, arg: str) -> list[Reply]:
    """Button "ck:<id>:y|n"."""
    consultation_id, _, answer = arg.rpartition(":")
    c = ctx.consultations.get(consultation_id)
    if c is None or answer not in {"y", "n"}:
        return ctx.reply("unknown_action")
    return await consent(ctx, c, answer == "y")


async def consent(ctx: Context, c: Consultation, agreed: bool) -> list[Reply]:
    early = await closed_early(ctx, c)
    if not c.is_open(ctx.now, early):
        await ctx.clear_state()
        return [await closed_reply(ctx, c, early)]
    chosen = ctx.t("consult_button_agree" if agreed else "consult_button_decline")
    shown = echo(
        ctx,
        f"**{markup.escape(c.title)}**\n\n"
        + ctx.t("consult_answered", answer=markup.escape(chosen)),
    )
    if not agreed:
        await ctx.clear_state()
        return [*shown, *ctx.reply("consult_declined")]
    if await ctx.core.storage.get_profile(ctx.person.key) is None:
        # Asked once, after the introduction and the consent (never before them), and
        # skippable: the profile only serves breakdowns of results.
        return [*shown, *await privacy.ask_profile(ctx, then=f"{BEGIN}{c.id}", first=True)]
    return [*shown, *await begin(ctx, c)]


async def begin(ctx: Context, c: Consultation) -> list[Reply]:
    """Start the person's response (they have consented) and show the first question."""
    early = await closed_early(ctx, c)
    if not c.is_open(ctx.now, early):
        await ctx.clear_state()
        return [await closed_reply(ctx, c, early)]
    existing = await ctx.core.storage.get_response(c.id, respondent(ctx, c))
    if existing is not None:  # a second press, or the profile finished twice
        await ctx.set_state(KIND, state_data(ctx, c))
        return await show_position(ctx, c, existing)
    profile = await ctx.core.storage.get_profile(ctx.person.key)
    resp = await ctx.core.storage.start_response(
        c.id,
        respondent(ctx, c),
        anonymous=c.anonymous,
        person=ctx.person.key,
        display_name=ctx.person.display_name or None,
        position=c.next_position({}),
        profile=(profile.region, profile.national_society) if profile else (None, None),
        now=ctx.now,
    )
    await ctx.set_state(KIND, state_data(ctx, c))
    return await show_position(ctx, c, resp)


async def _at_question(
    ctx: Context, consultation_id: str, index: str
) -> tuple[Consultation, ResponseRow, Question] | list[Reply]:
    """The consultation, response and question a button belongs to, or the reply saying
    why the press changes nothing (unknown, closed, or not the current question)."""
    c = ctx.consultations.get(consultation_id)
    number = typed.whole_number(index)
    if c is None or number is None or number >= len(c.questions):
        return ctx.reply("unknown_action")
    early = await closed_early(ctx, c)
    if not c.is_open(ctx.now, early):
        return [await closed_reply(ctx, c, early)]
    resp = await ctx.core.storage.get_response(c.id, respondent(ctx, c))
    q = c.questions[number]
    if resp is None or resp.position != q.id:
        return stale(ctx)
    return c, resp, q


def _split(arg: str, parts: int) -> list[str] | None:
    pieces = arg.split(":")
    return pieces if len(pieces) == parts else None


async def _option_press(
    ctx: Context, arg: str
) -> tuple[Consultation, ResponseRow, Question, int] | list[Reply]:
    """A "<id>:<question>:<option>" button: where it belongs and the option's index,
    or the reply saying why the press changes nothing."""
    pieces = _split(arg, 3)
    index = None if pieces is None else typed.whole_number(pieces[2])
    if pieces is None or index is None:
        return ctx.reply("unknown_action")
    found = await _at_question(ctx, pieces[0], pieces[1])
    if isinstance(found, list):
        return found
    c, resp, q = found
    if index >= len(q.options):
        return stale(ctx)
    return c, resp, q, index


async def on_answer(ctx: Context, arg: str) -> list[Reply]:
    """Button "ca:<id>:<question>:<option>" of a single-choice, yes/no or scale question."""
    pressed = await _option_press(ctx, arg)
    if isinstance(pressed, list):
        return pressed
    c, resp, q, index = pressed
    option = q.options[index]
    return await accept(ctx, c, resp, q, int(option.id) if q.type == "scale" else option.id)


async def accept(
    ctx: Context, c: Consultation, resp: ResponseRow, q: Question, value: object
) -> list[Reply]:
    """Validate and store one answer with the next position, atomically; then move on."""
    problem = q.problem(value) if value is not None else None
    if problem is not None and "length" in problem[1] and ctx.cut:
        problem = (problem[0], {**problem[1], "length": len(str(value)) + ctx.cut})  # as typed
    if problem is not None:
        message = markup.escape(q.error) if q.error else ctx.t(problem[0], **problem[1])
        return [Reply(message), question_reply(ctx, c, resp.answers, q)]
    answers = {**resp.answers, q.id: value}
    drop = c.hidden_answers(answers)
    for qid in drop:
        answers.pop(qid)
    position = c.next_position(answers, after=q.id)
    stored = await ctx.core.storage.update_response(
        resp.id,
        now=ctx.now,
        answers={q.id: value},
        drop=drop,
        position=position,
        expect_position=q.id,
    )
    if not stored:
        return stale(ctx)
    await ensure_state(ctx, c)
    shown = (
        ctx.t("consult_skipped")
        if value is None
        else ctx.t("consult_answered", answer=markup.escape(_cut(shown_answer(ctx, q, value), 300)))
    )
    replies = echo(ctx, f"{question_text(ctx, c, resp.answers, q)}\n\n{shown}")
    return replies + await show_position(ctx, c, replace(resp, answers=answers, position=position))


async def on_toggle(ctx: Context, arg: str) -> list[Reply]:
    """Button "cm:<id>:<question>:<option>": tick or untick one option of a multiple choice."""
    pressed = await _option_press(ctx, arg)
    if isinstance(pressed, list):
        return pressed
    c, resp, q, index = pressed
    if q.type != "multiple":
        return stale(ctx)
    option = q.options[index].id
    for _ in range(TOGGLE_ATTEMPTS):
        current = resp.answers.get(q.id, ABSENT)
        picked = set(current) if isinstance(current, list) else set()
        if option in picked:
            picked.discard(option)
        elif q.max_choices and len(picked) >= q.max_choices:
            return [Reply(ctx.t("consult_too_many", max=q.max_choices), notice=True)]
        else:
            picked.add(option)
        value = [o.id for o in q.options if o.id in picked]
        answers = {**resp.answers, q.id: value}
        if not value:
            answers.pop(q.id)
        drop = c.hidden_answers(answers)
        for qid in drop:
            answers.pop(qid)
        # Compare-and-set on the ticks read above: a tick that landed meanwhile (a
        # second quick press) is not overwritten; read again and re-apply this one.
        stored = await ctx.core.storage.update_response(
            resp.id,
            now=ctx.now,
            answers={q.id: value} if value else {},
            drop=[*drop, *([] if value else [q.id])],
            position=q.id,
            expect_position=q.id,
            expect_answer=(q.id, current),
        )
        if stored:
            break
        again = await ctx.core.storage.get_response(c.id, resp.respondent)
        if again is None or again.position != q.id:
            return stale(ctx)
        resp = again
    else:
        return stale(ctx)
    await ensure_state(ctx, c)
    reply = question_reply(ctx, c, answers, q)
    return [replace(reply, edit=ctx.message.origin)]


async def on_nav(ctx: Context, arg: str) -> list[Reply]:
    """Button "cn:<id>:<question>:b|s|d": back, skip, done (multiple choice)."""
    pieces = _split(arg, 3)
    if pieces is None or pieces[2] not in {"b", "s", "d"}:
        return ctx.reply("unknown_action")
    found = await _at_question(ctx, pieces[0], pieces[1])
    if isinstance(found, list):
        return found
    c, resp, q = found
    return await navigate(ctx, c, resp, q, {"b": "back", "s": "skip", "d": "done"}[pieces[2]])


async def navigate(
    ctx: Context, c: Consultation, resp: ResponseRow, q: Question, move: str
) -> list[Reply]:
    if move == "back":
        previous = c.previous(resp.answers, q.id)
        if previous is None:
            return [Reply(ctx.t("consult_first_question")), question_reply(ctx, c, resp.answers, q)]
        stored = await ctx.core.storage.update_response(
            resp.id, now=ctx.now, position=previous, expect_position=q.id
        )
        if not stored:
            return stale(ctx)
        await ensure_state(ctx, c)
        replies = echo(ctx, question_text(ctx, c, resp.answers, q))
        return replies + await show_position(ctx, c, replace(resp, position=previous))
    if move == "skip":
        if q.required:
            return [Reply(ctx.t("consult_required")), question_reply(ctx, c, resp.answers, q)]
        return await accept(ctx, c, resp, q, None)
    # done with a multiple choice: what is ticked is the answer
    picked = resp.answers.get(q.id)
    if not picked:
        if q.required:
            message = (
                markup.escape(q.error)
                if q.error
                else ctx.t("consult_too_few", min=max(1, q.min_choices))
            )
            return [Reply(message), question_reply(ctx, c, resp.answers, q)]
        return await accept(ctx, c, resp, q, None)
    return await accept(ctx, c, resp, q, picked)


async def on_review(ctx: Context, arg: str) -> list[Reply]:
    """Button "cv:<id>:s" (submit) or "cv:<id>:e<question>" (change an answer)."""
    consultation_id, _, what = arg.rpartition(":")
    c = ctx.consultations.get(consultation_id)
    index = typed.whole_number(what[1:]) if what[:1] == "e" else None
    if c is None or not (what == "s" or index is not None):
        return ctx.reply("unknown_action")
    early = await closed_early(ctx, c)
    if not c.is_open(ctx.now, early):
        return [await closed_reply(ctx, c, early)]
    resp = await ctx.core.storage.get_response(c.id, respondent(ctx, c))
    if resp is None or resp.position != REVIEW:
        return stale(ctx)
    if what == "s" or index is None:
        return await submit(ctx, c, resp)
    if index >= len(c.questions) or c.questions[index] not in c.visible(resp.answers):
        return stale(ctx)
    return await change(ctx, c, resp, c.questions[index])


async def change(ctx: Context, c: Consultation, resp: ResponseRow, q: Question) -> list[Reply]:
    stored = await ctx.core.storage.update_response(
        resp.id, now=ctx.now, position=q.id, expect_position=REVIEW
    )
    if not stored:
        return stale(ctx)
    await ensure_state(ctx, c)
    return await show_position(ctx, c, replace(resp, position=q.id))


async def submit(ctx: Context, c: Consultation, resp: ResponseRow) -> list[Reply]:
    missing = c.missing(resp.answers)
    if missing:
        first = missing[0]
        await ctx.core.storage.update_response(
            resp.id, now=ctx.now, position=first.id, expect_position=REVIEW
        )
        return [
            Reply(ctx.t("consult_missing", count=len(missing))),
            question_reply(ctx, c, resp.answers, first),
        ]
    profile = await ctx.core.storage.get_profile(ctx.person.key)
    was_submitted = resp.status == "submitted"
    stored = await ctx.core.storage.update_response(
        resp.id,
        now=ctx.now,
        position=DONE,
        expect_position=REVIEW,
        submit=True,
        drop=c.hidden_answers(resp.answers),
        profile=(profile.region, profile.national_society) if profile else (None, None),
    )
    if not stored:
        return stale(ctx)
    await ctx.clear_state()
    replies = echo(ctx, ctx.t("consult_review_sent"))
    if was_submitted:
        return [
            *replies,
            Reply(
                ctx.t("consult_changes_saved", closes=await when(ctx, c, c.closes, closing=True))
            ),
        ]
    thanks = ctx.t("consult_thanks", title=markup.escape(c.title))
    if c.thanks:
        thanks += "\n\n" + c.thanks
    total = len(c.visible(resp.answers))
    receipt = ctx.t(
        "consult_receipt",
        ref=resp.ref,
        answered=len(c.effective(resp.answers)),
        total=total,
        when=await when(ctx, c, ctx.now),
        closes=await when(ctx, c, c.closes, closing=True),
    )
    note = ctx.t("consult_receipt_anonymous" if c.anonymous else "consult_receipt_named")
    return [*replies, Reply(f"{thanks}\n\n{receipt}\n\n{note}")]


# --------------------------------------------------------------------------- typed text


async def converse(ctx: Context, data: dict[str, object]) -> list[Reply] | None:
    """Typed text while a consultation is open: an answer, a control word, or a question."""
    if ctx.message.action is not None:
        return None  # buttons are routed to the actions above
    c = state_consultation(ctx, data)
    if c is None:
        await ctx.clear_state()
        return None
    text = ctx.text
    word = control_word(ctx, text)
    if word is None and text.startswith("/"):
        return None  # another command: run it, keep the person's place
    early = await closed_early(ctx, c)
    if not c.is_open(ctx.now, early):
        await ctx.clear_state()
        return [await closed_reply(ctx, c, early)]
    resp = await ctx.core.storage.get_response(c.id, respondent(ctx, c))
    if word == "cancel":
        await ctx.clear_state()
        if resp is None:
            return ctx.reply("consult_declined")
        key = "consult_paused_submitted" if resp.status == "submitted" else "consult_paused"
        return ctx.reply(key, closes=await when(ctx, c, c.closes, closing=True))
    if resp is None:  # the introduction is showing: waiting for consent
        said = text.casefold().strip(" .!")
        if said in words(ctx, "consult_words_agree"):
            return await consent(ctx, c, True)
        if said in words(ctx, "consult_words_decline"):
            return await consent(ctx, c, False)
        if word == "help":
            return [Reply(ctx.t("consult_help")), await consent_reply(ctx, c)]
        return [Reply(ctx.t("consult_consent_needed")), await consent_reply(ctx, c)]
    if resp.position == DONE:
        await ctx.clear_state()
        return None
    if word == "help":
        return [Reply(ctx.t("consult_help")), *await show_position(ctx, c, resp)]
    if resp.position == REVIEW:
        return await converse_review(ctx, c, resp, text, word)
    q = c.question(resp.position)
    if q is None:
        return await show_position(ctx, c, resp)
    if word in {"back", "skip"}:
        return await navigate(ctx, c, resp, q, word)
    if q.type == "multiple" and text.casefold().strip(" .!") in words(ctx, "consult_words_done"):
        return await navigate(ctx, c, resp, q, "done")
    if not text:
        return [question_reply(ctx, c, resp.answers, q)]
    value = yes_no_typed(ctx, text) if q.type == "yesno" else None
    if value is None:
        value = q.parse(text)
    if value is None:
        return await not_an_answer(ctx, c, resp, q, text)
    return await accept(ctx, c, resp, q, value)


async def converse_review(
    ctx: Context, c: Consultation, resp: ResponseRow, text: str, word: str | None
) -> list[Reply]:
    visible = c.visible(resp.answers)
    if word == "back" and visible:
        return await change(ctx, c, resp, visible[-1])
    said = text.casefold().strip(" .!")
    if said in words(ctx, "consult_words_submit"):
        return await submit(ctx, c, resp)
    number = typed.whole_number(said.removeprefix(ctx.t("consult_word_change").casefold()))
    if number is not None and 1 <= number <= len(visible):
        return await change(ctx, c, resp, visible[number - 1])
    return [Reply(ctx.t("consult_review_hint")), *review_replies(ctx, c, resp)]


async def not_an_answer(
    ctx: Context, c: Consultation, resp: ResponseRow, q: Question, text: str
) -> list[Reply]:
    """Text that does not answer the question: answer it if it is a question the
    knowledge base knows, else say what is expected; then ask the question again."""
    question = question_reply(ctx, c, resp.answers, q)
    if looks_like_question(text) and len(text) <= MAX_QUESTION_FOR_FAQ:
        result = await ctx.core.matching.run(ctx.matcher.match, text)
        entry = ctx.kb.entries.get(result.id) if result.status == "answer" and result.id else None
        if entry is not None:
            return [
                Reply(entry.answer_in(ctx.language)),
                replace(question, text=ctx.t("consult_back_to") + "\n\n" + question.text),
            ]
        return [Reply(ctx.t("consult_cannot_answer_here")), question]
    if q.error:
        message = markup.escape(q.error)
    elif q.type == "number":
        message = ctx.t("consult_not_a_number")
    elif q.type == "multiple":
        message = ctx.t("consult_not_options")
    else:
        message = ctx.t("consult_not_an_option")
    return [Reply(message), question]
