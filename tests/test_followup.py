"""Follow-up questions in a chat, understood against the entry last answered there."""

from __future__ import annotations

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.core import Core
from bot.followup import Previous, resolve
from bot.knowledge import KnowledgeBase
from bot.language_ask import language_asked, split_language_request
from bot.matcher import FILLER_STEMS, QUESTION_WORDS, Matcher, Query, text_words


async def test_who_chairs_it_after_the_mrg(bot: MemoryAdapter, core: Core) -> None:
    assert "Migration Reference Group" in await bot.ask("what is the mrg")
    answer = await bot.ask("who chairs it?")
    assert "IFRC chaired the Migration Reference Group" in answer


async def test_in_french_please_repeats_the_last_answer_in_french(bot: MemoryAdapter) -> None:
    await bot.ask("who chairs the mrg")
    assert "présid" in await bot.ask("in french please")


async def test_a_follow_up_without_a_previous_answer_answers_nothing(bot: MemoryAdapter) -> None:
    reply = await bot.ask("and when was that?")
    assert "Did you mean" in reply or "don't have an answer" in reply


async def test_context_is_per_chat_and_forgotten(bot: MemoryAdapter, core: Core) -> None:
    await bot.ask("what is the mrg")
    data = await core.storage.person_data(bot.person.key)
    assert len(data["last_answers"]) == 1
    await core.storage.forget_person(bot.person.key)
    assert (await core.storage.person_data(bot.person.key))["last_answers"] == []


def test_resolve_uses_the_previous_entry_only_when_the_text_points_back(
    shipped_matcher: Matcher,
) -> None:
    previous = Previous("mrg-chair", "en")
    # A complete new question is answered on its own, whatever came before.
    fresh = resolve(shipped_matcher, "when was the migration policy adopted", previous)
    assert fresh.id == "policy-adopted"
    back = resolve(shipped_matcher, "and when was it set up?", previous)
    assert back.status == "answer" and back.id == "mrg-established"


def test_a_follow_up_stays_on_the_earlier_topic(shipped_matcher: Matcher) -> None:
    # "members" alone is the MRG's and the MLG's word; after the task force it is its own.
    for text in ("and who are its members?", "et qui en fait partie ?"):
        found = resolve(shipped_matcher, text, Previous("task-force", "en"))
        assert (found.status, found.id) == ("answer", "task-force"), text


@pytest.mark.parametrize(
    ("text", "previous", "expected"),
    [
        ("how many are there?", "hsp-what", "hsp-how-many"),
        ("cuantos hay?", "hsp-what", "hsp-how-many"),
        ("and who's on it?", "mlg-what", "mlg-members"),
        ("ومين بيرأسه؟", "mrg-what", "mrg-chair"),
    ],
)
def test_a_follow_up_asking_another_kind_of_question_moves_on(
    shipped_matcher: Matcher, text: str, previous: str, expected: str
) -> None:
    # "how many" or "who" after an entry that answers "what": not the same answer again.
    found = resolve(shipped_matcher, text, Previous(previous, "en"))
    assert (found.status, found.id) == ("answer", expected)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("and 10?", "en"),
        ("and the tenth?", "en"),
        ("et le dixième ?", "fr"),
        ("y el 10?", "es"),
        ("والعاشر؟", "ar"),
        ("ahora el 10 xfa", "es"),
        ("now number 10 please", "en"),
    ],
)
def test_another_number_of_the_same_series(
    shipped_matcher: Matcher, text: str, language: str
) -> None:
    # After principle 7, "and 10?" is principle 10, not principle 7 again (nor "the 10
    # principles").
    found = resolve(shipped_matcher, text, Previous("principle-migratory-trails", "en"))
    assert (found.status, found.id, found.language) == (
        "answer",
        "principle-migratory-pressures",
        language,
    )


@pytest.mark.parametrize("previous", ["principle-migratory-trails", "policy-principles"])
@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ok and the last one?", "en"),
        ("n the last one, 10", "en"),
        ("detaille le dernier stp", "fr"),
        ("y el ultimo?", "es"),
        ("والأخير؟", "ar"),
    ],
)
def test_the_last_one_of_a_numbered_list(
    shipped_matcher: Matcher, previous: str, text: str, language: str
) -> None:
    """Before, "the last one" after principle 7 read as the latest meeting (the 2024
    Council of Delegates), and after the list of principles it repeated the list."""
    found = resolve(shipped_matcher, text, Previous(previous, "en"))
    assert (found.status, found.id, found.language) == (
        "answer",
        "principle-migratory-pressures",
        language,
    )


def test_the_last_one_of_no_list_is_the_latest_meeting(shipped_matcher: Matcher) -> None:
    found = resolve(shipped_matcher, "and the last one?", Previous("cod-2022", "en"))
    assert (found.status, found.id) == ("answer", "cod-2024")


@pytest.mark.parametrize("text", ["adoptee quand ?", "cuando se adopto?", "when was it adopted?"])
def test_a_follow_up_without_it_in_french_and_spanish(shipped_matcher: Matcher, text: str) -> None:
    # French and Spanish drop the "it" English needs: still about Strategy 2030.
    found = resolve(shipped_matcher, text, Previous("strategy-2030", "en"))
    assert (found.status, found.id) == ("answer", "strategy-2030-adoption")


def test_a_short_question_naming_a_term_is_its_own(shipped_matcher: Matcher) -> None:
    found = resolve(shipped_matcher, "perco ?", Previous("strategy-2030", "en"))
    assert found.id == "glossary-perco"


def test_a_foreign_subject_after_an_answer_is_no_follow_up(shipped_matcher: Matcher) -> None:
    # The fallback, as without anything before: not the migration policy's adoption.
    for text in ("what is the IFRC youth policy", "and the IFRC president?"):
        found = resolve(shipped_matcher, text, Previous("cod-2022", "en"))
        assert found.status == "fallback", text


@pytest.mark.parametrize("text", ["ok", "sure", "1", "👍", "ok thanks"])
def test_a_message_asking_nothing_after_an_answer_is_not_answered_again(
    shipped_matcher: Matcher, text: str
) -> None:
    found = resolve(shipped_matcher, text, Previous("mrg-established", "fr"))
    assert found.status != "answer", text
    # What _asks_nothing relies on: a question word or a number is never filler.
    assert not [t for t in FILLER_STEMS if t in QUESTION_WORDS or t.isdigit()]


def test_a_pronoun_with_nothing_before_it_is_asked_back(shipped_matcher: Matcher) -> None:
    # "it" could be anything: the bot offers what it might mean instead of guessing.
    alone = resolve(shipped_matcher, "who chairs it?", None)
    assert alone.status == "suggest" and "mrg-chair" in [s.id for s in alone.suggestions]
    # The same question after the MRG, or naming the term it points at, is answered.
    after = resolve(shipped_matcher, "who chairs it?", Previous("mrg-what", "en"))
    assert (after.status, after.id) == ("answer", "mrg-chair")
    named = resolve(shipped_matcher, "mrg, what is it exactly?", None)
    assert named.status == "answer" and named.id in {"mrg-what", "glossary-mrg"}


def test_a_first_question_is_analysed_only_by_its_match(
    shipped_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without a previous answer there is nothing to follow up: resolving is matching,
    # with no analysis of the text besides the match's own.
    matcher = Matcher(shipped_kb)
    analysed: list[str] = []
    analyse = matcher.analyse

    def spy(text: str) -> Query:
        analysed.append(text)
        return analyse(text)

    monkeypatch.setattr(matcher, "analyse", spy)
    text = "when was the migration policy adopted"
    bare = matcher.match(text)
    by_match = list(analysed)
    analysed.clear()
    assert resolve(matcher, text, None) == bare
    assert analysed == by_match


def test_language_requests() -> None:
    assert language_asked(text_words("in french please")) == "fr"
    assert language_asked(text_words("en español por favor")) == "es"
    assert language_asked(text_words("بالعربية")) == "ar"
    assert language_asked(text_words("en ingles porfa")) == "en"
    assert language_asked(text_words("en anglais stp")) == "en"
    assert language_asked(text_words("بالانجليزي لو سمحت")) == "en"
    assert language_asked(text_words("in french please, thanks")) == "fr"
    assert language_asked(text_words("what is the french red cross doing")) is None
    # Spoken Arabic: "say it in French" with the Egyptian name of the language.
    assert language_asked(text_words("قولها بالفرنساوي")) == "fr"
    assert language_asked(text_words("قلها بالاسبانيولي")) == "es"
    # formal: "could you give the answer again in French, please?"
    assert language_asked(text_words("هل يمكنكم إعادة الإجابة باللغة الفرنسية من فضلكم؟")) == "fr"


def test_the_last_of_them_and_a_spoken_arabic_adoption(shipped_matcher: Matcher) -> None:
    """ "the last of them" is the list's last item; "انعتمدت" (got adopted) is adopted."""
    found = resolve(shipped_matcher, "والاخير منهم؟", Previous("policy-principles", "ar"))
    assert (found.status, found.id) == ("answer", "principle-migratory-pressures")
    found = resolve(shipped_matcher, "and the last of them", Previous("policy-principles", "en"))
    assert (found.status, found.id) == ("answer", "principle-migratory-pressures")
    found = resolve(shipped_matcher, "ومتى انعتمدت؟", Previous("movement-strategy-what", "ar"))
    assert (found.status, found.id) == ("answer", "strategy-adoption")


async def test_buttons_are_in_the_language_of_the_answer(bot: MemoryAdapter) -> None:
    reply = await bot.ask("qui préside le mrg ?")
    assert "présid" in reply
    assert bot.buttons and all(
        not b.startswith(("What", "Which", "Who", "When")) for b in bot.buttons
    )


async def test_a_pressed_suggestion_is_remembered_for_a_follow_up(
    bot: MemoryAdapter, core: Core
) -> None:
    await bot.ask("what is the mrg")
    await bot.press(bot.buttons[0])
    data = await core.storage.person_data(bot.person.key)
    assert len(data["last_answers"]) == 1


@pytest.mark.parametrize(
    "text", ["tell me more", "more please", "plus de détails svp", "cuéntame más", "المزيد"]
)
def test_tell_me_more_in_any_language_and_politely_gives_the_entry_in_full(
    shipped_matcher: Matcher, text: str
) -> None:
    found = resolve(shipped_matcher, text, Previous("mrg-what", "en"))
    assert (found.status, found.id) == ("answer", "mrg-what")


def test_tell_me_more_after_a_glossary_line_gives_the_curated_entry(
    shipped_matcher: Matcher,
) -> None:
    found = resolve(shipped_matcher, "tell me more", Previous("glossary-hsp", "en"))
    assert (found.status, found.id) == ("answer", "hsp-what")


def test_a_follow_up_moves_on_from_the_entry_just_answered(shipped_matcher: Matcher) -> None:
    # "can they be mobile?" after "what is an HSP": the forms HSPs take, not the
    # definition again.
    found = resolve(shipped_matcher, "can they be mobile?", Previous("hsp-what", "en"))
    assert (found.status, found.id) == ("answer", "hsp-forms")
    # ...but a question the same entry answers stays on it ("where?" after the adoption).
    found = resolve(shipped_matcher, "and where?", Previous("policy-adopted", "en"))
    assert (found.status, found.id) == ("answer", "policy-adopted")


def test_tell_me_more_answers_in_the_language_it_is_asked_in(shipped_matcher: Matcher) -> None:
    found = resolve(shipped_matcher, "plus de détails svp", Previous("mrg-what", "en"))
    assert (found.id, found.language) == ("mrg-what", "fr")


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("ما هو الطقس في نيروبي", False),  # "what is the weather in Nairobi": هو is "is"
        ("من هي رئيسة الاتحاد الدولي", False),
        ("هل هو نشط؟", True),  # "is it active?": هو after no question word is "it"
    ],
)
def test_an_arabic_copula_is_not_a_pointer_back(
    shipped_matcher: Matcher, text: str, back: bool
) -> None:
    """Before, every "ما هو ..." after an answer was read against that answer (the
    weather in Nairobi was answered with the MRG's chair in tests/test_locales.py)."""
    from bot.followup import _looks_back

    assert _looks_back(text_words(text), shipped_matcher.analyse(text)) is back


@pytest.mark.parametrize(
    ("text", "previous", "expected"),
    [
        # The same question, about the other name or the other year.
        ("no I meant the MLG", "mrg-members", "mlg-members"),
        ("what about the MLG?", "mrg-members", "mlg-members"),
        ("what about the 2015 one?", "ic31-dates", "ic32-2015"),
        # ...but "it" points back: "NS" is what is asked about the MRG, not a swap.
        ("how many NS are in it?", "mrg-what", "mrg-members"),
        # What the correction says it is not is no part of the question.
        ("non je voulais dire le MRG pas le MLG", "mlg-what", "mrg-what"),
        ("no I meant the MLG, not the MRG", "mrg-members", "mlg-members"),
        ("لا لا قصدي الـ MLG مش الـ MRG", "glossary-mrg", "mlg-what"),
        # A name's glossary line and the entry on the same thing tie: the thing named.
        ("no I meant the MLG", "glossary-mrg", "mlg-what"),
        ("no, me referia al MLG", "mrg-what", "mlg-what"),
    ],
)
def test_a_follow_up_naming_another_thing_asks_the_same_of_it(
    shipped_matcher: Matcher, text: str, previous: str, expected: str
) -> None:
    found = resolve(shipped_matcher, text, Previous(previous, "en"))
    assert (found.status, found.id) == ("answer", expected), text


def test_and_in_spanish_asks_for_the_same_answer_in_spanish(shipped_matcher: Matcher) -> None:
    for text, lang in (("and in spanish?", "es"), ("et en arabe ?", "ar"), ("y en frances?", "fr")):
        found = resolve(shipped_matcher, text, Previous("mrg-chair", "en"))
        assert (found.status, found.id, found.language) == ("answer", "mrg-chair", lang), text


@pytest.mark.parametrize(
    ("text", "expected", "lang"),
    [
        ("in French, what is the MRG?", "glossary-mrg", "fr"),
        ("who chairs the MRG? en español", "mrg-chair", "es"),
        ("who chairs the MRG? answer in spanish please", "mrg-chair", "es"),
        ("¿quién preside el MRG? in english", "mrg-chair", "en"),
        ("من يرأس ال MRG بالانجليزي", "mrg-chair", "en"),
    ],
)
def test_a_language_asked_inside_the_question_is_the_answers(
    shipped_matcher: Matcher, text: str, expected: str, lang: str
) -> None:
    for previous in (None, Previous("policy-adopted", "en")):
        found = resolve(shipped_matcher, text, previous)
        assert (found.status, found.id, found.language) == ("answer", expected, lang), text


def test_a_language_name_without_in_asks_for_no_language(shipped_matcher: Matcher) -> None:
    assert split_language_request("what is the French Red Cross doing on migration?")[1] is None
    assert split_language_request("can you answer in english") == (
        "can you answer in english",
        None,
    )


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("en ingles por favor, es para un colega de Ginebra", "en"),
        ("me lo puedes poner en frances? es para la SN de Haiti", "fr"),
        ("tu peux me le donner en espagnol ? c'est pour la Croix-Rouge équatorienne", "es"),
        ("en anglais stp, c'est pour un collègue de Genève", "en"),
        ("in french please, it's for my boss", "fr"),
        ("ممكن الجواب بالانجليزي please", "en"),
        ("ممكن نفس الجواب بالانجليزي لو سمحت", "en"),
        ("can you say that in arabic", "ar"),
        ("بالفرنساوية عافاك", "fr"),
        # What will be done with it, and "translate it" (the Iraqi/Levantine spelling).
        ("ممكن نفس الجواب بالانكليزي؟ بدي ابعته لزميل", "en"),
        ("ترجمه للانجليزي", "en"),
        ("in spanish please, I have to forward it to our volunteers", "es"),
        ("respondeme en ingles xfa, es para un colega de kenia", "en"),
        ("me lo traduces al ingles?", "en"),
        ("can you translate that into arabic", "ar"),
        # A sentence that names the language again, or says where the answer goes.
        ("ممكن نفس الجواب بالفرنسي؟ الزملاء في تونس يفضلو الفرنسيه", "fr"),
        ("عطني الجواب بالانجليزيه ابي احطه في التقرير", "en"),
        ("tu peux me le redire en anglais ? mon directeur ne parle pas francais", "en"),
    ],
)
def test_a_language_asked_with_who_it_is_for_is_the_last_answer_again(
    shipped_matcher: Matcher, text: str, lang: str
) -> None:
    """Before, the rest of the message ("es para un colega de Ginebra") was matched as
    a question of its own and got unrelated suggestions."""
    found = resolve(shipped_matcher, text, Previous("policy-migrant-definition", "es"))
    assert (found.status, found.id, found.language) == ("answer", "policy-migrant-definition", lang)


def test_who_an_answer_is_for_is_no_pointer_back(shipped_matcher: Matcher) -> None:
    """ "it's for my boss" points at nothing said before: the question is the MLG's."""
    found = resolve(
        shipped_matcher, "what is the mlg? it's for my boss", Previous("mrg-chair", "en")
    )
    assert (found.status, found.id) == ("answer", "glossary-mlg")
    found = resolve(
        shipped_matcher, "in french, what is the mlg? it's for my boss", Previous("mrg-chair", "en")
    )
    assert (found.status, found.id, found.language) == ("answer", "glossary-mlg", "fr")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tell me more about the task force", "task-force"),
        ("tell me more about the mrg", "mrg-what"),
        ("tell me more about hsps", "hsp-what"),
        ("en savoir plus sur le MLG", "mlg-what"),
        ("cuéntame más sobre el grupo de referencia", "mrg-what"),
        ("المزيد عن ال MRG", "mrg-what"),
        ("parle moi de l'APMN", "apmn"),
        ("tell me about the mrg", "mrg-what"),
    ],
)
def test_tell_me_more_about_something_is_its_entry_in_full(
    shipped_matcher: Matcher, text: str, expected: str
) -> None:
    """ "More" read as "how many" gave HSPs' number for "tell me more about the mrg";
    the task force got a did-you-mean between its glossary line and its entry."""
    for previous in (None, Previous("strategy-consultations", "en")):
        found = resolve(shipped_matcher, text, previous)
        assert (found.status, found.id) == ("answer", expected), text


# Follow-ups read against the entry last answered: (that entry, the message, the entry
# that answers it, the chat's language). Before each fix, these got a did-you-mean, the
# previous answer again, or another entry (the commit messages say which).
FOLLOW_UPS = [
    # a follow up naming something of its own moves on
    ("mrg-london-meeting", "and what were the subthemes?", "resolution-2011-subthemes", "en"),
    (
        "mrg-london-meeting",
        "and what subthemes did they discuss there?",
        "resolution-2011-subthemes",
        "en",
    ),
    ("resolution-2011-focus-areas", "where was that conference held?", "ic31-dates", "en"),
    # arabic and when is a follow up
    ("strategy-2030", "ومتى اعتمدت", "strategy-2030-adoption", "ar"),
    ("glossary-gcm", "وامتى انعتمد", "gcm", "ar"),
    # follow ups of the sixteenth blind set
    # "source?" is the answer in full, with its sources (before: a did-you-mean).
    ("hsp-how-many", "source?", "hsp-how-many", "en"),
    # What a name of the answer stands for, "there" (before: the answer again).
    ("mrg-established", "what does GB stand for there", "glossary-gb", "en"),
    ("imrf-movement-advocacy", "and what's the IMRF again, spell it out", "glossary-imrf", "en"),
    # An item picked with "kindly explain" (before: a did-you-mean).
    ("policy-principles", "the 8th one kindly explain", "principle-return", "en"),
    # the same question of another name
    ("mrg-what", "same question for the MLG", "mlg-what", "en"),
    ("mrg-chair", "same for perco", "perco", "en"),
    ("mrg-chair", "lo mismo para perco", "perco", "en"),
    ("mrg-what", "نفس السؤال عن MLG", "mlg-what", "en"),
    ("mrg-members", "and same question for the mlg please", "mlg-members", "en"),
    ("cod-2022", "same for 2024", "cod-2024", "en"),
    # after what a name stands for, what the other one stands for
    ("glossary-mrg", "lo mismo para MLG", "glossary-mlg", "en"),
    # another item of the list (before: the list itself)
    ("principle-return", "pareil pour le 10", "principle-migratory-pressures", "en"),
    ("principle-return", "same for 7", "principle-migratory-trails", "en"),
    # a correction asks the same of the thing it names
    # "the X one" is the group of that name; the question asked again of it.
    ("mrg-what", "no I meant the other group, the leadership one", "mlg-what", "en"),
    ("mlg-what", "no i meant the other group, the reference one", "mrg-what", "en"),
    ("mlg-members", "no sorry I meant the other group, the reference one", "mrg-members", "en"),
    ("mlg-members", "no, me referia al otro grupo, el de referencia", "mrg-members", "en"),
    ("mlg-members", "non, celui de reference", "mrg-members", "en"),
    # a correction naming the other group outright
    ("mlg-what", "no sorry I meant the MRG, the reference group", "mrg-what", "en"),
    # what else is something besides the last answer
    # "else" asks for something besides the last answer (before: it again, or the
    # MRG's status)
    ("mrg-first-task", "and after that what else did they write", "mrg-guidance-documents", "en"),
    (
        "mrg-first-task",
        "did they write anything else after the policy?",
        "mrg-guidance-documents",
        "en",
    ),
    ("strategy-lived-experience", "who else gets consulted?", "strategy-consultations", "en"),
    # the one before and the next one
    # the item before in its list (before: the fallback)
    ("principle-return", "what about the one before", "principle-migratory-trails", "en"),
    # the strategy before: the IFRC's on migration, of its kind and name (before:
    # the MLG, set up the same year as the RFL strategy)
    ("migration-strategy-2024-2030", "the one before?", "global-strategy-2018-2022", "en"),
    ("cod-2022", "and the next one?", "cod-2024", "en"),
    ("principle-return", "y el anterior?", "principle-migratory-trails", "en"),
    ("ic31-dates", "et la suivante ?", "ic32-2015", "en"),
    # what is that after an answer
    # what the thing just answered about is (before: the answer again)
    ("statutory-meetings-2019", "what are those", "statutory-meetings-what", "en"),
    ("mlg-first-meeting", "what is that group", "mlg-what", "en"),
    ("hsp-how-many", "c'est quoi ça ?", "hsp-what", "en"),
    # which meeting and the point of it
    # which meeting it was presented at: the meeting of that year (before: the
    # resolution again, or the blog)
    ("resolution-2022", "en que CoD se presento? fechas porfa", "cod-2022", "en"),
    ("resolution-2022", "which cod was that, dates?", "cod-2022", "en"),
    # "the point of it" is what it brings; "lo forman" who is in it
    ("movement-strategy-what", "whats the point of it", "strategy-benefits", "en"),
    ("mlg-what", "quienes lo forman?", "mlg-members", "en"),
    # the council of a period
    # a period is dated by its start: "that council" after the 2024-2030 strategy
    ("strategy-2024-goals", "when was that council held", "cod-2024", "en"),
    # "the council that adopted it", in spoken Arabic
    ("strategy-2024-goals", "والمجلس اللي اعتمدها كان امتى بالضبط", "cod-2024", "en"),
    # which meetings in french
    # "quelles réunions", "quel CD": the meetings of that year
    (
        "statement-2019",
        "adoptée pendant quelles réunions ? c'était à quelles dates ?",
        "statutory-meetings-2019",
        "fr",
    ),
    ("resolution-2022", "elle a été présentée à quel CD ? les dates ?", "cod-2022", "fr"),
    # french follow ups of the seventeenth blind set
    # "le CoD où elle a été présentée": the meeting of that year
    ("resolution-2022-content", "le CoD ou elle a été présentée c'était quand ?", "cod-2022", "fr"),
    # "en vrai" is in person
    ("glossary-mlg", "il s'est réuni pr la 1ere fois en vrai quand ?", "mlg-first-meeting", "fr"),
]


@pytest.mark.parametrize(("earlier", "text", "expected", "language"), FOLLOW_UPS)
def test_a_follow_up_is_answered_by_the_entry_it_asks_for(
    shipped_matcher: Matcher, earlier: str, text: str, expected: str, language: str
) -> None:
    found = resolve(shipped_matcher, text, Previous(earlier, language))
    assert (found.status, found.id) == ("answer", expected)


@pytest.mark.parametrize(
    ("earlier", "text"),
    [
        ("cod-2022", "where was it held?"),
        ("rfl-strategy", "elle couvre quelles années ?"),
        ("mlg-first-meeting", "what did they present at the CoD?"),
    ],
)
def test_an_aspect_the_last_answer_holds_does_not_move_on(
    shipped_matcher: Matcher, earlier: str, text: str
) -> None:
    """ "held" and "years" are what the answer just given tells; "the CoD" asks no
    definition of it."""
    found = resolve(shipped_matcher, text, Previous(earlier, "en"))
    assert found.id != "glossary-cod"
    if earlier != "mlg-first-meeting":
        assert (found.status, found.id) == ("answer", earlier)


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        # Spanish plural and infinitive forms: "la adoptaron", "vino a reemplazar".
        (
            ["q es la estrategia 2030 de la ficr", "y cuando la adoptaron?"],
            "strategy-2030-adoption",
        ),
        (
            [
                "q es la politica de migracion",
                "quien la escribio",
                "y q politica vino a reemplazar?",
            ],
            "policy-replaces",
        ),
    ],
)
def test_spanish_verb_forms_in_follow_ups(
    shipped_matcher: Matcher, chain: list[str], expected: str
) -> None:
    """Before: did-you-mean suggestions without the entry asked for."""
    previous: Previous | None = None
    for text in chain[:-1]:
        found = resolve(shipped_matcher, text, previous)
        assert found.status == "answer" and found.id
        previous = Previous(found.id, "es")
    found = resolve(shipped_matcher, chain[-1], previous)
    assert (found.status, found.id) == ("answer", expected)


@pytest.mark.parametrize(
    ("previous", "text", "expected"),
    [
        # After a glossary line, what the thing does is its curated entry's.
        ("glossary-gmtf", "and what does it do?", "task-force"),
        ("glossary-gmtf", "ça sert à quoi ?", "task-force"),
        ("glossary-gmtf", "وشو بيشتغل بالضبط؟", "task-force"),
        # A tie of the two twins keeps the ranking's order (it was broken by id).
        ("glossary-gmtf", "and what does the mrg do?", "mrg-what"),
    ],
)
def test_what_a_named_thing_does_after_its_glossary_line(
    shipped_matcher: Matcher, previous: str, text: str, expected: str
) -> None:
    """Before: the glossary line again (or, for the MRG, its glossary line by id order)."""
    found = resolve(shipped_matcher, text, Previous(previous, "en"))
    assert (found.status, found.id) == ("answer", expected)


@pytest.mark.parametrize("text", ["no wait i meant the 2017 one", "oops, the 2017 one"])
def test_a_corrected_year_after_its_opener(shipped_matcher: Matcher, text: str) -> None:
    """Before, the correction's own words ("no wait i meant") kept the year from being
    read as "the 2017 one": the Movement's commitments came instead."""
    found = resolve(shipped_matcher, text, Previous("statement-2019", "en"))
    assert (found.status, found.id) == ("answer", "call-for-action-2017")


def test_another_number_after_the_list_itself(shipped_matcher: Matcher) -> None:
    """ "what does number 7 say" after the list of principles: before, a did-you-mean."""
    found = resolve(shipped_matcher, "what does number 7 say", Previous("policy-principles", "en"))
    assert (found.status, found.id) == ("answer", "principle-migratory-trails")


@pytest.mark.parametrize(
    "text",
    [
        "then when did it actually get adopted?",
        "Donc finalement elle a été adoptée quand ?",
        "¿entonces cuándo se adoptó finalmente?",
    ],
)
def test_when_it_actually_happened_after_the_plan(shipped_matcher: Matcher, text: str) -> None:
    """After "was the strategy adopted at the 2023 CoD?" (the plan): before, the plan again."""
    found = resolve(shipped_matcher, text, Previous("strategy-2023-plan", "en"))
    assert (found.status, found.id) == ("answer", "strategy-adoption")


def test_and_what_is_a_name_after_an_answer_is_its_glossary_line(shipped_matcher: Matcher) -> None:
    """Before: the list of global bodies again, which the ICVA is one of."""
    text = "Y qué es el ICVA? nunca lo escuché"
    found = resolve(shipped_matcher, text, Previous("secretariat-global-bodies", "es"))
    assert (found.status, found.id) == ("answer", "glossary-icva")


@pytest.mark.parametrize(
    "text",
    [
        "Hola, en los textos en inglés sale UNHCR, ¿es el ACNUR?",
        "et l'OIM, IOM en anglais, c'est qui ?",
    ],
)
def test_a_language_named_mid_sentence_asks_for_no_language(text: str) -> None:
    """ "IOM en anglais" says what the word is in English: before, the answer came in
    English to a French or Spanish question."""
    assert split_language_request(text)[1] is None


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("in French, what is the MRG?", "fr"),
        ("who chairs the MRG? en español", "es"),
        ("what is the mrg in arabic?", "ar"),
        ("answer in spanish: who chairs the mrg", "es"),
    ],
)
def test_a_language_at_an_edge_of_the_question_is_asked(text: str, lang: str) -> None:
    assert split_language_request(text)[1] == lang


def test_a_linked_entry_after_a_glossary_line_is_news_not_a_repeat(
    shipped_matcher: Matcher,
) -> None:
    """After the MLG's glossary line only its curated entry tells the same thing again;
    the MRG-MLG comparison is what "how is it different" asks. Before: the task force."""
    text = "how is it different from the reference group?"
    found = resolve(shipped_matcher, text, Previous("glossary-mlg", "en"))
    assert (found.status, found.id) == ("answer", "mrg-vs-mlg")
    assert shipped_matcher.told_alike("glossary-mlg") == {"glossary-mlg", "mlg-what"}


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("can u say it in spanish", "es"),
        ("could you give me that last answer in French? our SG prefers French", "fr"),
        ("would you mind translating that into french", "fr"),
        ("is there a french version?", "fr"),
        ("I'd like that in French", "fr"),
        ("the previous answer in spanish please", "es"),
        ("la même chose en anglais", "en"),
        ("version anglaise svp", "en"),
        ("me lo pasas en frances? es para un colega de la CR de Haiti", "fr"),
        ("me la mandas en ingles porfa", "en"),
        ("lo tienes en frances?", "fr"),
        ("ابغاها بالانجليزي", "en"),
        ("عطيني ياه بالفرنسية", "fr"),
        # the language mid-sentence, after a verb that asks for it, then why
        ("me lo mandas en ingles xfa, es para mi jefa", "en"),
        ("peux tu le redire en anglais, c pour le rapport au bailleur", "en"),
        ("se puede en ingles? lo tengo q mandar a la ficr", "en"),
    ],
)
def test_the_same_answer_asked_in_other_words_in_another_language(
    shipped_matcher: Matcher, text: str, lang: str
) -> None:
    """Before, a word outside the few known ("u", "last", "pasas", "version") made the
    request a question of its own: a fallback, or another entry in that language."""
    found = resolve(shipped_matcher, text, Previous("policy-what", "en"))
    assert (found.status, found.id, found.language) == ("answer", "policy-what", lang)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tell me more about number 8", "principle-return"),
        ("dis m'en plus sur le 8", "principle-return"),
        ("explain the last one a bit more", "principle-migratory-pressures"),
    ],
)
def test_more_of_an_item_after_the_list(shipped_matcher: Matcher, text: str, expected: str) -> None:
    """Before, "more", "me" or "a bit" kept the message from reading as the item asked:
    the list again, or a did-you-mean."""
    found = resolve(shipped_matcher, text, Previous("policy-principles", "en"))
    assert (found.status, found.id) == ("answer", expected)


@pytest.mark.parametrize(
    ("previous", "text", "expected"),
    [
        ("hsp-forms", "what are they for exactly?", "hsp-what"),
        ("hsp-how-many", "what are they for", "hsp-what"),
        ("mlg-first-meeting", "ok and what does it do exactly", "mlg-what"),
    ],
)
def test_what_it_does_after_an_aspect_is_what_the_thing_is(
    shipped_matcher: Matcher, previous: str, text: str, expected: str
) -> None:
    """The aspect just answered ("fixed or mobile") outweighed the HSPs themselves in
    the borrowed topic: whether they are mobile, again."""
    found = resolve(shipped_matcher, text, Previous(previous, "en"))
    assert (found.status, found.id) == ("answer", expected)


@pytest.mark.parametrize(
    ("previous", "text", "expected"),
    [
        # Arabic carries "it" in the verb: some entry answers "when was [she] adopted?"
        # alone (before: the migration policy), but the topic of the moment is meant.
        ("strategy-2030", "امتى اعتمدت؟", "strategy-2030-adoption"),
        ("strategy-2030", "متى اعتمدوها؟", "strategy-2030-adoption"),
        # "and the one of 2017?" with Levantine تبع ("of"): the year swapped.
        ("statement-2015", "وتبع 2017؟", "call-for-action-2017"),
        ("statement-2015", "ok and 2017?", "call-for-action-2017"),
    ],
)
def test_short_follow_ups_without_it_stay_on_the_topic(
    shipped_matcher: Matcher, previous: str, text: str, expected: str
) -> None:
    found = resolve(shipped_matcher, text, Previous(previous, "ar"))
    assert (found.status, found.id) == ("answer", expected)


def test_a_number_with_and_the_joined_to_it_asks(shipped_matcher: Matcher) -> None:
    """ "والـ32؟" is "and the 32nd?": before, the joined "and the" was stripped and the
    lone number read as nothing asked. A bare "1" still asks nothing."""
    found = resolve(shipped_matcher, "والـ32؟", Previous("ic31-dates", "ar"))
    assert (found.status, found.id) == ("answer", "ic32-2015")
    assert resolve(shipped_matcher, "1", Previous("ic31-dates", "ar")).status != "answer"


def test_who_chairs_after_another_group_is_about_that_group(shipped_matcher: Matcher) -> None:
    """ "who are co chairs now" after PERCO's glossary line names no group; read alone
    it got the MRG's chair. A question that names its own subject still moves on."""
    found = resolve(shipped_matcher, "who are co chairs now", Previous("glossary-perco", "en"))
    assert (found.status, found.id) == ("answer", "perco")
    moved = resolve(
        shipped_matcher, "when was the migration policy adopted", Previous("glossary-perco", "en")
    )
    assert (moved.status, moved.id) == ("answer", "policy-adopted")


@pytest.mark.parametrize(
    "text", ["cuantas sn tiene?", "cb de sn dedans", "how many NS are in it", "how many ns inside"]
)
def test_how_many_ns_after_a_group_counts_that_groups(shipped_matcher: Matcher, text: str) -> None:
    """The NS are what is counted, not a new subject: before, the MLG's members (it has
    a count of NS) instead of the MRG's."""
    found = resolve(shipped_matcher, text, Previous("mrg-chair", "es"))
    assert (found.status, found.id) == ("answer", "mrg-members")


@pytest.mark.parametrize(
    ("previous", "text", "expected"),
    [
        ("principle-return", "non pardon je voulais dire le 7", "principle-migratory-trails"),
        (
            "principle-migratory-trails",
            "perdon, queria decir el 10 no el 7",
            "principle-migratory-pressures",
        ),
        ("principle-migratory-trails", "le 10 aussi svp", "principle-migratory-pressures"),
        ("principle-migratory-trails", "et le tout dernier ?", "principle-migratory-pressures"),
        ("cod-2024", "non pardon, je voulais celui de 2022", "cod-2022"),
    ],
)
def test_corrections_with_an_apology_name_the_item_or_year(
    shipped_matcher: Matcher, previous: str, text: str, expected: str
) -> None:
    """An apology between "no" and "I meant" ("non pardon je voulais dire") hid the
    opener, so the item or year it names was never read as the one meant."""
    found = resolve(shipped_matcher, text, Previous(previous, "fr"))
    assert (found.status, found.id) == ("answer", expected)


def test_how_many_ones_in_arabic_counts_the_topic(shipped_matcher: Matcher) -> None:
    """ "كم وحدة في؟" ("how many (ones) are there?"): وحدة was a rare word and the
    definition came again."""
    found = resolve(shipped_matcher, "كم وحدة في؟", Previous("hsp-what", "ar"))
    assert (found.status, found.id) == ("answer", "hsp-how-many")


def test_a_longer_question_ending_on_it_points_back(shipped_matcher: Matcher) -> None:
    """Nine words were past the bound on a follow-up: read alone, it named the RCRC and
    got a did-you-mean of its glossary line."""
    found = resolve(
        shipped_matcher, "what role does the red cross have in it", Previous("gcm", "en")
    )
    assert (found.status, found.id) == ("answer", "gcm-movement-role")


def test_how_old_asks_when_it_was_set_up(shipped_matcher: Matcher) -> None:
    found = shipped_matcher.match("how old is perco")
    assert (found.status, found.id) == ("answer", "perco")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the 2nd one?", "sahel-mena-networks"),
        ("tell me about the 4th one", "perco"),
        ("and the first?", "apmn"),
    ],
)
def test_an_item_of_the_answers_list(shipped_matcher: Matcher, text: str, expected: str) -> None:
    """The regional networks' answer lists four names: "the 2nd one" is the second's
    entry (before: a did-you-mean, or the networks again)."""
    found = resolve(shipped_matcher, text, Previous("regional-networks", "en"))
    assert (found.status, found.id) == ("answer", expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok new topic, what was the 2011 migration resolution about", "resolution-2011"),
        ("different question: when was perco set up", "perco"),
        ("autre sujet : qui préside le MRG ?", "mrg-chair"),
    ],
)
def test_a_new_topic_is_a_first_question(
    shipped_matcher: Matcher, text: str, expected: str
) -> None:
    """Before, the HSP count's topic stayed on, or "topic" pointed at the subthemes."""
    found = resolve(shipped_matcher, text, Previous("hsp-how-many", "en"))
    assert (found.status, found.id) == ("answer", expected)


def test_a_small_doubt_is_a_question(shipped_matcher: Matcher) -> None:
    found = shipped_matcher.match(
        "Hello, small doubt, what is GB? in the document it says GB set up the reference "
        "group. Thank you"
    )
    assert (found.status, found.id) == ("answer", "glossary-gb")


def test_the_docs_in_english_ask_for_no_language() -> None:
    """ "on le voit dans les docs en anglais" says what the docs are written in (before:
    the answer came in English)."""
    text = "que signifie MHPSS ? On le voit partout dans les docs en anglais"
    assert split_language_request(text) == (text, None)
    assert split_language_request("que signifie MHPSS ? en anglais stp")[1] == "en"


def test_who_else_sits_on_it_in_french(shipped_matcher: Matcher) -> None:
    """ "siège" was a word of the MLG's phrasings only (before: the MLG's members)."""
    found = resolve(shipped_matcher, "et qui d'autre y siège ?", Previous("mrg-chair", "fr"))
    assert (found.status, found.id) == ("answer", "mrg-members")
