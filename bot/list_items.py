"""Items of a numbered list, asked after it or after one of them: "and 10?" after
principle 7, "and the last one?", "the one before", "the 2nd one?" after an answer that
lists four networks. Pure functions of the matcher; :mod:`bot.followup` calls them.
"""

from __future__ import annotations

from bot import temporal
from bot.matcher import Matcher, designations, ordinal_of
from bot.wording import COURTESY as _COURTESY
from bot.wording import text_words

# What "and 10?", "et le dixième ?", "le 10 aussi svp" may hold besides the number.
_ITEM_FRAME = temporal.SWAP_FRAME | {
    "number",
    "no",
    "n",
    "numero",
    "nr",
    "رقم",
    "also",
    "too",
    "aussi",
    "tambien",
    "كمان",
    "tout",
    # "the last of them", "le dernier d'entre eux", "el último de ellos", "الأخير منهم"
    "of",
    "them",
    "entre",
    "eux",
    "elles",
    "ellos",
    "ellas",
    "منهم",
    "فيهم",
}


# "and the last one?", "détaille le dernier", "¿y el último?", "والأخير؟" after a numbered
# list or one of its items: the list's last item.
_LAST = frozenset(["last", "final", "dernier", "derniere", "ultimo", "ultima", "اخير", "اخيره"])
_ABOUT_IT = frozenset(
    [
        "ok",
        "okay",
        "so",
        "say",
        "says",
        "tell",
        "explain",
        "detail",
        "details",
        "about",
        "detaille",
        "detailler",
        "explique",
        "dit",
        "dis",
        "dice",
        "explica",
        "explicame",
        "cuentame",
        "dime",
        "احكيلي",
        "اشرح",
        "شو",
        "يقول",
        "ايش",
        # "tell me more about number 8", "explain the last one a bit more", "dis m'en
        # plus sur le 8", "احكيلي اكثر عن رقم 8": more of that item.
        "me",
        "m",
        "more",
        "bit",
        "little",
        "on",
        "plus",
        "sur",
        "peu",
        "mas",
        "sobre",
        "poco",
        "del",
        "اكثر",
        "عن",
    ]
)


def _item_words(words: list[str]) -> list[str]:
    """What a message about an item of a list says besides its frame and courtesy."""
    return [w for w in words if w not in _ITEM_FRAME and w not in _ABOUT_IT and w not in _COURTESY]


def last_item(matcher: Matcher, words: list[str], entry_id: str) -> str | None:
    """ "principle 10" for "and the last one?" after principle 7 or the list of the
    principles; None for any other message, or an entry of no numbered series."""
    rest = _item_words(words)
    if not rest or rest[0] not in _LAST:
        return None
    name = matcher.series_of(entry_id)
    last = matcher.last_of_series(name) if name else None
    if not name or not last or any(w != str(last) for w in rest[1:]):
        return None  # "n the last one, 10" says its number too
    return f"{name} {last}"


# "ahora el 7 xfa", "now number 7", "et maintenant le 7": the next item asked for.
_NOW = frozenset(
    ["now", "ahora", "maintenant", "next", "then", "luego", "ensuite", "هلق", "هلا", "الحين"]
)


def neighbour_item(matcher: Matcher, entry_id: str, step: temporal.Step) -> str | None:
    """ "the one before" after principle 8: "principle 7", the item next to it that way
    in its numbered list; None after anything but an item, or for a step of time."""
    if not step.same or step.days:
        return None
    items = [t for t in matcher.subject(entry_id) if "#" in t]
    if len(items) != 1:
        return None
    name, number = items[0].split("#")
    wanted = int(number) + step.direction
    last = matcher.last_of_series(name)
    return f"{name} {wanted}" if last and 1 <= wanted <= last else None


def listed_item(matcher: Matcher, words: list[str], entry_id: str) -> str | None:
    """ "the 2nd one?" after the four regional networks: the entry of what the second
    line of that answer's list names (Sahel+). None after an entry of a numbered series
    (see swapped_item), an answer without a list, or a line that names no one thing."""
    if matcher.series_of(entry_id) is not None or (len(words) == 1 and words[0].isdigit()):
        return None  # a lone "1" after an answer asks nothing (see _asks_nothing)
    rest = [w for w in _item_words(words) if w not in _NOW]
    if len(rest) != 1 or (number := ordinal_of(rest[0])) is None:
        return None
    lines = [
        line.strip()[2:]
        for line in matcher.kb.entries[entry_id].answer.splitlines()
        if line.strip().startswith("- ")
    ]
    if not 1 <= number <= len(lines):
        return None
    named = matcher.terms_named(text_words(lines[number - 1]))
    if len(named) != 1:
        return None
    return matcher.curated_twin(named[0]) or named[0]


def swapped_item(matcher: Matcher, words: list[str], entry_id: str) -> str | None:
    """ "and 10?" after principle 7 (or "et le dixième ?", "والعاشر؟"): the same series'
    item of that number, as a question the matcher answers ("principle 10"). None when
    the entry names no numbered item, or the message holds more than a number."""
    # "what does number 7 say" after the list of the principles, too.
    name = matcher.series_of(entry_id)
    rest = [w for w in _item_words(words) if w not in _NOW]
    if name is None or len(rest) != 1:
        return None
    if not designations([name, rest[0]]):
        return None
    return f"{name} {rest[0]}"
