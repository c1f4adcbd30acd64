"""Square (Square-Version 2025-08-20): locations, customers, orders, payments, inventory, webhooks.

Cursor of every stream but ``locations`` (committed with each page, so a killed run
resumes where it stopped)::

    {"start_at": ISO, "cursor": token, "watermark": ISO, "batch": n}

* ``start_at`` — the lower bound on the update time this run filters on (absent on the
  first ever run).
* ``cursor`` — present only mid-run: Square's pagination cursor. It continues "the
  original query", so the same query is sent again next to it.
* ``watermark`` — the greatest update time seen so far in this run, in UTC.
* ``batch`` — orders only, mid-run: which group of at most
  :data:`MAX_SEARCH_LOCATIONS` location ids (Square's limit per SearchOrders) is
  being walked; each group is walked from ``start_at`` in turn.

When the last page of the run has no cursor, the cursor becomes ``{"start_at":
watermark}``. Each stream's filter and how its bound is sent:

========= ============================================= =====================================
stream    request                                       update time / bound
========= ============================================= =====================================
customers ``POST /v2/customers/search``                 ``updated_at``; ``query.filter.updated_at
                                                        .start_at`` = start_at - 60 s
orders    ``POST /v2/orders/search`` (location_ids)     ``updated_at``; ``date_time_filter
                                                        .updated_at.start_at`` = start_at
payments  ``GET /v2/payments``                          ``updated_at``; ``updated_at_begin_time``
                                                        = start_at
inventory ``POST /v2/inventory/counts/batch-retrieve``  ``calculated_at``; ``updated_after`` =
                                                        start_at - 1 ms
========= ============================================= =====================================

Bounds are inclusive, so the next run reads the boundary record again (upserts are
idempotent; missing a record updated in the same millisecond would be worse).
``updated_after`` is strict, hence one millisecond earlier. SearchCustomers cannot sort
by update time (its sort fields are DEFAULT, the name, and CREATED_AT), so customers
are walked by creation time and a profile updated mid-run after its page was read is
caught next run only if its new time is not before the watermark; and Square says a
changed profile can take up to about a minute to become searchable, so the customer
bound is held back by :data:`CUSTOMER_SEARCH_LAG`. ListPayments without a begin time
covers only the last year (Square's default): a first run backfills a year of
payments. Orders are searched in the states OPEN, COMPLETED and CANCELED (not DRAFT).

SKUs: an inventory count, a POS order line and a return order's returned line name an
item variation (``catalog_object_id``), not a SKU. Before handing out counts, and order
and returned lines without a ``metadata.sku``, the adapter reads the catalog once (``GET /v2/catalog/list
?types=ITEM_VARIATION``, cached for the adapter's life) and adds the variation's
``item_variation_data.sku`` to the payload as ``omnidesk_sku``. The raw record thus
keeps the SKU it was mapped with, and mapping stays pure (a dead letter replays from
the payload alone). A variation without a SKU keeps its id as the SKU.

Square publishes no rate-limit headers; a 429 is retried by the HTTP seam with backoff.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..http import TransportError
from .base import Adapter, CollectedLine, Page, WebhookEvent, WebhookSignatureError
from .fields import header_reader, latest_time, webhook_json
from .square_mapping import SKU_KEY, map_customer, map_location, map_order, map_payment, map_stock

API_VERSION = "2025-08-20"
MAX_PAGE_SIZE = {"customers": 100, "orders": 500, "payments": 100, "inventory": 1000}
MAX_SEARCH_LOCATIONS = 10  # SearchOrders accepts at most 10 location_ids
ORDER_STATES = ["OPEN", "COMPLETED", "CANCELED"]
CUSTOMER_SEARCH_LAG = timedelta(seconds=60)
STRICT_BOUND_OFFSET = timedelta(milliseconds=1)
SIGNATURE_HEADER = "x-square-hmacsha256-signature"
UPDATED_KEY = {
    "customers": "updated_at",
    "orders": "updated_at",
    "payments": "updated_at",
    "inventory": "calculated_at",
}
ORDER_TOPICS = frozenset(
    {"order.created", "order.updated", "order.fulfillment.updated", "refund.created", "refund.updated"}
)  # fmt: skip
OBJECT_TOPICS = {  # topic -> (stream, key of the object under data.object)
    "payment.created": ("payments", "payment"),
    "payment.updated": ("payments", "payment"),
    "customer.created": ("customers", "customer"),
    "customer.updated": ("customers", "customer"),
}
INVENTORY_TOPIC = "inventory.count.updated"
# OmniDesk pickup state -> Square fulfillment state (Fulfillment.state)
PICKUP_STATES = {"ready": "PREPARED", "collected": "COMPLETED", "refused": "CANCELED"}
CLOSED_FULFILLMENT_STATES = frozenset({"COMPLETED", "CANCELED"})


class SquareAdapter(Adapter):
    name = "square"
    allowed_hosts = ("connect.squareup.com", "connect.squareupsandbox.com")
    kind = "pos"
    streams = ("locations", "customers", "orders", "payments", "inventory")
    required_credentials = ("access_token",)
    optional_credentials = ("webhook_signature_key", "notification_url")
    mappers = {
        "locations": map_location,
        "customers": map_customer,
        "orders": map_order,
        "payments": map_payment,
        "inventory": map_stock,
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._location_ids: list[str] | None = None
        self._skus: dict[str, str] | None = None

    pickup_states = frozenset(PICKUP_STATES)

    def push_pickup(self, *, external_id: str, state: str, lines: list[CollectedLine]) -> dict:
        """Set the PICKUP fulfillment of a Square order to the counter's state (UpdateOrder).

        Square wants the order's current ``version`` and the fulfillment's ``uid``, so the
        order is read first. A fulfillment already at the state, or closed (completed or
        cancelled: a late "ready" after "collected"), is left alone, so a push repeated after
        a lost answer writes nothing; the idempotency key names the version it was read at.
        A pickup fulfillment has one state for the whole order, so ``lines`` is not sent.
        Raises ``ValueError`` when the order has no pickup fulfillment (nothing to update).
        """
        order = self._order(external_id)
        pickup = next((f for f in order.get("fulfillments") or [] if f.get("type") == "PICKUP"), None)
        if pickup is None:
            raise ValueError(f"Square order {external_id} has no pickup fulfillment")
        wanted = PICKUP_STATES[state]
        if pickup.get("state") == wanted or pickup.get("state") in CLOSED_FULFILLMENT_STATES:
            return order
        body = {
            "idempotency_key": f"omnidesk-pickup-{external_id}-{state}-v{order.get('version')}",
            "order": {
                "location_id": order["location_id"],
                "version": order.get("version"),
                "fulfillments": [{"uid": pickup["uid"], "state": wanted}],
            },
        }
        return self._order(external_id, json=body)

    def _order(self, external_id: str, **put) -> dict:
        """RetrieveOrder, or UpdateOrder with ``json=``: the order, or a TransportError saying what came back."""
        path = f"/v2/orders/{external_id}"
        response = self.client.put(path, **put) if put else self.client.get(path)
        try:
            order = response.json().get("order")
        except (ValueError, AttributeError):
            order = None
        if not isinstance(order, dict):
            raise TransportError(f"{response.request.method} {path} answered no order", permanent=False)
        return order

    def auth_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.credentials['access_token']}",
            "Square-Version": API_VERSION,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    # -- fetching ----------------------------------------------------------------------
    def fetch(self, stream: str, cursor: Mapping[str, Any]) -> Page:
        if stream == "locations":
            return Page.final(self._locations())
        if stream not in MAX_PAGE_SIZE:
            raise ValueError(f"square has no stream {stream!r}; streams: {', '.join(self.streams)}")
        limit = max(1, min(self.page_size, MAX_PAGE_SIZE[stream]))
        start_at = cursor.get("start_at") or ""
        token = cursor.get("cursor") or ""
        batch, batches = 0, 1
        if stream == "orders":
            groups = self._location_groups()
            batch, batches = int(cursor.get("batch") or 0), len(groups)
            if batch >= batches:  # no location (left) to search: end the run where it began
                return Page.final([], start_at=start_at)
            items, token = self._search_orders(groups[batch], start_at, token, limit)
        elif stream == "customers":
            items, token = self._search_customers(start_at, token, limit)
        elif stream == "payments":
            items, token = self._list_payments(start_at, token, limit)
        else:
            items, token = self._inventory_counts(start_at, token, limit)
        items = self._with_skus(stream, items)

        seen = [item.get(UPDATED_KEY[stream]) for item in items if isinstance(item, dict)]
        watermark = latest_time(cursor.get("watermark"), start_at, *seen)
        if not token and batch + 1 >= batches:
            return Page.final(items, start_at=watermark)
        next_batch = batch if token else batch + 1
        return Page.more(items, start_at=start_at, cursor=token, watermark=watermark, batch=next_batch)

    def _locations(self) -> list[Any]:
        items, _ = self._call("GET", "v2/locations", "locations")
        self._location_ids = sorted({str(item["id"]) for item in items if isinstance(item, dict) and item.get("id")})
        return items

    def _location_groups(self) -> list[list[str]]:
        if self._location_ids is None:
            self._locations()
        ids = self._location_ids or []
        return [ids[i : i + MAX_SEARCH_LOCATIONS] for i in range(0, len(ids), MAX_SEARCH_LOCATIONS)]

    def _search_orders(self, location_ids, start_at, token, limit):
        flt: dict[str, Any] = {"state_filter": {"states": ORDER_STATES}}
        if start_at:
            flt["date_time_filter"] = {"updated_at": {"start_at": start_at}}
        body: dict[str, Any] = {
            "location_ids": location_ids,
            "limit": limit,
            "query": {"filter": flt, "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"}},
        }
        return self._call("POST", "v2/orders/search", "orders", json=_with_cursor(body, token))

    def _search_customers(self, start_at, token, limit):
        query: dict[str, Any] = {"sort": {"field": "CREATED_AT", "order": "ASC"}}
        if start_at:
            query["filter"] = {"updated_at": {"start_at": _shift(start_at, CUSTOMER_SEARCH_LAG)}}
        body = {"limit": limit, "query": query}
        return self._call("POST", "v2/customers/search", "customers", json=_with_cursor(body, token))

    def _list_payments(self, start_at, token, limit):
        params: dict[str, Any] = {"sort_field": "UPDATED_AT", "sort_order": "ASC", "limit": limit}
        if start_at:
            params["updated_at_begin_time"] = start_at
        return self._call("GET", "v2/payments", "payments", params=_with_cursor(params, token))

    def _inventory_counts(self, start_at, token, limit):
        body: dict[str, Any] = {"states": ["IN_STOCK"], "limit": limit}
        if start_at:
            body["updated_after"] = _shift(start_at, STRICT_BOUND_OFFSET)
        return self._call("POST", "v2/inventory/counts/batch-retrieve", "counts", json=_with_cursor(body, token))

    def _call(self, method: str, path: str, key: str, **kwargs) -> tuple[list[Any], str]:
        """The ``key`` list of one answer (Square answers ``{}`` for none) and its cursor."""
        response = self.client.request(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise TransportError(
                f"{method} {path} answered a body that is not a JSON object",
                permanent=False,
                status=response.status_code,
            )
        errors = body.get("errors") or []
        items = body.get(key, [])
        if errors or not isinstance(items, list):
            first = errors[0] if isinstance(errors, list) and errors else {}
            reason = f"errors {first}" if errors else f"a {key!r} that is not a list"
            raise TransportError(f"{method} {path} answered {reason}", permanent=False, status=response.status_code)
        token = body.get("cursor")
        return items, token if isinstance(token, str) else ""

    # -- SKUs from the catalog -----------------------------------------------------------
    def _with_skus(self, stream: str, items: list[Any]) -> list[Any]:
        if stream == "inventory":
            return [self._add_sku(item) for item in items]
        if stream == "orders":
            return [self._order_with_skus(item) for item in items]
        return items

    def _order_with_skus(self, order: Any) -> Any:
        """The order with SKUs on its lines, and on a return order's returned lines (they name a variation too)."""
        if not isinstance(order, dict):
            return order
        lines, returns = order.get("line_items"), order.get("returns")
        if isinstance(lines, list):
            order = {**order, "line_items": [self._add_sku(line, order_line=True) for line in lines]}
        if isinstance(returns, list):
            order = {**order, "returns": [self._returned_with_skus(ret) for ret in returns]}
        return order

    def _returned_with_skus(self, ret: Any) -> Any:
        items = ret.get("return_line_items") if isinstance(ret, dict) else None
        if not isinstance(items, list):
            return ret
        return {**ret, "return_line_items": [self._add_sku(item, order_line=True) for item in items]}

    def _add_sku(self, obj: Any, *, order_line: bool = False) -> Any:
        if not isinstance(obj, dict) or not isinstance(obj.get("catalog_object_id"), str):
            return obj
        metadata = obj.get("metadata")
        if order_line and isinstance(metadata, dict) and metadata.get("sku"):
            return obj
        sku = self._catalog_skus().get(obj["catalog_object_id"])
        return {**obj, SKU_KEY: sku} if sku else obj

    def _catalog_skus(self) -> dict[str, str]:
        """Item variation id -> SKU, read once from the whole catalog."""
        if self._skus is None:
            skus, token = {}, ""
            while True:
                params = _with_cursor({"types": "ITEM_VARIATION"}, token)
                objects, token = self._call("GET", "v2/catalog/list", "objects", params=params)
                for obj in objects:
                    data = obj.get("item_variation_data") if isinstance(obj, dict) else None
                    sku = data.get("sku") if isinstance(data, dict) else None
                    if isinstance(sku, str) and sku.strip() and isinstance(obj.get("id"), str):
                        skus[obj["id"]] = sku.strip()
                if not token:
                    break
            self._skus = skus
        return self._skus

    # -- mapping -----------------------------------------------------------------------
    def external_id(self, stream: str, payload: Any) -> str:
        """An inventory count has no id: it is the count of one variation at one location."""
        if stream == "inventory" and isinstance(payload, dict):
            variation, location = payload.get("catalog_object_id"), payload.get("location_id")
            ok = all(isinstance(v, str) and v for v in (variation, location))
            return f"{variation}:{location}" if ok else ""
        return super().external_id(stream, payload)

    # -- webhooks ----------------------------------------------------------------------
    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], url: str) -> WebhookEvent:
        """Verify ``x-square-hmacsha256-signature`` over notification URL + raw body, then decode.

        Order events (``order.*``, and ``refund.*``, whose refunds live on the order)
        carry only the order id and version, so the order is re-fetched with ``POST
        /v2/orders/batch-retrieve`` and the event's payload is the whole current order.
        ``inventory.count.updated`` may carry several counts: the first IN_STOCK one is
        the payload (the stream's next sync brings the rest).
        """
        key = self.webhook_key("webhook_signature_key")
        signature = header_reader(headers)(SIGNATURE_HEADER)
        if not signature:
            raise WebhookSignatureError("missing x-square-hmacsha256-signature header")
        notification_url = self.credentials.get("notification_url") or url
        digest = hmac.new(key.encode(), notification_url.encode() + body, hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest), signature.encode()):
            raise WebhookSignatureError("x-square-hmacsha256-signature does not match the notification URL and body")

        event = webhook_json(body)
        event_id, topic = event.get("event_id"), event.get("type")
        if not isinstance(event_id, str) or not event_id:
            raise ValueError("webhook body has no event_id")
        if not isinstance(topic, str):
            raise ValueError(f"webhook body has no type (topic): {topic!r}")
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        obj = data.get("object") if isinstance(data.get("object"), dict) else {}
        if topic in ORDER_TOPICS:
            stream, payload = "orders", self._webhook_order(topic, data, obj)
        elif topic in OBJECT_TOPICS:
            stream, name = OBJECT_TOPICS[topic]
            payload = obj.get(name)
            if not isinstance(payload, dict):
                raise ValueError(f"{topic} webhook has no data.object.{name} object")
        elif topic == INVENTORY_TOPIC:
            stream, payload = "inventory", self._webhook_count(obj)
        else:
            topics = sorted({*ORDER_TOPICS, *OBJECT_TOPICS, INVENTORY_TOPIC})
            raise ValueError(f"unsupported topic {topic!r}; expected one of {', '.join(topics)}")
        extra = {k: event[k] for k in ("merchant_id", "created_at") if isinstance(event.get(k), str)}
        return WebhookEvent(event_id=event_id, topic=topic, stream=stream, payload=payload, extra=extra)

    def _webhook_order(self, topic: str, data: Mapping[str, Any], obj: Mapping[str, Any]) -> Any:
        inner = next((v for v in obj.values() if isinstance(v, dict)), {})
        order_id = inner.get("order_id") or (None if topic.startswith("refund.") else data.get("id"))
        if not isinstance(order_id, str) or not order_id:
            raise ValueError(f"{topic} webhook names no order id")
        orders, _ = self._call("POST", "v2/orders/batch-retrieve", "orders", json={"order_ids": [order_id]})
        found = [o for o in orders if isinstance(o, dict) and o.get("id") == order_id]
        if not found:
            raise ValueError(f"order {order_id} named by the {topic} webhook was not found")
        return self._order_with_skus(found[0])

    def _webhook_count(self, obj: Mapping[str, Any]) -> Any:
        counts = obj.get("inventory_counts")
        if not isinstance(counts, list):
            raise ValueError("inventory.count.updated webhook has no data.object.inventory_counts")
        in_stock = [c for c in counts if isinstance(c, dict) and c.get("state") == "IN_STOCK"]
        if not in_stock:
            raise ValueError("inventory.count.updated webhook has no IN_STOCK count")
        return self._add_sku(in_stock[0])


def _with_cursor(request: dict[str, Any], token: str) -> dict[str, Any]:
    return {**request, "cursor": token} if token else request


def _shift(start_at: str, earlier: timedelta) -> str:
    """``start_at`` moved ``earlier``, as UTC ISO (the cursor only holds times we wrote)."""
    return (datetime.fromisoformat(start_at) - earlier).isoformat()


__all__ = [
    "SquareAdapter",
    "map_customer",
    "map_location",
    "map_order",
    "map_payment",
    "map_stock",
]
