"""A request for a definition in other words: "my boss wrote 'cod' in the agenda, what is
that?", "what is MENA in the network list?", "they mention ICVA. what is that?".

Such a message names one glossary term, and the rest of it only says where the term was
seen. Read whole, those other words (agenda, notes, network, advocacy) pull the ranking
towards entries that share them; read as "what is <term>", the glossary answers. The
rewriting is narrow on purpose: "the RFL leadership platform, what is that?" and "la
plateforme de leadership RLF, c'est quoi ?" ask about the platform, not about RFL, so
a term followed or preceded by other content is left alone.
"""

from __future__ import annotations

import re

from bot.matcher import MAX_QUESTION_CHARS, Matcher
from bot.question_shape import asks_what_it_does
from bot.wording import FILLER, POLITENESS, STOPWORDS, text_words


def _phrases(*texts: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(text_words(t)) for t in texts)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Pointers that ask what a name means, not what the thing is: the glossary's line.
_MEANING_POINTERS = _phrases(
    "what does that mean",
    "what does that stand for",
    "ça veut dire quoi",
    "ça désigne quoi",
    "qué significa eso",
    "que quiere decir eso",
    "ما معنى ذلك",
    "شو معناها",
    "شو معناه",
    "ما معناها",
    "ايش معناها",
    "وش معناها",
)
# A pointer that ends the message; it needs its demonstrative: "X, what is it?" and "X,
# c'est quoi ?" are the usual way to ask about the whole of X.
_POINTERS = (
    *_phrases(
        "what is that",
        "what's that",
        "whats that",
        "what is this",
        "what is that place",
        "c'est quoi ça",
        "qué es eso",
        "شو هاد",
        "شو هذا",
        "ما هذا",
        "ايه ده",
    ),
    *_MEANING_POINTERS,
)
# "what is it" points back too, but only at a name said just before ("they say IMRF,
# what is it?"), as "X, what is it?" is also how people ask about all of X.
_WEAK_POINTERS = _phrases("what is it", "qu'est-ce que c'est")
# Where the term was seen, before the pointer ("in the agenda", "in the meeting notes").
_PLACES = _words("in on dans sur en في")
MAX_PLACE_WORDS = 5
# What may stand just before the term: nothing, a verb of mentioning, a preposition.
_MENTIONS = _words(
    """say says said saying wrote write writes writing written mention mentions mentioned
    heard hear saw see seen seeing sees called call read at about like of is often always
    vois voit voyons souvent toujours veo vemos siempre never jamais nunca escuche escuchado
    oi
    dit disent dire ecrit ecrivent mentionne parle parlent entendu vu lu appelle
    dice dicen dijo dijeron escribio escriben menciona mencionan mencionaron menciono hablan
    hablaron oido visto leido llaman
    يقول يقولوا يقولون قال قالوا كتب كتبوا ذكر ذكروا سمعت شفت فيها فيه مكتوب بتنكتب تنكتب بيكتبوها يكتبوها بيكتبوا"""
)
_QUOTES = frozenset(
    [
        "the",
        "a",
        "an",
        "le",
        "la",
        "l",
        "les",
        "el",
        "los",
        "un",
        "une",
        "du",
        "des",
        "de",
        "del",
        "al",
        "d",
        "ال",
    ]
)
# "what is MENA in the network list?": a lead, the term, then where it was seen.
_LEADS = _phrases(
    "what does",
    "wat does",
    "what do",
    "what is",
    "what's",
    "whats",
    "wat is",
    "c'est quoi",
    "qu'est-ce que",
    "qué es",
    "ما هو",
    "ما هي",
    "شو هو",
    "شو هي",
    "شنو هو",
    "شنو هي",
    "اشنو هو",
    "اشنو هي",
    "ايش هو",
    "وش هو",
    "ايه هو",
)
_LOCATORS = _words(
    "in that which mentioned written dans mentionne cite mencionado mencionada في اللي الي فهاد "
    "فهذه بهاد بهذه"
)
# "what does GA mean in IFRC documents?": the same, asked as what a name means.
_MEANING_LEADS = _phrases("what does", "wat does", "what do")
_MEANS = _phrases("mean", "means", "stand for", "stands for")
_TAIL = _words(
    "please pls plz thanks thx thank you merci svp stp gracias porfa exactly exactement "
    "exactamente lol شكرا بالضبط"
)
# "apmn stand for what?", "HSP ça correspond à quoi ?", "q quiere decir RCRC?", "MENA يعني
# انهي منطقه": a name and words that ask what it stands for, in any order. One of these
# words must be there ("HSP, what for?" asks what HSPs do, not what the letters mean)...
_MEANING = _words(
    """stand stands mean means meaning short abbreviation acronym letters refer refers name
    spell spelled spelt
    nom nombre اسم
    region zone area
    signifie signification designe correspond sigle acronyme abreviation veut kesako
    significa significado quiere sigla siglas refiere refieren acronimo region zona
    يعني معنى معناها معناه مقصود اختصار يرمز مختصر منطقه"""
)
# ...and besides the name, only these (or words of courtesy, or where it was seen).
_MEANING_REST = _words(
    """what whats wat which is are for to of does do did it this that exactly so ok and then
    full name your ur answer answers again there here out
    quoi que qu quel quelle c est ca cela dire clair nom complet veut donc et alors
    que q qué cual es se a lo eso el nombre completo decir dicen cuando y koi kwa
    شو ايش ايه وش شنو اشنو ما ماذا هو هي انهي اي يعني و ب فيها فيه بمنطقه لما
    به بها فما باختصار وارد ورد دون شرح مكتوب فهمت وما
    لشو لايه لايش لاش لماذا"""
)
_WHAT = _words("what whats wat quoi koi qué que q شو ايش ما")
# "and what is the ICVA?", not "what about the MLG?" (the same asked of it) nor "what does
# the MRG do?" (what it does).
_COPULA = _words("is whats es est c هو هي")
_CLAUSE = re.compile(r"[,.;:!?¿¡\n،؟]+|\s[-–—]+\s")
_ASK = {"en": "what is {}", "fr": "c'est quoi {}", "es": "qué es {}", "ar": "ما هو {}"}
MAX_TERM_WORDS = 3


# "ما المقصود بالاتحاد الدولي...؟", "ما المقصود باختصار RCRC؟", "what is meant by GB?":
# what is meant by a name, which is what it is.
_MEANT_BY = _phrases(
    "ما المقصود", "فما المقصود", "شو المقصود", "ايش المقصود", "what is meant by", "whats meant by"
)
_MEANT_NAME_LEAD = _words("ب باختصار اختصار by the")
# ...up to where it was seen: "ما المقصود باختصار ICVA الوارد في وثائق الفريق المرجعي؟"
_MEANT_NAME_END = _words("وارد الوارد الذي التي يتكرر اللي لي في in mentioned used that which")


def definition_reading(matcher: Matcher, question: str) -> str | None:
    """ "what is <term>" in the question's language, when that is what it asks; else None."""
    words = [w for w in text_words(question[:MAX_QUESTION_CHARS]) if w not in _TAIL]
    for clause in _CLAUSE.split(question[:MAX_QUESTION_CHARS]):
        said = text_words(clause)
        for at in range(len(said)):
            meant = next((m for m in _MEANT_BY if tuple(said[at : at + len(m)]) == m), None)
            if meant is None:
                continue
            rest = said[at + len(meant) :]
            while rest and rest[0] in _MEANT_NAME_LEAD:
                rest = rest[1:]
            end = next((i for i, w in enumerate(rest) if w in _MEANT_NAME_END), len(rest))
            if rest[:end]:
                return what_is(rest[:end], matcher.analyse(question).language)
    for tail in (*_POINTERS, *_WEAK_POINTERS):
        if len(words) > len(tail) and tuple(words[-len(tail) :]) == tail:
            term = _pointed_at(matcher, words[: -len(tail)], weak=tail in _WEAK_POINTERS)
            break
    else:
        term = _after_lead(matcher, words)
    if term is None:
        return None
    return what_is(term, matcher.analyse(question).language)


def name_asked(matcher: Matcher, question: str, after_answer: bool = False) -> str | None:
    """The glossary entry of the name a message asks the meaning of ("apmn stand for
    what?", "IC in ur answer mean?"), else None. What the letters stand for is the
    glossary's line, not the curated entry about the thing."""
    words = [w for w in text_words(question[:MAX_QUESTION_CHARS]) if w not in _TAIL]
    for tail in _MEANING_POINTERS:
        # "je vois souvent « GCM » dans les notes, ça veut dire quoi ?"
        if len(words) > len(tail) and tuple(words[-len(tail) :]) == tail:
            term = _pointed_at(matcher, words[: -len(tail)], weak=False)
            named = matcher.terms_named(term) if term else []
            if len(named) == 1:
                return named[0]
    clauses = _CLAUSE.split(question[:MAX_QUESTION_CHARS])
    # "perdón, soy nuevo, ¿qué quiere decir RCRC?": the clause that asks, on its own;
    # and "RCRC q significa, lo veo en todos los docs", with where it was seen after it.
    spans = [clauses[i:] for i in range(len(clauses))]
    spans += [[c] for c in clauses[:-1]] if len(clauses) > 1 else []
    for span in spans:
        words = [w for w in text_words(" ".join(span)) if w not in _TAIL]
        if words and (term := _meaning_asked(matcher, words, after_answer)) is not None:
            named = matcher.terms_named(term)
            return named[0] if len(named) == 1 else None
    return None


# "sorry the full name of this group is?", "and its letters stand for?": the name of
# what was just answered.
_BACK_TO_IT = _words(
    "this that it its their they them group body network one thing ce cet cette son sa ses "
    "groupe ca ese esa este esta su sus grupo هذا هذه هاي هاد اسمها اسمه مجموعه"
)


def name_of_it(matcher: Matcher, question: str, entry_id: str) -> str | None:
    """The glossary entry of the one name the entry answered names ("the Migration
    Leadership Group" in "Who sits on the MLG?"), when a message asks only what that
    name stands for and points back at it; else None."""
    words = [w for w in text_words(question[:MAX_QUESTION_CHARS]) if w not in _TAIL]
    if not any(w in _MEANING for w in words) or not any(w in _BACK_TO_IT for w in words):
        return None
    if not all(_asks_meaning(w) or w in _BACK_TO_IT for w in words):
        return None
    named = matcher.terms_of(entry_id)
    return named[0] if len(named) == 1 else None


def what_is(words: list[str], language: str | None) -> str:
    """ "what is <words>" in a language (English when it is not known)."""
    return _ASK.get(language or "en", _ASK["en"]).format(" ".join(words))


def _pointed_at(matcher: Matcher, before: list[str], weak: bool) -> list[str] | None:
    """The term's words in "<mention> <term> [in the X]": the last words before the
    pointer that name one term, with at most a place after them."""
    for end in range(len(before), max(0, len(before) - MAX_PLACE_WORDS - 1), -1):
        after = before[end:]
        if after and after[0] not in _PLACES:
            continue
        # "what is it" after a place ("GFMD in the notes. What is it?") only with a
        # verb of mentioning before the name: "the RFL platform, what is it" asks about
        # the platform.
        placed_weakly = bool(after) and weak
        for n in range(1, MAX_TERM_WORDS + 1):
            start = end - n
            if start < 0:
                break
            if not _only_a_term(matcher, before[start:end]):
                continue
            lead = start
            while lead > 0 and before[lead - 1] in _QUOTES:
                lead -= 1
            if placed_weakly and (lead == 0 or before[lead - 1] not in _MENTIONS):
                continue
            if lead == 0 or before[lead - 1] in _MENTIONS:
                return before[start:end]
    return None


def _after_lead(matcher: Matcher, words: list[str]) -> list[str] | None:
    """ "(sorry,) what is <term> in/mentioned in ...": the term, when only the place it
    was seen follows it."""
    start = 0
    while start < len(words):
        lead = next((d for d in _LEADS if tuple(words[start : start + len(d)]) == d), ())
        if lead:
            break
        if words[start] not in STOPWORDS and words[start] not in FILLER:
            return None
        start += 1
    else:
        return None
    after = words[start + len(lead) :]
    while after and after[0] in _QUOTES:
        after = after[1:]
    for n in range(1, MAX_TERM_WORDS + 1):
        rest = after[n:]
        if lead in _MEANING_LEADS:
            means = next((m for m in _MEANS if tuple(rest[: len(m)]) == m), ())
            rest = rest[len(means) :] if means else []
        if rest and rest[0] in _LOCATORS and _only_a_term(matcher, after[:n]):
            return after[:n]
    return None


def _only_a_term(matcher: Matcher, words: list[str]) -> bool:
    """Whether these words name one glossary term and nothing else."""
    tokens = matcher.analyse(" ".join(words)).tokens
    return (
        bool(tokens)
        and all(matcher.names_a_term_token(t) for t in tokens)
        and len(matcher.terms_named(words)) == 1
    )


def _meaning_asked(
    matcher: Matcher, words: list[str], after_answer: bool = False
) -> list[str] | None:
    """ "and hsp is short for?", "IC in ur answer mean?", "شو المقصود ب Sahel+": the one
    name, when every other word asks what it means or says where it was seen."""
    # Without such a word, only letters before the "what": "and icrc is what exactly?"
    # (not "the reference group, what is it?", which asks about the whole group; "what
    # is the APMN?" is the matcher's to read).
    letters_only = not any(w in _MEANING for w in words)
    what = next((i for i, w in enumerate(words) if w in _WHAT), None)
    if letters_only and (what is None or asks_what_it_does(words)):
        return None  # "mrg what it do exactly" asks what the group does
    # The name holds the first word that asks nothing, unless that word is where it
    # was seen: a cheap bound on the spans worth an analysis (this runs on every message).
    asking = [_asks_meaning(w) for w in words]
    if sum(1 for a in asking if not a) > MAX_TERM_WORDS + 2 * MAX_PLACE_WORDS:
        return None
    for n in range(MAX_TERM_WORDS, 0, -1):
        for start in range(len(words) - n + 1):
            term = words[start : start + n]
            if asking[start] or any(w in _MEANING or w in _MEANING_REST for w in term):
                continue  # "stand" is no typo of "standing (commission)" here
            if not matcher.may_name_a_term(term):
                continue
            if not _only_a_term(matcher, term):
                # "sahel+" comes out of the tokeniser as "sahel plus".
                term = ["".join(term)]
                if n == 1 or not _only_a_term(matcher, term):
                    continue
            # After an answer, "and what is the ICVA?" too: the topic of the moment would
            # otherwise pull the answer back to itself.
            before_what = what is not None and (
                start < what or (after_answer and any(w in _COPULA for w in words))
            )
            if letters_only and (
                not before_what or not matcher.analyse(" ".join(term)).short_forms
            ):
                continue
            rest = _unplaced(words[:start]) + _unplaced(words[start + n :])
            if all(_asks_meaning(w) for w in rest):
                return term
    return None


def _unplaced(words: list[str]) -> list[str]:
    """The words without a place they name ("in the notes", "en los correos")."""
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i] in _PLACES:
            end = i + 1
            while end < len(words) and words[end] in _QUOTES:
                end += 1
            while end < len(words) and end - i <= MAX_PLACE_WORDS and not _asks_meaning(words[end]):
                end += 1
            i = end
            continue
        out.append(words[i])
        i += 1
    return out


def _asks_meaning(word: str) -> bool:
    return (
        word in _MEANING
        or word in _MEANING_REST
        or word in _TAIL
        or word in _QUOTES
        or word in _MENTIONS
        or word in FILLER
        or word in POLITENESS
    )
