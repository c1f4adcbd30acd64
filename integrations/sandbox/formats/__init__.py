"""Vendor views of the world: one module per vendor API.

Each module has ``handle(world, request) -> Response``: it checks the vendor's
credential, parses the vendor's paging and filters, and renders world objects in the
vendor's JSON. Rendering is a function of (object, clock) only, so the same world and
clock give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str  # below the vendor's prefix, e.g. "/orders.json" or "/v2/orders/search"
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""
    origin: str = ""  # scheme://host:port the client used, for absolute links
    prefix: str = ""  # the vendor's path prefix, e.g. "/shopify/admin/api/2025-07"

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        """The body as JSON (``{}`` when empty); ValueError when it is not JSON."""
        if not self.body.strip():
            return {}
        return json.loads(self.body)

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""

    def follow(self, *, query: dict[str, Any] | None = None, body: Any = None, only: bool = False) -> Request:
        """This request again with some parameters changed: the next page a client asks for.

        ``only`` replaces the whole query string instead of updating it (Shopify's next
        link carries nothing but ``limit`` and ``page_info``).
        """
        changed = {k: [str(v)] for k, v in (query or {}).items()}
        return Request(
            method=self.method,
            path=self.path,
            query=changed if only else {**self.query, **changed},
            headers=self.headers,
            body=dumps(body) if body is not None else self.body,
            origin=self.origin,
            prefix=self.prefix,
        )

    def key(self) -> tuple:
        """What makes two requests the same request: the read-ahead cache key."""
        try:
            body: Any = json.dumps(json.loads(self.body), sort_keys=True) if self.body.strip() else ""
        except ValueError:
            body = self.body
        query = tuple(sorted((k, tuple(v)) for k, v in self.query.items()))
        credentials = (self.header("Authorization"), self.header("X-Shopify-Access-Token"))
        return (self.method, self.prefix, self.path, query, body, credentials)


@dataclass
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    follow: Request | None = None  # the request for the next page, when there is one


def dumps(payload: Any) -> bytes:
    """Compact, stable JSON, as the vendors send it (ASCII-escaped: the encoder's fast path)."""
    return json.dumps(payload, separators=(",", ":")).encode()


def reply(payload: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, dumps(payload), list(headers or []))


class VendorError(Exception):
    """An answer in the vendor's error shape, raised from deep inside a handler."""

    def __init__(self, status: int, payload: Any):
        super().__init__(status)
        self.status, self.payload = status, payload


def limit_arg(value: Any, *, default: int, maximum: int) -> int:
    """A page size from a query/body value, clamped to the vendor's maximum."""
    if value is None or value == "":
        return default
    number = int(value)
    if number < 1:
        raise ValueError("limit must be positive")
    return min(number, maximum)


def corrupt(payload: dict, how: str, *, id_field: str, list_field: str, date_field: str) -> dict:
    """Break one rendered object the way ``how`` says (see ``World.corrupt``)."""
    broken = dict(payload)
    if how == "missing_id":
        broken.pop(id_field, None)
    elif how == "wrong_type":
        broken[list_field] = "corrupted: expected a structure here"
    elif how == "bad_date":
        broken[date_field] = "not-a-date"
    elif how == "truncated":
        broken = dict(list(payload.items())[:3])
    return broken


def e164_dashed(phone: str) -> str:
    """``+12125554240`` -> ``+1-212-555-4240`` (Square)."""
    return f"+1-{phone[2:5]}-{phone[5:8]}-{phone[8:]}" if phone else ""


def e164_national(phone: str) -> str:
    """``+12125554240`` -> ``(212) 555-4240`` (HubSpot)."""
    return f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}" if phone else ""


def e164_spaced(phone: str) -> str:
    """``+12125554240`` -> ``+1 212-555-4240`` (Odoo)."""
    return f"+1 {phone[2:5]}-{phone[5:8]}-{phone[8:]}" if phone else ""
