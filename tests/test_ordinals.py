"""Numbers written without digits: Roman numerals and ordinal words, in the ways the
translations write "the 31st" ("XXXI", "trigésima primera", "الحادي والثلاثون")."""

from __future__ import annotations

import pytest

from bot.ordinals import from_roman, spelled_numbers, to_roman


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("la XXXI Conferencia Internacional", {"31"}),
        ("la XXXIe Conférence", {"31"}),
        ("su XVI Asamblea General y la XVII", {"16", "17"}),
        ("la trigésima primera Conferencia", {"31"}),
        ("la Trigesima Primera", {"31"}),  # no accents, capitals
        ("la decimosexta Asamblea", {"16"}),
        ("la décima séptima reunión", {"17"}),
        ("vigésimo segundo", {"22"}),
        ("la undécima", {"11"}),
        ("la trente et unième Conférence", {"31"}),
        ("la trente-deuxième", {"32"}),
        ("la dix-septième Assemblée", {"17"}),
        ("la soixante-dix-septième", {"77"}),
        ("les deux premières réunions", {"1"}),  # the first two: not 3
        ("the thirty-first Conference", {"31"}),
        ("المؤتمر الدولي الحادي والثلاثون", {"31"}),
        ("للمؤتمر الدولي الحادي والثلاثين، بعد", {"31"}),
        ("المؤتمر الثالث والثلاثين", {"33"}),
        ("جمعيته العامة السادسة عشرة", {"16"}),
        ("والسابعة عشر", {"17"}),
        ("الدورة العشرون", {"20"}),
        ("الحَادِي والثَّلَاثُونَ", {"31"}),  # with short vowels
    ],
)
def test_spelled_numbers(text: str, expected: set[str]) -> None:
    assert spelled_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the IC, the MRG and the CoD",  # acronyms, not numerals ("IC" is no numeral)
        "IIII ou VV",  # not well-formed
        "Conseil des Délégués, Junta de Gobierno",
        "مجلس المندوبين والجمعية الوطنية",
        "ثلاث وثلاثون",  # a cardinal "three" is no ordinal of the tables
    ],
)
def test_text_without_spelled_numbers(text: str) -> None:
    assert spelled_numbers(text) == set()


def test_roman_numerals_round_trip() -> None:
    assert [from_roman(to_roman(n)) for n in range(1, 400)] == list(range(1, 400))
    assert from_roman("XXXI") == 31 and from_roman("MCMXCVII") == 1997
    assert from_roman("IC") is None and from_roman("xxxi") is None
