"""Normalising the identifiers people are known by: e-mail and phone.

E-mail: trimmed and lower-cased. Dots and ``+tags`` are kept: only some providers
ignore them, and merging two real people is worse than showing one person twice
(a supervisor can merge by hand). Phone: E.164 via ``phonenumbers``, read in the
retailer's default region when the number has no country code.
"""

from __future__ import annotations

import os

import phonenumbers

DEFAULT_REGION = os.environ.get("OMNIDESK_PHONE_REGION", "US")


def normalise_email(value: str) -> str:
    value = (value or "").strip().lower()
    return value if "@" in value else ""


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
