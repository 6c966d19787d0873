"""Numbers and lists as people type them, in any script.

An Arabic speaker types "١، ٣" where an English speaker types "1, 3"; a phone keyboard
may give fullwidth "３" or Persian "۳". Every place that reads a typed number or list
(consultation answers, the review, the region question, /subscribe days, button data)
goes through this module, so all of them accept the same things and none of them can
be crashed: "²" and "①" are digits to :meth:`str.isdigit` but not numbers to
:func:`int`, and a 400-digit number overflows a float. Those are refused here, with a
reason the caller can show.
"""

from __future__ import annotations

import re
import unicodedata

# Beyond 15 significant digits a float no longer holds every unit: no answer to a
# consultation needs more, and results (means, medians) are computed in floats.
MAX_DIGITS = 15

# The Arabic decimal separator "٫" and thousands separator "٬" (U+066B, U+066C).
_SEPARATORS = {"\u066b": ".", "\u066c": ","}
_NUMBER_RE = re.compile(r"^[+-]?(\d{1,3}([ ,\u00a0\u202f]\d{3})+|\d+)([.,]\d+)?$", re.ASCII)
# Between the items of a typed list: Latin and Arabic commas and semicolons, a slash.
_LIST_SEPARATORS = re.compile(r"\s*[,;/\u060c\u061b]\s*")
# "access and climate", "accès et climat", "acceso y clima", "الوصول و المناخ".
_LIST_WORDS = re.compile(r"\s+(?:and|et|y|e|&|\+|و)\s+|\s+و(?=\d)", re.IGNORECASE)


class TooLong(ValueError):
    """A number with more than :data:`MAX_DIGITS` digits."""


def ascii_digits(text: str) -> str:
    """Every Unicode decimal digit as its ASCII digit ("٣" -> "3", "３" -> "3"), and the
    Arabic decimal and thousands separators as "." and ",". Other characters, "²" and
    "①" included (they are not decimal digits), are left as they are."""
    out = []
    for ch in text:
        if ch in _SEPARATORS:
            out.append(_SEPARATORS[ch])
        elif not ch.isascii() and ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(ch)
    return "".join(out)


def whole_number(text: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """A typed or packed whole number ≥ 0: "3", " ٣ ", "12"; None for anything else
    ("", "²", "①", "3.5", "-1", or more than ``max_digits`` digits)."""
    digits = ascii_digits(text.strip())
    if not 0 < len(digits) <= max_digits or not digits.isascii() or not digits.isdigit():
        return None
    return int(digits)


def number(text: str) -> int | float | None:
    """A typed number: "12", "-3", "2.5", "2,5", "1 200", "1,200", "١٢", "٢٫٥".

    None when the text is not a number; :class:`TooLong` when it is one of more than
    :data:`MAX_DIGITS` digits, so the person can be told why it was refused.
    """
    text = ascii_digits(text.strip())
    if not _NUMBER_RE.match(text):
        return None
    whole, frac = text, ""
    if m := re.search(r"[.,](\d{1,2}|\d{4,})$", text):  # a decimal part (not a thousands group)
        whole, frac = text[: m.start()], m.group(1)
    digits = re.sub(r"[ ,.\u00a0\u202f]", "", whole)
    if len(digits.lstrip("+-").lstrip("0")) + len(frac) > MAX_DIGITS:
        raise TooLong(text)
    if frac:
        return float(f"{digits}.{frac}")
    return int(digits)


def split_list(text: str) -> list[str]:
    """The items of a typed list: "1, 3", "1 3", "١، ٣", "1؛ 3", "access; climate",
    "access and climate", "1 و 3". One item when nothing separates them."""
    text = " ".join(ascii_digits(text).split())
    if re.fullmatch(r"\d+(\s+\d+)+", text, re.ASCII):
        return text.split()
    parts = [p for p in _LIST_SEPARATORS.split(text) if p]
    if len(parts) == 1:
        parts = [p for p in _LIST_WORDS.split(text) if p]
    return parts
