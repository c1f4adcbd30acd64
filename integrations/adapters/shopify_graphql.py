"""The Shopify adapter's GraphQL transport: ``POST {base}/graphql.json`` (GraphQL Admin API 2025-07).

Cursor of the ``customers`` and ``orders`` streams, committed with each page::

    {"updated_at_min": ISO, "after": endCursor, "watermark": ISO}

As the REST transport's, with the connection's ``endCursor`` in place of ``page_info``:
a run asks ``orders(first, after, query: "updated_at:>='<updated_at_min>'", sortKey:
UPDATED_AT)`` until ``pageInfo.hasNextPage`` is false, then the cursor becomes
``{"updated_at_min": watermark}`` (inclusive, so the boundary record is read again).
``locations`` is one page. The first sync of ``orders`` (an empty cursor) runs as a bulk
operation instead (``shopify_bulk``), unless the credential ``backfill`` is ``paged``.

Every query requests at most Shopify's 1,000 points (it refuses more, ``MAX_COST_EXCEEDED``):
an ``orders`` page lists ids and ``updatedAt`` only, and its orders are read whole by
``shopify_orders.OrderReader`` (:data:`ORDERS_PER_QUERY` at a time through ``nodes(ids:)``,
at sizes that hold a usual order, then what did not fit); the webhook's re-read and the
counter's pickup read go through the same reader.

Cost-based throttling as Shopify documents it: every answer carries
``extensions.cost`` (``requestedQueryCost``, ``actualQueryCost`` and ``throttleStatus
{maximumAvailable, currentlyAvailable, restoreRate}``). Before a query the transport
waits (``client.sleep``, injectable) until the bucket holds what the same query cost
last time; an answer with a ``THROTTLED`` error is waited out and asked again (at most
:data:`THROTTLED_ATTEMPTS` times). HTTP 429 and 5xx are the HTTP seam's (retried with
backoff, ``Retry-After`` honoured). Any other ``errors`` entry is a :class:`TransportError`
naming Shopify's message: permanent (a query or access the shop refuses), except
``INTERNAL_SERVER_ERROR``. A mutation's ``userErrors`` are a permanent TransportError
naming each field and message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..http import TransportError
from .base import CollectedLine, Page, collected_allocate
from .fields import latest_time

MAX_PAGE_SIZE = 250
THROTTLED_ATTEMPTS = 5
TRANSIENT_CODES = frozenset({"THROTTLED", "INTERNAL_SERVER_ERROR"})

MONEY = "shopMoney { amount currencyCode }"
TRANSACTION = f"""fragment TransactionFields on OrderTransaction {{
  id kind status gateway manualPaymentGateway processedAt createdAt
  amountSet {{ {MONEY} }}
  paymentDetails {{ ... on CardPaymentDetails {{ company number }} }}
}}"""
CUSTOMER_FIELDS = """id firstName lastName tags updatedAt verifiedEmail
  defaultEmailAddress { emailAddress } defaultPhoneNumber { phoneNumber }"""
PAGE_INFO = "pageInfo { hasNextPage endCursor }"
LINE_ITEM = f"id sku name title quantity currentQuantity variant {{ id }} originalUnitPriceSet {{ {MONEY} }}"
SHIPPING_LINE = "code title"
FULFILLMENT_ORDER = "id status deliveryMethod { methodType } assignedLocation { location { id } }"
FULFILLMENT_LINE_ITEM = "quantity lineItem { id sku variant { id } }"
REFUND_LINE_ITEM = f"""quantity restockType lineItem {{ id sku variant {{ id }} }}
      subtotalSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }}"""
# Exactly what shopify_graphql_mapping restates, at sizes that hold a usual order: one order requests
# 237 points, so ORDERS_PER_QUERY of them fit a query of Shopify's 1,000 (shopify_orders reads what
# did not fit). The lists (fulfillments, refunds, transactions) have no pageInfo: LIST_SIZES says
# when one came back full and may hold more.
LIST_SIZES = {"fulfillments": 3, "refunds": 3, "transactions": 5}
ORDERS_PER_QUERY = 4


def _sized(field: str, size: int, selection: str) -> str:
    """A connection asked for ``size`` nodes, with the ``pageInfo`` that says whether there are more."""
    return f"{field}(first: {size}) {{ {PAGE_INFO} nodes {{ {selection} }} }}"


FULFILLMENT = f"""fragment FulfillmentFields on Fulfillment {{
  id status displayStatus createdAt updatedAt location {{ id }}
  trackingInfo(first: 1) {{ company number url }}
  {_sized("fulfillmentLineItems", 5, FULFILLMENT_LINE_ITEM)}
}}"""
REFUND = f"""fragment RefundFields on Refund {{
  id createdAt
  {_sized("refundLineItems", 2, REFUND_LINE_ITEM)}
  {_sized("transactions", 2, "...TransactionFields")}
}}"""
ORDER = f"""fragment OrderFields on Order {{
  id name email phone createdAt updatedAt cancelledAt sourceName
  displayFinancialStatus displayFulfillmentStatus currencyCode
  totalPriceSet {{ {MONEY} }}
  customAttributes {{ key value }}
  retailLocation {{ id }}
  customer {{ {CUSTOMER_FIELDS} }}
  {_sized("shippingLines", 2, SHIPPING_LINE)}
  {_sized("lineItems", 10, LINE_ITEM)}
  fulfillments(first: {LIST_SIZES["fulfillments"]}) {{ ...FulfillmentFields }}
  {_sized("fulfillmentOrders", 2, FULFILLMENT_ORDER)}
  refunds(first: {LIST_SIZES["refunds"]}) {{ ...RefundFields }}
  transactions(first: {LIST_SIZES["transactions"]}) {{ ...TransactionFields }}
}}
{FULFILLMENT}
{REFUND}
{TRANSACTION}"""
# The list of a page: each order's id and updatedAt (252 points for 250), then the orders whole.
ORDERS_QUERY = """query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id updatedAt }
  }
}"""
CUSTOMERS_QUERY = f"""query Customers($first: Int!, $after: String, $query: String) {{
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {CUSTOMER_FIELDS} }}
  }}
}}"""
LOCATIONS_QUERY = """query Locations {
  locations(first: 250) { nodes { id name address { address1 city zip } } }
}"""
ORDER_QUERY = f"""query Order($id: ID!) {{ order(id: $id) {{ ...OrderFields }} }}
{ORDER}"""
NODES_QUERY = f"""query OrderNodes($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Order {{ ...OrderFields }} }} }}
{ORDER}"""
# The counter's read: the open fulfillment orders with their line items (923 points; shopify_orders pages on).
PICKUP_LINE_ITEM = "id remainingQuantity lineItem { id sku }"
PICKUP_FULFILLMENT_ORDER = f"id status deliveryMethod {{ methodType }} {_sized('lineItems', 90, PICKUP_LINE_ITEM)}"
PICKUP_QUERY = f"""query PickupFulfillmentOrders($id: ID!) {{
  order(id: $id) {{ id {_sized("fulfillmentOrders", 5, PICKUP_FULFILLMENT_ORDER)} }}
}}"""
PREPARED_FOR_PICKUP = """mutation PreparedForPickup($input: FulfillmentOrderLineItemsPreparedForPickupInput!) {
  fulfillmentOrderLineItemsPreparedForPickup(input: $input) { userErrors { field message code } }
}"""
FULFILLMENT_CREATE = """mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id status } userErrors { field message } }
}"""
LISTS = {"orders": ORDERS_QUERY, "customers": CUSTOMERS_QUERY}
OPEN_FULFILLMENT_ORDERS = frozenset({"OPEN", "IN_PROGRESS"})


def gid(kind: str, ident: str | int) -> str:
    return f"gid://shopify/{kind}/{ident}"


class GraphQLTransport:
    """Pages, single orders and the counter's mutations over GraphQL, through the adapter's HTTP client."""

    def __init__(self, adapter):
        self.adapter = adapter
        self.available: float | None = None  # the bucket after the last answer
        self.restore_rate = 0.0
        self.costs: dict[str, float] = {}  # document -> what it cost last time
        self.bulk = None  # the orders' bulk backfill, once a first sync asks for it (it counts its starts)
        from .shopify_orders import OrderReader  # noqa: PLC0415 (it imports this module: it builds on its selection)

        self.orders = OrderReader(self)

    # -- reading ----------------------------------------------------------------------
    def fetch(self, stream: str, cursor: Mapping[str, Any]) -> Page:
        if stream == "locations":
            data = self.query(LOCATIONS_QUERY, {})
            return Page.final(_connection(data, "locations")[0])
        if stream == "orders" and (
            cursor.get("bulk") or cursor.get("queued") or (not cursor and self.adapter.backfill == "bulk")
        ):
            from .shopify_bulk import BulkBackfill  # noqa: PLC0415 (it imports this module: it builds on its selection)

            self.bulk = self.bulk or BulkBackfill(self)
            return self.bulk.fetch(cursor)
        updated_at_min = cursor.get("updated_at_min")
        variables: dict[str, Any] = {"first": max(1, min(self.adapter.page_size, MAX_PAGE_SIZE))}
        if cursor.get("after"):
            variables["after"] = cursor["after"]
        if updated_at_min:
            variables["query"] = f"updated_at:>='{updated_at_min}'"
        nodes, page_info = _connection(self.query(LISTS[stream], variables), stream)
        seen = [node.get("updatedAt") for node in nodes if isinstance(node, dict)]
        watermark = latest_time(cursor.get("watermark"), updated_at_min, *seen)
        items = self._whole(nodes) if stream == "orders" else nodes
        if not page_info.get("hasNextPage"):
            return Page.final(items, updated_at_min=watermark)
        after = page_info.get("endCursor")
        if not after:
            raise TransportError(f"{stream}: hasNextPage without an endCursor", permanent=True)
        return Page.more(items, updated_at_min=updated_at_min, after=after, watermark=watermark)

    def _whole(self, listed: list[Any]) -> list[Any]:
        """The listed orders read whole (``shopify_orders``), in list order.

        A listed node without an id is handed on as it came (the mapping refuses it: a dead
        letter); an order the shop no longer has when it is read is left out, as the list a
        moment later would leave it out.
        """
        ids = [node["id"] for node in listed if isinstance(node, dict) and isinstance(node.get("id"), str)]
        whole = dict(zip(ids, self.orders.read(ids), strict=True))
        out = []
        for node in listed:
            ident = node.get("id") if isinstance(node, dict) else None
            if not isinstance(ident, str):
                out.append(node)
            elif whole[ident] is not None:
                out.append(whole[ident])
        return out

    def order(self, external_id: str) -> dict[str, Any] | None:
        """One order node, whole, as the ``orders`` stream reads it (None when the shop has no such order)."""
        ident = gid("Order", external_id)
        found = self.query(ORDER_QUERY, {"id": ident}).get("order")
        return self.orders.complete(found, ident) if isinstance(found, dict) else None

    # -- the store counter's state, written back -----------------------------------------
    def push_pickup(self, *, external_id: str, state: str, lines: list[CollectedLine]) -> Any:
        """``ready``: mark the open pick-up fulfillment orders prepared; ``collected``: fulfil the lines taken.

        What is fulfilled already is not asked again, so a collected push repeated after a
        lost answer finds nothing left and returns None; a ready push on an order with
        nothing left open (collected, cancelled) returns None too.
        """
        ident = gid("Order", external_id)
        order = self.query(PICKUP_QUERY, {"id": ident}).get("order")
        if not isinstance(order, dict):
            raise ValueError(f"shopify has no order {external_id}")
        order = self.orders.pickup(order, ident)
        fulfillment_orders = [
            fo for fo in _nodes(order.get("fulfillmentOrders")) if fo.get("status") in OPEN_FULFILLMENT_ORDERS
        ]
        if state == "ready":
            pickups = [
                fo for fo in fulfillment_orders if (fo.get("deliveryMethod") or {}).get("methodType") == "PICK_UP"
            ]
            if not pickups:
                return None
            batches = [{"fulfillmentOrderId": fo["id"]} for fo in pickups]
            return self.mutate(
                PREPARED_FOR_PICKUP,
                {"input": {"lineItemsByFulfillmentOrder": batches}},
                "fulfillmentOrderLineItemsPreparedForPickup",
            )
        open_items = [
            (
                fo["id"],
                [
                    (
                        item["id"],
                        ((item.get("lineItem") or {}).get("sku")) or "",
                        int(item.get("remainingQuantity") or 0),
                    )
                    for item in _nodes(fo.get("lineItems"))
                ],
            )
            for fo in fulfillment_orders
        ]
        batches = [
            {"fulfillmentOrderId": fo, "fulfillmentOrderLineItems": [{"id": i, "quantity": q} for i, q in items]}
            for fo, items in collected_allocate(lines, open_items)
        ]
        if not batches:
            return None
        fulfillment = {"notifyCustomer": False, "lineItemsByFulfillmentOrder": batches}
        return self.mutate(FULFILLMENT_CREATE, {"fulfillment": fulfillment}, "fulfillmentCreate").get("fulfillment")

    def mutate(
        self,
        document: str,
        variables: dict[str, Any],
        field: str,
        *,
        allowed_codes: frozenset[str] | set[str] = frozenset(),
    ) -> dict[str, Any]:
        """Run a mutation; its ``userErrors`` are a permanent TransportError naming each field and message.

        Unless every one has a code of ``allowed_codes``: then the payload is returned, for the caller to act on.
        """
        payload = self.query(document, variables).get(field)
        if not isinstance(payload, dict):
            raise TransportError(f"Shopify answered {field} without its payload", permanent=False)
        errors = payload.get("userErrors") or []
        if errors and all(e.get("code") in allowed_codes for e in errors):
            return payload
        if errors:
            said = "; ".join(f"{'.'.join(e.get('field') or []) or field}: {e.get('message')}" for e in errors)
            raise TransportError(f"Shopify refused {field}: {said}", permanent=True)
        return payload

    # -- one exchange, throttled ----------------------------------------------------------
    def query(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        """``data`` of one GraphQL exchange, waiting for the cost bucket before and after a THROTTLED answer."""
        for _attempt in range(THROTTLED_ATTEMPTS):
            self._wait_for(self.costs.get(document, 0.0))
            body = self._post(document, variables)
            cost = _cost(body)
            if cost:
                self._note(document, cost)
            errors = body.get("errors")
            if not errors:
                data = body.get("data")
                if not isinstance(data, dict):
                    raise TransportError("Shopify answered GraphQL without data or errors", permanent=False)
                return data
            if not all(_code(e) == "THROTTLED" for e in errors):
                raise _errors(errors)
            requested = float((cost or {}).get("requestedQueryCost") or self.costs.get(document) or 1)
            self.costs[document] = requested
            maximum = ((cost or {}).get("throttleStatus") or {}).get("maximumAvailable")
            if maximum is not None and requested > float(maximum):
                raise TransportError(
                    f"Shopify throttles a query costing {requested:g} in a bucket of {float(maximum):g}: "
                    "lower the source's page size",
                    permanent=True,
                )
            if self.available is None or self.available >= requested:  # no bucket reported: back off a second
                self.adapter.client.sleep(1.0)
        raise TransportError(f"Shopify kept throttling after {THROTTLED_ATTEMPTS} attempts", permanent=False)

    def _post(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.adapter.client.post("graphql.json", json={"query": document, "variables": variables})
        try:
            body = response.json()
        except ValueError:
            raise TransportError(
                "POST graphql.json answered a body that is not JSON", permanent=False, status=response.status_code
            ) from None
        if not isinstance(body, dict):
            raise TransportError("POST graphql.json answered JSON that is not an object", permanent=False)
        return body

    def _note(self, document: str, cost: Mapping[str, Any]) -> None:
        status = cost.get("throttleStatus") or {}
        try:
            self.available = float(status["currentlyAvailable"])
            self.restore_rate = float(status["restoreRate"])
        except (KeyError, TypeError, ValueError):
            return
        if cost.get("requestedQueryCost") is not None:
            self.costs[document] = float(cost["requestedQueryCost"])

    def _wait_for(self, needed: float) -> None:
        """Sleep until the bucket (as last reported) has restored ``needed`` points."""
        if self.available is None or needed <= self.available or self.restore_rate <= 0:
            return
        self.adapter.client.sleep((needed - self.available) / self.restore_rate)
        self.available = needed


def _cost(body: Mapping[str, Any]) -> dict[str, Any] | None:
    extensions = body.get("extensions")
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    return cost if isinstance(cost, dict) else None


def _code(error: Any) -> str:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return str(extensions.get("code") or "") if isinstance(extensions, dict) else ""


def _errors(errors: Any) -> TransportError:
    if not isinstance(errors, list):
        errors = [{"message": str(errors)}]
    said = "; ".join(
        (f"{_code(e)}: " if _code(e) else "") + str(e.get("message") if isinstance(e, dict) else e) for e in errors
    )
    permanent = not any(_code(e) in TRANSIENT_CODES for e in errors)
    return TransportError(f"Shopify GraphQL error: {said}", permanent=permanent)


def _nodes(connection: Any) -> list[dict[str, Any]]:
    if not isinstance(connection, dict):
        return []
    if isinstance(connection.get("nodes"), list):
        return [n for n in connection["nodes"] if isinstance(n, dict)]
    return [e["node"] for e in connection.get("edges") or [] if isinstance(e, dict) and isinstance(e.get("node"), dict)]


def _connection(data: Mapping[str, Any], field: str) -> tuple[list[Any], dict[str, Any]]:
    """The nodes and ``pageInfo`` of the connection ``data[field]``; a malformed answer is a TransportError."""
    connection = data.get(field)
    if not isinstance(connection, dict):
        raise TransportError(f"Shopify answered no {field!r} connection", permanent=False)
    if isinstance(connection.get("nodes"), list):
        nodes = connection["nodes"]
    elif isinstance(connection.get("edges"), list):
        nodes = [e.get("node") if isinstance(e, dict) else e for e in connection["edges"]]
    else:
        raise TransportError(f"Shopify answered the {field!r} connection without nodes", permanent=False)
    page_info = connection.get("pageInfo")
    return nodes, page_info if isinstance(page_info, dict) else {}
