"""Right-to-left text laid out right: direction marks for Arabic replies.

A chat client lays each line out with the Unicode bidirectional algorithm (UAX #9):
a line takes the direction of its first strong character, so an Arabic timeline line
that starts with a date and an English title flips to left-to-right and its bullet
jumps sides; an English title next to an Arabic comma drags the comma along; a
range "2018–2022" reads backwards. Two marks fix that, and both are invisible:

- every line of a right-to-left reply starts with RIGHT-TO-LEFT MARK (U+200F), so
  the line is right-to-left whatever comes first;
- each run of Latin text or numbers inside it is wrapped in FIRST STRONG ISOLATE
  (U+2068) … POP DIRECTIONAL ISOLATE (U+2069), so it is laid out on its own and its
  neighbours' punctuation stays with them.

:func:`bot.markup.render_blocks` applies this to the markup tree of a reply it judges
right-to-left (:func:`is_rtl`), for every renderer; left-to-right replies are left
exactly as they are.
"""

from __future__ import annotations

import unicodedata

RLM = "\u200f"
FSI = "\u2068"
PDI = "\u2069"
MARKS = frozenset({RLM, FSI, PDI, "\u200e", "\u2066", "\u2067"})

_RTL = frozenset({"R", "AL"})
# Characters that may sit inside a Latin run between its letters and digits: spaces,
# separators and terminators ("2018–2022", "23:59", "1,200", "U.S."), other neutrals.
_INSIDE = frozenset({"L", "EN", "ES", "ET", "CS", "ON", "WS", "NSM", "BN"})
_OPENING, _CLOSING = "([{", ")]}"
# Arabic comma, semicolon, question mark and full stop: they belong to the Arabic text.
_ARABIC_PUNCTUATION = frozenset("\u060c\u061b\u061f\u06d4")


def _kind(ch: str) -> str:
    return unicodedata.bidirectional(ch)


def is_rtl(text: str) -> bool:
    """Whether a reply reads right-to-left: its first letter is Arabic (or Hebrew), or
    most of its letters are. An Arabic timeline of English titles is still Arabic."""
    rtl = ltr = 0
    first = ""
    for ch in text:
        kind = _kind(ch)
        if kind in _RTL:
            rtl += 1
            first = first or "R"
        elif kind == "L" and ch.isalpha():
            ltr += 1
            first = first or "L"
    return first == "R" or rtl > ltr


def isolate(text: str) -> str:
    """Each run of left-to-right text in ``text`` wrapped in FSI … PDI.

    A run of Latin text starts at a letter (or "/", "@", "#" before one, so "/consult"
    stays whole, or a number before one: "31st", "23:59 UTC") and keeps the digits and neutrals
    between its letters ("Geneva, Switzerland", "Strategy 2008–2018"), not those at its
    ends, except a bracket it opened or closed, so a pair is never split across the
    isolate's edge. A number on its own is isolated alone ("1,200", "23:59", "45%"):
    "20–21" and "1، 3" keep their right-to-left order, as Arabic readers expect.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        kind = _kind(ch)
        number_end = _number_end(text, i) if kind == "EN" else i
        after = number_end
        while after < n and text[after] == " ":
            after += 1
        if (kind == "L" and ch not in MARKS) or (
            number_end > i and after < n and _kind(text[after]) == "L"
        ):
            start, end = _letters(text, i)
        elif number_end > i:
            start, end = i, number_end
        else:
            out.append(ch)
            i += 1
            continue
        # A prefix or an opening bracket taken in from before the run was written out.
        if start < i:
            del out[len(out) - (i - start) :]
        out.append(FSI + text[start:end] + PDI)
        i = end
    return "".join(out)


def _number_end(text: str, i: int) -> int:
    """Where the number starting at ``i`` ends: digits with "." "," ":" between them
    ("1,200", "2.5", "23:59") and a trailing "%" or other terminator."""
    n, j = len(text), i
    while j < n and _kind(text[j]) == "EN":
        j += 1
        if j + 1 < n and text[j] in ".,:" and _kind(text[j + 1]) == "EN":
            j += 1
    while j < n and _kind(text[j]) == "ET":
        j += 1
    return j


def _letters(text: str, i: int) -> tuple[int, int]:
    n, end, j = len(text), i + 1, i + 1
    while j < n and _kind(text[j]) in _INSIDE and text[j] not in _ARABIC_PUNCTUATION:
        if text[j] == "\n" or text[j] in MARKS:
            break
        if _kind(text[j]) in {"L", "EN"}:
            end = j + 1
        j += 1
    while end < n and _kind(text[end]) == "ET":  # "45%", "20°": the sign stays
        end += 1
    start = i
    while start > 0 and text[start - 1] in "/@#" and start == i:
        start -= 1
    return _balance(text, start, end)


def _balance(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a run by the brackets that pair with an unpaired one inside it."""
    depth = 0
    unopened = 0
    for ch in text[start:end]:
        if ch in _OPENING:
            depth += 1
        elif ch in _CLOSING:
            if depth:
                depth -= 1
            else:
                unopened += 1
    while depth and end < len(text) and text[end] in _CLOSING:
        depth, end = depth - 1, end + 1
    while unopened and start > 0 and text[start - 1] in _OPENING:
        unopened, start = unopened - 1, start - 1
    return start, end


def paragraph_direction(line: str) -> str:
    """ "R" or "L": how UAX #9 (rules P2-P3) sets a line's direction: by its first
    strong character, skipping what is inside isolates; a right-to-left mark counts."""
    depth = 0
    for ch in line:
        if ch in {FSI, "\u2066", "\u2067"}:
            depth += 1
        elif ch == PDI:
            depth = max(0, depth - 1)
        elif depth == 0:
            kind = _kind(ch)
            if kind in _RTL:
                return "R"
            if kind == "L":
                return "L"
    return "L"
