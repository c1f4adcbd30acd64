"""The identifiers people are known by (e-mail, phone, name): normalised, and which of them are keys.

Every system's e-mail and phone goes through here before it is matched or stored as a key
(``orders/ingest/customers.py``), so what is not a key is decided in one place.

E-mail: trimmed and lower-cased. Dots and ``+tags`` are kept: only some providers
ignore them, and merging two real people is worse than showing one person twice
(a supervisor can merge by hand). Phone: E.164 via ``phonenumbers``, read in the
retailer's default region when the number has no country code.

Neither is a key (normalised to ``""``) when it names nobody: what a clerk or a form types
when the buyer gives none. Two walk-in buyers both "reachable" at ``noemail@example.com`` and
``0000000000`` are two people, and each of those values would otherwise join every such buyer
into one customer. Not keys:

* an e-mail that is not an address (one ``@``, something before it, a dotted domain after it,
  no spaces), or whose domain cannot receive mail (``.invalid``, ``.localhost``, ``.test``:
  RFC 2606 and 6761);
* an e-mail whose local part (``+tag`` and ``.-_`` separators ignored) says "no e-mail"
  (:data:`NO_EMAIL_LOCAL_PARTS`: ``noemail@``, ``none@``, ``no-reply@``, ``declined@``…) at
  any domain, or is one character repeated (``xxx@``, ``0000@``);
* a stand-in address at a documentation domain (``example.com``/``.net``/``.org`` or
  ``*.example``, RFC 2606): ``test@``, ``dummy@``, ``customer@``…
  (:data:`STAND_IN_LOCAL_PARTS`). Other ``example.com`` addresses stay keys: vendors'
  examples and this project's tests use them for real people;
* a phone that ``phonenumbers`` does not hold for a valid number of its region
  (``is_valid_number``: ``0000000000``, ``5555555555``, ``123-456-7890`` in the US), or
  whose digits are all one digit or a plain run (``7777777777``, ``0123456789``) wherever
  such a number would be valid.

Names are not keys, but :func:`names_differ` says when two names are clearly two people.
"""

from __future__ import annotations

import os
import re
import unicodedata

import phonenumbers

DEFAULT_REGION = os.environ.get("OMNIDESK_PHONE_REGION", "US")

# Local parts (lower-case, ``+tag`` and the separators . - _ / removed) that say "this buyer gave no e-mail".
NO_EMAIL_LOCAL_PARTS = frozenset({
    "noemail", "nomail", "noemailaddress", "noemailprovided", "noemailgiven", "noaddress", "none", "nobody",
    "noone", "noreply", "donotreply", "dontreply", "donotemail", "noresponse", "na", "nil", "null", "unknown",
    "notprovided", "notgiven", "notavailable", "declined", "refused", "optout", "walkin",
})  # fmt: skip
# Local parts that are a stand-in when the domain is a documentation domain (RFC 2606).
STAND_IN_LOCAL_PARTS = frozenset({
    "test", "testing", "tester", "test1", "test123", "dummy", "fake", "sample", "placeholder", "email", "mail",
    "user", "customer", "client", "guest", "anonymous", "someone", "somebody", "asdf", "abc", "xyz", "foo",
    "foobar", "info", "me", "you", "name",
})  # fmt: skip
DOCUMENTATION_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
UNDELIVERABLE_TLDS = frozenset({"invalid", "localhost", "test"})
_SEPARATORS = re.compile(r"[.\-_/]")
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_RUNS = ("01234567890123456789", "98765432109876543210")


def normalise_email(value: str) -> str:
    value = (value or "").strip().lower()
    return value if _ADDRESS.fullmatch(value) and not _placeholder_email(value) else ""


def _placeholder_email(address: str) -> bool:
    local, domain = address.rsplit("@", 1)
    bare = _SEPARATORS.sub("", local.split("+", 1)[0])
    if not bare or bare in NO_EMAIL_LOCAL_PARTS or (len(bare) >= 3 and len(set(bare)) == 1):
        return True
    tld = domain.rsplit(".", 1)[-1]
    if domain in DOCUMENTATION_DOMAINS or tld == "example":
        return bare in STAND_IN_LOCAL_PARTS
    return tld in UNDELIVERABLE_TLDS


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    national = phonenumbers.national_significant_number(number)
    if len(set(national)) == 1 or any(national in run for run in _RUNS):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- names ---------------------------------------------------------------------------------
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "jr", "sr", "ii", "iii", "iv"})


def name_parts(value: str) -> tuple[str, str]:
    """``(given, family)`` of a written name, folded (case, accents, titles); ``""`` where not told.

    ``"Lee, Ann"`` is read as ``"Ann Lee"``. A single word is a given name.
    """
    value = value or ""
    if value.count(",") == 1:
        family, given = value.split(",")
        value = f"{given} {family}"
    folded = unicodedata.normalize("NFKD", value.casefold())
    letters = "".join(c if c.isalpha() else " " for c in folded if not unicodedata.combining(c))
    words = [w for w in letters.split() if w not in _TITLES]
    if not words:
        return "", ""
    return words[0], words[-1] if len(words) > 1 else ""


def _same_word(a: str, b: str) -> bool:
    """Two name words that may be the same person's: equal, or one is the other's initial."""
    return a == b or (min(len(a), len(b)) == 1 and a[0] == b[0])


def names_differ(a: str, b: str) -> bool:
    """Whether two written names are clearly two people: given names, or family names, that cannot be one.

    ``"Ann Lee"``, ``"Ann B. Lee"``, ``"A. Lee"``, ``"Lee, Ann"``, ``"Ann"`` and ``""`` may all be
    one person; ``"Amelia Earhart"`` and ``"George Earhart"`` cannot, nor ``"Ann Lee"`` and
    ``"Ann Stone"``. Nicknames (Bob, Robert) count as different: the cost is a suggested link
    instead of an automatic one.
    """
    (given_a, family_a), (given_b, family_b) = name_parts(a), name_parts(b)
    if given_a and given_b and not _same_word(given_a, given_b):
        return True
    return bool(family_a and family_b and not _same_word(family_a, family_b))
