"""Question matching: which knowledge-base entry answers a typed question, and how sure.

Not a bare ``extractOne``. A question is normalised (case, accents, punctuation, French
elision, Arabic spelling variants, digits and articles), typos are corrected against the
knowledge base's own vocabulary with rapidfuzz (same script, English first),
acronyms and synonyms are folded to one canonical word, and light stemming joins
"adopted"/"adoption". Each word is weighted by how informative it is (rare words
count, filler does not; words the knowledge base has never seen count *against* a
match, which is what sends "weather in nairobi" to the fallback). Scores combine
across all of an entry's phrasings, and the best entry is compared to the runner-up
before the bot commits to an answer.

The pieces it reads text with live in their own modules: the words (:mod:`bot.wording`),
how a message is read (:mod:`bot.readings`), the shape of a question
(:mod:`bot.question_shape`) and the subjects it holds nothing on
(:mod:`bot.foreign_subjects`). Their names that callers imported from here are
re-exported (``import X as X``), so those imports keep working.
"""

from __future__ import annotations

import math
import re
import zlib
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot import wordlists
from bot.decision import DecisionModel
from bot.foreign_subjects import foreign_subject_in as foreign_subject_in
from bot.foreign_subjects import names_a_foreign_subject as names_a_foreign_subject
from bot.foreign_subjects import other_bodys_document as other_bodys_document
from bot.knowledge import Entry, KnowledgeBase
from bot.ordinals import spelled_numbers
from bot.question_shape import CONTENT_WEIGHT, asks_what_it_says
from bot.question_shape import asks_what_it_does as asks_what_it_does
from bot.question_shape import checks_a_claim as checks_a_claim
from bot.readings import PRONOUNS as PRONOUNS
from bot.readings import asked_after_marker, sentences
from bot.readings import readings as readings
from bot.wording import _ELISION as _ELISION
from bot.wording import _FOLD as _FOLD
from bot.wording import _LANGUAGE_DATA, ENGLISH_WORDS, STOP_STEMS, Phrases, _as_compared, is_arabic
from bot.wording import FILLER as FILLER
from bot.wording import FILLER_STEMS as FILLER_STEMS
from bot.wording import POLITENESS as POLITENESS
from bot.wording import QUESTION_ALIASES as QUESTION_ALIASES
from bot.wording import QUESTION_WORDS as QUESTION_WORDS
from bot.wording import STOPWORDS as STOPWORDS
from bot.wording import arabic_clitics_off as arabic_clitics_off
from bot.wording import normalise as normalise
from bot.wording import stem as stem
from bot.wording import strip_arabic_prefix as strip_arabic_prefix
from bot.wording import text_words as text_words

Status = Literal["answer", "suggest", "fallback"]


# Numbers: the items a text designates ("principle 10") and the numbers it spells out,
# which an entry must share. Only matching reads them, so they stay here.
# "principle 10", "tenth principle", "10e principe" (see matching.yaml, designators).
_DESIGNATORS = {
    w: name for name, words in _LANGUAGE_DATA.get("designators", {}).items() for w in words
}
_ORDINALS = {w: n for n, words in _LANGUAGE_DATA.get("ordinals", {}).items() for w in words}
_YEAR = re.compile(r"(?:19|20)\d\d")
# Words before a year that assert it rather than name a meeting by it ("adopted in 2010",
# "c'était en 2016", "I said 2010").
_ASSERTED_BEFORE = frozenset(
    [
        "in",
        "en",
        "a",
        "au",
        "since",
        "depuis",
        "desde",
        "by",
        "said",
        "dit",
        "dije",
        "في",
        "سنه",
        "عام",
    ]
)
# The English names of letters, as dictation writes an acronym ("em are gee").
_LETTER_NAMES = {
    "ay": "a",
    "bee": "b",
    "see": "c",
    "cee": "c",
    "dee": "d",
    "ee": "e",
    "eff": "f",
    "ef": "f",
    "gee": "g",
    "aitch": "h",
    "eye": "i",
    "jay": "j",
    "kay": "k",
    "el": "l",
    "ell": "l",
    "em": "m",
    "en": "n",
    "oh": "o",
    "pee": "p",
    "cue": "q",
    "are": "r",
    "ar": "r",
    "ess": "s",
    "tee": "t",
    "vee": "v",
    "ex": "x",
    "zed": "z",
    "zee": "z",
    # ...and as Arabic writes them ("الام ار جي", "اي اف ار سي"; the article comes off)
    "ام": "m",
    "ار": "r",
    "جي": "g",
    "ال": "l",
    "اف": "f",
    "سي": "c",
    "اتش": "h",
    "اس": "s",
    "بي": "b",
    "دي": "d",
    "اي": "i",
    "تي": "t",
    "ان": "n",
    "او": "o",
    "يو": "u",
    "اكس": "x",
    "كي": "k",
}
_UPCOMING = frozenset(
    ["next", "upcoming", "prochain", "prochaine", "proximo", "proxima", "قادم", "جاي", "الجاي"]
)
_LISTING = frozenset(
    [
        "list",
        "lists",
        "all",
        "liste",
        "listes",
        "tous",
        "toutes",
        "lista",
        "listas",
        "todos",
        "todas",
        "قايمه",
        "كل",
    ]
)
_NUMBER_MARKS = frozenset({"n", "no", "nr", "number", "numero", "رقم"})
_ORDINAL_DIGITS = re.compile(r"^(\d{1,2})(?:e|er|ere|eme|o|a|º|ª)?$")
# One letter is no numeral in a question: "C'est quoi" is not 100, nor "D'accord" 500.
_ONE_LETTER_NUMERAL = re.compile(r"^[IVXLCDM](?:['’]|\W*$)")


def _ordinal(word: str) -> str | None:
    if word in _ORDINALS:
        return str(_ORDINALS[word])
    found = _ORDINAL_DIGITS.match(word)
    return found.group(1) if found else None


def ordinal_of(word: str) -> int | None:
    """The number an ordinal or a number names ("3rd" is read as "3", "tenth", "8e")."""
    found = _ordinal(word)
    return int(found) if found is not None else None


def designations(words: list[str]) -> list[str]:
    """The numbered items a text names: "principle 10", "principe n° 10", "the tenth
    principle", "المبدأ العاشر" -> ["principle#10"]. A plural ("the 10 principles") names
    the list, not an item."""
    out: list[str] = []
    for i, w in enumerate(words):
        name = _DESIGNATORS.get(w)
        if name is None:
            continue
        after = [x for x in words[i + 1 : i + 3] if x not in _NUMBER_MARKS][:1]
        number = _ordinal(after[0]) if after else None
        if number is None and i > 0 and not (words[i - 1].isdigit() and _LISTING & set(words)):
            # "the 10th principle", but not "list 10 principle of the policy": a count
            # before the word, where the list is asked for, is the list's size.
            number = _ordinal(words[i - 1])
        if number is not None:
            out.append(f"{name}#{int(number)}")
    return out


@lru_cache(maxsize=65536)
def written_numbers(text: str) -> tuple[str, ...]:
    """Numbers a text spells in words or Roman numerals ("the thirty-first conference",
    "la XXXIe Conférence", "المؤتمر الحادي والثلاثين" -> "31"), from 11 up: below that
    a lone "I" or "V" is a word more often than a number."""
    return tuple(sorted(n for n in spelled_numbers(text) if int(n) >= 11))


# Weights of what a question can hold besides the knowledge base's own words.
FILLER_WEIGHT = 0.25
FRAMING_CAP = 1.0  # the most a filler or context word weighs when phrasings use it
NUMBER_WEIGHT = 1.0
UNKNOWN_REAL_WEIGHT = 1.6  # a real word the knowledge base never uses
UNKNOWN_OTHER_WEIGHT = 2.0  # a name, an acronym or a typo past correction
FIELD_WEIGHT = 0.5  # a question word found only in the answer or title, not a phrasing
FIELD_ONLY = 0.3  # an entry whose answer alone shares the question's words: a weak case
# A glossary line sums up a name's whole story ("its 16th General Assembly (2007) asked
# ..., its 17th adopted ... (2009)"): its words say less about what is asked than an
# entry's answer does, which tells one fact.
GLOSSARY_FIELD_WEIGHT = 0.25
BETA2 = 1.0  # F-beta between precision and recall, beta = 1
NUMBER_FLOOR = 0.45  # score kept when none of the question's numbers is the entry's
# ...in a yes/no question or a claim to check, whose number may be the wrong one asked
# about ("was the policy adopted in 2011?" is about the 2009 adoption).
CHECK_NUMBER_FLOOR = 0.8
CHECK_NUMBER_WEIGHT = 0.1  # of a checked claim's number, for the second ranking
TOLD_NUMBER = 0.6  # agreement of a number that only an entry's answer or tags hold
MIN_CONTENT = 0.8  # below this much topic weight a text asks about nothing in particular
SUGGEST_FLOOR = 0.25
SUGGEST_SPREAD = 0.15
TWIN_SHARE = 0.75  # a curated entry this close to its glossary twin answers instead
ABOUT_TERM = 0.5  # share of a curated entry's phrasings naming a term: it is about that term
ABOUT_TITLE_WORDS = 2  # ...and its title's topic words besides the name ("work", "date 2022")
CONTEXT_TOKEN = "scene"  # what context_phrases fold to, before being dropped
LONG_WORD = 10  # letters from which a typo may be two slips
MAX_CORRECTIONS = 50_000  # words whose correction is remembered (a few MB at most)
CANDIDATES = 12  # entries carried past scoring: suggestions, runner-up, curated twin
CONTEXT_WEIGHT = 0.6  # a follow-up's borrowed topic words, against its own
MAX_QUESTION_CHARS = 600  # matching reads no further: a question is never longer
# Typo correction prefers a word of the English content (or the glossary) to a word that
# only a translation uses, by this many points of fuzz.ratio: enough to settle a near tie
# ("resolusion": English "resolution", not Spanish "resolucion"), not to overrule a
# clearly closer word ("politiqe" is still French "politique").
PRIMARY_BONUS = 3.0


@dataclass(frozen=True)
class Suggestion:
    id: str
    question: str
    score: float


@dataclass(frozen=True)
class Match:
    status: Status
    id: str | None
    score: float
    suggestions: tuple[Suggestion, ...] = ()
    language: str | None = None  # the question's language, None when it does not say
    ranked: tuple[Suggestion, ...] = field(default=(), repr=False)
    p: float = 0.0  # the decision model's estimate that the top entry is right


@dataclass(frozen=True)
class Query:
    """A question as the ranking sees it."""

    tokens: dict[str, float]  # canonical token -> its weight in this question
    numbers: frozenset[str]  # years and other numbers asked about
    language: str | None
    content: float  # weight of the tokens that name something the knowledge base knows
    checking: bool = False  # a yes/no question or a claim to check (checks_a_claim)
    doing: bool = False  # asks what something does or is for (asks_what_it_does)
    # Glossary terms the question wrote by their short form ("GML", not "Global
    # Migration Lab"): someone who writes only the letters may not know what they stand for.
    short_forms: frozenset[str] = frozenset()
    either: bool = False  # its numbers are alternatives ("set up in 2008 or 2009?")
    # A year no entry knows names what is asked ("the council of delegates 2026", "the
    # 2025 MRG meeting"): whatever entry leads is about another year (_unknown_year).
    unknown_year: bool = False


@dataclass(frozen=True)
class Candidate:
    """One entry's case for answering a question."""

    id: str
    question: str
    score: float
    precision: float  # share of the question's weight the entry explains
    recall: float  # share of its best phrasing's weight the question covers
    numbers: float  # share of the question's numbers the entry mentions (1 when none)
    unexplained: float  # weight of the question's tokens the entry has nowhere
    matched: int  # how many of the question's tokens the best phrasing has


def features(top: Candidate, runner: float, linked: bool, query: Query) -> list[float]:
    """What the decision model sees of a ranking (see :mod:`bot.decision`)."""
    return [
        top.score,
        top.score - runner,
        top.precision,
        top.recall,
        top.numbers,
        min(query.content, 12.0) / 12.0,
        1.0 if linked else 0.0,
        min(top.unexplained, 5.0) / 5.0,
        min(top.matched, 3) / 3.0,
        # Arabic scores run lower (dialect spellings, clitics, fewer phrasings): the
        # model sets its bar for that script apart.
        1.0 if query.language == "ar" else 0.0,
    ]


@dataclass
class _Phrasing:
    entry: str
    tokens: frozenset[str]
    weight: float
    language: str


class Matcher:
    """Index the knowledge base once; :meth:`match` is then a pure, fast function."""

    def __init__(self, kb: KnowledgeBase, model: DecisionModel | None = None) -> None:
        self.kb = kb
        self.model = model or DecisionModel.shipped()
        self._corrections: dict[str, str] = {}
        self._canon: dict[str, str] = {}
        self._phrases: list[tuple[tuple[str, ...], str]] = []  # multi-word phrase -> canonical
        self._build_vocabulary(kb)
        self._term_tokens = frozenset(
            tok for t in kb.terms for tok in self._tokens(text_words(t.term))
        )
        # "gml" -> its token: the short forms, as typed, of the terms that have a long one.
        self._short_forms = {
            w: tok
            for t in kb.terms
            if t.aliases and " " not in t.term.strip()
            for w in text_words(t.term)
            for tok in self._tokens([w])
        }
        self._term_token = {
            t.entry_id: tok for t in kb.terms for tok in self._tokens(text_words(t.term))[:1]
        }
        # Acronyms and names (PERCO, Sahel+, MENA) are the same in every language, but a
        # word list may hold them in one language only ("sahel" is French there): they
        # must not tell the question's language.
        self._names = frozenset(
            w
            for term in kb.terms
            for name in (term.term, *term.aliases)
            if " " not in name.strip()  # "Sahel+" is one name, "Climate Centre" two words
            for w in text_words(name)
        )
        # An English name of several words ("global migration lab", "reference group"),
        # typed as it is in a French or Spanish question: no word of it tells the
        # question's language either.
        self._long_names = Phrases(
            tuple(text_words(name))
            for term in kb.terms
            for name in (term.stands_for, *term.aliases)
            if " " in name.strip()
        )
        # The token of "content", which a question asking what a text says gains.
        self._content_token = next(iter(self._tokens(["content"])), None)
        # Every word a name of a term may be written with, in any language: what
        # names_a_term_token can only be true of (a cheap test before an analysis).
        self._term_parts = frozenset(
            w
            for term in kb.terms
            for name in (
                term.term,
                term.stands_for,
                *term.aliases,
                *(n for tr in term.translations.values() for n in (tr.stands_for, *tr.aliases)),
            )
            for w in text_words(name)
        ) | frozenset(w for parts, c in self._phrases if c in self._term_tokens for w in parts)
        # Every one-word name in any language ("CI", "CD", "SN"), for _written().
        self._acronyms = self._names | frozenset(
            w
            for term in kb.terms
            for tr in term.translations.values()
            for name in tr.aliases
            if " " not in name.strip()
            for w in text_words(name)
        )
        self._phrasings: list[_Phrasing] = []
        self._by_entry: dict[str, list[int]] = defaultdict(list)
        self._field_postings: dict[str, set[str]] = defaultdict(set)
        self._field_tokens: dict[str, frozenset[str]] = {}
        self._numbers: dict[str, frozenset[str]] = {}
        self._number_entries: dict[str, np.ndarray] = {}  # number -> entries holding it
        self._asked_numbers: dict[str, frozenset[str]] = {}  # in a phrasing, not only told
        self._title_terms: dict[str, tuple[str, ...]] = {}  # terms_of, filled as asked
        raw: list[tuple[str, str, list[str]]] = []
        entry_tokens: dict[str, set[str]] = defaultdict(set)
        for entry in kb.entries.values():
            for lang, questions in [
                ("en", entry.questions),
                *((lang, tr.questions) for lang, tr in entry.translations.items()),
            ]:
                for q in questions:
                    toks = self._tokens(text_words(q)) + self._written(q)
                    raw.append((entry.id, lang, toks))
                    entry_tokens[entry.id].update(toks)
            # The answer, the title and the tags: a fact told only in an answer is still
            # reachable, at a lower weight than a phrasing (see _rank).
            texts = [entry.answer, *entry.tags, *(tr.answer for tr in entry.translations.values())]
            field = {t for text in texts for t in self._tokens(text_words(text))}
            field.update(n for text in texts for n in self._written(text))
            self._field_tokens[entry.id] = frozenset(field)
            self._numbers[entry.id] = frozenset(
                t for t in entry_tokens[entry.id] | field if t.isdigit()
            )
            self._asked_numbers[entry.id] = frozenset(
                t for t in entry_tokens[entry.id] if t.isdigit()
            )
            for tok in field:
                self._field_postings[tok].add(entry.id)
        self._entry_vocabulary = {
            e: frozenset(t) | self._field_tokens.get(e, frozenset())
            for e, t in entry_tokens.items()
        }
        # Document frequency counted per entry: a word in every phrasing of one entry
        # is that entry's signature, not filler. Phrasings (and tags) decide a word's
        # weight; a word found only in answers is weighed by how many answers use it, so
        # "IFRC", in most answers, keeps the weight its phrasings give it.
        df: dict[str, int] = defaultdict(int)
        for toks_set in entry_tokens.values():
            for tok in toks_set:
                df[tok] += 1
        field_df: dict[str, int] = defaultdict(int)
        for field_set in self._field_tokens.values():
            for tok in field_set:
                field_df[tok] += 1
        n = max(1, len(self._entry_vocabulary))
        self._idf = {tok: math.log((n + 1) / (d + 0.5)) for tok, d in field_df.items()}
        self._idf.update({tok: math.log((n + 1) / (d + 0.5)) for tok, d in df.items()})
        self._asked = frozenset(df)  # words of phrasings and tags, not answers only
        df.update({t: d for t, d in field_df.items() if t not in df})
        self._vocab = sorted(df)
        # Words typos are corrected *to*: everything the knowledge base spells out
        # (phrasings, answers, titles, aliases), unstemmed, so "movment" finds "movement"
        # and "crescent" is never "corrected" to "recent". Each word carries a flag: True
        # when the English content or the glossary uses it, False when only a translation
        # does; corrections prefer the former, and never cross scripts.
        known = dict.fromkeys(ENGLISH_WORDS, True)
        self._learn(known, STOPWORDS | FILLER, primary=False)
        for word, primary in self._alias_words.items():
            self._learn(known, [word], primary)
        for entry in kb.entries.values():
            for text in [*entry.questions, entry.answer, *entry.tags]:
                self._learn(known, (w for w in text_words(text) if len(w) > 2), primary=True)
            for tr in entry.translations.values():
                for text in [*tr.questions, tr.answer]:
                    self._learn(known, (w for w in text_words(text) if len(w) > 2), primary=False)
        for topic in kb.topics.values():
            self._learn(known, text_words(topic.title), primary=True)
        self._known = known
        # A word is also known when its stem is a token of some phrasing ("adopting"),
        # but a bare stem is no word to correct *to* ("president" is not "present").
        self._known_stems = set(known) | set(self._vocab) | set(self._canon)
        self._targets: dict[bool, list[str]] = {
            arabic: sorted(w for w in known if is_arabic(w) == arabic) for arabic in (False, True)
        }
        self._deletions = {arabic: _Deletions.of(self._targets[arabic]) for arabic in (False, True)}
        # For a long word's typos, the targets of a length within two of each length.
        self._windows = {arabic: _windows(self._targets[arabic]) for arabic in (False, True)}
        self._weights = {tok: self.weight(tok) for tok in df}
        for entry_id, lang, toks in raw:
            content = frozenset(toks)
            if not content:
                continue
            idx = len(self._phrasings)
            weight = sum(self._weights[t] for t in content)
            self._phrasings.append(_Phrasing(entry_id, content, weight, lang))
            self._by_entry[entry_id].append(idx)
        self._about_term = self._find_about_term(kb)
        self._build_arrays()

    def _build_arrays(self) -> None:
        """The index as numpy arrays, so ranking is a few vector operations per question
        word instead of a Python loop over every phrasing that shares it."""
        self._entry_ids: list[str] = sorted(self._field_tokens)
        number = {e: i for i, e in enumerate(self._entry_ids)}
        self._phrasing_entry = np.array([number[p.entry] for p in self._phrasings], dtype=np.int64)
        # Ranking finds an entry's best phrasing as a run of consecutive rows.
        runs = self._phrasing_entry[1:] != self._phrasing_entry[:-1]
        assert int(runs.sum()) + 1 == len(self._by_entry) or not self._phrasings
        self._field_weight = np.array(
            [
                GLOSSARY_FIELD_WEIGHT if "glossary" in self.kb.entries[e].tags else FIELD_WEIGHT
                for e in self._entry_ids
            ]
        )
        self._phrasing_weight = np.array([p.weight for p in self._phrasings], dtype=np.float64)
        postings: dict[str, list[int]] = defaultdict(list)
        in_field: dict[str, list[int]] = defaultdict(list)
        for idx, p in enumerate(self._phrasings):
            for tok in p.tokens:
                postings[tok].append(idx)
                if tok in self._field_tokens[p.entry]:
                    in_field[tok].append(idx)
        self._postings = {t: np.array(v, dtype=np.int64) for t, v in postings.items()}
        self._postings_in_field = {t: np.array(v, dtype=np.int64) for t, v in in_field.items()}
        self._field_entries = {
            t: np.array(sorted(number[e] for e in es), dtype=np.int64)
            for t, es in self._field_postings.items()
        }
        with_number: dict[str, list[int]] = defaultdict(list)
        told_number: dict[str, list[float]] = defaultdict(list)
        for entry_id, numbers in self._numbers.items():
            for n in numbers:
                with_number[n].append(number[entry_id])
                # A year an entry is asked by ("the 2019 statutory meetings") agrees more
                # than one its answer only mentions (the general entry's example).
                asked = n in self._asked_numbers[entry_id]
                told_number[n].append(1.0 if asked else TOLD_NUMBER)
        self._number_entries = {t: np.array(v, dtype=np.int64) for t, v in with_number.items()}
        self._number_weights = {t: np.array(v) for t, v in told_number.items()}

    # ------------------------------------------------------------------ vocabulary

    @staticmethod
    def _learn(known: dict[str, bool], words: Iterable[str], primary: bool) -> None:
        for w in words:
            known[w] = known.get(w, False) or primary

    def _build_vocabulary(self, kb: KnowledgeBase) -> None:
        """Canonical forms: each synonym group and each glossary term folds to one token,
        with its translated long forms and aliases ("conseil des délégués" is CoD)."""
        self._alias_words: dict[str, bool] = {}
        for group in kb.synonyms:
            self._add_group(group)
        for term in kb.terms:
            canonical = normalise(term.term).replace(" ", "")
            self._add_group(
                (canonical, normalise(term.term), normalise(term.stands_for), *term.aliases)
            )
            for tr in term.translations.values():
                self._add_group((canonical, tr.stands_for, *tr.aliases), primary=False)
        # Scene-setting phrases fold to a token that is then dropped (see _token_pairs).
        self._add_group((CONTEXT_TOKEN, *_LANGUAGE_DATA.get("context_phrases", [])), stems=False)
        # The domain's words in other languages, for entries not yet translated.
        for english, words in _LANGUAGE_DATA.get("lexicon", {}).items():
            # A word that is also common English ("red", "direction") would change
            # English questions: those are left out.
            foreign = (w for w in words if not wordlists.is_word(w, ("en",), max_cb=550))
            # Every form is listed, so no stems: "presidente" must not claim "president".
            self._add_group((english, *foreign), primary=False, stems=False)
        self._phrases.sort(key=lambda p: -len(p[0]))
        # Phrases by their first word, longest first: folding then looks only at the
        # few phrases that can start at each word.
        self._phrases_by_first: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        for parts, canonical in self._phrases:
            self._phrases_by_first[parts[0]].append((parts, canonical))

    def _add_group(self, group: Iterable[str], primary: bool = True, stems: bool = True) -> None:
        words = [" ".join(text_words(w)) for w in group]
        words = [w for w in words if w]
        if not words:
            return
        head = words[0].split()
        canonical = self._canon.get(words[0], "_".join(stem(w) for w in head))
        for w in words:
            parts = tuple(w.split())
            self._learn(self._alias_words, parts, primary)
            if len(parts) == 1:
                self._canon.setdefault(parts[0], canonical)
                stemmed = stem(parts[0])
                if stems or not wordlists.is_word(stemmed, ("en",), max_cb=600):
                    self._canon.setdefault(stemmed, canonical)
            else:
                self._phrases.append((parts, canonical))

    def _fold_phrases(self, words: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(words):
            for parts, canonical in self._phrases_by_first.get(words[i], ()):
                if tuple(words[i : i + len(parts)]) == parts:
                    out.append(canonical)
                    i += len(parts)
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    def normalise_words(self, text: str) -> list[str]:
        """The words of a text, normalised and typo-corrected, before any folding."""
        return [self._correct(w) for w in text_words(text)]

    def tokens(self, text: str, correct: bool = False) -> list[str]:
        """Content tokens of a text in canonical form (typos corrected when asked)."""
        words = text_words(text)
        if correct:
            words = [self._correct(w) for w in words]
        return self._tokens(words)

    def _tokens(self, words: list[str]) -> list[str]:
        return [token for _, token in self._token_pairs(words)]

    def _token_pairs(self, words: list[str]) -> list[tuple[str, str]]:
        """(word, canonical token) for each content word; stopwords are dropped after
        stemming too, so an inflected stopword ("supposed") never becomes a rare token."""
        out: list[tuple[str, str]] = []
        for w in self._fold_phrases(words):
            w = QUESTION_ALIASES.get(w, w)
            if w in STOPWORDS:
                continue
            stemmed = stem(w)
            canon = self._canon.get(w) or self._canon.get(stemmed)
            if canon is None and is_arabic(w) and w not in FILLER:
                # بيرأسه "chairs it" is يرأس, which the lexicon folds to "chair"; but
                # باختصار "briefly" is a word of its own, not اختصار "abbreviation".
                canon = next(
                    (self._canon[b] for b in arabic_clitics_off(w) if b in self._canon), None
                )
            canon = canon or stemmed
            if canon in STOP_STEMS or canon == CONTEXT_TOKEN:
                continue
            out.append((w, canon))
        out += [(d, d) for d in designations(words)]
        return out

    def _correct(self, word: str) -> str:
        """:meth:`_corrected`, remembered: people ask with the same few hundred words."""
        found = self._corrections.get(word)
        if found is None:
            found = self._corrected(word)
            if len(self._corrections) < MAX_CORRECTIONS:
                self._corrections[word] = found
        return found

    def _corrected(self, word: str) -> str:
        """Replace a word the knowledge base never uses by its closest known word: of the
        same script, within a typo's reach, and an English or glossary word when a
        translation's word is no closer (by :data:`PRIMARY_BONUS`)."""
        if word in self._known or stem(word) in self._known_stems or len(word) < 3:
            return word
        arabic = is_arabic(word)
        if arabic:
            for bare in arabic_clitics_off(word):
                if bare in self._known:
                    return bare
        if word.isdigit() or wordlists.is_word(word):  # a real word is never "corrected"
            return word
        # Question words first: "wen" is "when", not "went".
        if not arabic:
            asked = process.extractOne(
                word, list(QUESTION_WORDS), scorer=fuzz.ratio, score_cutoff=80
            )
            if asked:
                return str(asked[0])
        cutoff = 80 if len(word) <= 5 else 75
        # A typo is one slip (a letter missing, extra, wrong or two swapped), two in a
        # long word. "president" is two slips from "present" and "preside": a real word
        # the knowledge base lacks, left as typed so that it counts against a match.
        slips = 1 if len(word) < LONG_WORD else 2
        # Only the targets within reach are scored (see _nearby): the same words that
        # process.extract over every target keeps, at a fraction of the cost.
        found = [
            candidate
            for candidate in self._nearby(word, arabic, slips, cutoff)
            if OSA.distance(word, candidate[0], score_cutoff=slips) <= slips
        ]
        if not found:
            return word

        def preference(candidate: tuple[str, float, int]) -> tuple[float, bool, int]:
            text, score, index = candidate
            primary = self._known[text]
            return (score + (PRIMARY_BONUS if primary else 0.0), primary, -index)

        return str(max(found, key=preference)[0])

    def _nearby(
        self, word: str, arabic: bool, slips: int, cutoff: float
    ) -> list[tuple[str, float, int]]:
        """(target, fuzz.ratio, its index in ``_targets[arabic]``) for every target with
        a ratio of ``cutoff`` or more that may be within ``slips`` slips of ``word``.

        One slip: the targets that share a deletion key with the word (see
        :class:`_Deletions`). Two (long words only): the targets of a length within two
        of the word's, scored by process.extract as before.
        """
        targets = self._targets[arabic]
        if slips == 1:
            found = []
            for index in sorted(self._deletions[arabic].near(word)):
                score = fuzz.ratio(word, targets[index])
                if score >= cutoff:
                    found.append((targets[index], score, index))
            return found
        texts, indexes = self._windows[arabic].get(len(word), ((), array("I")))
        return [
            (text, score, indexes[i])
            for text, score, i in process.extract(
                word, texts, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
            )
        ]

    def weight(self, token: str, real: bool = True) -> float:
        """How much a token says about which entry is meant.

        Known tokens weigh their IDF. A token the knowledge base never uses is bounded:
        a real word of some language ("morning", "preparing") is context and weighs
        little; anything else (a name, a typo past correction) weighs a middling amount,
        so it lowers confidence without sinking a strong match on its own.
        """
        if token in QUESTION_WORDS:
            return QUESTION_WORDS[token]
        known = self._idf.get(token)
        if token in FILLER_STEMS and token not in self._asked:
            # "good" in "good morning": an answer's "good practice" does not make the
            # greeting a topic word.
            return FILLER_WEIGHT
        if token in FILLER_STEMS and known is not None:
            # ...and where a phrasing uses it ("exact dates", "for my report", "au
            # juste"), it is still more often the asker's framing than the topic: rare
            # in the knowledge base, it would otherwise outweigh the topic words.
            return min(known, FRAMING_CAP)
        if known is not None:
            return known
        if token.isdigit():
            return NUMBER_WEIGHT
        return UNKNOWN_REAL_WEIGHT if real else UNKNOWN_OTHER_WEIGHT

    # ------------------------------------------------------------------ matching

    def analyse(self, question: str) -> Query:
        """A question as the ranking sees it: tokens, their weights, numbers, language."""
        raw = text_words(question[:MAX_QUESTION_CHARS])
        language = wordlists.detect(
            [w for w in self._long_names.without(_unnamed(question, raw)) if w not in self._names]
        )
        words = [self._correct(w) for w in self._glued(raw)]
        tokens: dict[str, float] = {}
        for word, token in self._token_pairs(words):
            real = word in self._known or wordlists.is_word(word)
            tokens[token] = max(tokens.get(token, 0.0), self.weight(token, real))
        for number in self._written(question[:MAX_QUESTION_CHARS]):
            tokens.setdefault(number, self.weight(number))
        numbers = frozenset(t for t in tokens if t.isdigit())
        content = sum(
            w
            for t, w in tokens.items()
            if t in self._idf and t not in QUESTION_WORDS and (not t.isdigit() or len(t) == 4)
        )
        short = frozenset(self._short_forms[w] for w in raw if w in self._short_forms)
        content_token = self._content_token
        if content_token and asks_what_it_says(raw) and content_token not in tokens:
            # "what does the 2022 resolution actually say?": "say" is framing elsewhere
            # ("people say"), here it asks for the content.
            tokens[content_token] = CONTENT_WEIGHT
        return Query(
            tokens,
            numbers,
            language,
            content,
            checking=checks_a_claim(raw),
            short_forms=short,
            doing=asks_what_it_does(raw),
            either=len(numbers) > 1 and _alternatives(raw),
            unknown_year=self._unknown_year(raw),
        )

    def _glued(self, words: list[str]) -> list[str]:
        """Two words typed apart that the knowledge base writes as one ("hand book", "co
        chairs", "time line"), joined; not two words it knows apart ("task force"). An
        acronym spelled out letter by letter, as dictation writes it ("G C M", "em are
        gee"), is the acronym; two known words run together ("migrationtask") are two."""
        known = self._known
        out: list[str] = []
        i = 0
        while i < len(words):
            spelled = self._spelled_acronym(words, i)
            if spelled:
                out.append(spelled[0])
                i += spelled[1]
                continue
            word = words[i]
            if len(word) >= 8 and word not in known and not wordlists.is_word(word):
                halves = next(
                    (
                        (word[:k], word[k:])
                        for k in range(3, len(word) - 2)
                        if word[:k] in known and word[k:] in known
                    ),
                    None,
                )
                if halves:
                    out.extend(halves)
                    i += 1
                    continue
            if i + 1 < len(words):
                joined = words[i] + words[i + 1]
                if joined in known and not (words[i] in known and words[i + 1] in known):
                    out.append(joined)
                    i += 2
                    continue
            out.append(words[i])
            i += 1
        return out

    def _spelled_acronym(self, words: list[str], i: int) -> tuple[str, int] | None:
        """The acronym that the words from ``i`` spell letter by letter ("i m r f", "em el
        gee"), with how many words it takes; None unless it is a name the knowledge base
        knows (so "are you" is never "ru")."""
        letters: list[str] = []
        j = i
        while (
            j < len(words)
            and (letter := _LETTER_NAMES.get(words[j], words[j]))
            and (len(letter) == 1 and letter.isalpha() and letter.isascii())
        ):
            letters.append(letter)
            j += 1
        for n in range(len(letters), 1, -1):
            acronym = "".join(letters[:n])
            if acronym in self._names:
                return acronym, n
        return None

    def _unknown_year(self, raw: list[str]) -> bool:
        """Whether a year no entry knows qualifies a name ("cod 2026", "the 2025
        meeting"), so that no entry can be the answer. Not a year asserted after "in",
        "en", "في" ("was it adopted in 2010?", "fue en 2016?"): a claim to check, whose
        year may be the wrong one asked about; nor in a yes/no question or alternatives."""
        if checks_a_claim(raw) or _alternatives(raw):
            return False
        # "the next council in 2026": a year after "in" that is no claim.
        upcoming = any(w in _UPCOMING for w in raw)
        return any(
            _YEAR.fullmatch(w)
            and w not in self._number_entries
            and (i == 0 or upcoming or raw[i - 1] not in _ASSERTED_BEFORE)
            for i, w in enumerate(raw)
        )

    def _written(self, text: str) -> list[str]:
        """Numbers spelled in a text, leaving out the knowledge base's names: "CI" and
        "CD" are the French International Conference and CoD, not 101 and 400."""
        acronyms = self._acronyms
        kept = " ".join(
            w
            for w in text.split()
            if _as_compared(w) not in acronyms and not _ONE_LETTER_NUMERAL.match(w)
        )
        return list(written_numbers(kept))

    def names_a_term(self, query: Query) -> bool:
        """Whether a question names a glossary term ("MRG", "standing commission")."""
        return any(self.names_a_term_token(t) for t in query.tokens)

    def may_name_a_term(self, words: Iterable[str]) -> bool:
        """False when some word cannot be part of a term's name: a word of the knowledge
        base's or of a language's that no name uses. (Any other word may be a typo of
        one; typo correction never rewrites a real word.)"""
        return all(
            w in self._term_parts or (w not in self._known and not wordlists.is_word(w))
            for w in words
        )

    def names_a_term_token(self, token: str) -> bool:
        """Whether a token is a glossary term's ("mrg", "standingcommiss")."""
        return token in self._term_tokens

    def rank(self, question: str, limit: int = 5) -> list[Candidate]:
        """Entries ranked for a question, best first, each with the evidence for it."""
        return self.rank_query(self.analyse(question), limit)

    def subject(self, entry_id: str) -> dict[str, float]:
        """What an entry is about, as tokens a follow-up question can borrow ("who chairs
        it?" after the MRG): its title's topic words, at a reduced weight so that the
        follow-up's own words decide which aspect is asked."""
        tokens = self._tokens(text_words(self.kb.entries[entry_id].title))
        return {
            t: CONTEXT_WEIGHT * self._weights.get(t, self.weight(t))
            for t in tokens
            if t not in QUESTION_WORDS
        }

    def series_of(self, entry_id: str) -> str | None:
        """The numbered series an entry is an item or the list of ("principle" for
        principle 7 and for "What are the 10 principles?"), else None."""
        named = {t.split("#")[0] for t in self.subject(entry_id) if "#" in t}
        if not named:
            words = text_words(self.kb.entries[entry_id].title)
            named = {_DESIGNATORS[w[:-1]] for w in words if w[:-1] in _DESIGNATORS}
        return named.pop() if len(named) == 1 else None

    def last_of_series(self, name: str) -> int | None:
        """The highest item number the knowledge base holds of a series ("principle" ->
        10): what "the last one" is."""
        return max(
            (int(t.split("#")[1]) for t in self._weights if t.startswith(f"{name}#")),
            default=None,
        )

    def knows_any(self, entry_id: str, tokens: Iterable[str]) -> bool:
        """Whether an entry's phrasings, answer or tags use any of these tokens."""
        vocabulary = self._entry_vocabulary.get(entry_id, frozenset())
        return any(t in vocabulary for t in tokens)

    def rank_query(self, query: Query, limit: int = 5) -> list[Candidate]:
        """Score every entry that shares a topic word with the question.

        Per phrasing: the question's weight it holds (for precision, with the entry's
        answer/title field as lower-weight evidence) and its own weight the question holds
        (recall), combined as an F-score; an entry takes its best phrasing. Question
        words ("when", "who") only add to phrasings a topic word reached. Vectorised
        with numpy: a few array operations per question, over the posting lists of its
        words laid end to end, however many words it has.
        """
        tokens = query.tokens
        if not tokens:
            return []
        n_phrasings, n_entries = len(self._phrasings), len(self._entry_ids)
        q_weight = sum(tokens.values())
        # Each sum is one bincount over the question words' posting lists laid end to
        # end: one pass in C instead of a gather and scatter per word. The lists go in
        # the question's word order, so every phrasing's sums add up in the same order
        # (and to the same floats) as a loop over the words would.
        postings: list[np.ndarray] = []
        weights: list[float] = []
        covers: list[float] = []
        topic: list[np.ndarray] = []
        in_field: list[np.ndarray] = []
        in_field_w: list[float] = []
        fields: list[np.ndarray] = []
        fields_w: list[float] = []
        for tok, w in tokens.items():
            ix = self._postings.get(tok)
            if ix is not None:
                postings.append(ix)
                weights.append(w)
                covers.append(self._weights.get(tok, 0.0))
                if tok not in QUESTION_WORDS:
                    topic.append(ix)
            ixf = self._postings_in_field.get(tok)
            if ixf is not None:
                in_field.append(ixf)
                in_field_w.append(w)
            fe = self._field_entries.get(tok)
            if fe is not None:
                fields.append(fe)
                fields_w.append(w)
        field_weight = _summed(fields, fields_w, n_entries)
        # A fact told only in the answer: no phrasing shares a word, but the field does
        # (its F, and its precision too, with no recall).
        best_f = self._field_weight * field_weight / q_weight
        field_only = best_f.copy()
        # Entry number -> the row of its best phrasing, where a phrasing beats the field;
        # the other figures of a candidate are read from those rows at the end.
        best_row: dict[int, int] = {}
        reached = np.zeros(n_phrasings, dtype=bool)
        if topic:
            reached[np.concatenate(topic)] = True
        rows = np.flatnonzero(reached)
        if rows.size:
            every = np.concatenate(postings)
            lengths = [len(ix) for ix in postings]
            shared = np.bincount(every, np.repeat(weights, lengths), n_phrasings)[rows]
            covered = np.bincount(every, np.repeat(covers, lengths), n_phrasings)[rows]
            held = _summed(in_field, in_field_w, n_phrasings)[rows]
            entries = self._phrasing_entry[rows]
            # Words the phrasing lacks but the answer or title has: lower-weight evidence
            # (a BM25F-style field weight).
            extra = self._field_weight[entries] * (field_weight[entries] - held)
            precision = (shared + extra) / q_weight
            recall = covered / self._phrasing_weight[rows]
            # BETA2 * precision is precision itself when BETA2 is 1 (to the last bit).
            total = precision + recall if BETA2 == 1.0 else BETA2 * precision + recall
            f = np.divide(
                (1 + BETA2) * precision * recall, total, out=np.zeros(rows.size), where=total > 0
            )
            firsts = _group_best(f, entries)
            chosen = entries[firsts]
            # The answer alone wins only when it says more than the best phrasing.
            keep = f[firsts] >= best_f[chosen]
            chosen, firsts = chosen[keep], firsts[keep]
            best_f[chosen] = f[firsts]
            best_row = dict(zip(chosen.tolist(), firsts.tolist(), strict=True))
        agree: np.ndarray | None = None  # None: no numbers asked, every entry agrees
        if query.numbers:
            hits = np.zeros(n_entries)
            for number in query.numbers:
                holders = self._number_entries.get(number)
                if holders is not None:
                    if query.either:  # "2008 or 2009?": one of them is enough
                        np.maximum.at(hits, holders, self._number_weights[number])
                    else:
                        hits[holders] += self._number_weights[number]
            agree = hits if query.either else hits / len(query.numbers)
            floor = CHECK_NUMBER_FLOOR if query.checking else NUMBER_FLOOR
            score = np.round(best_f * (floor + (1 - floor) * agree), 4)
        else:
            score = np.round(best_f * (NUMBER_FLOOR + (1 - NUMBER_FLOOR) * 1.0), 4)
        live = np.flatnonzero(best_f > 0)
        if live.size > CANDIDATES:  # only the leaders (ties at the cut included) go on
            cut = np.partition(score[live], live.size - CANDIDATES)[live.size - CANDIDATES]
            live = live[score[live] >= cut]
        # Best first, then by id (entry numbers follow the ids' order): only the entries
        # returned are made into candidates.
        order: list[int] = live[np.lexsort((live, -score[live]))].tolist()
        if self._canon.get("meaning") not in tokens:
            self._prefer_curated_twin(order, score, query)
        weighed = list(tokens.items())
        top = order[:limit]
        scores = score[top].tolist()
        agrees = [1.0] * len(top) if agree is None else agree[top].tolist()
        out: list[Candidate] = []
        for i, s, a in zip(top, scores, agrees, strict=True):
            entry_id = self._entry_ids[i]
            k = best_row.get(i)
            if k is None:  # the field alone
                p, r, n = float(field_only[i]), 0.0, 0
            else:
                # How many of the question's words the phrasing has: every word that has
                # a posting list, counted as a bincount over them would.
                phrasing = self._phrasings[int(rows[k])].tokens
                p, r = float(precision[k]), float(recall[k])
                n = sum(1 for t in tokens if t in phrasing)
            vocabulary = self._entry_vocabulary[entry_id]
            unexplained = sum(w for t, w in weighed if t not in vocabulary)
            title = self.kb.entries[entry_id].title
            out.append(Candidate(entry_id, title, s, p, r, a, unexplained, n))
        return out

    def _prefer_curated_twin(self, ranked: list[int], score: np.ndarray, query: Query) -> None:
        """A glossary term's generated phrasings ("what is the Global Migration Lab")
        tie with the curated entry linked to it; when they are that close, the curated
        answer goes first. Not when the question asks what a name stands for, nor when it
        is the name written by its letters alone ("what is GML", "gmtf?"): the glossary
        line tells both what the letters stand for and what it is.
        ``ranked`` holds entry numbers, best first; ``score`` is indexed by them."""
        if not ranked:
            return
        top = self._entry_ids[ranked[0]]
        if "glossary" not in self.kb.entries[top].tags:
            return
        if (
            not query.doing
            and self._term_token.get(top) in query.short_forms
            and all(
                t in query.short_forms or t in QUESTION_WORDS or w <= FRAMING_CAP
                for t, w in query.tokens.items()
            )
        ):
            return
        for i, other in enumerate(ranked[1:], start=1):
            other_id = self._entry_ids[other]
            curated = "glossary" not in self.kb.entries[other_id].tags
            if (
                curated
                and (top, other_id) in self._about_term
                and float(score[other]) >= TWIN_SHARE * float(score[ranked[0]])
            ):
                ranked.insert(0, ranked.pop(i))
                return

    def _find_about_term(self, kb: KnowledgeBase) -> frozenset[tuple[str, str]]:
        """(glossary entry, curated entry) pairs where the curated entry is about the term
        itself: the term's first related entry, most of its phrasings name it, and its
        title asks about the named thing with at most two other topic words.

        The Reference Centres entry names the Climate Centre in a few phrasings: "what is
        the Climate Centre?" is the glossary's to answer. The RFL Strategy 2020-2025 and
        "how are National Societies scaling up their work on migration" name RFL and NS
        throughout, but are about something else: "what is RFL?" and "what's an NS?" are
        the glossary's too. "What does the Global Migration Lab work on?" is about the
        GML itself, so it answers "what is the GML?"."""
        # "When was ..." folds to "date": the question words as the index spells them.
        asking = {t for w in _LANGUAGE_DATA["question_words"] for t in self._tokens([w])}
        pairs: set[tuple[str, str]] = set()
        for term in kb.terms:
            names = frozenset(self._tokens(text_words(term.term)))
            glossary = kb.entries.get(term.entry_id)
            if glossary is None or not names or not glossary.related:
                continue
            main = kb.entries.get(glossary.related[0])
            if main is None or "glossary" in main.tags or not main.questions:
                continue
            rows = self._by_entry.get(main.id, [])
            naming = sum(1 for i in rows if self._phrasings[i].tokens & names)
            title = self.analyse(main.questions[0]).tokens
            others = [t for t in title if t not in names and t not in asking]
            if rows and naming >= ABOUT_TERM * len(rows) and len(others) <= ABOUT_TITLE_WORDS:
                pairs.add((term.entry_id, main.id))
        return frozenset(pairs)

    def _linked(self, a: str, b: str) -> bool:
        entries = self.kb.entries
        return b in entries[a].related or a in entries[b].related

    def terms_named(self, words: list[str]) -> list[str]:
        """The glossary entries whose term these words name ("the climate centre")."""
        return self.terms_in(self.analyse(" ".join(words)))

    def terms_in(self, query: Query) -> list[str]:
        """The glossary entries whose term an analysed question names."""
        return [e for e, tok in self._term_token.items() if tok in query.tokens]

    def terms_of(self, entry_id: str) -> tuple[str, ...]:
        """The glossary entries whose term an entry's title names (what it is about),
        worked out once: titles do not change while the matcher lives."""
        if (named := self._title_terms.get(entry_id)) is None:
            named = tuple(self.terms_named(text_words(self.kb.entries[entry_id].title)))
            self._title_terms[entry_id] = named
        return named

    def match(self, question: str) -> Match:
        """Decide: a confident answer, up to three suggestions, or the fallback.

        A message can hold a clause of context and the question proper ("my NS is
        preparing for a meeting and I need to know who chairs the MRG", "Hi. I'm new
        here. When was the policy adopted?"): each sentence, and the text after a
        question marker, is matched on its own too, and the best-supported reading wins.
        """
        # The most specific reading that answers wins; otherwise the best-supported one.
        best: Match | None = None
        seen: list[Query] = []
        parts = readings(question[:MAX_QUESTION_CHARS])
        # A sentence about another subject leaves none of its clauses to answer: "what
        # is the IFRC protection, gender and inclusion policy" is not "what is the IFRC
        # protection". Another sentence of the message still may.
        named = [names_a_foreign_subject(text_words(p)) for p in parts]
        # Only a reading within one sentence of the message: the text from a question word
        # on has lost the full stops, and would take the next sentence down with it.
        whole = [normalise(p) for p in sentences(question)]
        foreign = [
            normalise(p)
            for p, n in zip(parts, named, strict=True)
            if n and any(normalise(p) in sentence for sentence in whole)
        ]
        for part, names_foreign in zip(parts, named, strict=True):
            if foreign and not names_foreign:
                # A reading inside a sentence that names another subject, or one that
                # starts in it and runs on into the next ("... qui préside le MRG ? Je
                # voudrais lui écrire" read from "qui" on) names it too.
                head = " ".join(normalise(part).split()[:4])
                names_foreign = any(
                    normalise(part) in f or (head in f and not asked_after_marker(f, head))
                    for f in foreign
                )
            query = self.analyse(part)
            # Two readings that analyse alike ("Hi. When was X?" and "When was X?") decide
            # alike: the first did not answer, so the second cannot win either.
            if query in seen:
                continue
            seen.append(query)
            if names_foreign:
                # Sharing words ("IFRC", "policy") is no answer about another subject.
                found = Match("fallback", None, 0.0, language=query.language)
            else:
                found = self.decide(query, self._rank_claim(query))
            if found.status == "answer":
                return found
            if best is None or found.p > best.p:
                best = found
        assert best is not None
        return best

    def _rank_claim(self, query: Query) -> list[Candidate]:
        """The ranking, and for a claim to check with a number in it ("the MRG has 25
        NS, right?"), the ranking without most of that number's weight: the number may
        be the wrong one (25 is the MLG's count). Where the two lead with other entries,
        the words besides the number say what the claim is about."""
        ranked = self.rank_query(query)
        if not (query.checking and query.numbers) or not ranked:
            return ranked
        tokens = {
            t: w * CHECK_NUMBER_WEIGHT if t in query.numbers else w for t, w in query.tokens.items()
        }
        unnumbered = self.rank_query(replace(query, tokens=tokens))
        return unnumbered if unnumbered and unnumbered[0].id != ranked[0].id else ranked

    def features_of(self, query: Query, ranked: list[Candidate]) -> list[float] | None:
        """The decision model's view of a ranking; None when the text names no topic
        ("ok", "1", "what about them?") or only a year, which is never answered."""
        if not ranked or query.content < MIN_CONTENT:
            return None
        if all(t.isdigit() for t in query.tokens):  # "2019" alone: which of its events?
            return None
        top = ranked[0]
        # A glossary term and the curated entry on the same thing are one answer told
        # twice: the margin that matters is over the next entry about something else.
        others = [c for c in ranked[1:] if not self._twins(top.id, c.id)]
        runner = others[0].score if others else 0.0
        linked = bool(others) and self._linked(top.id, others[0].id)
        return features(top, runner, linked, query)

    def twins_of(self, entry_id: str) -> list[str]:
        """The glossary term and curated entries that tell the same thing as this one."""
        entry = self.kb.entries[entry_id]
        linked = {
            *entry.related,
            *(e.id for e in self.kb.entries.values() if entry_id in e.related),
        }
        return sorted(e for e in linked if e in self.kb.entries and self._twins(entry_id, e))

    def curated_twin(self, entry_id: str) -> str | None:
        """For a glossary term, the curated entry on the same thing (its first related
        one that is a twin); None for anything else."""
        if "glossary" not in self.kb.entries[entry_id].tags:
            return None
        twins = [r for r in self.kb.entries[entry_id].related if r in self.twins_of(entry_id)]
        return twins[0] if twins else None

    def told_alike(self, entry_id: str) -> set[str]:
        """The entry and the one that tells the same thing in other words: a glossary
        term's curated entry, or the glossary terms whose curated entry this is. Not
        every linked entry: after the MLG's glossary line, the MRG-MLG comparison is news."""
        twin = self.curated_twin(entry_id)
        if twin is not None:
            return {entry_id, twin}
        return {entry_id, *(g for g in self.twins_of(entry_id) if self.curated_twin(g) == entry_id)}

    def _twins(self, a: str, b: str) -> bool:
        glossary = ("glossary" in self.kb.entries[a].tags) != (
            "glossary" in self.kb.entries[b].tags
        )
        return glossary and self._linked(a, b)

    def decide(self, query: Query, ranked: list[Candidate]) -> Match:
        """Answer, suggest or fall back, by the decision model's estimate that the top
        entry is right (:mod:`bot.decision`)."""
        language = query.language
        x = self.features_of(query, ranked)
        if x is None and ranked and _only_years(query):
            # "2019": never an answer, but that year's entries are what to offer.
            shown = tuple(Suggestion(c.id, c.question, c.score) for c in ranked[:3])
            return Match("suggest", None, ranked[0].score, shown, language, shown)
        if x is None:
            return Match("fallback", None, 0.0, language=language)
        top = ranked[0]
        p = self.model.probability(x)
        plain = tuple(Suggestion(c.id, c.question, c.score) for c in ranked)
        bar = max(SUGGEST_FLOOR, top.score - SUGGEST_SPREAD)
        suggestions = tuple(s for s in plain if s.score >= bar)
        if p >= self.model.answer_at and not query.unknown_year:
            return Match("answer", top.id, top.score, language=language, ranked=plain, p=p)
        if p >= self.model.suggest_at and suggestions:
            return Match("suggest", None, top.score, suggestions[:3], language, plain, p=p)
        return Match("fallback", None, top.score, language=language, ranked=plain, p=p)


# A title quoted, or a name in capitals inside a sentence ("el blog 'Towards a Movement
# Strategy on Migration'", "q es el RFL Leadership Platform?"): English words that do
# not tell the asker's language.
_QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]{3,})[\"“”«»]|(?:^|(?<=\s))'([^']{3,})'(?=[\s?!.,:;]|$)")
_NAME_RUN = re.compile(r"(?<=[^\s.!?¿¡:])\s+((?:[A-Z][\w+-]*\s+){1,}[A-Z][\w+-]*)")


def _unnamed(question: str, raw: list[str]) -> list[str]:
    """The words that say which language a question is in: without quoted titles and
    names written in capitals, unless that leaves fewer than two."""
    text = _NAME_RUN.sub(" ", _QUOTED.sub(" ", question[:MAX_QUESTION_CHARS]))
    rest = text_words(text)
    return rest if len(rest) >= 2 else raw


_OR = frozenset(["or", "ou", "o", "او", "ولا"])


def _alternatives(words: list[str]) -> bool:
    """Whether two numbers are offered as alternatives: "2008 or 2009", "2008 ou 2009"."""
    return any(
        words[i] in _OR and words[i - 1].isdigit() and words[i + 1].isdigit()
        for i in range(1, len(words) - 1)
    )


def _only_years(query: Query) -> bool:
    return bool(query.tokens) and all(t.isdigit() and len(t) == 4 for t in query.tokens)


def _windows(words: list[str]) -> dict[int, tuple[tuple[str, ...], array[int]]]:
    """Per length a long word can have (two slips allowed), the words within two letters
    of it and their indexes in ``words``."""
    longest = max((len(w) for w in words), default=0)
    out = {}
    for n in range(LONG_WORD, longest + 3):
        kept = [(i, w) for i, w in enumerate(words) if abs(len(w) - n) <= 2]
        out[n] = (tuple(w for _, w in kept), array("I", (i for i, _ in kept)))
    return out


def _uint32(values: np.ndarray) -> array[int]:
    return array("I", values.astype(np.uint32).tobytes())


def _deletion_keys(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _key_hash(key: str) -> int:
    # Stable across processes (str hashes are not): the table is kept in the index cache.
    return zlib.crc32(key.encode("utf-8"))


@dataclass(frozen=True)
class _Deletions:
    """A symmetric-deletion index over a list of words (as in SymSpell): each word and
    each of its one-letter deletions, as a sorted table of key hashes beside the word's
    index. Two words one slip apart (a letter missing, extra, wrong or two swapped)
    always share a key, so :meth:`near` holds every word one slip from the one asked,
    with a few more (two slips, or a hash collision) that the caller's checks leave out.
    Compact arrays, not a dict of strings: it is pickled with the index and read back at
    every start."""

    hashes: array[int]
    owners: array[int]

    @classmethod
    def of(cls, words: list[str]) -> _Deletions:
        hashes, owners = array("I"), array("I")
        for i, w in enumerate(words):
            for key in _deletion_keys(w):
                hashes.append(_key_hash(key))
                owners.append(i)
        # Sorted by hash, then word (numpy's sort keeps the build's peak memory low).
        order = np.lexsort((np.frombuffer(owners, np.uint32), np.frombuffer(hashes, np.uint32)))
        return cls(
            _uint32(np.frombuffer(hashes, np.uint32)[order]),
            _uint32(np.frombuffer(owners, np.uint32)[order]),
        )

    def near(self, word: str) -> set[int]:
        """Indexes of the words that share a key with ``word``."""
        hashes, owners, end = self.hashes, self.owners, len(self.hashes)
        found: set[int] = set()
        for key in _deletion_keys(word):
            h = _key_hash(key)
            i = bisect_left(hashes, h)
            while i < end and hashes[i] == h:
                found.add(owners[i])
                i += 1
        return found


def _summed(postings: list[np.ndarray], weights: list[float], size: int) -> np.ndarray:
    """Per row, the weights of the posting lists that hold it, added in list order."""
    if not postings:
        return np.zeros(size)
    lengths = [len(ix) for ix in postings]
    return np.bincount(np.concatenate(postings), np.repeat(weights, lengths), size)


def _group_best(f: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Where each run of equal ``groups`` has its highest ``f``, the first of equals.

    Rows come in index order and an entry's phrasings are consecutive rows (see
    ``_build_arrays``), so each entry is one run: a max per run replaces a sort.
    """
    bounds = np.flatnonzero(groups[1:] != groups[:-1]) + 1
    starts = np.concatenate(([0], bounds))
    sizes = np.concatenate((bounds, [len(f)])) - starts
    top = np.flatnonzero(f == np.repeat(np.maximum.reduceat(f, starts), sizes))
    return top[np.searchsorted(top, starts)]


def candidate_features(matcher: Matcher, question: str) -> tuple[str, list[float]] | None:
    """(top entry, features) for one question: a row of the decision model's data."""
    query = matcher.analyse(question)
    ranked = matcher.rank_query(query)
    x = matcher.features_of(query, ranked)
    return None if x is None else (ranked[0].id, x)


def answer_language(entry: Entry, asked: str | None, app: str | None) -> str:
    """The language to answer in: the question's when the entry has it, else the chat
    app's when the entry has it, else English. Never a third language."""
    for language in (asked, app):
        if language == "en" or (language and language in entry.translations):
            return language
    return "en"
