"""Square (Square-Version 2025-08-20): orders, payments, customers, inventory, locations.

Paging is cursor-in-body (payments: ``cursor`` query parameter): the opaque cursor
encodes the filters and the last (sort value, id) served, so a request with a cursor
continues the same query. Filters: SearchOrders ``query.filter.date_time_filter``
on the field named by ``query.sort.sort_field`` (CREATED_AT or UPDATED_AT; they must
match, as on Square), ``state_filter``, ``customer_filter`` and ``location_ids``;
ListPayments ``begin_time``/``end_time`` (created) and ``updated_at_begin_time``/
``updated_at_end_time``; SearchCustomers ``query.filter.updated_at``/``created_at``
and exact e-mail, phone and reference id; inventory counts ``updated_after`` (strict),
``location_ids``, ``catalog_object_ids``. Money is integer cents, quantities strings.
An empty result is ``{}``, as Square sends it.
"""

from __future__ import annotations

from ..generate import VARIED_ORDER_PAGE
from ..model import iso_ms_z, parse_time
from ..streams import decode_token, encode_token, walk
from . import Request, Response, VendorError, corrupt, limit_arg, reply
from .square_records import (
    money,
    order_entry,
    order_state,
    render_count,
    render_customer,
    render_location,
    render_order,
    render_payment,
)

TOKEN = "sq_sandbox"  # noqa: S105 (the sandbox's published credential)
CORRUPTION_FIELDS = {
    "orders": ("id", "line_items", "created_at"),
    "payments": ("id", "amount_money", "created_at"),
    "customers": ("id", "address", "created_at"),
    "inventory": ("catalog_object_id", "quantity", "calculated_at"),
}


def error(
    status: int,
    code: str,
    detail: str,
    *,
    category: str = "INVALID_REQUEST_ERROR",
    field: str | None = None,
) -> VendorError:
    entry = {"category": category, "code": code, "detail": detail}
    if field:
        entry["field"] = field
    return VendorError(status, {"errors": [entry]})


def handle(world, req: Request) -> Response:
    if req.header("Authorization") != f"Bearer {TOKEN}":
        return reply(
            {
                "errors": [
                    {
                        "category": "AUTHENTICATION_ERROR",
                        "code": "UNAUTHORIZED",
                        "detail": "This request could not be authorized.",
                    }
                ]
            },
            401,
        )
    path, method = req.path.rstrip("/"), req.method
    try:
        if method == "POST":
            body = _body(req)
            if path == "/v2/orders/search":
                return search_orders(world, req, body)
            if path == "/v2/orders/batch-retrieve":
                return _batch_orders(world, body)
            if path == "/v2/customers/search":
                return search_customers(world, req, body)
            if path == "/v2/inventory/counts/batch-retrieve":
                return inventory_counts(world, req, body)
        elif method == "GET":
            if path == "/v2/payments":
                return list_payments(world, req)
            if path == "/v2/locations":
                stream = world.stream("square", "locations")
                return reply({"locations": [render_location(s, world.setup_time) for s in stream.objects]})
            if path == "/v2/catalog/list":
                return list_catalog(world, req)
            for prefix, name in (
                ("/v2/orders/", "orders"),
                ("/v2/payments/", "payments"),
                ("/v2/customers/", "customers"),
            ):
                if path.startswith(prefix):
                    return reply({name[:-1]: _one(world, name, path[len(prefix) :])})
        elif method == "PUT" and path.startswith("/v2/orders/"):
            return update_order(world, path[len("/v2/orders/") :], _body(req))
    except VendorError as exc:
        return reply(exc.payload, exc.status)
    return reply(
        {
            "errors": [
                {
                    "category": "INVALID_REQUEST_ERROR",
                    "code": "NOT_FOUND",
                    "detail": f"API endpoint for URL path `{req.path}` and HTTP method `{method}` is not found.",
                }
            ]
        },
        404,
    )


def _body(req: Request) -> dict:
    try:
        body = req.json()
    except ValueError:
        raise error(400, "INVALID_JSON", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise error(400, "INVALID_JSON", "The request body must be a JSON object.")
    return body


def _limit(value, default: int, maximum: int) -> int:
    try:
        return limit_arg(value, default=default, maximum=maximum)
    except (TypeError, ValueError):
        raise error(400, "INVALID_VALUE", f"`limit` must be between 1 and {maximum}.", field="limit") from None


def _time(value, field: str, *, ceil: bool) -> int | None:
    if value in (None, ""):
        return None
    try:
        return parse_time(str(value), ceil=ceil)
    except ValueError:
        raise error(400, "INVALID_TIME", f"`{field}` must be an RFC 3339 timestamp.", field=field) from None


def _resume(cursor: str) -> tuple[dict, tuple]:
    try:
        state = decode_token(cursor)
        return state["f"], tuple(state["a"])
    except (ValueError, KeyError, TypeError):
        raise error(400, "INVALID_CURSOR", "The cursor is not valid for this request.", field="cursor") from None


def _page(world, stream, f: dict, *, limit: int, after, accept, root: str, render, follow, extra=None) -> Response:
    """One page of ``stream`` for the query state ``f``; ``follow(cursor)`` is the next request."""
    now = world.now
    rows = _rows(world, stream, f)
    sort_updated = f.get("sf") in (None, "UPDATED_AT", "DEFAULT")
    found, more = walk(
        rows,
        limit=limit,
        accept=accept,
        low=f.get("lo"),
        high=f.get("hi"),
        after=after,
        desc=f.get("so") == "DESC",
    )
    items = []
    for row in found:
        i = row[2]
        updated = row[0] if sort_updated else stream.updated_at(i, now)
        payload = render(world, stream.objects[i], now, updated)
        how = world.corruption("square", stream.name, stream.externals[i])
        if how:
            id_field, list_field, date_field = CORRUPTION_FIELDS[stream.name]
            payload = corrupt(payload, how, id_field=id_field, list_field=list_field, date_field=date_field)
        items.append(payload)
    out = dict(extra or {})
    if items:
        out[root] = items
    if not more:
        return reply(out)
    out["cursor"] = cursor = encode_token({"f": f, "a": [found[-1][0], found[-1][1]]})
    response = reply(out)
    response.follow = follow(cursor)
    return response


def _body_follow(req: Request, body: dict):
    return lambda cursor: req.follow(body={**body, "cursor": cursor})


def _rows(world, stream, f: dict):
    """The sorted rows to walk for the query's sort field; creation order is capped at now."""
    now = world.now
    if f.get("sf") == "CREATED_AT":
        f["hi"] = min(f["hi"], now) if f.get("hi") is not None else now
        return stream.created_rows()
    return stream.visible(now)


# --- orders -------------------------------------------------------------------------------
def search_orders(world, req: Request, body: dict) -> Response:
    limit = _limit(body.get("limit"), 500, 1000)
    if world.shape == "varied":  # a page may hold fewer orders than asked, as Square says it may
        limit = min(limit, VARIED_ORDER_PAGE)
    if body.get("cursor"):
        f, after = _resume(body["cursor"])
    else:
        query = body.get("query") or {}
        flt, sort = query.get("filter") or {}, query.get("sort") or {}
        f = {
            "sf": str(sort.get("sort_field") or "CREATED_AT").upper(),
            "so": str(sort.get("sort_order") or "DESC").upper(),
        }
        if f["sf"] not in ("CREATED_AT", "UPDATED_AT") or f["so"] not in ("ASC", "DESC"):
            raise error(
                400,
                "INVALID_ENUM_VALUE",
                "sort_field must be CREATED_AT or UPDATED_AT, sort_order ASC or DESC.",
                field="query.sort",
            )
        dates = flt.get("date_time_filter") or {}
        for name, span in dates.items():
            if name.upper() != f["sf"]:
                raise error(
                    400,
                    "INVALID_VALUE",
                    f"date_time_filter.{name} requires query.sort.sort_field {name.upper()}.",
                    field=f"query.filter.date_time_filter.{name}",
                )
            f["lo"] = _time((span or {}).get("start_at"), f"{name}.start_at", ceil=True)
            f["hi"] = _time((span or {}).get("end_at"), f"{name}.end_at", ceil=False)
        f["loc"] = body.get("location_ids") or None
        f["st"] = (flt.get("state_filter") or {}).get("states") or None
        f["cu"] = (flt.get("customer_filter") or {}).get("customer_ids") or None
        f["re"] = bool(body.get("return_entries"))
        after = None
    stream = world.stream("square", "orders")
    now = world.now
    locations, states, customers = f.get("loc"), f.get("st"), f.get("cu")

    def accept(i: int) -> bool:
        o = stream.objects[i]
        if locations and o.store.square_id not in locations:
            return False
        if customers and (o.person is None or o.person.square_id not in customers or o.channel != "store"):
            return False
        return not states or order_state(o, now) in states

    render = order_entry if f.get("re") else render_order
    root = "order_entries" if f.get("re") else "orders"
    return _page(
        world,
        stream,
        f,
        limit=limit,
        after=after,
        accept=accept,
        root=root,
        render=render,
        follow=_body_follow(req, body),
    )


def _batch_orders(world, body: dict) -> Response:
    stream = world.stream("square", "orders")
    out = []
    for ident in body.get("order_ids") or []:
        i = stream.find(str(ident))
        if i is not None and stream.exists(i, world.now):
            out.append(render_order(world, stream.objects[i], world.now, stream.updated_at(i, world.now)))
    return reply({"orders": out} if out else {})


FULFILLMENT_STATES = ("PROPOSED", "RESERVED", "PREPARED", "COMPLETED", "CANCELED", "FAILED")


def update_order(world, ident: str, body: dict) -> Response:
    """UpdateOrder, only as far as a counter needs it: the state of the order's PICKUP fulfillment.

    The state is kept in ``world.fulfillment_states`` and overrides the generated one
    when the order is rendered; the order is bumped (a new ``updated_at``) and so is
    ``revision``, so no read-ahead serves the old order.
    """
    order = _one(world, "orders", ident)
    wanted = ((body.get("order") or {}).get("fulfillments") or [{}])[0]
    if not body.get("idempotency_key"):
        raise error(400, "MISSING_REQUIRED_PARAMETER", "Field must be set", field="idempotency_key")
    if wanted.get("state") not in FULFILLMENT_STATES:
        raise error(400, "INVALID_ENUM_VALUE", f"`{wanted.get('state')}` is not a valid enum value.", field="state")
    uids = [f["uid"] for f in order.get("fulfillments") or []]
    if wanted.get("uid") not in uids:
        raise error(400, "NOT_FOUND", f"Fulfillment `{wanted.get('uid')}` not found on order `{ident}`.")
    with world.lock:
        world.fulfillment_states[ident] = wanted["state"]
        stream = world.stream("square", "orders")
        stream.bump(stream.find(ident), world.now)  # updated_at moves: the next sync reads the order again
        world.revision += 1
    return reply({"order": _one(world, "orders", ident)})


def _one(world, name: str, ident: str) -> dict:
    stream = world.stream("square", name)
    i = stream.find(ident)
    now = world.now
    if i is None or not stream.exists(i, now):
        raise error(
            404,
            "NOT_FOUND",
            f"Could not find {name[:-1]} with id `{ident}`.",
            category="INVALID_REQUEST_ERROR",
        )
    render = {"orders": render_order, "payments": render_payment, "customers": render_customer}[name]
    return render(world, stream.objects[i], now, stream.updated_at(i, now))


# --- payments -------------------------------------------------------------------------------
def list_payments(world, req: Request) -> Response:
    limit = _limit(req.arg("limit"), 100, 100)
    if req.arg("cursor"):
        f, after = _resume(req.arg("cursor"))
    else:
        f = {
            "sf": (req.arg("sort_field") or "CREATED_AT").upper(),
            "so": (req.arg("sort_order") or "DESC").upper(),
            "loc": req.arg("location_id"),
        }
        if f["sf"] not in ("CREATED_AT", "UPDATED_AT") or f["so"] not in ("ASC", "DESC"):
            raise error(
                400,
                "INVALID_ENUM_VALUE",
                "sort_field must be CREATED_AT or UPDATED_AT, sort_order ASC or DESC.",
            )
        created = (
            _time(req.arg("begin_time"), "begin_time", ceil=True),
            _time(req.arg("end_time"), "end_time", ceil=False),
        )
        updated = (
            _time(req.arg("updated_at_begin_time"), "updated_at_begin_time", ceil=True),
            _time(req.arg("updated_at_end_time"), "updated_at_end_time", ceil=False),
        )
        f["lo"], f["hi"] = created if f["sf"] == "CREATED_AT" else updated
        f["other"] = updated if f["sf"] == "CREATED_AT" else created
        after = None
    stream = world.stream("square", "payments")
    now = world.now
    lo, hi = f.get("other") or (None, None)

    def accept(i: int) -> bool:
        o = stream.objects[i]
        if f.get("loc") and o.store.square_id != f["loc"]:
            return False
        value = stream.versions[i][0] if f["sf"] == "UPDATED_AT" else stream.updated_at(i, now)
        return (lo is None or value >= lo) and (hi is None or value <= hi)

    def follow(cursor: str) -> Request:
        return req.follow(query={"cursor": cursor})

    return _page(
        world,
        stream,
        f,
        limit=limit,
        after=after,
        accept=accept,
        root="payments",
        render=render_payment,
        follow=follow,
    )


# --- customers ------------------------------------------------------------------------------
def search_customers(world, req: Request, body: dict) -> Response:
    limit = _limit(body.get("limit"), 100, 100)
    if body.get("cursor"):
        f, after = _resume(body["cursor"])
    else:
        query = body.get("query") or {}
        flt, sort = query.get("filter") or {}, query.get("sort") or {}
        field = str(sort.get("field") or "DEFAULT").upper()
        f = {
            "sf": "CREATED_AT" if field == "CREATED_AT" else "DEFAULT",
            "so": str(sort.get("order") or "ASC").upper(),
        }
        for name in ("created_at", "updated_at"):
            span = flt.get(name) or {}
            f[name] = (
                _time(span.get("start_at"), f"{name}.start_at", ceil=True),
                _time(span.get("end_at"), f"{name}.end_at", ceil=False),
            )
        f["email"] = ((flt.get("email_address") or {}).get("exact") or "").lower() or None
        f["phone"] = "".join(ch for ch in (flt.get("phone_number") or {}).get("exact") or "" if ch.isdigit()) or None
        f["ref"] = (flt.get("reference_id") or {}).get("exact") or None
        after = None
    stream = world.stream("square", "customers")
    now = world.now

    def accept(i: int) -> bool:
        p = stream.objects[i]
        created, updated = stream.versions[i][0], stream.updated_at(i, now)
        for value, (lo, hi) in ((created, f["created_at"]), (updated, f["updated_at"])):
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                return False
        if f.get("email") and p.contact("square", "email", p.square_email).lower() != f["email"]:
            return False
        phone = "".join(ch for ch in p.contact("square", "phone", p.phone) if ch.isdigit())
        if f.get("phone") and phone != f["phone"] and phone[1:] != f["phone"]:
            return False
        return not f.get("ref") or p.loyalty_id == f["ref"]

    return _page(
        world,
        stream,
        f,
        limit=limit,
        after=after,
        accept=accept,
        root="customers",
        render=render_customer,
        follow=_body_follow(req, body),
    )


# --- inventory, catalogue, locations ----------------------------------------------------------
def inventory_counts(world, req: Request, body: dict) -> Response:
    limit = _limit(body.get("limit"), 1000, 1000)
    if body.get("cursor"):
        f, after = _resume(body["cursor"])
    else:
        since = _time(body.get("updated_after"), "updated_after", ceil=False)
        f = {"sf": "UPDATED_AT", "so": "ASC", "lo": since + 1 if since is not None else None}
        f["loc"] = body.get("location_ids") or None
        f["cat"] = body.get("catalog_object_ids") or None
        f["st"] = body.get("states") or None
        after = None
    stream = world.stream("square", "inventory")
    locations, items, states = f.get("loc"), f.get("cat"), f.get("st")

    def accept(i: int) -> bool:
        stock = stream.objects[i]
        if locations and stock.store.square_id not in locations:
            return False
        if items and stock.product.square_variation_id not in items:
            return False
        return not states or "IN_STOCK" in states

    return _page(
        world,
        stream,
        f,
        limit=limit,
        after=after,
        accept=accept,
        root="counts",
        render=render_count,
        follow=_body_follow(req, body),
        extra={"errors": []},
    )


def list_catalog(world, req: Request) -> Response:
    """ListCatalog of ITEM_VARIATION objects: where a catalog_object_id's SKU is found."""
    types = {t.strip().upper() for t in (req.arg("types") or "ITEM_VARIATION").split(",")}
    if "ITEM_VARIATION" not in types:
        return reply({})
    try:
        start = int(decode_token(req.arg("cursor"))["o"]) if req.arg("cursor") else 0
    except (ValueError, KeyError, TypeError):
        return reply(
            {
                "errors": [
                    {
                        "category": "INVALID_REQUEST_ERROR",
                        "code": "INVALID_CURSOR",
                        "detail": "Invalid cursor.",
                    }
                ]
            },
            400,
        )
    products = world.stream("square", "catalog").objects
    page = products[start : start + 100]
    stamp = iso_ms_z(world.setup_time)
    objects = [{
        "type": "ITEM_VARIATION", "id": p.square_variation_id, "updated_at": stamp, "created_at": stamp, "version": 1,
        "is_deleted": False, "present_at_all_locations": True,
        "item_variation_data": {"item_id": p.square_item_id, "name": "Regular", "sku": p.sku, "ordinal": 0, "pricing_type": "FIXED_PRICING", "price_money": money(p.store_cents)},
    } for p in page]  # fmt: skip
    out: dict = {"objects": objects} if objects else {}
    if start + 100 < len(products):
        out["cursor"] = encode_token({"o": start + 100})
    return reply(out)
