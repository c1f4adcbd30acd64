"""Readers shared by the vendor adapters: payload fields, timestamps, webhook requests.

Each field reader takes a decoded JSON object, a key and ``where`` (the object's path,
e.g. ``order.line_items[2]``) and returns a plain value, or raises :class:`MappingError`
naming the field by its full path (``order.line_items[2].sku must be a string, got
int``). A dead letter shows that message, so it must say which field of which record
is wrong; the tests pin the messages word for word.

Only what reads the same way for every vendor lives here. The quirks stay in the vendor
modules and wrap these readers: Odoo's ``false`` for null, Square's integer minor units
and RFC 3339 wording, HubSpot's epoch milliseconds, EasyPost's NFKD webhook secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.utils.text import slugify

from ..records import MappingError

Objects = list[tuple[Mapping[str, Any], str]]  # JSON objects, each with its path for errors
TimeParser = Callable[[Any, str], datetime | None]  # (value, field path) -> aware UTC or None
STORE_CODE_MAX = 32  # LocationRecord.code max_length


# -- payload fields ----------------------------------------------------------------------
def json_object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MappingError(f"{where} must be a JSON object, got {type(value).__name__}")
    return value


def json_list(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    """The list ``obj[key]``; absent or null is the empty list."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MappingError(f"{where}.{key} must be a list, got {type(value).__name__}")
    return value


def objects(obj: Mapping[str, Any], key: str, where: str) -> Objects:
    """The objects of the list ``obj[key]`` (absent = empty), each with its path for errors.

    Every element is checked before any is used, so a list holding a non-object fails
    as a whole, naming the first bad element.
    """
    values = json_list(obj, key, where)
    paths = [f"{where}.{key}[{i}]" for i in range(len(values))]
    return [(json_object(value, path), path) for value, path in zip(values, paths, strict=True)]


def text(obj: Mapping[str, Any], key: str, where: str) -> str:
    """A string, stripped; absent or null is ``""``."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MappingError(f"{where}.{key} must be a string, got {type(value).__name__}")
    return value.strip()


def flag(obj: Mapping[str, Any], key: str, where: str) -> bool:
    """A JSON boolean; absent or null is ``False`` (a field an older API version does not send)."""
    value = obj.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise MappingError(f"{where}.{key} must be true or false, got {type(value).__name__}")
    return value


def http_url(value: str) -> str:
    """The URL when it is an absolute ``http``/``https`` one, else ``""``.

    Upstream links (tracking pages) end up in ``href``s and e-mails; a ``javascript:`` or
    ``data:`` URL from a compromised or careless upstream must never get there.
    """
    value = (value or "").strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        return ""
    return value


def web_url(obj: Mapping[str, Any], key: str, where: str) -> str:
    """A link for staff and customers to follow: an ``http(s)`` URL, anything else dropped (``""``)."""
    return http_url(text(obj, key, where))


def enum(
    obj: Mapping[str, Any],
    key: str,
    where: str,
    allowed: Collection[str],
    *,
    read: Callable[[Mapping[str, Any], str, str], str] = text,
) -> str:
    """A string that must be one of ``allowed``; ``read`` is the vendor's text reader."""
    value = read(obj, key, where)
    if value not in allowed:
        raise MappingError(f"{where}.{key} {value!r} is not one of {', '.join(sorted(allowed))}")
    return value


def ident(obj: Mapping[str, Any], key: str, where: str) -> str:
    """An id (a JSON string or integer) as a stripped string; required.

    Integer ids are never read through a float: Shopify's can exceed 2**53.
    """
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
        raise MappingError(f"{where}.{key} is missing or not an id: {value!r}")
    return str(value).strip()


def optional_ident(obj: Mapping[str, Any], key: str, where: str) -> str:
    """Like :func:`ident`, but absent or null is ``""``."""
    return "" if obj.get(key) is None else ident(obj, key, where)


def store_code(name: str, where: str) -> str:
    """The store code of the location named ``name`` (``where`` is the location's path).

    The code is the key that joins one place across systems, so every vendor's locations
    get it here: the slug of the name, cut at 32 characters with no trailing dash.
    """
    if not name:
        raise MappingError(f"{where}.name is missing")
    code = slugify(name)[:STORE_CODE_MAX].strip("-")
    if not code:
        raise MappingError(f"{where}.name {name!r} yields no store code (no ASCII letters or digits)")
    return code


# -- timestamps --------------------------------------------------------------------------
def parse_time(
    value: Any,
    field: str,
    *,
    required: bool = False,
    assume_utc: bool = False,
    standard: str = "ISO-8601",
) -> datetime | None:
    """An ISO-8601 date-time with a UTC offset (``Z`` or ``±hh:mm``), converted to UTC.

    Absent or ``""`` is ``None`` (or an error when ``required``). A value without an
    offset is an error, except where a convention declares such values UTC
    (``assume_utc``). ``standard`` is the name the error messages give the format
    (Square documents its times as "RFC 3339"). Digits past microseconds are cut.
    """
    if value is None or value == "":
        if required:
            raise MappingError(f"{field} is missing")
        return None
    if not isinstance(value, str):
        raise MappingError(f"{field} must be an {standard} string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise MappingError(f"{field} is not an {standard} date-time: {value!r}") from None
    if parsed.tzinfo is None:
        if not assume_utc:
            raise MappingError(f"{field} has no UTC offset: {value!r}")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def latest_time(
    *values: Any,
    parse: TimeParser = parse_time,
    render: Callable[[datetime], str] = datetime.isoformat,
) -> str:
    """The latest of some timestamps, rendered (UTC ISO by default); ``""`` when none is readable.

    This moves a cursor's watermark over a page of payloads. Unreadable and absent
    times are skipped, not raised: rejecting the payload is mapping's job (it becomes a
    dead letter), and one bad record must not stop the page from being committed.
    """
    times = []
    for value in values:
        try:
            parsed = parse(value, "updated_at")
        except MappingError:
            continue
        if parsed is not None:
            times.append(parsed)
    return render(max(times)) if times else ""


# -- webhook requests --------------------------------------------------------------------
def header_reader(headers: Mapping[str, str], *prefixes: str) -> Callable[..., str]:
    """``header(name, default="")``: a request header by name, case-insensitively, stripped.

    With ``prefixes`` the name is looked up under each prefix in turn (Shopify sends
    ``X-Shopify-Topic`` or, in its newer deliveries, ``Shopify-Topic``) and the first
    non-empty value wins. A header sent empty reads as ``""``; ``default`` stands only
    for a header not sent at all.
    """
    lowered = {str(name).lower(): str(value).strip() for name, value in headers.items()}

    def header(name: str, default: str = "") -> str:
        sent = [lowered[key] for key in (prefix + name.lower() for prefix in prefixes or ("",)) if key in lowered]
        return next((value for value in sent if value), "" if sent else default)

    return header


def webhook_json(body: bytes, expected: type[dict] | type[list] = dict) -> Any:
    """The decoded webhook body, which must be a JSON object (or, with ``expected=list``, an array).

    Raises ``ValueError`` (the webhook view answers 400) on anything else.
    """
    try:
        payload = json.loads(body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ValueError(f"webhook body is not JSON: {exc}") from None
    if not isinstance(payload, expected):
        what = "a JSON array" if expected is list else "a JSON object"
        raise ValueError(f"webhook body is not {what} but {type(payload).__name__}")
    return payload
