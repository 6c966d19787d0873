"""Follow-up questions: "and when was that?", "who chairs it?", "tell me more", "in french
please", "and a week after that?" (:mod:`bot.temporal`), understood against the entry
last answered in the same chat.

Pure functions of the matcher and the previous answer; the FAQ handler keeps that
previous answer in storage for a short while (:data:`CONTEXT_TTL`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta

from bot import temporal
from bot.definition_ask import definition_reading, name_asked, name_of_it, what_is
from bot.foreign_subjects import names_a_foreign_subject
from bot.knowledge import Term
from bot.language_ask import (
    language_asked,
    only_asks_for_it,
    split_language_request,
    without_purpose,
)
from bot.list_items import last_item, listed_item, neighbour_item, swapped_item
from bot.matcher import FRAMING_CAP, Match, Matcher, Query, Suggestion
from bot.readings import PRONOUNS
from bot.wording import (
    COURTESY,
    FILLER_STEMS,
    QUESTION_ALIASES,
    QUESTION_WORDS,
    Phrases,
    normalise,
    text_words,
)

CONTEXT_TTL = timedelta(minutes=30)
# A follow-up stays on the earlier topic: an entry that shares none of its words keeps
# this share of its score ("who are its members?" after the task force is not the MRG's).
OFF_TOPIC = 0.7
# ...but moves on from the entry just answered: "how many are there?" after "what is an
# HSP" asks for something the first answer was not (it is there to scroll back to).
REPEAT = 0.9
ELLIPTIC_WORDS = 4  # at most this many words, naming nothing: a follow-up without "it"
COUNTING = "many"  # the question word of "how many", "cuántas", "combien", "كم"
REPEAT_OTHER = 0.7  # ...and more so when it asks "who" or "how many" after a "what"
REPEAT_ACTUALLY = 0.5  # ...and most when it says "actually", "finalement", "فعليا"
OWN_WORD_WEIGHT = 3.5  # a word this rare in a follow-up is a topic of its own

# "tell me more": the entry again, in full with its sources and related questions (a
# glossary line gives way to the curated entry on the same thing). Kept as text_words() reads them (the
# Arabic article is stripped: "المزيد" is "مزيد"), and matched once politeness is set
# aside ("plus de détails svp", "more please").
_MORE = frozenset(
    tuple(text_words(phrase))
    for phrase in (
        "tell me more",
        "more",
        "more details",
        "more info",
        "more information",
        "go on",
        "details",
        "en savoir plus",
        "dis m'en plus",
        "dites m'en plus",
        "plus de details",
        "plus d'infos",
        "plus d'informations",
        "encore",
        "cuentame mas",
        "cuéntame más",
        "mas informacion",
        "más detalles",
        "dime mas",
        "digame mas",
        "المزيد",
        "اخبرني المزيد",
        "المزيد من التفاصيل",
        "تفاصيل اكثر",
        "احكيلي اكثر",
        # "source?": the answer in full shows where it comes from.
        "source",
        "sources",
        "your source",
        "what source",
        "which source",
        "la source",
        "quelle source",
        "fuente",
        "fuentes",
        "la fuente",
        "cual es la fuente",
        "مصدر",
        "شو مصدر",
        "ما مصدر",
    )
)
# "tell me more about the task force", "en savoir plus sur le MLG": the entry on it, in full.
_ABOUT = frozenset(["about", "on", "sur", "de", "du", "des", "sobre", "del", "عن"])
_COURTESY = COURTESY
# Words that point back at something said before.
_BACK = frozenset(
    [
        # "how many ns inside", "cb de sn dedans": in it
        "inside",
        "dedans",
        "dentro",
        "it",
        "its",
        "that",
        "this",
        "those",
        "these",
        "them",
        "they",
        "their",
        "there",
        "he",
        "she",
        "his",
        "her",
        "him",
        "il",
        "elle",
        "ils",
        "elles",
        "ca",
        "cela",
        "ce",
        "celui",
        "celle",
        "lui",
        "leur",
        "y",
        "en",
        "eso",
        "esto",
        "ello",
        "ese",
        "esa",
        "esos",
        "esas",
        "lo",
        "le",
        "les",
        "ahi",
        "alli",
        "su",
        "sus",
        "ذلك",
        "هذا",
        "هذه",
        "هو",
        "هي",
        "هم",
        "ذلكم",
        "فيه",
        "فيها",
        "عنه",
        "عنها",
    ]
)
_AND = frozenset(
    {"and", "et", "y", "e", "و", "so", "alors", "entonces", "also", "aussi", "tambien"}
)
# A correction or a pivot ("no I meant the MLG", "what about PERCO?", "je parlais du
# MLG", "me refería al MLG", "لا قصدي ال MLG"): the question before, about something else.
_PIVOTS = tuple(
    tuple(text_words(phrase))
    for phrase in (
        "no",
        "nope",
        "wait",
        "oops",
        "not that",
        "i meant",
        "i mean",
        "sorry i meant",
        "what about",
        "how about",
        "the other one",
        "actually",
        "non",
        "je voulais dire",
        "je parlais",
        "je parle",
        "plutot",
        "pas ca",
        "en fait",
        "quise decir",
        "queria decir",
        "me referia",
        "me refiero",
        "hablaba de",
        "que tal",
        "mas bien",
        "en realidad",
        "لا",
        "لأ",
        "قصدي",
        "اقصد",
        "كنت اقصد",
        "مش هيك",
        "ماذا عن",
        "شو عن",
    )
)


# "same question for the MLG", "pareil pour PERCO", "lo mismo para el MLG": the
# question the last answer answered, asked of another name.
_SAME_FOR = tuple(
    tuple(text_words(phrase))
    for phrase in (
        "same question for",
        "same question about",
        "same question but for",
        "same for",
        "same thing for",
        "same but for",
        "meme question pour",
        "meme chose pour",
        "pareil pour",
        "la misma pregunta para",
        "misma pregunta para",
        "lo mismo para",
        "lo mismo pero para",
        "igual para",
        "نفس السؤال عن",
        "نفس السؤال ل",
        "نفس الشي عن",
        "نفس الشي ل",
    )
)


# Words of a correction besides the name it gives: "the other group", "the other one".
_CORRECTION_FRAME = frozenset(["other", "group", "one", "otro", "grupo", "autre", "groupe"])


def _same_question(matcher: Matcher, words: list[str], entry_id: str) -> Match | None:
    """ "same question for the MLG" after what the MRG does: the last answer's question
    (its title) with the name it was about swapped for the one now named. None unless
    the message opens that way and names something the knowledge base knows."""
    lead = 0
    while lead < len(words) and (words[lead] in _COURTESY or words[lead] in _AND):
        lead += 1
    opener = next((p for p in _SAME_FOR if tuple(words[lead : lead + len(p)]) == p), None)
    if opener is not None:
        named = matcher.analyse(" ".join(words[lead + len(opener) :]))
    elif corrected := _openers(words):
        # "no I meant the other group, the leadership one": a correction naming only
        # another thing asks the same of it.
        named = matcher.analyse(" ".join(words[sum(len(o) for o in corrected) :]))
        old = {t for t in matcher.subject(entry_id) if matcher.names_a_term_token(t)}
        if (
            any(
                w > FRAMING_CAP
                and not matcher.names_a_term_token(t)
                and t not in QUESTION_WORDS
                and t not in _CORRECTION_FRAME
                for t, w in named.tokens.items()
            )
            or not {t for t in named.tokens if matcher.names_a_term_token(t)} - old
        ):
            return None
    else:
        return None
    new_terms = {t for t in named.tokens if matcher.names_a_term_token(t)}
    if not new_terms and not named.numbers:
        return None
    if opener is not None and "glossary" in matcher.kb.entries[entry_id].tags:
        # "qué significa MRG?" then "lo mismo para MLG": what the other name stands for.
        glossaries = matcher.terms_in(named)
        return _sure(glossaries[0], named.language) if len(glossaries) == 1 else None
    asked = matcher.analyse(matcher.kb.entries[entry_id].title)
    kept = {
        t: w
        for t, w in asked.tokens.items()
        if not (new_terms and matcher.names_a_term_token(t))
        and not (named.numbers and (t.isdigit() or "#" in t))
    }
    tokens = {**kept, **named.tokens}
    items = [t.split("#")[0] for t in asked.tokens if "#" in t]
    if items and len(named.numbers) == 1:
        # "pareil pour le 10" after principle 8: principle 10
        tokens[f"{items[0]}#{next(iter(named.numbers))}"] = asked.tokens[
            next(t for t in asked.tokens if "#" in t)
        ]
    query = replace(
        asked,
        tokens=tokens,
        numbers=frozenset(t for t in tokens if t.isdigit()),
        content=sum(tokens.values()),
        language=named.language,
    )
    found = matcher.decide(query, matcher.rank_query(query))
    return found if found.status == "answer" and found.id != entry_id else None


def _names_of(term: Term) -> list[tuple[str, list[str]]]:
    """A term's long names by language, as text_words() reads them, less any note in
    brackets ("Migration Leadership Group (RCRC)")."""
    names = [("en", term.stands_for)] + [(k, tr.stands_for) for k, tr in term.translations.items()]
    return [(lang, text_words(re.sub(r"\([^)]*\)", " ", name))) for lang, name in names]


def _one_named(matcher: Matcher, words: list[str], entry_id: str) -> list[str]:
    """ "no, I meant the other group, the leadership one" after the MRG: "one" stands for
    the head noun of what the last answer was about ("group"), and so names the MLG;
    likewise "no, el de referencia", "non, celui de référence". The words unchanged when
    the message is no correction or no such reading names another thing of that noun."""
    if not _openers(words):
        return words
    before = set(matcher.terms_of(entry_id))
    terms = {t.entry_id: t for t in matcher.kb.terms}
    for glossary in matcher.terms_of(entry_id):
        if glossary not in terms:
            continue
        for language, spelled in _names_of(terms[glossary]):
            if not spelled:
                continue
            if language == "en":
                head = spelled[-1]
                swapped = [head if w in ("one", "ones") else w for w in words]
            else:  # "el de referencia", "celui de référence": the noun comes first
                head = spelled[0]
                swapped = [
                    head
                    if w in ("celui", "celle")
                    or (w in ("el", "la") and words[i + 1 : i + 2] in (["de"], ["del"]))
                    else w
                    for i, w in enumerate(words)
                ]
            # The new name must have that same noun: "the leadership group", not
            # "leadership societies" (the NS) after the IFRC's name.
            if swapped != words and any(
                head in name
                for g in set(matcher.terms_named(swapped)) - before
                if g in terms
                for _, name in _names_of(terms[g])
            ):
                return swapped
    return words


# "no I meant the MLG, not the MRG", "je voulais dire le MRG pas le MLG", "قصدي ال MLG
# مش ال MRG": after a correction, what it is not is no part of the question.
_NEGATIONS = frozenset(["not", "pas", "ni", "no", "non", "مش", "مو", "ليس", "وليس", "مب", "موش"])


# "what else", "anything else", "other docs", "d'autres", "otros", "شو كمان", "غير هيك"
_ELSE = frozenset(
    [
        "else",
        "other",
        "others",
        "autres",
        "autre",
        "otros",
        "otras",
        "otro",
        "otra",
        "كمان",
        "غير",
        "تاني",
        "ثاني",
    ]
)
_ACTUALLY = frozenset(
    [
        "actually",
        "finally",
        "eventually",
        "end",
        "finalement",
        "finalmente",
        "realidad",
        "realmente",
        "final",
        "فعليا",
        "فعلا",
        "اخيرا",
        "نهايه",
        "اخر",
    ]
)


def _without_denied(words: list[str]) -> list[str] | None:
    """A correction's words up to its "not the X", or None when it denies nothing."""
    start = sum(len(p) for p in _openers(words))
    if not start:
        return None
    for i in range(start + 1, len(words)):
        if words[i] in _NEGATIONS:
            return words[:i]
    return None


@dataclass(frozen=True)
class Previous:
    """The entry last answered in a chat, and the language it was answered in."""

    entry: str
    language: str | None


# Arabic "ما هو", "من هي": after a question word هو / هي is the verb "to be" ("what is
# the weather in Nairobi"), not "it" pointing back.
_COPULAS = frozenset(["هو", "هي", "هم"])
_ASKING = frozenset(
    [
        "ما",
        "ماذا",
        "من",
        "مين",
        "منو",
        "متى",
        "امتى",
        "اين",
        "وين",
        "فين",
        "كيف",
        "لماذا",
        "ليش",
        "ليه",
        "كم",
        "شو",
        "ايش",
        "ايه",
        "وما",
        "ومن",
        "ومين",
    ]
)


# "tell me about X", "parle-moi de X": X's entry in full too.
_TELL = tuple(
    tuple(text_words(phrase))
    for phrase in (
        "tell me",
        "parle moi",
        "parlez moi",
        "dis moi",
        "hablame",
        "háblame",
        "cuentame",
        "cuéntame",
        "احكيلي",
        "حدثني",
        "خبرني",
    )
)


def _more_about(words: list[str]) -> list[str] | None:
    """What "tell me more about X" ("cuéntame más sobre X") names, or None. "More" must
    not read as "how many": "tell me more about HSPs" is not how many there are."""
    kept = [w for w in words if w not in _COURTESY]
    for more in (*_MORE, *_TELL):
        n = len(more)
        if tuple(kept[:n]) == more and len(kept) > n + 1 and kept[n] in _ABOUT:
            return kept[n + 1 :]
    return None


def _asks_nothing(text: str, words: list[str], query: Query) -> bool:
    """ "ok", "sure", "👍", a lone "1" after an answer: nothing to answer, not the same
    answer again. A question mark asks ("et où ça ?"), and so does a number with words
    around it ("and the 32nd one?", "والـ32؟", where "and the" is joined to it)."""
    if len(words) == 1 and words[0].isdigit() and normalise(text).split() == words:
        return True
    if "?" in text or "؟" in text:
        return False
    # Question words and numbers are never filler: any of them asks something.
    return all(t in FILLER_STEMS for t in query.tokens)


def _and_asks(text: str) -> bool:
    """ "ومتى اعتمدت؟" "and when was (it) adopted?": Arabic joins "and" to the question
    word and "it" to the verb, so the words as compared (و stripped) show neither."""
    raw = normalise(text).split()
    if not raw or not raw[0].startswith("و") or len(raw) > ELLIPTIC_WORDS:
        return False
    rest = raw[0][1:]
    return QUESTION_ALIASES.get(rest, rest) in QUESTION_WORDS


def _copula(words: list[str], i: int) -> bool:
    return words[i] in _COPULAS and i > 0 and words[i - 1] in _ASKING


# A question that ends on "it" or "them" points back, however long.
_ENDS_ON_IT = frozenset(["it", "them", "ca", "cela", "eso", "ello"])
LONG_BACK_WORDS = 14


def _looks_back(words: list[str], query: Query) -> bool:
    """Short, and pointing back ("who chairs it?", "and when?", "et quand ?")."""
    if words and words[-1] in _ENDS_ON_IT and len(words) <= LONG_BACK_WORDS:
        return True  # "what role does the red cross have in it": longer, but about it
    if not words or len(words) > 8:
        return False
    if words[0] in _AND or (words[0].startswith("و") and len(words[0]) <= 2):
        return True
    if _opener(words):
        return True
    if any(w in _BACK and not _copula(words, i) for i, w in enumerate(words)):
        return True
    # Nothing but question words ("when?", "who?"): it can only be about the last topic.
    return all(t in QUESTION_WORDS for t in query.tokens)


# "ok new topic, ...", "different question:", "autre sujet", "otro tema", "موضوع تاني":
# what follows is a first question, whatever was answered before.
_NEW_TOPIC = Phrases(
    tuple(text_words(phrase))
    for phrase in (
        "new topic",
        "new question",
        "different topic",
        "different question",
        "another topic",
        "other topic",
        "unrelated",
        "changing subject",
        "change of subject",
        "something else",
        "forget that",
        "nouveau sujet",
        "autre sujet",
        "autre question",
        "rien a voir",
        "otro tema",
        "cambiando de tema",
        "otra pregunta",
        "nada que ver",
        "موضوع تاني",
        "موضوع ثاني",
        "موضوع اخر",
        "سوال تاني",
        "سوال ثاني",
        "سوال اخر",
    )
)


def resolve(matcher: Matcher, text: str, previous: Previous | None) -> Match:
    """Match ``text``, reading it as a follow-up of ``previous`` where that is what it is."""
    if _NEW_TOPIC.held_in(text_words(text)[:6]):
        previous = None
        text = " ".join(_NEW_TOPIC.without(text_words(text)))
    rest, asked = split_language_request(text)
    if asked is not None:
        if (
            previous is not None
            and previous.entry in matcher.kb.entries
            and only_asks_for_it(rest, asked)
        ):
            # "en inglés por favor, es para un colega de Ginebra": the last answer again.
            return _sure(previous.entry, asked)
        # "in French, what is the MRG?": the question, answered in the language asked.
        return replace(resolve(matcher, rest, previous), language=asked)
    if previous is not None and (kept := _without_denied(text_words(text))) is not None:
        text = " ".join(kept)
    if previous is not None and previous.entry in matcher.kb.entries:
        named = _one_named(matcher, text_words(text), previous.entry)
        if named != text_words(text):
            text = " ".join(named)
    if (about := _more_about(text_words(text))) is not None:
        found = matcher.match(what_is(about, matcher.analyse(text).language))
        if found.status == "answer":
            return replace(found, id=matcher.curated_twin(found.id or "") or found.id)
    if (glossary := name_asked(matcher, text, after_answer=previous is not None)) is not None:
        language = matcher.analyse(text).language or (previous.language if previous else None)
        return _sure(glossary, language)
    if (
        previous is not None
        and previous.entry in matcher.kb.entries
        and (glossary := name_of_it(matcher, text, previous.entry)) is not None
    ):
        language = matcher.analyse(text).language or previous.language
        return _sure(glossary, language)
    if (
        previous is not None
        and previous.entry in matcher.kb.entries
        and (that := _what_is_that(matcher, text_words(text), previous.entry)) is not None
    ):
        return _sure(that, matcher.analyse(text).language or previous.language)
    if (defined := definition_reading(matcher, text)) is not None:
        # "they mention ICVA in the notes, what is that?" names what "that" is.
        found = matcher.match(defined)
        if found.status == "answer":
            return found
    bare = matcher.match(text)
    if previous is None or previous.entry not in matcher.kb.entries:
        # A first question: no second analysis of it (a quarter of a match).
        return _unanchored(matcher, bare, text)
    query = matcher.analyse(text)
    words = text_words(text)
    if names_a_foreign_subject(words):
        # "what is the IFRC youth policy" after an answer is no follow-up of it either.
        return bare
    if (same := _same_question(matcher, words, previous.entry)) is not None:
        return replace(same, language=query.language or previous.language)
    asked = language_asked(words)
    if asked is not None:
        return _sure(previous.entry, asked)
    if tuple(w for w in words if w not in _COURTESY) in _MORE:
        fuller = matcher.curated_twin(previous.entry) or previous.entry
        # In the language of the asking ("plus de détails svp" after an English answer).
        return _sure(fuller, query.language or previous.language)
    # "no wait, I meant the 2017 one", "non pardon, le 7": the correction's words say no
    # year and no item.
    unopened = words[sum(len(p) for p in _openers(words)) :]
    if (item := last_item(matcher, unopened, previous.entry)) is not None:
        again = matcher.match(item)
        if again.status == "answer":
            return replace(again, language=query.language or previous.language)
    if (
        query.doing
        and (twin := _what_it_is(matcher, previous.entry))
        and (_looks_back(words, query) or _and_asks(text))
        and not matcher.names_a_term(query)
    ):
        # "and what does it do?" after the glossary line on the GMTF: the task force's
        # entry; "what are they for?" after whether HSPs are mobile: what an HSP is.
        return _sure(twin, query.language or previous.language)
    if (step := temporal.step_of(words)) is not None:
        if (item := neighbour_item(matcher, previous.entry, step)) is not None:
            again = matcher.match(item)
            if again.status == "answer":
                return replace(again, language=query.language or previous.language)
        landed = temporal.stepped(matcher.kb, previous.entry, step)
        language = query.language or previous.language
        if len(landed) == 1:
            return _sure(landed[0], language)
        if landed:
            shown = tuple(Suggestion(e, "", 1.0) for e in landed[:3])
            return Match("suggest", None, 1.0, shown, language=language, ranked=shown)
        # A step to where no dated event lies ("the day before" a meeting): the previous
        # answer again would be a confident wrong one; the fallback offers the timeline.
        return Match("fallback", None, 0.0, language=language)
    if (outcome := _meeting_outcome(matcher, query, previous.entry)) is not None:
        return _sure(outcome, query.language or previous.language)
    if len(landed := temporal.swapped_year(unopened, matcher.kb, previous.entry)) == 1:
        return _sure(landed[0], query.language or previous.language)
    if (item := swapped_item(matcher, unopened, previous.entry)) is not None:
        again = matcher.match(item)
        if again.status == "answer":
            return replace(again, language=query.language or previous.language)
    if (listed := listed_item(matcher, unopened, previous.entry)) is not None:
        return _sure(listed, query.language or previous.language)
    if (pinned := temporal.pin_year(words, matcher.kb, previous.entry)) is not None:
        again = matcher.match(pinned)
        if again.id == previous.entry and (meeting := temporal.meeting_named(pinned.split())):
            # "en qué CoD se presentó?" after the resolution: the meeting, not the
            # resolution again for the words about presenting it.
            again = matcher.match(meeting)
        if again.status == "answer":
            return replace(again, language=query.language or again.language or previous.language)
    if _asks_nothing(text, words, query):
        return bare
    # "what is the MLG? it's for my boss": that "it" points at nothing said before.
    back = _looks_back(text_words(without_purpose(text)), query) or _and_asks(text)
    # "adoptée quand ?", "¿cuándo se adoptó?", "امتى اعتمدت؟": French, Spanish and Arabic
    # leave out the "it" that English needs. A short message that names nothing is
    # about the topic of the moment, even where some entry would answer it alone.
    elliptic = len(words) <= ELLIPTIC_WORDS and not matcher.names_a_term(query)
    if (
        not back
        and not elliptic
        and bare.status != "fallback"
        and not _elsewhere(matcher, query, bare, previous.entry)
    ):
        return bare
    context = matcher.subject(previous.entry)
    if not any(w in PRONOUNS for w in words):  # "how many NS are in it?" swaps nothing
        context = _swapped_subject(matcher, query, context, _pivot_tokens(matcher, words))
    tokens = dict(query.tokens)
    for token, weight in context.items():
        tokens.setdefault(token, weight)
    joined = replace(
        query,
        tokens=tokens,
        content=query.content + sum(context.values()),
        language=query.language or previous.language,
    )
    said = matcher.told_alike(previous.entry)
    repeat = _repeat(matcher, query, previous.entry)
    if any(w in _ACTUALLY or w in _ELSE for w in words):
        # "so when was it actually adopted?" after "was it adopted in 2023?": what the
        # answer just given was not (the plan), asked again; "what else did they
        # write?" after the MRG's first task: something besides it.
        repeat = min(repeat, REPEAT_ACTUALLY)
    ranked = sorted(
        (
            replace(c, score=round(c.score * _share(matcher, c.id, context, said, repeat), 4))
            for c in matcher.rank_query(joined, limit=12)
        ),
        key=lambda c: -c.score,  # stable: ties keep the ranking's order (a curated twin first)
    )[:5]
    followed = matcher.decide(joined, ranked)
    if followed.status == "suggest" and _openers(words):
        followed = _named_instead(matcher, followed)
    if followed.id in said and (moved := _moved_on(matcher, query, bare, context, said)):
        return moved
    return followed if followed.status == "answer" or bare.status == "fallback" else bare


def _what_it_is(matcher: Matcher, entry_id: str) -> str | None:
    """The curated entry on what the one thing an entry is about is or does: the GMTF's
    for its glossary line, the HSPs' for whether they are mobile; None when the entry
    names no term, or more than one ("how does the MRG differ from the MLG?")."""
    if (twin := matcher.curated_twin(entry_id)) is not None:
        return twin
    named = matcher.terms_of(entry_id)
    if len(named) != 1:
        return None
    twin = matcher.curated_twin(named[0])
    return twin if twin != entry_id else None


# "what are those?", "what is that group?", "c'est quoi ça ?", "¿y eso qué es?", "شو هدول؟"
_WHAT_IS_THAT_ASK = frozenset(
    ["what", "whats", "wat", "quoi", "que", "q", "qué", "شو", "ايش", "ايه", "ما", "وش"]
)
_WHAT_IS_THAT_POINTER = frozenset(
    [
        "that",
        "those",
        "these",
        "this",
        "they",
        "them",
        "it",
        "ca",
        "cela",
        "ces",
        "eso",
        "esos",
        "esas",
        "esto",
        "هاد",
        "هدول",
        "هذول",
        "هذا",
        "هذه",
        "هاي",
        "دول",
        "ده",
        "دي",
    ]
)
_WHAT_IS_THAT_REST = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "the",
        "group",
        "body",
        "thing",
        "things",
        "exactly",
        "again",
        "and",
        "so",
        "c",
        "est",
        "sont",
        "et",
        "es",
        "son",
        "y",
        "hu",
        "هو",
        "هي",
        "و",
        "بالضبط",
        "يعني",
    ]
)


def _what_is_that(matcher: Matcher, words: list[str], entry_id: str) -> str | None:
    """ "what are those?" after the 2019 statutory meetings: what such meetings are;
    "what is that group?" after the MLG's first meeting: what the MLG is. None unless
    the message asks only that, pointing back."""
    words = [w for w in words if w not in _COURTESY]
    if not (
        any(w in _WHAT_IS_THAT_ASK for w in words)
        and any(w in _WHAT_IS_THAT_POINTER for w in words)
        and all(
            w in _WHAT_IS_THAT_ASK or w in _WHAT_IS_THAT_POINTER or w in _WHAT_IS_THAT_REST
            for w in words
        )
    ):
        return None
    if (twin := _what_it_is(matcher, entry_id)) is not None:
        return twin
    named = [t for t in matcher.subject(entry_id) if not t.isdigit() and t not in QUESTION_WORDS]
    if not named:
        return None
    found = matcher.match("what is " + " ".join(named))
    return found.id if found.status == "answer" and found.id != entry_id else None


def _elsewhere(matcher: Matcher, query: Query, bare: Match, entry_id: str) -> bool:
    """ "who are the co-chairs now?" after PERCO: the message names no group, and read
    alone it is answered about another one (the MRG's chair). That is a guess at what
    it is about; the group of the moment is the better one."""
    if bare.status != "answer" or not bare.id:
        return False
    told = set(matcher.terms_of(bare.id))
    before = set(matcher.terms_of(entry_id))
    # "cuántas SN tiene?" after the MRG's chair names the NS, not the MLG it got.
    asked = set(matcher.terms_in(query))
    return bool(told) and bool(before) and not told & before and not told & asked


def _sure(entry_id: str, language: str | None) -> Match:
    """An answer a reading of the follow-up settles by itself, not the ranking."""
    return Match("answer", entry_id, 1.0, language=language, p=1.0)


def _meeting_outcome(matcher: Matcher, query: Query, entry_id: str) -> str | None:
    """ "what did it adopt on migration?" after the 2022 Council of Delegates: the
    resolution put to it, not the meeting again. Not when the follow-up asks when, where
    or who, names a year ("was it adopted in 2023 or not?") or names another thing."""
    if (
        not temporal.OUTCOME_TOKENS.intersection(query.tokens)
        or query.numbers
        or {"date", "where", "who"}.intersection(query.tokens)
    ):
        return None
    subject = matcher.subject(entry_id)
    if any(matcher.names_a_term_token(t) for t in query.tokens if t not in subject):
        return None
    return temporal.outcome_of(matcher.kb, entry_id)


def _moved_on(
    matcher: Matcher, query: Query, bare: Match, context: dict[str, float], said: set[str]
) -> Match | None:
    """ "and what were the subthemes?" after the London meeting, "where was that
    conference held?" after the resolution's focus areas: the follow-up names something
    of its own, and read alone it ranks another entry on the same topic first. The
    borrowed topic words would bring the answer just given back; that other entry is
    what is asked."""
    # A name ("that conference") or a rare word ("subthemes"); not an aspect that the
    # answer just given may hold too ("where was it held?", "quelles années ?").
    own = [
        t
        for t, w in query.tokens.items()
        if t not in context and (matcher.names_a_term_token(t) or w >= OWN_WORD_WEIGHT)
    ]
    if not own or not bare.ranked or bare.status == "fallback":
        return None
    top = bare.ranked[0].id
    if top in said or not matcher.knows_any(top, context):
        return None
    if "glossary" in matcher.kb.entries[top].tags:
        # "what did they present at the CoD?" asks no definition of the CoD.
        return None
    return replace(bare, status="answer", id=top, suggestions=())


def _named_instead(matcher: Matcher, found: Match) -> Match:
    """ "no I meant the MLG" after "what is the MRG?": when a name's glossary line and
    the curated entry on the same thing lead the ranking, neither more likely than the
    other, the asker wants the thing named; the curated entry says what it is and more."""
    shown = [s.id for s in found.suggestions[:2]]
    if len(shown) < 2 or shown[1] not in matcher.twins_of(shown[0]):
        return found
    curated = next(i for i in shown if matcher.curated_twin(i) is None)
    return replace(found, status="answer", id=curated, suggestions=())


def _opener(words: list[str]) -> tuple[str, ...]:
    """The correction or pivot a message starts with ("no", "i meant"), or ()."""
    return next((p for p in _PIVOTS if tuple(words[: len(p)]) == p), ())


def _openers(words: list[str]) -> list[tuple[str, ...]]:
    """The openers "no, sorry, I meant the MLG" starts with, in order; an apology
    between or before them ("non pardon je voulais dire", "perdón, quería decir")
    goes with the opener after it."""
    found: list[tuple[str, ...]] = []
    while True:
        lead = 0
        while lead < len(words) and words[lead] in _COURTESY:
            lead += 1
        opener = _opener(words[lead:])
        if not opener:
            return found
        found.append((*words[:lead], *opener))
        words = words[lead + len(opener) :]


def _pivot_tokens(matcher: Matcher, words: list[str]) -> frozenset[str]:
    """The tokens of the openers of "no, I meant the MLG" ("no, me refería al MLG")."""
    opened = [w for opener in _openers(words) for w in opener]
    return frozenset(matcher.analyse(" ".join(opened)).tokens) if opened else frozenset()


def _swapped_subject(
    matcher: Matcher, query: Query, context: dict[str, float], framing: frozenset[str]
) -> dict[str, float]:
    """The earlier topic a follow-up borrows, less what it swaps out: "and PERCO?" after
    the APMN's pledge asks that of PERCO, not of the APMN; "what about the 2015 one?"
    after the 31st Conference asks of the 2015 one. Only when the message names nothing
    else (its other words ask, or frame): then the new name or number stands in for the
    old one."""
    terms = {t for t in query.tokens if matcher.names_a_term_token(t)}
    asks_more = any(
        w > FRAMING_CAP
        and t not in terms
        and t not in framing
        and t not in QUESTION_WORDS
        and not t.isdigit()
        for t, w in query.tokens.items()
    )
    if asks_more:
        return context
    kept = dict(context)
    old_terms = {t for t in kept if matcher.names_a_term_token(t)}
    # "¿cuántas SN tiene?" after the MRG's chair counts the MRG's NS: a name that is
    # counted is no new subject.
    if terms and not terms & old_terms and COUNTING not in query.tokens:
        kept = {t: w for t, w in kept.items() if t not in old_terms}
    if query.numbers and not query.numbers & set(kept):
        kept = {t: w for t, w in kept.items() if not t.isdigit()}
    return kept


def _share(
    matcher: Matcher, entry_id: str, context: dict[str, float], said: set[str], repeat: float
) -> float:
    """What a follow-up keeps of an entry's score: all of it when the entry is on the
    earlier topic and says something new."""
    share = 1.0 if matcher.knows_any(entry_id, context) else OFF_TOPIC
    return share * repeat if entry_id in said else share


def _repeat(matcher: Matcher, query: Query, entry_id: str) -> float:
    """How much of its score the entry just answered keeps: less when the follow-up asks
    another kind of question than that entry answers ("who is on it?" after "what is the
    MLG", "how many are there?" after "what is an HSP")."""
    asks = {t for t in query.tokens if t in QUESTION_WORDS}
    title = matcher.analyse(matcher.kb.entries[entry_id].title)
    told = {t for t in title.tokens if t in QUESTION_WORDS}
    return REPEAT_OTHER if asks and told and not asks & told else REPEAT


def _unanchored(matcher: Matcher, bare: Match, text: str) -> Match:
    """ "who chairs it?" with nothing said before: "it" could be anything, so the bot
    asks back (did you mean...) rather than guessing what "it" is; but "MRG, what is
    it?" names what "it" is."""
    words = text_words(text)
    if bare.status != "answer" or len(words) > 5 or not any(w in PRONOUNS for w in words):
        return bare
    if matcher.names_a_term(matcher.analyse(text)):
        return bare
    return replace(bare, status="suggest", id=None, suggestions=bare.ranked[:3])
