"""The matcher's faster paths give exactly what the plain ones they replace gave."""

from __future__ import annotations

import random

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher, _Deletions


def _typos(words: list[str], count: int, seed: int) -> list[str]:
    """Words of the list with one to three random slips each."""
    rng = random.Random(seed)
    letters = sorted({ch for w in words for ch in w})
    out = []
    for _ in range(count):
        w = list(rng.choice(words))
        for _ in range(rng.choice([1, 1, 2, 3])):
            op, i = rng.randrange(4), rng.randrange(len(w) + 1)
            if op == 0 and i < len(w):
                del w[i]
            elif op == 1:
                w.insert(i, rng.choice(letters))
            elif op == 2 and i < len(w):
                w[i] = rng.choice(letters)
            elif i + 1 < len(w):
                w[i], w[i + 1] = w[i + 1], w[i]
        out.append("".join(w))
    return out


def test_typo_candidates_are_those_a_scan_of_every_target_finds(
    shipped_matcher: Matcher,
) -> None:
    for arabic in (False, True):
        targets = shipped_matcher._targets[arabic]
        for word in _typos(targets, 600, seed=7):
            if len(word) < 3:
                continue
            cutoff = 80 if len(word) <= 5 else 75
            slips = 1 if len(word) <= 9 else 2
            scanned = [
                c
                for c in process.extract(
                    word, targets, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
                )
                if OSA.distance(word, c[0], score_cutoff=slips) <= slips
            ]
            nearby = [
                c
                for c in shipped_matcher._nearby(word, arabic, slips, cutoff)
                if OSA.distance(word, c[0], score_cutoff=slips) <= slips
            ]
            assert sorted(nearby, key=lambda c: c[2]) == sorted(scanned, key=lambda c: c[2]), word


def test_deletion_index_finds_every_word_one_slip_away() -> None:
    words = ["migration", "migrant", "policy", "police", "strategy", "ab", "ba", "حكومه"]
    index = _Deletions.of(words)
    for typo, meant in [
        ("migraton", "migration"),  # a letter missing
        ("migrantt", "migrant"),  # one extra
        ("polixy", "policy"),  # one wrong
        ("stratgey", "strategy"),  # two swapped
        ("ba", "ab"),
        ("حكومة", "حكومه"),
    ]:
        assert words.index(meant) in index.near(typo)


def _normalise_reference(text: str) -> str:
    """normalise() as it was before its ASCII shortcut (with the hamza-seat rule that
    came after it, which touches Arabic only)."""
    import re
    import unicodedata

    from bot.matcher import _ELISION, _FOLD
    from bot.wording import _HAMZA_SEAT

    text = _HAMZA_SEAT.sub("ء", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.translate(_FOLD)
    text = text.replace("&", " and ").replace("+", " plus ")
    text = _ELISION.sub(r"\1 ", text)
    text = re.sub(r"(?<=[a-z])['’`]s\b", "", text)
    text = re.sub(r"[’'`]", "", text)
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th|e|er|ere|eme|o|a)\b", r"\1", text)
    text = re.sub(r"(?<=[a-z])(?=\d{4}\b)", " ", text)
    return re.sub(r"[^\w]+", " ", text, flags=re.UNICODE).strip()


def test_normalise_gives_what_it_gave_before_its_ascii_shortcut(shipped_kb: KnowledgeBase) -> None:
    from bot.matcher import normalise

    texts = [
        "CoD's l'OIM qu'est-ce d'accord 31st cod2015 R&D Sahel+ ٢٠٢٢ متى الهجرة ـ",
        "Où est la Conférence? ¿Cuándo? ﬁnance ½ ² Ⅻ",
    ]
    for entry in shipped_kb.entries.values():
        texts += [*entry.questions, entry.answer, entry.title]
        for tr in entry.translations.values():
            texts += [*tr.questions, tr.answer]
    for text in texts:
        assert normalise(text) == _normalise_reference(text), text
