"""Shopify Admin REST API 2025-07: orders, customers, locations; an order's fulfillment orders and
``POST fulfillments.json`` (what the store counter writes back at a handover).

Paging is Shopify's cursor paging: the ``Link`` header carries a ``rel="next"`` URL
whose opaque ``page_info`` encodes the filters and the last (sort value, id) served,
so the next request needs only ``limit`` and ``page_info`` (adding a filter to it is a
400, as on Shopify). Rows are ordered by ``updated_at`` then id (``order=updated_at
asc``, the default here) or by id (``order=id asc``/``created_at asc``).
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from urllib.parse import quote

from ..model import parse_time
from ..streams import decode_token, encode_token, walk
from . import Request, Response, VendorError, corrupt, limit_arg, reply
from .shopify_graphql import bulk_file, handle_graphql
from .shopify_nodes import gid
from .shopify_records import (
    COUNTER_FULFILMENT_BASE,
    FULFILLMENT_ORDER_BASE,
    closed_at,
    counter_fulfilment,
    fulfillment_order,
    render_customer,
    render_location,
    render_order,
    transactions,
)

TOKEN = "shpat_sandbox"  # noqa: S105 (the sandbox's published credential)
ROUTE = re.compile(r"^/admin/api/(?P<version>[\w-]+)/(?P<resource>[\w/]+?)\.json$")


def handle(world, req: Request) -> Response:
    if req.path.startswith("/bulk/") and req.method == "GET":  # a bulk operation's file, at its signed URL
        return bulk_file(world, req)
    if req.header("X-Shopify-Access-Token") != TOKEN:
        return reply(
            {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
            401,
        )
    match = ROUTE.match(req.path)
    if match is None or req.method not in ("GET", "POST"):
        return reply({"errors": "Not Found"}, 404)
    resource = match["resource"]
    base = f"{req.origin}{req.prefix}/admin/api/{match['version']}"
    if req.method == "POST":
        if resource == "graphql":
            return handle_graphql(world, req, GRAPHQL)
        if resource != "fulfillments":
            return reply({"errors": "Not Found"}, 404)
        try:
            return fulfillment_create(world, req)
        except VendorError as exc:
            return reply(exc.payload, exc.status)
    try:
        if resource in ("orders", "customers"):
            return _list(world, req, resource, base)
        if resource in ("orders/count", "customers/count"):
            return _count(world, req, resource.split("/")[0])
        if resource == "locations":
            stream = world.stream("shopify", "locations")
            return reply({"locations": [render_location(s, world.setup_time) for s in stream.objects]})
        parts = resource.split("/")
        if len(parts) == 2 and parts[0] in ("orders", "customers"):
            return _one(world, parts[0], parts[1])
        if len(parts) == 3 and parts[0] == "orders" and parts[2] == "transactions":
            o = _find(world, "orders", parts[1])
            shop = req.arg("in_shop_currency") == "true"  # else in the currency the customer paid in
            return reply({"transactions": transactions(o, world.now, shop)})
        if len(parts) == 3 and parts[0] == "orders" and parts[2] == "fulfillment_orders":
            o = _find(world, "orders", parts[1])
            return reply({"fulfillment_orders": [fulfillment_order(world, o, world.now)]})
    except VendorError as exc:
        return reply(exc.payload, exc.status)
    return reply({"errors": "Not Found"}, 404)


# --- listing ----------------------------------------------------------------------------
def _filters(req: Request, resource: str) -> dict:
    f: dict = {"o": "updated"}
    for name in ("updated_at_min", "updated_at_max", "created_at_min", "created_at_max"):
        value = req.arg(name)
        if value:
            try:
                f[name] = parse_time(value, ceil=name.endswith("min"))
            except ValueError:
                raise VendorError(400, {"errors": {name: ["is invalid"]}}) from None
    if req.arg("since_id"):
        f["since_id"] = _int_arg(req, "since_id")
    if req.arg("ids"):
        try:
            f["ids"] = sorted({int(x) for x in req.arg("ids").split(",") if x.strip()})
        except ValueError:
            raise VendorError(400, {"errors": {"ids": ["is invalid"]}}) from None
    if resource == "orders":
        status = req.arg("status", "open")
        if status not in ("open", "closed", "cancelled", "any"):
            raise VendorError(400, {"errors": {"status": ["is invalid"]}})
        f["status"] = status
    order = (req.arg("order") or "updated_at asc").strip().lower()
    if order in ("id asc", "created_at asc"):
        f["o"] = "id"
    elif order != "updated_at asc":
        raise VendorError(400, {"errors": {"order": ["must be 'updated_at asc', 'created_at asc' or 'id asc'"]}})
    return f


def _int_arg(req: Request, name: str) -> int:
    try:
        return int(req.arg(name))
    except (TypeError, ValueError):
        raise VendorError(400, {"errors": {name: ["is invalid"]}}) from None


def _select(world, stream, f: dict, limit: int, after):
    now = world.now
    status = f.get("status", "any")
    ids = set(f.get("ids", ())) or None
    since = f.get("since_id")

    def accept(i: int) -> bool:
        key = stream.keys[i]
        if (ids is not None and key not in ids) or (since is not None and key <= since):
            return False
        if f["o"] == "id":
            if not stream.exists(i, now):
                return False
            updated = stream.updated_at(i, now)
            if updated < f.get("updated_at_min", updated) or updated > f.get("updated_at_max", updated):
                return False
        else:
            created = stream.versions[i][0]
            if created < f.get("created_at_min", created) or created > f.get("created_at_max", created):
                return False
        return status == "any" or _status(stream.objects[i], now) == status

    if f["o"] == "id":
        high = min(now, f.get("created_at_max", now))
        return walk(
            stream.created_rows(),
            limit=limit,
            accept=accept,
            low=f.get("created_at_min"),
            high=high,
            after=after,
        )
    return walk(
        stream.visible(now),
        limit=limit,
        accept=accept,
        low=f.get("updated_at_min"),
        high=f.get("updated_at_max"),
        after=after,
    )


def _status(o, now: int) -> str:
    if o.cancel is not None and o.cancel <= now:
        return "cancelled"
    return "closed" if closed_at(o, now) is not None else "open"


def _list(world, req: Request, resource: str, base: str) -> Response:
    try:
        limit = limit_arg(req.arg("limit"), default=50, maximum=250)
    except ValueError:
        return reply({"errors": {"limit": ["is invalid"]}}, 400)
    token = req.arg("page_info")
    if token:
        extra = sorted(set(req.query) - {"limit", "page_info", "fields"})
        if extra:
            return reply({"errors": {"page_info": [f"cannot be combined with {', '.join(extra)}"]}}, 400)
        try:
            state = decode_token(token)
            f, after = state["f"], tuple(state["a"])
        except (ValueError, KeyError, TypeError):
            return reply({"errors": {"page_info": ["Invalid value."]}}, 400)
    else:
        f, after = _filters(req, resource), None
    stream = world.stream("shopify", resource)
    rows, more = _select(world, stream, f, limit, after)
    now = world.now
    render = render_order if resource == "orders" else render_customer
    items = []
    for row in rows:
        i = row[2]
        updated = row[0] if f["o"] == "updated" else stream.updated_at(i, now)
        items.append(_rendered(world, resource, stream, i, render(world, stream.objects[i], now, updated)))
    fields = req.arg("fields")
    if fields:
        wanted = [name.strip() for name in fields.split(",") if name.strip()]
        items = [{k: item[k] for k in wanted if k in item} for item in items]
    response = reply({resource: items})
    if more:
        token = encode_token({"f": f, "a": [rows[-1][0], rows[-1][1]]})
        query = {"limit": limit, "page_info": token, **({"fields": fields} if fields else {})}
        link = "&".join(f"{k}={quote(str(v), safe=',')}" for k, v in query.items())
        response.headers.append(("Link", f'<{base}/{resource}.json?{link}>; rel="next"'))
        response.follow = req.follow(query=query, only=True)
    return response


def _count(world, req: Request, resource: str) -> Response:
    stream = world.stream("shopify", resource)
    rows, _ = _select(world, stream, _filters(req, resource), len(stream) + 1, None)
    return reply({"count": len(rows)})


def _rendered(world, resource: str, stream, i: int, payload: dict) -> dict:
    how = world.corruption("shopify", resource, str(stream.keys[i]))
    if how:
        list_field = "line_items" if resource == "orders" else "addresses"
        return corrupt(payload, how, id_field="id", list_field=list_field, date_field="created_at")
    return payload


def _find(world, resource: str, ident: str):
    stream = world.stream("shopify", resource)
    i = stream.find(ident)
    if i is None or not stream.exists(i, world.now):
        raise VendorError(404, {"errors": "Not Found"})
    return stream.objects[i]


def _one(world, resource: str, ident: str) -> Response:
    stream = world.stream("shopify", resource)
    obj = _find(world, resource, ident)
    i = stream.find(ident)
    now = world.now
    render = render_order if resource == "orders" else render_customer
    payload = _rendered(world, resource, stream, i, render(world, obj, now, stream.updated_at(i, now)))
    return reply({resource[:-1]: payload})


# --- the store counter's fulfilment ------------------------------------------------------------
def _unprocessable(message: str) -> VendorError:
    return VendorError(422, {"errors": [message]})


def fulfillment_create(world, req: Request) -> Response:
    """``POST fulfillments.json``: fulfil fulfillment-order line items (all of them when none are named).

    As on Shopify: the fulfillment order must be open or in progress and each quantity
    at most what is still fulfillable; the answer is 201 with the fulfillment.
    """
    try:
        body = req.json()
        wanted = body["fulfillment"]["line_items_by_fulfillment_order"]
        if not isinstance(wanted, list) or len(wanted) != 1 or not isinstance(wanted[0], dict):
            raise TypeError
        fo_id = int(wanted[0]["fulfillment_order_id"])
    except (ValueError, KeyError, TypeError):
        raise VendorError(
            400, {"errors": {"fulfillment": "Required parameter missing or invalid: line_items_by_fulfillment_order"}}
        ) from None
    return reply({"fulfillment": _fulfil(world, fo_id, wanted[0].get("fulfillment_order_line_items"))}, 201)


def _by_fulfillment_order(world, fo_id: int):
    """The world order whose fulfillment order is ``fo_id`` (404 when there is none at this clock)."""
    stream = world.stream("shopify", "orders")
    if "by_fulfillment_order" not in stream.memo:
        stream.memo["by_fulfillment_order"] = {FULFILLMENT_ORDER_BASE + o.idx: i for i, o in enumerate(stream.objects)}
    i = stream.memo["by_fulfillment_order"].get(fo_id)
    if i is None or not stream.exists(i, world.now):
        raise VendorError(404, {"errors": "Not Found"})
    return stream, i


def _fulfil(world, fo_id: int, items) -> dict:
    """Fulfil ``items`` (``[{id, quantity}]``; None: all that is left) of fulfillment order ``fo_id``.

    One counter fulfilment per order is all the sandbox keeps (the counter hands over once).
    """
    stream, i = _by_fulfillment_order(world, fo_id)
    now = world.now
    o = stream.objects[i]
    with world.lock:
        fo = fulfillment_order(world, o, now)
        if fo["status"] not in ("open", "in_progress") or o.shopify_id in world.shopify_fulfilled:
            raise _unprocessable(f"Fulfillment order {fo_id} has an unfulfillable status= {fo['status']}.")
        left = {item["id"]: item for item in fo["line_items"]}
        if items is None:
            items = [{"id": k, "quantity": item["fulfillable_quantity"]} for k, item in left.items()]
        quantities: dict[int, int] = {}
        for item in items:
            line = left.get(item.get("id")) if isinstance(item, dict) else None
            quantity = item.get("quantity") if isinstance(item, dict) else None
            if line is None or not isinstance(quantity, int) or not 0 <= quantity <= line["fulfillable_quantity"]:
                raise _unprocessable(f"Invalid fulfillment order line item quantity requested: {item!r}")
            if quantity:
                quantities[line["line_item_id"]] = quantity
        if not quantities:
            raise _unprocessable("Fulfillment must contain at least one line item with a quantity.")
        fulfilment = counter_fulfilment(o, COUNTER_FULFILMENT_BASE + o.idx, quantities, now)
        world.shopify_fulfilled[o.shopify_id] = {"fulfillment": fulfilment, "quantities": quantities, "at": now}
        stream.bump(i, now)  # the order changed: its updated_at moves and the next sync reads it
        world.revision += 1
    return fulfilment


# --- the same over GraphQL ------------------------------------------------------------------------
def _gid_number(value) -> int:
    return int(str(value).rsplit("/", 1)[-1])


def _user_errors(exc: VendorError, field: str) -> list[dict]:
    errors = exc.payload.get("errors") if isinstance(exc.payload, dict) else None
    message = errors[0] if isinstance(errors, list) and errors else "Not Found" if exc.status == 404 else str(errors)
    return [{"field": [field], "message": str(message)}]


def graphql_fulfillment_create(world, fulfillment) -> dict:
    """``fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder: [...]})``: REST's rules, userErrors for refusals."""
    try:
        wanted = fulfillment["lineItemsByFulfillmentOrder"]
        if not isinstance(wanted, list) or len(wanted) != 1 or not isinstance(wanted[0], dict):
            raise TypeError
        fo_id = _gid_number(wanted[0]["fulfillmentOrderId"])
        items = wanted[0].get("fulfillmentOrderLineItems")
        if items is not None:
            items = [{"id": _gid_number(item["id"]), "quantity": item.get("quantity")} for item in items]
    except (ValueError, KeyError, TypeError):
        return {
            "fulfillment": None,
            "userErrors": [{"field": ["fulfillment"], "message": "lineItemsByFulfillmentOrder is invalid"}],
        }
    try:
        made = _fulfil(world, fo_id, items)
    except VendorError as exc:
        return {"fulfillment": None, "userErrors": _user_errors(exc, "fulfillment")}
    return {"fulfillment": {"id": gid("Fulfillment", made["id"]), "status": "SUCCESS"}, "userErrors": []}


def graphql_prepared_for_pickup(world, given) -> dict:
    """``fulfillmentOrderLineItemsPreparedForPickup``: open pick-up fulfillment orders are marked ready.

    Asking again for one already marked is accepted and changes nothing (Shopify sends the
    customer's notification once per preparation).
    """
    try:
        fo_ids = [_gid_number(batch["fulfillmentOrderId"]) for batch in given["lineItemsByFulfillmentOrder"]]
    except (ValueError, KeyError, TypeError):
        return {"userErrors": [{"field": ["input"], "message": "lineItemsByFulfillmentOrder is invalid"}]}
    errors = []
    now = world.now
    for fo_id in fo_ids:
        try:
            stream, i = _by_fulfillment_order(world, fo_id)
        except VendorError as exc:
            errors += _user_errors(exc, "input")
            continue
        o = stream.objects[i]
        fo = fulfillment_order(world, o, now)
        if o.kind != "pickup" or fo["status"] not in ("open", "in_progress"):
            errors.append({"field": ["input"], "message": f"Fulfillment order {fo_id} cannot be prepared for pickup."})
            continue
        world.shopify_prepared.setdefault(o.shopify_id, now)
    return {"userErrors": errors}


def _resource(world, resource: str, stream, i: int, updated: int) -> dict:
    render = render_order if resource == "orders" else render_customer
    return render(world, stream.objects[i], world.now, updated)


# What the GraphQL view uses of this one: the same selection, renderings and counter actions.
GRAPHQL = SimpleNamespace(
    select=_select,
    resource=_resource,
    location=render_location,
    fulfillment_create=graphql_fulfillment_create,
    prepared_for_pickup=graphql_prepared_for_pickup,
)
