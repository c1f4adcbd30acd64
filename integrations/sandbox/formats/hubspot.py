"""HubSpot CRM v3 contacts: search (``POST .../contacts/search``), list and read.

Search takes ``filterGroups`` (groups OR-ed, filters AND-ed; operators EQ, NEQ, GT,
GTE, LT, LTE, BETWEEN, IN, HAS_PROPERTY, NOT_HAS_PROPERTY), ``sorts`` on
``lastmodifieddate``, ``createdate`` or ``hs_object_id``, ``limit`` ≤ 100 and
``after``. As on HubSpot, ``after`` is the offset of the next page in the result and
``total`` counts every match. Dates filter as epoch milliseconds or ISO-8601. Without
``properties`` a contact carries HubSpot's default set; with them, the ones asked for
(null when the contact has none) plus the three HubSpot always adds.
"""

from __future__ import annotations

import json

from ..model import iso_ms_z, parse_time
from ..streams import walk
from . import Request, Response, VendorError, corrupt, e164_national, limit_arg, reply

TOKEN = "hs_sandbox"  # noqa: S105 (the sandbox's published credential)
DEFAULT_PROPERTIES = (
    "createdate",
    "email",
    "firstname",
    "hs_object_id",
    "lastmodifieddate",
    "lastname",
)
ALWAYS = ("createdate", "hs_object_id", "lastmodifieddate")
DATES = frozenset({"createdate", "lastmodifieddate"})
OPERATORS = frozenset({"EQ", "NEQ", "GT", "GTE", "LT", "LTE", "BETWEEN", "IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY"})
SORTABLE = ("lastmodifieddate", "createdate", "hs_object_id")


def error(status: int, message: str, category: str = "VALIDATION_ERROR") -> VendorError:
    return VendorError(
        status,
        {
            "status": "error",
            "message": message,
            "correlationId": "00000000-0000-4000-8000-000000000000",
            "category": category,
        },
    )


def handle(world, req: Request) -> Response:
    if req.header("Authorization") != f"Bearer {TOKEN}":
        return reply(
            {
                "status": "error",
                "message": "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
                "correlationId": "00000000-0000-4000-8000-000000000001",
                "category": "INVALID_AUTHENTICATION",
            },
            401,
        )
    path = req.path.rstrip("/")
    try:
        if req.method == "POST" and path == "/crm/v3/objects/contacts/search":
            try:
                body = req.json()
            except ValueError:
                raise error(400, "Invalid input JSON on line 1") from None
            return search(world, req, body if isinstance(body, dict) else {})
        if req.method == "GET" and path == "/crm/v3/objects/contacts":
            return list_contacts(world, req)
        if req.method == "GET" and path.startswith("/crm/v3/objects/contacts/"):
            return read_contact(world, req, path.rsplit("/", 1)[1])
    except VendorError as exc:
        return reply(exc.payload, exc.status)
    return reply(
        {
            "status": "error",
            "message": f"Unable to infer object type from: {path}",
            "category": "OBJECT_NOT_FOUND",
        },
        404,
    )


def properties_of(world, p, updated: int) -> dict[str, str | None]:
    """Every property of a contact as of ``updated`` (HubSpot sends strings)."""
    customer = bool(p.orders) and p.orders[0].placed <= updated
    return {
        "createdate": iso_ms_z(p.hubspot_versions[0]),
        "email": p.contact("hubspot", "email", p.email),
        "firstname": p.first,
        "hs_object_id": str(p.hubspot_id),
        "lastmodifieddate": iso_ms_z(updated),
        "lastname": p.last,
        "phone": p.contact("hubspot", "phone", e164_national(p.phone)) or None,
        "loyalty_id": p.loyalty_id or None,
        "lifecyclestage": "customer" if customer else "lead",
        "city": p.city,
        "state": p.state,
        "zip": p.zip,
    }


def render(world, stream, i: int, updated: int, wanted: list[str] | None) -> dict:
    p = stream.objects[i]
    props = properties_of(world, p, updated)
    names = DEFAULT_PROPERTIES if wanted is None else sorted({*wanted, *ALWAYS})
    payload = {
        "id": str(p.hubspot_id),
        "properties": {name: props.get(name) for name in names},
        "createdAt": iso_ms_z(p.hubspot_versions[0]),
        "updatedAt": iso_ms_z(updated),
        "archived": False,
    }
    how = world.corruption("hubspot", "contacts", stream.externals[i])
    if how:
        payload = corrupt(payload, how, id_field="id", list_field="properties", date_field="createdAt")
    return payload


def _value(name: str, raw) -> int | str:
    """A filter value in the property's comparable form."""
    text = str(raw)
    if name in DATES:
        if text.isdigit():
            return int(text) // 1000
        try:
            return parse_time(text)
        except ValueError:
            raise error(400, f"Invalid value {text!r} for date property {name}") from None
    if name == "hs_object_id":
        try:
            return int(text)
        except ValueError:
            raise error(400, f"Invalid value {text!r} for hs_object_id") from None
    return text.lower()


def _prop(world, stream, i: int, name: str, updated: int):
    if name == "lastmodifieddate":
        return updated
    if name == "createdate":
        return stream.versions[i][0]
    if name == "hs_object_id":
        return stream.keys[i]
    value = properties_of(world, stream.objects[i], updated).get(name)
    return value.lower() if isinstance(value, str) else value


def _check(f: dict, actual) -> bool:
    op = f["operator"]
    if op == "HAS_PROPERTY":
        return actual is not None
    if op == "NOT_HAS_PROPERTY":
        return actual is None
    if actual is None:
        return op == "NEQ"
    if op == "IN":
        return actual in f["values"]
    value = f["value"]
    if op == "BETWEEN":
        return value <= actual <= f["high"]
    return {
        "EQ": actual == value,
        "NEQ": actual != value,
        "GT": actual > value,
        "GTE": actual >= value,
        "LT": actual < value,
        "LTE": actual <= value,
    }[op]


def _compile(groups) -> list[list[dict]]:
    out = []
    for group in groups or []:
        filters = []
        for raw in (group or {}).get("filters") or []:
            name, op = raw.get("propertyName"), str(raw.get("operator", "")).upper()
            if not name or op not in OPERATORS:
                raise error(
                    400,
                    f"Invalid filter operator {op!r}; supported: {', '.join(sorted(OPERATORS))}",
                )
            f = {"name": name, "operator": op}
            if op == "IN":
                f["values"] = [_value(name, v) for v in raw.get("values") or []]
            elif op not in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
                if raw.get("value") is None:
                    raise error(400, f"Filter on {name} with {op} needs a value")
                f["value"] = _value(name, raw["value"])
                if op == "BETWEEN":
                    f["high"] = _value(name, raw.get("highValue", raw["value"]))
            filters.append(f)
        out.append(filters)
    return out


def _sorts(sorts) -> list[tuple[str, bool]]:
    out = []
    for raw in sorts or []:
        if isinstance(raw, str):
            name, desc = raw.lstrip("-"), raw.startswith("-")
        else:
            name, desc = (
                raw.get("propertyName"),
                str(raw.get("direction", "ASCENDING")).upper() == "DESCENDING",
            )
        if name not in SORTABLE:
            raise error(
                400,
                f"Sorting by {name!r} is not supported by the sandbox; use one of {', '.join(SORTABLE)}",
            )
        out.append((name, desc))
    return out or [("hs_object_id", False)]


def search(world, req: Request, body: dict) -> Response:
    try:
        limit = limit_arg(body.get("limit"), default=10, maximum=100)
        offset = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise error(400, "limit and after must be numbers") from None
    groups = _compile(body.get("filterGroups"))
    sorts = _sorts(body.get("sorts"))
    wanted = body.get("properties") or None
    stream = world.stream("hubspot", "contacts")
    now = world.now

    def build() -> list[int]:
        rows = stream.visible(now)
        if len(groups) == 1:
            low = high = None
            for f in groups[0]:
                if f["name"] == "lastmodifieddate" and f["operator"] in ("GT", "GTE", "EQ"):
                    low = f["value"] + (1 if f["operator"] == "GT" else 0)
                if f["name"] == "lastmodifieddate" and f["operator"] in ("LT", "LTE", "EQ"):
                    high = f["value"] - (1 if f["operator"] == "LT" else 0)
            rows, _ = walk(rows, limit=len(rows) + 1, low=low, high=high)
        if groups:
            rows = [
                r
                for r in rows
                if any(all(_check(f, _prop(world, stream, r[2], f["name"], r[0])) for f in group) for group in groups)
            ]
        rows = sorted(rows, key=lambda r: tuple(_sort_value(stream, r, name, desc) for name, desc in sorts))
        return [r[2] for r in rows]

    matches = stream.query(json.dumps([body.get("filterGroups"), sorts], sort_keys=True, default=str), now, build)
    page = matches[offset : offset + limit]
    out: dict = {
        "total": len(matches),
        "results": [render(world, stream, i, stream.updated_at(i, now), wanted) for i in page],
    }
    if offset + limit >= len(matches):
        return reply(out)
    after = str(offset + limit)
    out["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
    response = reply(out)
    response.follow = req.follow(body={**body, "after": after})
    return response


def _sort_value(stream, row, name: str, desc: bool):
    value = row[0] if name == "lastmodifieddate" else stream.versions[row[2]][0] if name == "createdate" else row[1]
    return (-value if desc else value, row[1])


def list_contacts(world, req: Request) -> Response:
    """GET list, by id: ``after`` is the id to start from, as HubSpot's list cursor."""
    try:
        limit = limit_arg(req.arg("limit"), default=10, maximum=100)
        start = int(req.arg("after") or 0)
    except ValueError:
        raise error(400, "limit and after must be numbers") from None
    wanted = [p for p in (req.arg("properties") or "").split(",") if p] or None
    stream = world.stream("hubspot", "contacts")
    now = world.now
    rows = sorted((k, k, i) for i, k in enumerate(stream.keys) if stream.exists(i, now))
    found, more = walk(rows, limit=limit, low=start)
    out: dict = {"results": [render(world, stream, r[2], stream.updated_at(r[2], now), wanted) for r in found]}
    if more:
        following = next(r for r in rows if r[0] > found[-1][0])
        out["paging"] = {"next": {"after": str(following[0]), "link": f"?after={following[0]}"}}
    return reply(out)


def read_contact(world, req: Request, ident: str) -> Response:
    stream = world.stream("hubspot", "contacts")
    i = stream.find(ident)
    if i is None or not stream.exists(i, world.now):
        raise error(404, f"Object not found.  objectId are usually numeric. {ident}", "OBJECT_NOT_FOUND")
    wanted = [p for p in (req.arg("properties") or "").split(",") if p] or None
    return reply(render(world, stream, i, stream.updated_at(i, world.now), wanted))
