"""Follow-ups that move along the timeline: "and a week after that?", "what happened
next?", "et la veille ?", "¿y dos años antes?", "وبعدها بأسبوع؟".

Such a message names no topic, only a step in time from the entry last answered, so the
word-based matcher cannot read it. It is read here against the dated events of
``knowledge/events.yaml``: the previous entry's event is the anchor, the step (a
direction and, where given, a distance) points at a date, and the entry of the event
found there is the answer. Pure functions of the knowledge base.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.knowledge import Event, KnowledgeBase


def _set(words: str) -> frozenset[str]:
    """A word list written as one string, as the lists below are easier to read."""
    return frozenset(words.split())


# Words that say which way to go. Kept as text_words() reads them: lower case, no
# accents, and the Arabic article stripped ("التالي" is "تالي").
_AFTER = _set(
    """after later next following afterwards afterward then subsequent
    apres tard suivant suivante suivi ensuite puis
    prochain prochaine
    despues luego siguiente posterior proximo proxima
    بعد بعدها بعده وبعدها وبعده وبعد تالي لاحقا ثم"""
)
_BEFORE = _set(
    """before earlier previous prior preceding
    avant precedent precedente auparavant tot
    antes anterior previo previa
    قبل قبلها قبله وقبلها وقبله وقبل سابق"""
)
# One word for a step of a day each way ("le lendemain", "la veille").
_DAY_AFTER = frozenset(["lendemain"])
_DAY_BEFORE = frozenset(["veille"])
# Units in days; a month or a year is matched with that much slack anyway.
_UNITS: dict[str, int] = {
    **dict.fromkeys(_set("day days jour jours journee dia dias يوم ايام"), 1),
    **dict.fromkeys(_set("week weeks semaine semaines semana semanas اسبوع اسابيع"), 7),
    **dict.fromkeys(_set("month months mois mes meses شهر اشهر شهور"), 30),
    **dict.fromkeys(_set("year years an ans annee annees ano anos سنه سنوات عام اعوام"), 365),
}
# Arabic duals: "بيومين" (by two days), "اسبوعين", "شهرين", "سنتين".
_DUALS: dict[str, int] = {"يومين": 2, "اسبوعين": 14, "شهرين": 60, "سنتين": 730, "عامين": 730}
_COUNTS: dict[str, int] = {
    **dict.fromkeys(_set("a an one un une uno una واحد"), 1),
    **dict.fromkeys(_set("two deux dos اثنين"), 2),
    **dict.fromkeys(_set("three trois tres ثلاث ثلاثه"), 3),
    **dict.fromkeys(_set("four quatre cuatro اربع اربعه"), 4),
    **dict.fromkeys(_set("five cinq cinco خمس خمسه"), 5),
    **dict.fromkeys(_set("six seis ست سته"), 6),
    **dict.fromkeys(_set("seven sept siete سبع سبعه"), 7),
    **dict.fromkeys(_set("ten dix diez عشر عشره"), 10),
}
# What else such a message may hold: the "and", question words, pointers back, the
# verb of happening. Any other word names a topic, and the message is not only a step.
_FRAME = _set(
    """and so what which who when where how about was is were did does the that this it
    there then happened happen came come comes one meeting event or much
    et alors plus que qu quoi qui quel quelle quand ou s est c ce cela ca il y a eu le la l les
    passe arrive
    e mas que paso sucedio cuando donde el la lo eso esto fue hubo
    و ماذا ما شو ايش وش ايه حدث صار متى وين اين ذلك هذا هيك"""
)
# "the next one", "the meeting after": the same body's next event, not just any.
_SAME = _set("one meeting session reunion seance sesion اجتماع دوره")
_ARTICLES = _set("the le la l el lo")  # "the next" names; "what happened next" does not
_ADJECTIVAL = _set(
    """next previous following preceding suivant suivante precedent precedente prochain
    prochaine siguiente anterior proximo proxima previo previa سابق تالي"""
)
# When two events share a date, an event that took place is a better answer than a plan
# or a publication about it ("a week after" the MLG meeting is the Council itself).
_PLAIN = frozenset(["meeting", "conference", "adoption", "forum", "founding", "pledge"])


@dataclass(frozen=True)
class Step:
    """A move along the timeline: ``+1`` or ``-1``, how far in days (0: the next), and
    whether it asks for the same body's next event ("the next one")."""

    direction: int
    days: int = 0
    same: bool = False


def step_of(words: list[str]) -> Step | None:
    """The step a message asks for, when that is all it asks ("and two weeks later?")."""
    direction = 0
    days = 0
    count = 1
    for word in words:
        if word.isdigit() and len(word) <= 3:
            count = int(word)
        elif word in _COUNTS:
            count = _COUNTS[word]
        elif word in _DAY_AFTER or word in _DAY_BEFORE:
            direction, days = (1 if word in _DAY_AFTER else -1), 1
        elif (unit := _unit(word)) is not None:
            days = count * unit
        elif word in _AFTER or word in _BEFORE:
            if direction and direction != (1 if word in _AFTER else -1):
                return None  # "before or after": not a step
            direction = 1 if word in _AFTER else -1
        elif word.startswith(("ب", "و")) and _unit(word[1:]) is not None:
            days = count * (_unit(word[1:]) or 0)  # "باسبوع": by a week
        elif word not in _FRAME and word not in _SAME:
            return None
    # "the next one", and "y el anterior?", "et la suivante ?", "والسابق؟": an adjective
    # standing for its noun is "one" too.
    same = any(w in _SAME for w in words) or (
        not days
        and any(
            w in _ADJECTIVAL and ((i > 0 and words[i - 1] in _ARTICLES) or not w.isascii())
            for i, w in enumerate(words)
        )
    )
    return Step(direction, days, same) if direction else None


def _unit(word: str) -> int | None:
    if word in _UNITS:
        return _UNITS[word]
    if word in _DUALS:
        return _DUALS[word]
    if word.startswith("ب") and word[1:] in _DUALS:
        return _DUALS[word[1:]]
    return None


def stepped(kb: KnowledgeBase, entry_id: str, step: Step) -> list[str]:
    """The entries a step from ``entry_id`` lands on: one, several when it cannot tell,
    none when that entry has no date or nothing lies that way."""
    anchors = [e for e in kb.events if e.entry == entry_id]
    if not anchors:
        return []
    anchor = anchors[0] if step.direction < 0 else anchors[-1]
    if step.days and step.days < {"year": 365, "month": 28}.get(anchor.start_precision, 0):
        return []  # "the day after" something known to the year only: no date to step from
    start = anchor.start if step.direction < 0 else (anchor.end or anchor.start)
    others = [
        e
        for e in kb.events
        if e.entry
        and e.entry != entry_id
        and e.entry in kb.entries
        and (e.start > start if step.direction > 0 else e.start < anchor.start)
    ]
    if step.same:
        # "the one before" the 2024-2030 strategy: the event of its kind before it whose
        # title shares most with its own (the IFRC's strategy on migration, not the RFL
        # one), then the same body's; "the next one" after the 2009 Council: the 2011
        # Council. Without one of its kind, the same body's event of any kind.
        alike = [e for e in others if e.kind == anchor.kind]
        if alike and not step.days:
            told = _title_words(anchor.title)

            def kinship(e: Event) -> tuple[int, bool]:
                return (len(told & _title_words(e.title)), e.body == anchor.body)

            closest = max(kinship(e) for e in alike)
            others = [e for e in alike if kinship(e) == closest]
        else:
            others = [e for e in others if e.body == anchor.body] or others
    if not others:
        return []
    if step.days:
        target = start + timedelta(days=step.direction * step.days)
        near = [e for e in others if _lands(step, e, target)]
        if not near:
            return []
        best = min(_distance(e, target) for e in near)
        found = [e for e in near if _distance(e, target) == best]
    else:
        nearest = min(others, key=lambda e: abs((e.start - start).days))
        found = [e for e in others if e.start == nearest.start]
    plain = [e for e in found if e.kind in _PLAIN] or found
    return list(dict.fromkeys(e.entry for e in plain))


def _title_words(title: str) -> set[str]:
    """An event title's words of some length, not its numbers: what it names."""
    return {w.lower() for w in re.findall(r"[^\W\d_]+", title) if len(w) > 3}


def _distance(event: Event, target: date) -> int:
    return abs((event.start - target).days)


def _lands(step: Step, event: Event, target: date) -> bool:
    """Whether ``event`` lies where the step aims: in the same year for a step of years,
    within half the step otherwise, and only for an event dated as finely as the step
    (a date known to the month is no answer to "the day before")."""
    if step.days >= 365:
        return event.start.year == target.year
    finest = {"day": 1, "month": 28, "year": 365}[event.start_precision]
    return finest <= step.days and _distance(event, target) <= max(1, step.days // 2)


# "that year", "cette année-là", "ese mismo año", "نفس السنة": the year of the entry
# last answered, as text_words() reads these phrases.
_THAT_YEAR: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split())
    for phrase in (
        "the same year",
        "that same year",
        "that year",
        "same year",
        "cette annee la",
        "cette meme annee",
        "la meme annee",
        "meme annee",
        "ese mismo ano",
        "el mismo ano",
        "ese ano",
        "aquel ano",
        "mismo ano",
        "نفس سنه",
        "نفس عام",
        "ذلك عام",
        "تلك سنه",
        "هذيك سنه",
        "هيداك عام",
        "بهيداك عام",
        "هيداك سنه",
        # Spoken Arabic puts "that" after the noun: "السنة ديك", "بنفس السنة".
        "سنه ديك",
        "سنه هديك",
        "سنه هذيك",
        "سنه ذيك",
        "سنه داك",
        "عام داك",
        "عام ذاك",
        "بنفس سنه",
        # ...and Maghrebi "ديك العام", "داك العام" before it
        "ديك عام",
        "داك عام",
        "ديك سنه",
        "هديك سنه",
        "هداك عام",
    )
)
# "that CoD?", "ce CoD", "ese consejo", "هالمجلس": a meeting named with a pointing word
# is the one of the year just talked about (after the 2022 resolution, the 2022 CoD).
_THAT = _set(
    """that this those these ce cet cette ces ese esa este esta esos esas estos estas aquel
    aquella aquellos aquellas ذلك تلك هذا هذه هذول هدول"""
)
# "en qué CoD se presentó?", "at which CoD was it presented?": the one of that year too.
_WHICH = _set("which que quel quelle quels quelles cual cuales اي انهي")
# ...and after it in spoken Arabic: "ومجلس المندوبين هداك كان امتى؟"
# ...or a relative pronoun: "والمجلس اللي اعتمدها" (text_words() leaves "اللي" as "لي"),
# "le CoD où elle a été présentée", "el CdD donde se adoptó"
_THAT_AFTER = _set(
    "هداك هاداك داك ديك هذاك ذاك هذيك هديك هاديك ذيك هيداك لي يلي الذي التي ou donde"
)
_MEETINGS = _set(
    """cod council conference ic ga assembly meeting forum imrf meetings councils cd cdd
    conferences conseil assemblee reunion reunions consejo conferencia asamblea foro
    reuniones conferencias مجلس موتمر جمعيه اجتماع منتدي اجتماعات موتمرات"""
)


def pin_year(words: list[str], kb: KnowledgeBase, entry_id: str) -> str | None:
    """The message with "that year" replaced by the year of ``entry_id``'s events ("and
    the CoD that year?" after the 2009 adoption: "and the CoD in 2009"), when it says
    "that year" and the entry's events all fall in one year. "that CoD" likewise: "when
    was that CoD?" after the 2022 resolution is "when was CoD 2022"."""
    years = {e.start.year for e in kb.events if e.entry == entry_id} or _title_years(kb, entry_id)
    for phrase in _THAT_YEAR:
        at = _find(words, phrase)
        if at is None:
            continue
        if len(years) != 1:
            return None
        rest = words[:at] + words[at + len(phrase) :]
        return " ".join([*rest, str(years.pop())])
    if len(years) != 1 or any(w.isdigit() for w in words):
        return None
    for i, word in enumerate(words):
        if word.startswith("هال") and word[3:] in _MEETINGS:  # Arabic "this" is a prefix
            rest = [*words[:i], word[3:], *words[i + 1 :]]
        elif (
            (word in _THAT or word in _WHICH) and words[i + 1 : i + 2] and words[i + 1] in _MEETINGS
        ):
            rest = words[:i] + words[i + 1 :]
        elif word in _MEETINGS and (after := [w for w in words[i + 1 : i + 3] if w in _THAT_AFTER]):
            rest = [w for w in words if w != after[0]]
        else:
            continue
        return " ".join([*rest, str(years.pop())])
    return None


# A year in a title, not the one in a name ("IFRC Strategy 2030").
_PERIOD = re.compile(r"\b((?:19|20)\d\d)\s*[-–]\s*(?:19|20)\d\d\b")
_TITLE_YEAR = re.compile(r"(?<!strategy )\b(?:19|20)\d\d\b", re.IGNORECASE)


def _title_years(kb: KnowledgeBase, entry_id: str) -> set[int]:
    """The years an entry without dated events is about, from its title ("What does the
    2022 migration resolution say?"): "that CoD" after it is the 2022 one."""
    entry = kb.entries.get(entry_id)
    if entry is None:
        return set()
    # A period ("the Migration Strategy 2024-2030") is dated by its start: "that council"
    # after it is the 2024 one.
    starts = {int(y) for y in _PERIOD.findall(entry.title)}
    return starts | {int(y) for y in _TITLE_YEAR.findall(_PERIOD.sub(" ", entry.title))}


def meeting_named(words: list[str]) -> str | None:
    """The meeting a pinned message names, with its year ("cod 2022"), or None."""
    kept = [w for w in words if w in _MEETINGS or (len(w) == 4 and w.isdigit())]
    return " ".join(kept) if any(w in _MEETINGS for w in kept) and kept[-1].isdigit() else None


def _find(words: list[str], phrase: tuple[str, ...]) -> int | None:
    for at in range(len(words) - len(phrase) + 1):
        if tuple(words[at : at + len(phrase)]) == phrase:
            return at
    return None


# What "what about 2015?" may hold besides its year.
SWAP_FRAME = _FRAME | _set(
    """in en for pour para de del du celui celle one عن في سنه عام year annee ano
    ok okay ok d accord vale bueno
    طيب طب اوكي تمام تبع وتبع حق وحق ديال وديال"""
)


def swapped_year(words: list[str], kb: KnowledgeBase, entry_id: str) -> list[str]:
    """The entries "what about 2015?" asks for after ``entry_id``: the same body's events
    of that year (after the 2017 Council's call for action, the 2015 Council's
    statement, not the International Conference held that December). Empty when the
    message holds more than a year, or the entry has no dated event."""
    years = [w for w in words if len(w) == 4 and w.isdigit() and w[:2] in ("19", "20")]
    if len(years) != 1 or any(w not in SWAP_FRAME for w in words if w != years[0]):
        return []
    year = int(years[0])
    anchors = [e for e in kb.events if e.entry == entry_id]
    bodies = {e.body for e in anchors}
    found = [
        e
        for e in kb.events
        if e.start.year == year
        and e.entry
        and e.entry != entry_id
        and e.entry in kb.entries
        and e.body in bodies
    ]
    # One topic's entries before another's: after the 2017 Call for Action, "and the
    # 2019 one?" is the 2019 statement, not the meetings it was adopted at.
    topic = kb.entries[entry_id].topic if entry_id in kb.entries else None
    same_topic = [e for e in found if kb.entries[e.entry].topic == topic]
    if same_topic:
        return list(dict.fromkeys(e.entry for e in same_topic))
    kinds = {e.kind for e in anchors}
    if len(bodies) == 1:  # after one body's meeting, its meeting of that year, not a plan
        found = [e for e in found if e.kind in kinds] or found
    if not found or not any(e.kind in kinds for e in found):
        # The same kind of event that year under another name: after the 2022 Council
        # of Delegates or the 2019 statutory meetings, "and the 2024 one?" is the 2024
        # statutory meetings, not the Council's adoption of a strategy that October.
        alike = [
            e
            for e in kb.events
            if e.start.year == year and e.kind in kinds and e.entry and e.entry in kb.entries
        ]
        found = alike or found
    return list(dict.fromkeys(e.entry for e in found))


# What a meeting gave: "what did it adopt on migration?", "which resolution did they put
# to it?", "what did they present at the CoD?", "which text came out of them?", "what
# did they agree?" after the meeting's own entry.
OUTCOME_TOKENS = frozenset(
    ["adopt", "present", "resolut", "decid", "approv", "outcom", "result", "out", "agree", "produc"]
)
_OUTCOME_KINDS = frozenset(["adoption", "plan"])
_MEETING_KINDS = frozenset(["meeting", "conference"])
OUTCOME_WINDOW = 31  # days from the meeting an adoption or a plan may be dated


def outcome_of(kb: KnowledgeBase, entry_id: str) -> str | None:
    """The one entry of what was adopted or put forward at the meeting ``entry_id`` is
    about (an adoption or plan dated within a month of it, day-precise), else None."""
    meetings = [
        e
        for e in kb.events
        if e.entry == entry_id and e.kind in _MEETING_KINDS and e.start_precision == "day"
    ]
    near = [
        (abs((e.start - m.start).days), e.entry)
        for m in meetings
        for e in kb.events
        if e.kind in _OUTCOME_KINDS
        and e.entry
        and e.entry != entry_id
        and e.entry in kb.entries
        and abs((e.start - m.start).days) <= OUTCOME_WINDOW
    ]
    if not near:
        return None
    # The nearest: the 2022 Council's resolution (that day), not the MLG meeting of the
    # week before.
    closest = min(days for days, _ in near)
    found = {entry for days, entry in near if days == closest}
    return found.pop() if len(found) == 1 else None
