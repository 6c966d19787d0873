"""Content warnings for ``nsbot kb check``: lessons from auditing the knowledge base.

An answer can be valid YAML and still mislead staff who act on it. The audit found
text written in 2011 or June 2022 still in the present tense years later, answers too
long to read on a phone, citations nobody could open, periods long over told as running,
and events whose kind said one thing while their wording said another. Each lesson is a warning with file:line, so a
curator sees it before a reader does. Warnings never stop the bot from starting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from bot import markup
from bot.errors import Problem
from bot.foreign_subjects import foreign_subject_in
from bot.knowledge import REF_RE, Entry, Event, KnowledgeBase, SourceRef
from bot.wording import text_words

MAX_WORDS = 120
# A source section that starts so is a draft's placeholder (``nsbot kb promote --new``):
# the entry loads and answers, and this warning stays until a curator names the section.
DRAFT_MARK = "DRAFT:"

# Words that state something as current or still to come. From a source dated before
# today they are stale: "currently 15 members" (2011) or "will present" (June 2022).
# Reported speech ("said it would") and quotations are fine and not matched.
PRESENT_TENSE: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"\b(currently|at present|presently|is scheduled|are scheduled|will|upcoming|"
        r"forthcoming|is due|are due|is being developed|is under development|"
        r"this year|next year)\b",
        re.IGNORECASE,
    ),
    "fr": re.compile(
        r"\b(actuellement|à présent|aura lieu|auront lieu|est prévue?|sont prévue?s|"
        r"sera|seront|à venir|cette année|l'année prochaine)\b",
        re.IGNORECASE,
    ),
    "es": re.compile(
        r"\b(actualmente|en la actualidad|se celebrará|tendrá lugar|está previst[oa]|"
        r"están previst[oa]s|será|serán|este año|el año que viene)\b",
        re.IGNORECASE,
    ),
    "ar": re.compile(r"(حاليًا|حاليا|في الوقت الحالي|سوف|سيُعقد|سيعقد|العام المقبل|هذا العام)"),
}
# Present-tense statements of who is in a group or who leads it ("the IFRC chairs the
# group", "has 15 National Societies"): true when the source was written, unknown since.
# A sentence that says when ("in 2011", "as of June 2022", "at that time") is fine.
STATIVE = re.compile(
    r"\b(is made up of|is composed of|consists of|brings together|gathers|sits on|sit on|"
    r"chairs|co-chairs|steers|is charged with|has \d+|have \d+)\b",
    re.IGNORECASE,
)
DATED_SENTENCE = re.compile(
    r"\b(19|20)\d\d\b|\b(as of|according to|at that time|then|today|now|since|blog|page)\b",
    re.IGNORECASE,
)
# "covers 2020–2025" read in 2026: a period that is over, told as running.
ENDED_PERIOD = re.compile(
    r"\b(covers|runs|spans|lasts|is in force|applies)\b[^.;:]*?\b(?:19|20)\d\d\s*[–-]\s*((?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|«[^»]*»|'[^']*'")

# What each event kind's title or summary must (or must not) say. A "founding" whose
# wording is about co-chairs taking over, or a "meeting" worded as an announcement,
# tells the timeline something the source does not.
KIND_NEEDS: dict[str, re.Pattern[str]] = {
    "founding": re.compile(r"\b(set up|founded|launched|established|created|formed)\b", re.I),
    "adoption": re.compile(r"\b(adopt\w*|endorse\w*|decide\w*|approve\w*|welcome\w*)\b", re.I),
    "publication": re.compile(r"\b(publish\w*|released?)\b", re.I),
    "announcement": re.compile(r"\b(announce\w*|said)\b", re.I),
    "strategy-period": re.compile(r"\bstrateg(y|ies)\b", re.I),
    "pledge": re.compile(r"\bpledge\w*\b", re.I),
    "leadership": re.compile(r"\b(chair\w*|co-chair\w*|lead\w*)\b", re.I),
    "plan": re.compile(r"\b(plan\w*|envisaged|due|announced|was to|were to|would)\b", re.I),
}
# A meeting, conference or forum is something that took place; worded as a plan it is not.
HELD_KINDS = frozenset({"meeting", "conference", "forum"})
PLAN_WORDING = re.compile(
    r"\b(plan\w*|announced|envisaged|will|to be held|scheduled|due to)\b", re.IGNORECASE
)


def content_warnings(kb: KnowledgeBase, today: date | None = None) -> list[Problem]:
    """Every content warning for the knowledge base, as seen on ``today``."""
    today = today or date.today()
    out: list[Problem] = []
    for entry in kb.entries.values():
        out += long_answers(entry)
        out += stale_tense(kb, entry, today)
        out += ended_periods(entry, today)
        out += unopenable_sources(kb, entry.sources, entry.file, entry.line, entry.id)
        out += draft_sources(entry)
        out += foreign_phrasings(entry)
    for event in kb.events:
        out += kind_contradictions(event)
        out += unopenable_sources(kb, event.sources, event.file, event.line, event.id)
        out += stale_event_tense(kb, event, today)
    return out


def _words(text: str) -> int:
    """Words as a reader counts them: bullets and dashes are not words."""
    return sum(1 for w in markup.to_plain(text).split() if any(ch.isalnum() for ch in w))


def _answers(entry: Entry) -> Iterable[tuple[str, str]]:
    yield "en", entry.answer
    for lang, tr in entry.translations.items():
        yield lang, tr.answer


def _where(language: str) -> str:
    return "" if language == "en" else f" ({language} translation)"


def foreign_phrasings(entry: Entry) -> list[Problem]:
    """A phrasing that names a subject the matcher keeps out ("budget", "youth policy":
    bot/data/matching.yaml, foreign_subjects) can never be answered: questions like it
    get the fallback."""
    phrasings = [("en", q) for q in entry.questions]
    phrasings += [(lang, q) for lang, tr in entry.translations.items() for q in tr.questions]
    out = []
    for lang, question in phrasings:
        subject = foreign_subject_in(text_words(question))
        if subject is not None:
            out.append(
                Problem(
                    entry.file,
                    entry.line,
                    entry.id,
                    f"the question{_where(lang)} {question!r} names {subject!r}, a subject "
                    "the bot treats as outside the knowledge base (foreign_subjects in "
                    "bot/data/matching.yaml): questions like it get the fallback; reword "
                    "it, or ask a developer to remove that subject from the list",
                    warning=True,
                )
            )
    return out


def long_answers(entry: Entry) -> list[Problem]:
    """An answer over 120 words is too long to read in a chat: split it or cut it."""
    out = []
    for lang, answer in _answers(entry):
        n = _words(answer)
        if n > MAX_WORDS:
            out.append(
                Problem(
                    entry.file,
                    entry.line,
                    entry.id,
                    f"the answer{_where(lang)} has {n} words, more than {MAX_WORDS}; "
                    "shorten it or split it into two entries",
                    warning=True,
                )
            )
    return out


def source_dates(kb: KnowledgeBase, refs: Iterable[SourceRef]) -> list[date]:
    """The dates of the documents (and cited pages) behind some references."""
    refs = list(refs)
    dates = [c.published for c in kb.citations(refs) if c.published]
    for ref in refs:
        source = kb.sources.get(ref.doc)
        if source is not None and source.published and not source.url:
            dates.append(source.published)
    return dates


def present_tense(text: str, language: str) -> str | None:
    """The first present-tense or future marker outside quotation marks, if any; in
    English also an undated present-tense statement of membership or leadership."""
    pattern = PRESENT_TENSE.get(language)
    if pattern is None:
        return None
    plain = _QUOTED.sub(" ", markup.to_plain(text))
    m = pattern.search(plain)
    if m:
        return m.group(0)
    if language != "en":
        return None
    for sentence in re.split(r"(?<=[.;:])\s+|\n", plain):
        stative = STATIVE.search(sentence)
        if stative and not DATED_SENTENCE.search(sentence):
            return stative.group(0)
    return None


def stale_tense(kb: KnowledgeBase, entry: Entry, today: date) -> list[Problem]:
    """ "currently", "will", "upcoming" in an answer from a source written before today:
    what was current or coming then may be over now. Say when ("in 2011 the group had")."""
    dated = [d for d in source_dates(kb, entry.sources) if d < today]
    if not dated:
        return []
    out = []
    for lang, answer in _answers(entry):
        marker = present_tense(answer, lang)
        if marker:
            out.append(
                Problem(
                    entry.file,
                    entry.line,
                    entry.id,
                    f"the answer{_where(lang)} says {marker!r} but its source dates from "
                    f"{max(dated).year}; say when the statement was made, or tell a plan as a "
                    "plan with its outcome",
                    warning=True,
                )
            )
    return out


def ended_periods(entry: Entry, today: date) -> list[Problem]:
    """ "The strategy covers 2020–2025", read after 2025: say it covered the period, and
    what the sources say followed (or that they do not say)."""
    m = ENDED_PERIOD.search(_QUOTED.sub(" ", markup.to_plain(entry.answer)))
    if not m or int(m.group(2)) >= today.year:
        return []
    return [
        Problem(
            entry.file,
            entry.line,
            entry.id,
            f"the answer says {m.group(1)!r} a period that ended in {m.group(2)}; "
            "tell it in the past and say what followed, if the sources say",
            warning=True,
        )
    ]


def stale_event_tense(kb: KnowledgeBase, event: Event, today: date) -> list[Problem]:
    dated = [d for d in source_dates(kb, event.sources) if d < today]
    marker = present_tense(f"{event.title}. {event.summary}", "en") if dated else None
    if not marker:
        return []
    return [
        Problem(
            event.file,
            event.line,
            event.id,
            f"the event says {marker!r} but its source dates from {max(dated).year}; "
            "word it without a fixed tense (the timeline says how long ago it was)",
            warning=True,
        )
    ]


def unopenable_sources(
    kb: KnowledgeBase, refs: Iterable[SourceRef], file: str, line: int, who: str
) -> list[Problem]:
    """A citation nobody can open is no citation: each reference needs a public page,
    the document's ``url`` or, for the fact sheet, a numbered reference ("[11]") that
    has one."""
    out = []
    for ref in refs:
        source = kb.sources.get(ref.doc)
        if source is None or source.url:
            continue
        keys = REF_RE.findall(ref.section)
        missing = [k for k in keys if k not in source.refs]
        if missing:
            problem = f"cites [{'], ['.join(missing)}], not in the references of '{ref.doc}'"
        elif not keys:
            problem = (
                f"'{ref.doc}' has no web address and the section names no numbered reference "
                "such as [11]"
            )
        elif not kb.citations([ref]):
            problem = f"no reference in '{ref.section}' has a web address"
        else:
            continue
        out.append(
            Problem(file, line, who, f"source {ref.doc} ({ref.section!r}) {problem}", warning=True)
        )
    return out


def draft_sources(entry: Entry) -> list[Problem]:
    """A draft entry's answer came from a person, not a document: until the curator
    checks it against one and names the section, ``kb check`` says so."""
    return [
        Problem(
            entry.file,
            entry.line,
            entry.id,
            f"draft: source {ref.doc} ({ref.section!r}) is a placeholder; check the answer "
            "against the document and write the section that confirms it",
            warning=True,
        )
        for ref in entry.sources
        if ref.section.startswith(DRAFT_MARK)
    ]


def kind_contradictions(event: Event) -> list[Problem]:
    """An event's ``kind`` must agree with what its title and summary say."""
    wording = f"{event.title}. {event.summary}"
    message = ""
    needs = KIND_NEEDS.get(event.kind)
    if needs is not None and not needs.search(wording):
        message = f"kind '{event.kind}' but neither title nor summary says so"
    elif event.kind in HELD_KINDS and (m := PLAN_WORDING.search(_QUOTED.sub(" ", wording))):
        message = (
            f"kind '{event.kind}' says it took place, but the wording says {m.group(0)!r}; "
            "if the source only announced it, use kind: plan with an outcome"
        )
    if not message:
        return []
    return [Problem(event.file, event.line, event.id, message, warning=True)]
