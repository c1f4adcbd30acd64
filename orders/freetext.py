"""What staff may type into free-text fields: no card numbers, and a length cap with a clear error.

Card numbers are found by the Luhn checksum across any separators a person types
(``4242 4242 4242 4242``, ``4242.4242.4242.4242``, ``4242--4242``, none at all): the
digits of a run of digit groups are checked whole, and every span of neighbouring
groups that is 13–19 digits long, so a card written after an order number is found too.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

NOTE_MAX = 2000
REASON_MAX = 300
NAME_MAX = 200
CARD_MESSAGE = "This looks like a card number. Never write card numbers here: the last four digits are enough."

# Digit groups joined by up to three separator characters (spaces, dots, dashes, slashes …), not by letters.
_DIGIT_RUN = re.compile(r"\d+(?:[^\w\n]{1,3}\d+)*")
_GROUP = re.compile(r"\d+")


def luhn_valid(digits: str) -> bool:
    """The checksum every payment card number passes (and few other long numbers do)."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def has_card_number(text: str) -> bool:
    """True when the text contains something that looks like a full card number."""
    for run in _DIGIT_RUN.findall(text or ""):
        groups = _GROUP.findall(run)
        for start in range(len(groups)):
            digits = ""
            for group in groups[start:]:
                digits += group
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn_valid(digits):
                    return True
    return False


def card_free(value: str) -> None:
    """A form-field validator: refuse text with a card number in it."""
    if has_card_number(value):
        raise ValidationError(CARD_MESSAGE, code="card_number")


def text_problem(value: str, *, what: str, limit: int) -> str | None:
    """Why this typed text cannot be kept (too long, a card number in it), or None: for services without a form."""
    if len(value) > limit:
        return f"the {what} is {len(value)} characters long; keep it under {limit}"
    if has_card_number(value):
        return f"the {what} looks like a card number: never write card numbers, the last four digits are enough"
    return None


def int_or_none(value) -> int | None:
    """A form or query value as an id, or None when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
