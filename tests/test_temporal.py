"""Follow-ups that step along the timeline from the entry last answered."""

from __future__ import annotations

import pytest

from bot.followup import Previous, resolve
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher, text_words
from bot.temporal import Step, outcome_of, pin_year, step_of, stepped, swapped_year


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("and a week after that?", Step(1, 7)),
        ("and two weeks later?", Step(1, 14)),
        ("¿y una semana después?", Step(1, 7)),
        ("et deux ans plus tard ?", Step(1, 730)),
        ("et la veille ?", Step(-1, 1)),
        ("et le lendemain ?", Step(1, 1)),
        ("وبعدها بأسبوع؟", Step(1, 7)),
        ("وقبلها بيومين؟", Step(-1, 2)),
        ("what happened next?", Step(1, 0)),
        ("and before that?", Step(-1, 0)),
        ("and the next one?", Step(1, 0, same=True)),
        ("y la reunión anterior?", Step(-1, 0, same=True)),
    ],
)
def test_a_step_in_time_is_read_in_four_languages(text: str, step: Step) -> None:
    assert step_of(text_words(text)) == step


@pytest.mark.parametrize(
    "text",
    [
        "was the cod 2011 before or after the conference",  # a question of its own
        "what did the council decide after that",  # names a topic: the matcher's
        "when was that?",  # no step
        "and the year after the policy was adopted?",
    ],
)
def test_a_message_that_names_more_than_a_step_is_left_to_the_matcher(text: str) -> None:
    assert step_of(text_words(text)) is None


def test_a_week_after_the_mlg_meeting_is_the_council_not_the_plan_of_that_day(
    shipped_kb: KnowledgeBase,
) -> None:
    # The blog: the MLG was to meet on 17 June 2022, the Council of Delegates "one week
    # later" (22-23 June), where a resolution was also to be presented (a plan).
    assert stepped(shipped_kb, "mlg-first-meeting", Step(1, 7)) == ["cod-2022"]


def test_a_step_finer_than_what_is_known_of_a_date_lands_nowhere(
    shipped_kb: KnowledgeBase,
) -> None:
    perco = next(e for e in shipped_kb.events if e.entry == "perco")
    assert perco.start_precision == "month"
    assert stepped(shipped_kb, "perco", Step(1, 1)) == []  # "the day after" August 1997
    assert stepped(shipped_kb, "policy-what", Step(1, 0)) == []  # no date at all


def test_the_next_one_is_the_same_bodys_next_event(shipped_kb: KnowledgeBase) -> None:
    cod = next(e for e in shipped_kb.events if e.entry == "cod-2009")
    [landed] = stepped(shipped_kb, "cod-2009", Step(1, 0, same=True))
    assert landed != "cod-2009"
    assert cod.body in {e.body for e in shipped_kb.events if e.entry == landed}


@pytest.mark.parametrize("text", ["and a week after that?", "¿y una semana después?"])
def test_a_step_follow_up_is_answered_in_the_language_asked(
    shipped_matcher: Matcher, text: str
) -> None:
    result = resolve(shipped_matcher, text, Previous("mlg-first-meeting", "en"))
    assert (result.status, result.id) == ("answer", "cod-2022")
    assert result.language == ("es" if "semana" in text else "en")


def test_a_step_to_nowhere_is_not_the_previous_answer_again(shipped_matcher: Matcher) -> None:
    """Before, "and the day before?" after the 2022 Council repeated its answer."""
    result = resolve(shipped_matcher, "and the day before?", Previous("cod-2022", "en"))
    assert result.status == "fallback"


@pytest.mark.parametrize(
    ("text", "pinned"),
    [
        ("and when did the CoD meet that year?", "and when did the cod meet 2009"),
        ("y el consejo de delegados ese mismo año?", "y el consejo de delegados 2009"),
        ("et le conseil des délégués cette année-là ?", "et le conseil des delegues 2009"),
        ("وماذا عن نفس السنة؟", "ماذا عن 2009"),
        ("and when did the CoD meet?", None),  # no "that year"
        ("ومجلس المندوبين بهيداك العام؟", "مجلس مندوبين 2009"),
        # A meeting named with a pointing word is that year's.
        ("and where was that conference?", "and where was conference 2009"),
        ("et ce conseil ?", "et conseil 2009"),
        ("وهالمجلس امتى كان؟", "مجلس امتي كان 2009"),
        # Spoken Arabic puts "that" after the noun.
        ("ومجلس المندوبين هداك كان امتى؟", "مجلس مندوبين كان امتي 2009"),
        ("ومجلس المندوبين تبع السنه ديك كان امتى", "مجلس مندوبين تبع كان امتي 2009"),
        ("والمجلس ديال المندوبين ديك العام كان فوقاش", "مجلس ديال مندوبين كان فوقاش 2009"),
        ("who chairs that group", None),  # not a meeting
        ("and that CoD in 2011?", None),  # a year of its own
    ],
)
def test_that_year_is_the_year_of_the_entry_last_answered(
    shipped_kb: KnowledgeBase, text: str, pinned: str | None
) -> None:
    assert pin_year(text_words(text), shipped_kb, "policy-adopted") == pinned


def test_when_was_that_cod_after_the_2022_resolution(shipped_matcher: Matcher) -> None:
    for text in ("when was that CoD?", "c'etait quand ce CoD ?", "y ese CoD cuando fue?"):
        found = resolve(shipped_matcher, text, Previous("resolution-2022", "en"))
        assert (found.status, found.id) == ("answer", "cod-2022"), text


def test_that_cod_after_an_entry_dated_only_by_its_title(shipped_matcher: Matcher) -> None:
    """The 2022 resolution's content has no dated event of its own: its title's year
    says which CoD "that" one is (before: a did-you-mean; in English the CoD itself
    was given for "the resolution they put to the cod that year")."""
    found = resolve(
        shipped_matcher, "ومجلس المندوبين هداك كان امتى؟", Previous("resolution-2022-content", "ar")
    )
    assert (found.status, found.id) == ("answer", "cod-2022")


def test_that_year_means_nothing_after_an_entry_without_one_year(shipped_kb: KnowledgeBase) -> None:
    assert pin_year(text_words("and that year?"), shipped_kb, "policy-what") is None


def test_the_cod_that_year_after_the_policy_is_the_2009_council(shipped_matcher: Matcher) -> None:
    """Before, the policy's adoption was given again."""
    result = resolve(
        shipped_matcher, "and when did the CoD meet that year?", Previous("policy-adopted", "en")
    )
    assert (result.status, result.id) == ("answer", "cod-2009")


@pytest.mark.parametrize(
    "text", ["what about 2015?", "et en 2015 ?", "وماذا عن ٢٠١٥؟", "¿y en 2015?"]
)
def test_what_about_another_year_is_the_same_bodys_event_of_that_year(
    shipped_matcher: Matcher, text: str
) -> None:
    """After the 2017 Council of Delegates' call for action, "what about 2015?" is the
    2015 Council's statement, not the International Conference of December 2015 (before,
    a did-you-mean between the two, or an unrelated answer in French)."""
    result = resolve(shipped_matcher, text, Previous("call-for-action-2017", "en"))
    assert (result.status, result.id) == ("answer", "statement-2015")


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("what about the 2024 one", "statutory-meetings-2019"),
        ("et celui de 2024 ?", "cod-2022"),
        ("¿y el de 2024?", "cod-2022"),
    ],
)
def test_another_years_meeting_under_another_name_is_that_years_meeting(
    shipped_matcher: Matcher, text: str, previous: str
) -> None:
    """The 2024 Council of Delegates is filed under the 2024 statutory meetings: after
    the 2022 Council, "and the 2024 one?" is that meeting, not the Council's adoption of
    the strategy that October; after the 2019 statutory meetings it was no answer."""
    result = resolve(shipped_matcher, text, Previous(previous, "en"))
    assert (result.status, result.id) == ("answer", "cod-2024")


def test_a_year_with_a_topic_is_left_to_the_matcher(shipped_kb: KnowledgeBase) -> None:
    words = text_words("what did the conference adopt in 2015?")
    assert swapped_year(words, shipped_kb, "call-for-action-2017") == []


def test_what_a_meeting_adopted_is_the_outcome_dated_nearest_it(shipped_kb: KnowledgeBase) -> None:
    # The 2022 Council of Delegates: the resolution put to it that day, not the MLG's
    # meeting of the week before (also a plan of that month).
    assert outcome_of(shipped_kb, "cod-2022") == "resolution-2022"
    # An entry of no meeting has no outcome.
    assert outcome_of(shipped_kb, "policy-what") is None


@pytest.mark.parametrize(
    ("previous", "text", "expected"),
    [
        ("cod-2022", "what did it adopt on migration", "resolution-2022"),
        ("cod-2022", "وشو القرار اللي انقدم فيه عن الهجرة", "resolution-2022"),
        ("ic31-dates", "quelle résolution sur la migration y a été adoptée", "resolution-2011"),
    ],
)
def test_what_a_meeting_adopted_after_its_dates(
    shipped_matcher: Matcher, previous: str, text: str, expected: str
) -> None:
    """Before: the meeting's dates again (or another year's resolution)."""
    found = resolve(shipped_matcher, text, Previous(previous, "en"))
    assert (found.status, found.id) == ("answer", expected)


@pytest.mark.parametrize(
    ("earlier", "text", "expected"),
    [
        # What came out of a meeting, in other words than "adopt" (before: a did-you-mean).
        ("statutory-meetings-2019", "which migration text came out of them", "statement-2019"),
        # "those meetings" after what they adopted (before: the statement again).
        ("statement-2019", "when were those meetings held", "statutory-meetings-2019"),
        # Another year of the same kind of text, not that year's meetings.
        ("call-for-action-2017", "and the 2019 one?", "statement-2019"),
        # Spoken Arabic "that conference" (the hamza-folded spelling is the one compared).
        ("statement-2019", "والمؤتمر هداك وين كان", "statutory-meetings-2019"),
    ],
)
def test_a_meeting_and_what_it_adopted_lead_to_each_other(
    shipped_matcher: Matcher, earlier: str, text: str, expected: str
) -> None:
    found = resolve(shipped_matcher, text, Previous(earlier, "en"))
    assert (found.status, found.id) == ("answer", expected)


@pytest.mark.parametrize(
    ("text", "same"),
    [
        ("y el anterior?", True),
        ("et la suivante ?", True),
        ("والسابق؟", True),
        ("what happened next?", False),
    ],
)
def test_an_adjective_standing_for_its_noun_is_the_one_of_its_kind(text: str, same: bool) -> None:
    step = step_of(text_words(text))
    assert step is not None and step.same is same
