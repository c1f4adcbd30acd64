"""Shopify GraphQL Admin API 2025-07: ``POST /admin/api/<version>/graphql.json``.

The sandbox is no GraphQL engine: it recognises the documents a Shopify client sends
for what the sandbox has (``orders``, ``customers``, ``locations``, ``order(id:)``, and
the mutations ``fulfillmentOrderLineItemsPreparedForPickup`` and ``fulfillmentCreate``) by
their root field, reads their variables, and answers every field the OmniDesk adapter
selects, in Shopify's shapes: global ids (``gid://shopify/Order/…``), ``MoneyBag``
(``shopMoney``), connections with ``nodes`` and ``pageInfo``, upper-case enums, UTC
times. Nodes are the REST resources of ``shopify_records`` restated, so both APIs show
one world. A document it does not recognise is answered with a GraphQL error.

Search: ``query: "updated_at:>='ISO'"`` (or ``>``); orders of every status are listed,
as GraphQL does. ``sortKey: UPDATED_AT``; the ``endCursor`` encodes the filter and the
last (updated_at, id) served.

Cost: every answer carries ``extensions.cost``. A query's requested cost is ``1 +
first × node cost`` (:data:`NODE_COST`, a rough stand-in for Shopify's calculation, low
enough that a page of 250 orders stays under the single-query limit of 1,000), its
actual cost ``1 + nodes returned × node cost``; the bucket (:class:`CostBucket`) is
reported and enforced: a query that asks for more than is available is answered
``THROTTLED`` and costs nothing. The default restore rate keeps one paging client far
from empty; ``restore_rate=100`` rehearses the standard plan.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from ..model import iso_z, parse_time
from ..streams import decode_token, encode_token
from . import Request, Response, VendorError, corrupt, reply
from .shopify_records import fulfillment_order, transactions

NODE_COST = {"orders": 3, "customers": 1, "locations": 1, "order": 3}
MUTATION_COST = 10
MAX_QUERY_COST = 1000  # Shopify refuses a single query that asks for more
ROOT = re.compile(
    r"\b(?P<field>fulfillmentOrderLineItemsPreparedForPickup|fulfillmentCreate|orders|customers|locations|order)\s*\("
    r"|\b(?P<bare>locations)\b"
)
SEARCH = re.compile(r"updated_at:(?P<op>>=|>)\s*'?(?P<value>[^'\s]+)'?")
FULFILLMENT_DISPLAY = {None: "FULFILLED"}


class CostBucket:
    """Shopify's GraphQL leaky bucket of query cost points (standard plan: 2,000, restoring 100/s)."""

    def __init__(self, maximum: float = 2000.0, restore_rate: float = 100_000.0):
        self.lock = threading.Lock()
        self.maximum, self.restore_rate = maximum, restore_rate
        self.available, self.stamp = maximum, time.monotonic()

    def configure(self, *, maximum: float | None = None, restore_rate: float | None = None) -> dict:
        with self.lock:
            if maximum is not None:
                self.maximum = float(maximum)
            if restore_rate is not None:
                if float(restore_rate) <= 0:
                    raise ValueError("restore_rate must be positive")
                self.restore_rate = float(restore_rate)
            self.available, self.stamp = self.maximum, time.monotonic()
            return {"maximum": self.maximum, "restore_rate": self.restore_rate}

    def take(self, requested: float, actual) -> dict:
        """Spend ``actual()`` points when ``requested`` are available; the cost extension, ``throttled`` in it."""
        with self.lock:
            now = time.monotonic()
            self.available = min(self.maximum, self.available + self.restore_rate * (now - self.stamp))
            self.stamp = now
            throttled = requested > self.available
            spent = 0 if throttled else actual()
            self.available -= spent
            return {
                "requestedQueryCost": requested,
                "actualQueryCost": None if throttled else spent,
                "throttleStatus": {
                    "maximumAvailable": self.maximum,
                    "currentlyAvailable": int(self.available),
                    "restoreRate": self.restore_rate,
                },
                "throttled": throttled,
            }


def handle_graphql(world, req: Request, render) -> Response:
    """Answer one GraphQL POST; ``render`` holds the REST renderers and the counter's actions (``shopify``)."""
    try:
        body = req.json()
        document, variables = body["query"], body.get("variables") or {}
        if not isinstance(document, str) or not isinstance(variables, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return reply(
            {"errors": [{"message": "Bad Request: a JSON body with 'query' and 'variables' is required"}]}, 400
        )
    match = ROOT.search(document.split("fragment", 1)[0])
    if match is None:
        return _error("the sandbox answers orders, customers, locations, order and the pickup mutations only")
    field = match["field"] or match["bare"]
    try:
        first = _first(variables, field)
    except VendorError as exc:
        return reply(exc.payload, exc.status)
    requested = 1 + first * NODE_COST.get(field, MUTATION_COST) if first else MUTATION_COST
    if requested > MAX_QUERY_COST:
        return _error(
            f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).",
            "MAX_COST_EXCEEDED",
        )
    answer: dict[str, Any] = {}

    def run() -> int:
        answer["data"] = _run(world, field, variables, render)
        return _actual(field, answer["data"])

    try:
        cost = world.shopify_cost.take(requested, run)
    except VendorError as exc:
        return reply(exc.payload, exc.status)
    throttled = cost.pop("throttled")
    if throttled:
        return reply({
            "errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": {"cost": cost},
        })  # fmt: skip
    if "errors" in answer["data"]:
        return reply({"errors": answer["data"]["errors"], "extensions": {"cost": cost}})
    return reply({"data": answer["data"], "extensions": {"cost": cost}})


def _error(message: str, code: str = "") -> Response:
    error: dict[str, Any] = {"message": message}
    if code:
        error["extensions"] = {"code": code}
    return reply({"errors": [error]})


def _first(variables: dict, field: str) -> int:
    if field in ("orders", "customers"):
        try:
            return max(1, min(250, int(variables.get("first") or 50)))
        except (TypeError, ValueError):
            message = "Variable $first of type Int! was provided invalid value"
            raise VendorError(200, {"errors": [{"message": message}]}) from None
    return {"locations": 250, "order": 1}.get(field, 0)


def _actual(field: str, data: dict) -> int:
    if field in ("orders", "customers", "locations"):
        return 1 + len((data.get(field) or {}).get("nodes") or []) * NODE_COST[field]
    return 1 + NODE_COST["order"] if field == "order" else MUTATION_COST


def _run(world, field: str, variables: dict, render) -> dict:
    if field == "locations":
        stream = world.stream("shopify", "locations")
        return {"locations": {"nodes": [location(render.location(s, world.setup_time)) for s in stream.objects]}}
    if field in ("orders", "customers"):
        return {field: _page(world, field, variables, render)}
    if field == "order":
        return {"order": _order_by_id(world, variables.get("id"), render)}
    if field == "fulfillmentCreate":
        return {"fulfillmentCreate": render.fulfillment_create(world, variables.get("fulfillment"))}
    return {"fulfillmentOrderLineItemsPreparedForPickup": render.prepared_for_pickup(world, variables.get("input"))}


def _page(world, resource: str, variables: dict, render) -> dict:
    first = _first(variables, resource)
    after = variables.get("after")
    if after:
        try:
            state = decode_token(after)
            f, last = state["f"], tuple(state["a"])
        except (ValueError, KeyError, TypeError):
            message = f"Invalid cursor for current pagination sort: {after}"
            raise VendorError(200, {"errors": [{"message": message}]}) from None
    else:
        f, last = {"o": "updated", "status": "any"}, None
        search = variables.get("query") or ""
        found = SEARCH.search(search)
        if found:
            try:
                moment = parse_time(found["value"], ceil=True)
            except ValueError:
                raise VendorError(200, {"errors": [{"message": f"Invalid search query: {search}"}]}) from None
            f["updated_at_min"] = moment if found["op"] == ">=" else moment + 1
    stream = world.stream("shopify", resource)
    rows, more = render.select(world, stream, f, first, last)
    now = world.now
    nodes = []
    for updated, _, i in rows:
        rest = render.resource(world, resource, stream, i, updated)
        node = order(world, stream.objects[i], rest, now) if resource == "orders" else customer(rest)
        how = world.corruption("shopify", resource, str(stream.keys[i]))
        if how:
            list_field = "lineItems" if resource == "orders" else "tags"
            node = corrupt(node, how, id_field="id", list_field=list_field, date_field="createdAt")
        nodes.append(node)
    end = encode_token({"f": f, "a": [rows[-1][0], rows[-1][1]]}) if rows else None
    return {"pageInfo": {"hasNextPage": bool(more), "endCursor": end}, "nodes": nodes}


def _order_by_id(world, ident: Any, render) -> dict | None:
    tail = str(ident or "").rsplit("/", 1)[-1]
    stream = world.stream("shopify", "orders")
    i = stream.find(tail)
    now = world.now
    if i is None or not stream.exists(i, now):
        return None
    rest = render.resource(world, "orders", stream, i, stream.updated_at(i, now))
    return order(world, stream.objects[i], rest, now)


# -- REST resource -> GraphQL node ----------------------------------------------------------------
def gid(kind: str, ident) -> str:
    return f"gid://shopify/{kind}/{ident}"


def _z(value: str | None) -> str | None:
    return iso_z(parse_time(value)) if value else None


def _bag(amount, currency: str = "USD") -> dict:
    text = f"{amount:.2f}" if isinstance(amount, float) else str(amount)
    return {"shopMoney": {"amount": text, "currencyCode": currency}}


def _upper(value: str | None) -> str | None:
    return value.upper() if value else None


def _line_ref(item: dict) -> dict:
    variant = item.get("variant_id")
    return {
        "id": gid("LineItem", item["id"]),
        "sku": item.get("sku"),
        "variant": {"id": gid("ProductVariant", variant)} if variant else None,
    }


def transaction(t: dict) -> dict:
    card = t.get("payment_details")
    return {
        "id": gid("OrderTransaction", t["id"]),
        "kind": _upper(t["kind"]),
        "status": _upper(t["status"]),
        "gateway": t.get("gateway"),
        "processedAt": _z(t.get("processed_at")),
        "createdAt": _z(t.get("created_at")),
        "amountSet": _bag(t["amount"], t.get("currency") or "USD"),
        "paymentDetails": None
        if not card
        else {
            "__typename": "CardPaymentDetails",
            "company": card.get("credit_card_company"),
            "number": card.get("credit_card_number"),
        },
    }


def customer(c: dict) -> dict:
    tags = [tag.strip() for tag in (c.get("tags") or "").split(",") if tag.strip()]
    return {
        "id": gid("Customer", c["id"]),
        "firstName": c.get("first_name"),
        "lastName": c.get("last_name"),
        "defaultEmailAddress": {"emailAddress": c["email"]} if c.get("email") else None,
        "defaultPhoneNumber": {"phoneNumber": c["phone"]} if c.get("phone") else None,
        "tags": tags,
        "updatedAt": _z(c.get("updated_at")),
    }


def location(loc: dict) -> dict:
    return {
        "id": gid("Location", loc["id"]),
        "name": loc["name"],
        "address": {"address1": loc.get("address1"), "city": loc.get("city"), "zip": loc.get("zip")},
    }


def fulfillment_order_node(fo: dict, skus: dict[int, str]) -> dict:
    return {
        "id": gid("FulfillmentOrder", fo["id"]),
        "status": fo["status"].upper(),
        "deliveryMethod": {"methodType": fo["delivery_method"]["method_type"].upper()},
        "assignedLocation": {"location": {"id": gid("Location", fo["assigned_location_id"])}},
        "lineItems": {
            "nodes": [
                {
                    "id": gid("FulfillmentOrderLineItem", item["id"]),
                    "totalQuantity": item["quantity"],
                    "remainingQuantity": item["fulfillable_quantity"],
                    "lineItem": {"id": gid("LineItem", item["line_item_id"]), "sku": skus.get(item["line_item_id"])},
                }
                for item in fo["line_items"]
            ]
        },
    }


def _fulfillment(f: dict, variants: dict[int, Any]) -> dict:
    tracking = (
        [{"company": f["tracking_company"], "number": f["tracking_number"], "url": f["tracking_url"]}]
        if f.get("tracking_number")
        else []
    )
    return {
        "id": gid("Fulfillment", f["id"]),
        "status": f["status"].upper(),
        "displayStatus": _upper(f.get("shipment_status")) or "FULFILLED",
        "createdAt": _z(f.get("created_at")),
        "updatedAt": _z(f.get("updated_at")),
        "location": {"id": gid("Location", f["location_id"])} if f.get("location_id") else None,
        "trackingInfo": tracking,
        "fulfillmentLineItems": {
            "nodes": [
                {"quantity": item["quantity"], "lineItem": _line_ref({**item, "variant_id": variants.get(item["id"])})}
                for item in f["line_items"]
            ]
        },
    }


def _refund(r: dict) -> dict:
    return {
        "id": gid("Refund", r["id"]),
        "createdAt": _z(r.get("processed_at") or r.get("created_at")),
        "refundLineItems": {
            "nodes": [
                {
                    "quantity": item["quantity"],
                    "restockType": item["restock_type"].upper(),
                    "lineItem": _line_ref(item["line_item"]),
                    "subtotalSet": _bag(item["subtotal"]),
                    "totalTaxSet": _bag(item["total_tax"]),
                }
                for item in r["refund_line_items"]
            ]
        },
        "transactions": {"nodes": [transaction(t) for t in r["transactions"]]},
    }


def order(world, o, r: dict, now: int) -> dict:
    """The GraphQL ``Order`` node of REST order ``r`` (rendered for world order ``o`` at ``now``)."""
    variants = {item["id"]: item.get("variant_id") for item in r["line_items"]}
    skus = {item["id"]: item.get("sku") for item in r["line_items"]}
    c = r.get("customer")
    return {
        "id": gid("Order", r["id"]),
        "name": r["name"],
        "email": r.get("email"),
        "phone": r.get("phone"),
        "createdAt": _z(r["created_at"]),
        "updatedAt": _z(r["updated_at"]),
        "cancelledAt": _z(r.get("cancelled_at")),
        "sourceName": r.get("source_name"),
        "displayFinancialStatus": _upper(r.get("financial_status")),
        "displayFulfillmentStatus": {"fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED"}.get(
            r.get("fulfillment_status"), "UNFULFILLED"
        ),
        "currencyCode": r["currency"],
        "totalPriceSet": _bag(r["total_price"], r["currency"]),
        "customAttributes": [{"key": n["name"], "value": n["value"]} for n in r.get("note_attributes") or []],
        "retailLocation": None,
        "customer": None if c is None else customer(c),
        "shippingLines": {"nodes": [{"code": s["code"], "title": s["title"]} for s in r.get("shipping_lines") or []]},
        "lineItems": {
            "nodes": [
                {
                    "id": gid("LineItem", item["id"]),
                    "sku": item.get("sku"),
                    "name": item.get("name"),
                    "title": item.get("title"),
                    "quantity": item["quantity"],
                    "variant": {"id": gid("ProductVariant", item["variant_id"])} if item.get("variant_id") else None,
                    "originalUnitPriceSet": _bag(item["price"], r["currency"]),
                }
                for item in r["line_items"]
            ]
        },
        "fulfillments": [_fulfillment(f, variants) for f in r.get("fulfillments") or []],
        "fulfillmentOrders": {"nodes": [fulfillment_order_node(fulfillment_order(world, o, now), skus)]},
        "refunds": [_refund(x) for x in r.get("refunds") or []],
        "transactions": [transaction(t) for t in transactions(o, now)],
    }
