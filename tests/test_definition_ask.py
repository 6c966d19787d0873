"""A definition asked in other words: the term named, and where it was seen."""

from __future__ import annotations

import pytest

from bot.definition_ask import definition_reading, name_asked
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
        # "what is it" after a place, with a verb of seeing before the name.
        ("I keep seeing GFMD in the reference group notes. What is it? thanks", "glossary-gfmd"),
        # What it means is the glossary's line, not the curated entry on the compact.
        (
            "Bonjour ! Je vois souvent « GCM » dans les notes de plaidoyer, ça veut dire quoi ?",
            "glossary-gcm",
        ),
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("and hsp is short for?", "glossary-hsp"),
        ("IC in ur answer mean?", "glossary-ic"),
        ("and the perco letters?", "glossary-perco"),
        ("what does sahel+ refer to", "glossary-sahel"),
        ("mena = which region", "glossary-mena"),
        ("Bonjour, HSP ca correspond a quoi en clair ? Merci", "glossary-hsp"),
        ("perdon, soy nuevo, q quiere decir RCRC en los documentos?", "glossary-rcrc"),
        ("disculpen, cuando dicen IC en los correos a q se refieren?", "glossary-ic"),
        ("شو المقصود ب Sahel+", "glossary-sahel"),
        ("MENA يعني انهي منطقه", "glossary-mena"),
        # Spoken Arabic "what is" (اشنو هو), "in these" (فهاد), "its meaning" (معناها).
        ("اشنو هو IC فهاد الوثائق؟", "glossary-ic"),
        ("ما المقصود بمنطقة MENA؟", "glossary-mena"),
        ("معليش سوال غبي شوي 😅 كل الوثائق فيها NS، شو معناها؟", "glossary-ns"),
        # Letters, then "what": what they stand for.
        ("and icrc is what exactly", "glossary-icrc"),
        # A clause after a dash, as a phone keyboard types it.
        ("hi! sorry, super new here – what does IFRC stand for exactly?", "glossary-ifrc"),
        # Where it was seen, in a clause after the question; SMS "koi", "kesako".
        ("oye y RCRC q significa, lo veo en todos los docs", "glossary-rcrc"),
        ("what does RCRC mean, i see it in all the docs", "glossary-rcrc"),
        ("RCRC ca veut dire koi dans les docs anglais", "glossary-rcrc"),
        ("MHPSS kesako", "glossary-mhpss"),
        # "an abbreviation for what?" in spoken Arabic: لشو، لإيه
        ("GA اختصار لشو؟", "glossary-ga"),
        ("RCRC اختصار لإيه", "glossary-rcrc"),
    ],
)
def test_what_a_name_stands_for_is_its_glossary_line(
    shipped_matcher: Matcher, text: str, expected: str
) -> None:
    """Before, the follow-up context or the curated entry on the thing won ("and hsp is
    short for?" after "how many hsp are there" repeated the count), or a did-you-mean."""
    for previous in (None, Previous("hsp-how-many", "en"), Previous("mlg-members", "en")):
        found = resolve(shipped_matcher, text, previous)
        assert (found.status, found.id) == ("answer", expected), (text, previous)


@pytest.mark.parametrize(
    "text",
    [
        # What the thing does or where it is, not what its letters mean.
        "mrg wat they do exactly",
        "mrg what it do exactly",  # before: its glossary line, as "mrg what?" is
        "hi, hsp what for? we want open one near the border",
        "which region has the most hsps",
        "what does the mrg mean for national societies",
        # "stand" is not read as a typo of the Standing Commission (it was answered).
        "what does it stand for",
    ],
)
def test_other_uses_of_a_name_are_not_read_as_its_meaning(
    shipped_matcher: Matcher, text: str
) -> None:
    assert name_asked(shipped_matcher, text) is None


@pytest.mark.parametrize(
    ("previous", "text", "expected"),
    [
        ("mlg-members", "sorry the full name of this group is?", "glossary-mlg"),
        ("hsp-how-many", "what does it stand for", "glossary-hsp"),
        ("mrg-chair", "ça veut dire quoi ce sigle ?", "glossary-mrg"),
    ],
)
def test_what_the_name_just_answered_stands_for(
    shipped_matcher: Matcher, previous: str, text: str, expected: str
) -> None:
    """Before: the members again, or the Standing Commission's glossary line ("stand")."""
    found = resolve(shipped_matcher, text, Previous(previous, "en"))
    assert (found.status, found.id) == ("answer", expected)


def test_a_name_asked_of_nothing_named_is_no_confident_answer(shipped_matcher: Matcher) -> None:
    found = resolve(shipped_matcher, "what does it stand for", None)
    assert found.status != "answer" or found.id != "glossary-standing-commission"
