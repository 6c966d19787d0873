"""A definition asked in other words: the term named, and where it was seen."""

from __future__ import annotations

import pytest

from bot.definition_ask import definition_reading
from bot.followup import Previous, resolve
from bot.matcher import Matcher


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("you keep writing ns in the answers, what is that?", "glossary-ns"),
        ("my boss wrote 'cod' in the agenda lol what is that", "glossary-cod"),
        ("hello, in the advocacy note they say imrf, what is it please", "glossary-imrf"),
        ("the 2011 conference was at the cicg, what is that place?", "glossary-cicg"),
        ("pls what is mena in the network list?", "glossary-mena"),
        ("Hello! Someone wrote 'Sahel+' in the meeting notes, what is that?", "glossary-sahel"),
        ("hi, in the london meeting notes they mention ICVA. what is that?", "glossary-icva"),
        ("wat does GA mean in ifrc docs", "glossary-ga"),
        (
            "sorry, what is the climate centre that is mentioned with migration? thx",
            "glossary-climate-centre",
        ),
        ("on m'a parlé du MLG dans une réunion, c'est quoi ça ?", "glossary-mlg"),
        ("en la reunión mencionaron el GMTF, qué es eso?", "glossary-gmtf"),
    ],
)
def test_a_term_seen_somewhere_is_defined(
    shipped_matcher: Matcher, text: str, expected: str
) -> None:
    """Before, the words around the term (agenda, advocacy, network, conference) pulled
    the ranking: a did-you-mean, or a confident answer about the advocacy or the
    networks."""
    for previous in (None, Previous("policy-adopted", "en")):
        found = resolve(shipped_matcher, text, previous)
        assert (found.status, found.id) == ("answer", expected), text


@pytest.mark.parametrize(
    "text",
    [
        # About the whole thing, which a term only qualifies.
        "RFL leadership platform + implementation group, what is that",
        "la plateforme de leadership RLF, c'est quoi ça",
        "restoring family links strategy what is it",
        # About something of the term's.
        "what is the MRG's first task",
        "the MRG met in London, what was it about?",
        "whats the reference group on migration actually for",
        # Asked plainly: the matcher reads these as they are.
        "what is the migration reference group",
        "what does gcm stand for",
    ],
)
def test_other_questions_are_not_rewritten(shipped_matcher: Matcher, text: str) -> None:
    assert definition_reading(shipped_matcher, text) is None


def test_the_rewritten_question_keeps_the_askers_words_and_language(
    shipped_matcher: Matcher,
) -> None:
    assert (
        definition_reading(shipped_matcher, "my boss wrote 'cod' in the agenda, what is that?")
        == "what is cod"
    )
    assert (
        definition_reading(shipped_matcher, "on m'a parlé du MLG dans une réunion, c'est quoi ça ?")
        == "c'est quoi mlg"
    )
