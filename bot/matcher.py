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
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.knowledge import KnowledgeBase

Status = Literal["answer", "suggest", "fallback"]

# BaseLoader: every word stays text ("no", "on" and "yes" are not booleans here).
_LANGUAGE_DATA: dict[str, Any] = yaml.load(
    (Path(__file__).resolve().parent / "data" / "matching.yaml").read_text(encoding="utf-8"),
    Loader=yaml.BaseLoader,
)


def _words(section: str, languages: Iterable[str] | None = None) -> frozenset[str]:
    """One section of the language data (all languages, or only those asked for), each
    word in the form the matcher compares."""
    out: set[str] = set()
    for language, words in _LANGUAGE_DATA[section].items():
        if languages is None or language in languages:
            out.update(" ".join(text_words(w)) for w in words)
    return frozenset(out - {""})


# Question words keep a small fixed weight: enough to break ties, never enough to
# make an out-of-scope question look answerable.
QUESTION_WORDS = {
    "when": 0.9,
    "who": 0.9,
    "where": 0.9,
    "what": 0.35,
    "which": 0.35,
    "how": 0.5,
    "why": 0.7,
    "many": 0.6,
}
_SUFFIXES = (
    "ations",
    "ation",
    "ings",
    "ing",
    "ments",
    "ment",
    "ions",
    "ion",
    "ies",
    "ied",
    "es",
    "ed",
    "s",
)


# Arabic-Indic and Eastern Arabic-Indic (Persian, Urdu) digits: "٢٠٢٢" is "2022".
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
# Arabic spellings people use interchangeably: alif maqsura for ya ("متى"/"متي"), ta
# marbuta for ha ("الهجرة"/"الهجره"), and the tatweel that only stretches a word.
# Hamza seats (أ إ آ ؤ ئ) and short vowels go with the other combining marks.
_ARABIC_FOLD = str.maketrans({"ى": "ي", "ة": "ه", "ـ": None})
_FOLD = _DIGITS | _ARABIC_FOLD
# French elision: "l'OIM" is "l OIM", "qu'est-ce" is "qu est-ce". Only a one-letter
# word (or "qu") is split off, so English "CoD's" and "don't" stay as they were; and
# "d'accord" stays one word, a reply rather than a topic.
_ELISION = re.compile(r"\b(qu|[cdjlmnst])['’](?!accord\b)(?=[^\W\d_])")
# Arabic articles and the prepositions written onto them, longest first.
_ARABIC_ARTICLES = ("وال", "بال", "فال", "كال", "لل", "ال")


def normalise(text: str) -> str:
    """Lower case, accents stripped, punctuation to spaces ("CoD's" -> "cods",
    "l'OIM" -> "l oim"), Arabic digits and spellings folded ("٢٠٢٢" -> "2022")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.translate(_FOLD)
    text = text.replace("&", " and ").replace("+", " plus ")
    text = _ELISION.sub(r"\1 ", text)
    text = re.sub(r"[’'`]", "", text)
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", r"\1", text)  # "31st" -> "31"
    text = re.sub(r"(?<=[a-z])(?=\d{4}\b)", " ", text)  # "cod2015" -> "cod 2015"
    return re.sub(r"[^\w]+", " ", text, flags=re.UNICODE).strip()


def is_arabic(word: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in word)


def strip_arabic_prefix(word: str) -> str:
    """The stem of an Arabic word without its article or a leading "and": الهجره,
    للهجره, بالهجره and والهجره are all هجره. Deliberately light, like :func:`stem`:
    both sides of a match go through it, so being consistent matters more than being
    right, and a two-letter stem is always kept whole."""
    if not word or not "\u0600" <= word[0] <= "\u06ff":
        return word
    if word.startswith("و") and len(word) >= 5 and not word.startswith("وال"):
        word = word[1:]  # و "and": وسياسه -> سياسه, وبالهجره -> بالهجره
    for article in _ARABIC_ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= 2:
            word = word[len(article) :]
            # Whatever the "and" rule does to a bare word it must do after an article
            # too, or الوطنيه and وطنيه would part ways.
            if word.startswith("و") and len(word) >= 5:
                word = word[1:]
            break
    return word


def text_words(text: str) -> list[str]:
    """The words of a text as the matcher compares them: normalised, Arabic prefixes off."""
    return [strip_arabic_prefix(w) for w in normalise(text).split()]


STOPWORDS = _words("stopwords")
FILLER = _words("filler")
ENGLISH_WORDS = _words("stopwords", ["en"]) | _words("filler", ["en"])
# Other languages' question words, as the English word the weights are set for.
QUESTION_ALIASES = {
    " ".join(text_words(word)): english
    for english, words in _LANGUAGE_DATA["question_words"].items()
    for word in words
}
# Typo correction prefers a word of the English content (or the glossary) to a word that
# only a translation uses, by this many points of fuzz.ratio: enough to settle a near tie
# ("resolusion": English "resolution", not Spanish "resolucion"), not to overrule a
# clearly closer word ("politiqe" is still French "politique").
PRIMARY_BONUS = 3.0


def stem(word: str) -> str:
    """A deliberately light English stemmer: both sides are stemmed the same way, so
    only consistency matters, and being timid keeps short acronyms intact."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            base = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                return base + "y"
            return base
    # "include" and "included" (-> "includ") must meet: a final silent e goes too.
    return word[:-1] if word.endswith("e") and len(word) > 5 else word


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
    language: str = "en"
    ranked: tuple[Suggestion, ...] = field(default=(), repr=False)


@dataclass
class _Phrasing:
    entry: str
    tokens: frozenset[str]
    text: str  # canonical normalised form, for the fuzzy string score
    weight: float
    language: str
    words: frozenset[str]  # as written, normalised: tells languages apart on a tie


class Matcher:
    """Index the knowledge base once; :meth:`match` is then a pure, fast function."""

    # Thresholds were tuned on tests/eval/questions.yaml; see tests/test_eval.py.
    ANSWER_AT = 0.50
    SUGGEST_AT = 0.34
    MARGIN = 0.06

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._canon: dict[str, str] = {}
        self._phrases: list[tuple[tuple[str, ...], str]] = []  # multi-word phrase -> canonical
        self._build_vocabulary(kb)
        self._phrasings: list[_Phrasing] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        self._entry_tokens: dict[str, set[str]] = defaultdict(set)
        self._by_entry: dict[str, list[int]] = defaultdict(list)
        raw: list[tuple[str, str, list[str], list[str]]] = []
        for entry in kb.entries.values():
            for lang, questions in [
                ("en", entry.questions),
                *((lang, tr.questions) for lang, tr in entry.translations.items()),
            ]:
                for q in questions:
                    words = text_words(q)
                    raw.append((entry.id, lang, self._tokens(words), words))
            for tag in entry.tags:
                self._entry_tokens[entry.id].update(self.tokens(tag))
        for entry_id, _, toks, _ in raw:
            self._entry_tokens[entry_id].update(toks)
        # Document frequency counted per entry: a word in every phrasing of one entry
        # is that entry's signature, not filler.
        df: dict[str, int] = defaultdict(int)
        for toks_set in self._entry_tokens.values():
            for tok in toks_set:
                df[tok] += 1
        n = max(1, len(self._entry_tokens))
        self._idf = {tok: math.log((n + 1) / (d + 0.5)) for tok, d in df.items()}
        self._unknown_idf = math.log((n + 1) / 0.5)
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
        for entry_id, lang, toks, words in raw:
            content = frozenset(toks)
            if not content:
                continue
            idx = len(self._phrasings)
            self._phrasings.append(
                _Phrasing(
                    entry_id,
                    content,
                    " ".join(toks),
                    sum(self.weight(t) for t in content),
                    lang,
                    frozenset(words),
                )
            )
            self._by_entry[entry_id].append(idx)
            for tok in content:
                self._postings[tok].append(idx)

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
        self._phrases.sort(key=lambda p: -len(p[0]))
        # Phrases by their first word, longest first: folding then looks only at the
        # few phrases that can start at each word.
        self._phrases_by_first: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        for parts, canonical in self._phrases:
            self._phrases_by_first[parts[0]].append((parts, canonical))

    def _add_group(self, group: Iterable[str], primary: bool = True) -> None:
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
                self._canon.setdefault(stem(parts[0]), canonical)
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
        words = self._fold_phrases(words)
        out: list[str] = []
        for w in words:
            w = QUESTION_ALIASES.get(w, w)
            if w in STOPWORDS:
                continue
            canon = self._canon.get(w) or self._canon.get(stem(w)) or stem(w)
            out.append(canon)
        return out

    def _correct(self, word: str) -> str:
        """Replace a word the knowledge base never uses by its closest known word: of the
        same script, within a typo's reach, and an English or glossary word when a
        translation's word is no closer (by :data:`PRIMARY_BONUS`)."""
        if (
            word in self._known
            or stem(word) in self._known_stems
            or len(word) < 3
            or word.isdigit()
        ):
            return word
        arabic = is_arabic(word)
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
        slips = 1 if len(word) <= 9 else 2
        found = [
            candidate
            for candidate in process.extract(
                word, self._targets[arabic], scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
            )
            if OSA.distance(word, candidate[0], score_cutoff=slips) <= slips
        ]
        if not found:
            return word

        def preference(candidate: tuple[str, float, int]) -> tuple[float, bool, int]:
            text, score, index = candidate
            primary = self._known[text]
            return (score + (PRIMARY_BONUS if primary else 0.0), primary, -index)

        return str(max(found, key=preference)[0])

    def weight(self, token: str) -> float:
        if token in QUESTION_WORDS:
            return QUESTION_WORDS[token]
        if token in FILLER and token not in self._idf:
            return 0.25
        return self._idf.get(token, self._unknown_idf)

    # ------------------------------------------------------------------ matching

    def rank(self, question: str, limit: int = 5) -> tuple[list[Suggestion], float, str]:
        """Entries ranked for a question: (ranked suggestions, query coverage, language)."""
        toks = self.tokens(question, correct=True)
        query = set(toks)
        if not query:
            return [], 0.0, "en"
        q_weight = sum(self.weight(t) for t in query)
        candidates: set[int] = set()
        for tok in query:
            candidates.update(self._postings.get(tok, ()))
        best: dict[str, float] = {}
        best_lang: dict[str, str] = {}
        # Folded tokens are language-blind ("qu'est-ce que le CICR" and "what is the ICRC"
        # are both {what, icrc}); on a tie, the phrasing sharing more of the words as
        # typed gives the language.
        said = set(text_words(question))
        best_words: dict[str, frozenset[str]] = {}
        query_text = " ".join(toks)
        for idx in sorted(candidates):
            p = self._phrasings[idx]
            shared = sum(self.weight(t) for t in query & p.tokens)
            precision = shared / q_weight
            recall = shared / p.weight
            if precision + recall == 0:
                continue
            f = (1.25 * precision * recall) / (0.25 * precision + recall)  # F-beta, beta=0.5
            current = best.get(p.entry, 0.0)
            if f > current + 1e-9 or (
                f > current - 1e-9
                and len(said & p.words) > len(said & best_words.get(p.entry, frozenset()))
            ):
                best[p.entry] = f
                best_lang[p.entry] = p.language
                best_words[p.entry] = p.words
        if not best:
            return [], 0.0, "en"
        # Entry level: how much of the question the entry's whole vocabulary explains,
        # plus a fuzzy string score against its best phrasings (word order, near-misses).
        scored: list[Suggestion] = []
        top_candidates = sorted(best, key=lambda e: -best[e])[:12]
        for entry_id in top_candidates:
            vocab = self._entry_tokens[entry_id]
            coverage = sum(self.weight(t) for t in query if t in vocab) / q_weight
            fuzzy = max(
                fuzz.token_set_ratio(query_text, self._phrasings[i].text) / 100.0
                for i in self._by_entry[entry_id]
            )
            score = 0.6 * best[entry_id] + 0.25 * coverage + 0.15 * fuzzy * coverage
            entry = self.kb.entries[entry_id]
            scored.append(Suggestion(entry_id, entry.title, round(score, 4)))
        scored.sort(key=lambda s: (-s.score, s.id))
        # The language is the best match's, taken before a curated twin moves ahead of a
        # glossary term: "qu'est-ce que l'IMRF" matched the term's French phrasing, so
        # the curated IMRF answer comes in French too (when it has French).
        lang = best_lang.get(scored[0].id, "en")
        self._prefer_curated_twin(scored)
        return scored[:limit], 0.0, lang

    def _prefer_curated_twin(self, ranked: list[Suggestion]) -> None:
        """A glossary term's generated phrasings ("what is the MRG") tie with the curated
        entry linked to it; when they are that close, the curated answer goes first."""
        if not ranked or "glossary" not in self.kb.entries[ranked[0].id].tags:
            return
        top = ranked[0]
        for i, other in enumerate(ranked[1:], start=1):
            curated = "glossary" not in self.kb.entries[other.id].tags
            if curated and self._linked(top.id, other.id) and other.score >= 0.9 * top.score:
                ranked.insert(0, ranked.pop(i))
                return

    def _linked(self, a: str, b: str) -> bool:
        entries = self.kb.entries
        return b in entries[a].related or a in entries[b].related

    def match(self, question: str) -> Match:
        """Decide: a confident answer, up to three suggestions, or the fallback."""
        ranked, _, lang = self.rank(question)
        if not ranked:
            return Match("fallback", None, 0.0, language=lang)
        top = ranked[0]
        # Entries the curators linked as related are close by design (an entry and its
        # glossary term, a meeting and its outcome): the top one answers and offers the
        # other as a follow-up, so only an *unrelated* runner-up makes the bot unsure.
        runner = next((s.score for s in ranked[1:] if not self._linked(top.id, s.id)), 0.0)
        if top.score >= self.ANSWER_AT and top.score - runner >= self.MARGIN:
            return Match("answer", top.id, top.score, language=lang, ranked=tuple(ranked))
        if top.score >= self.SUGGEST_AT:
            close = tuple(
                s for s in ranked[:3] if s.score >= max(self.SUGGEST_AT, top.score - 0.15)
            )
            return Match("suggest", None, top.score, close, lang, tuple(ranked))
        return Match("fallback", None, top.score, language=lang, ranked=tuple(ranked))
