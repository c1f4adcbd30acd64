"""Shopify Admin API (2025-07): locations, customers and orders, plus order webhooks.

Two transports, chosen by the credential ``transport``: ``graphql`` (the default; the
GraphQL Admin API, see ``shopify_graphql``) and ``rest`` (the Admin REST API, legacy
since October 2024, for shops that still run it; this module). Both give the same
records: a GraphQL node is restated in the REST resource's shape and mapped by the one
REST mapping (``shopify_graphql_mapping``), and a payload is mapped by its shape (a
global id means GraphQL), so dead letters and webhooks (REST-shaped for every app) map
whichever transport the source uses.

REST cursor of the ``customers`` and ``orders`` streams (the sync engine commits it with
each page, so a killed run resumes where it stopped)::

    {"updated_at_min": ISO, "page_info": token, "watermark": ISO}

* ``updated_at_min`` — where this run started (absent on the first ever run).
* ``page_info`` — present only mid-run: the ``page_info`` of the ``Link: rel="next"``
  URL. Shopify refuses any filter next to ``page_info`` (the token encodes them), so
  such a request sends only ``limit`` and ``page_info``.
* ``watermark`` — the greatest ``updated_at`` seen so far in this run, in UTC.

When a page has no next link the run is over and the cursor becomes
``{"updated_at_min": watermark}``. ``updated_at_min`` is inclusive, so the next run
fetches the boundary record again; upserts are idempotent, and re-reading one record
is cheaper than missing one updated in the same second. ``locations`` is one page and
its cursor stays ``{}``. ``inventory_levels`` is not a stream: levels are keyed by
``inventory_item_id``, not SKU, so stock comes from the POS and ERP adapters.

Rate limit: every answer carries ``X-Shopify-Shop-Api-Call-Limit: used/size``, a leaky
bucket draining :data:`LEAK_RATE` requests per second. From 80% full the adapter
sleeps (``self.client.sleep``, injectable) until the bucket is back to half, so a
long backfill slows down instead of collecting 429s.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from ..http import TransportError
from .base import Adapter, CollectedLine, Page, WebhookEvent, WebhookSignatureError, collected_allocate
from .fields import header_reader, latest_time, webhook_json
from .shopify_graphql import GraphQLTransport
from .shopify_graphql_mapping import (
    is_graphql,
    legacy_id,
    map_customer_node,
    map_location_node,
    map_order_node,
)
from .shopify_mapping import map_customer, map_location, map_order

TRANSPORTS = ("graphql", "rest")
BACKFILLS = ("bulk", "paged")
MAX_PAGE_SIZE = 250
CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
THROTTLE_AT = 0.8  # bucket fill ratio from which the adapter waits
LEAK_RATE = 2.0  # requests per second the bucket drains (standard plans)

WEBHOOK_TOPICS = {
    "orders/create": "orders",
    "orders/updated": "orders",
    "customers/create": "customers",
    "customers/update": "customers",
}
WEBHOOK_EXTRA_HEADERS = ("shop-domain", "api-version", "webhook-id", "triggered-at")


class ShopifyAdapter(Adapter):
    name = "shopify"
    allowed_hosts = ("*.myshopify.com",)
    kind = "storefront"
    streams = ("locations", "customers", "orders")
    required_credentials = ("access_token",)
    optional_credentials = ("webhook_secret", "transport", "backfill")
    mappers = {
        "locations": lambda p: map_location_node(p) if is_graphql(p) else map_location(p),
        "customers": lambda p: map_customer_node(p) if is_graphql(p) else map_customer(p),
        "orders": lambda p: map_order_node(p) if is_graphql(p) else map_order(p),
    }

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.transport = self.credentials.get("transport") or "graphql"
        if self.transport not in TRANSPORTS:
            raise ValueError(f"shopify transport must be one of {', '.join(TRANSPORTS)}, not {self.transport!r}")
        self.backfill = self.credentials.get("backfill") or "bulk"
        if self.backfill not in BACKFILLS:
            raise ValueError(f"shopify backfill must be one of {', '.join(BACKFILLS)}, not {self.backfill!r}")
        self.graphql = GraphQLTransport(self)

    def auth_headers(self) -> dict[str, str]:
        return {
            "X-Shopify-Access-Token": self.credentials["access_token"],
            "Accept": "application/json",
        }

    def external_id(self, stream: str, payload: Any) -> str:
        """The REST id: a GraphQL node's global id without its ``gid://shopify/<Type>/`` prefix."""
        if is_graphql(payload):
            try:
                return legacy_id(payload["id"], "id")
            except ValueError:
                return ""
        return super().external_id(stream, payload)

    # -- fetching ----------------------------------------------------------------------
    def fetch(self, stream: str, cursor: Mapping[str, Any]) -> Page:
        if stream not in self.streams:
            raise ValueError(f"shopify has no stream {stream!r}; streams: {', '.join(self.streams)}")
        if self.transport == "graphql":
            return self.graphql.fetch(stream, cursor)
        if stream == "locations":
            items, _ = self._get("locations.json", params={}, key="locations")
            return Page.final(items)
        limit = max(1, min(self.page_size, MAX_PAGE_SIZE))
        updated_at_min = cursor.get("updated_at_min")
        if cursor.get("page_info"):
            params: dict[str, Any] = {"limit": limit, "page_info": cursor["page_info"]}
        else:
            params = {"limit": limit, "order": "updated_at asc"}
            if stream == "orders":
                params["status"] = "any"
            if updated_at_min:
                params["updated_at_min"] = updated_at_min
        items, response = self._get(f"{stream}.json", params=params, key=stream)
        if stream == "orders":
            items = self._with_transactions(items)

        seen = [item.get("updated_at") for item in items if isinstance(item, dict)]
        watermark = latest_time(cursor.get("watermark"), updated_at_min, *seen)
        page_info = _next_page_info(response)
        if not page_info:
            return Page.final(items, updated_at_min=watermark)
        return Page.more(items, updated_at_min=updated_at_min, page_info=page_info, watermark=watermark)

    def _with_transactions(self, orders: list[Any]) -> list[Any]:
        """Each order with its ``transactions`` (``GET orders/{id}/transactions.json``).

        ``orders.json`` lists an order's refund transactions (inside ``refunds``) but not
        its authorisations, captures, sales and voids; REST has no way to list them for
        many orders at once, so this is one request per order. An item without an id is
        left as it is: mapping turns it into a dead letter. ``in_shop_currency=true``: the
        amounts in the shop's money, as the order's ``total_price`` and GraphQL's ``shopMoney``
        (without it a multi-currency order's transactions are in the presentment currency).
        """
        out = []
        for order in orders:
            ident = order.get("id") if isinstance(order, dict) else None
            if ident is None or isinstance(ident, bool) or ident == "":
                out.append(order)
                continue
            transactions, _ = self._get(
                f"orders/{ident}/transactions.json", params={"in_shop_currency": "true"}, key="transactions"
            )
            out.append({**order, "transactions": transactions})
        return out

    def complete(self, stream: str, items: list[Any]) -> list[Any]:
        """A webhook's orders with their transactions, which Shopify's order webhooks never carry.

        REST: the order's ``transactions.json`` is added. GraphQL: the order is read again
        as the ``orders`` stream selects it (an order the shop no longer has keeps its body).
        """
        if stream != "orders":
            return items
        if self.transport == "rest":
            return self._with_transactions(items)
        completed = []
        for item in items:
            ident = super().external_id(stream, item)
            node = self.graphql.order(ident) if ident and not is_graphql(item) else None
            completed.append(node or item)
        return completed

    # -- the store counter's state, written back ---------------------------------------
    pickup_states = frozenset({"ready", "collected"})

    def push_pickup(self, *, external_id: str, state: str, lines: list[CollectedLine]) -> Any:
        """``ready`` and ``collected`` over GraphQL (see ``GraphQLTransport.push_pickup``).

        REST has no "ready for pickup" call: over REST a ``ready`` push is accepted and
        tells Shopify nothing (the outbox, which picks targets by adapter, not transport,
        would otherwise retry it for ever); ``collected`` is a REST fulfilment.
        """
        if state not in self.pickup_states:
            raise ValueError(f"shopify takes no pickup state {state!r}")
        if self.transport == "graphql":
            return self.graphql.push_pickup(external_id=external_id, state=state, lines=lines)
        if state == "ready":
            return None
        return self._rest_push_pickup(external_id=external_id, lines=lines)

    def _rest_push_pickup(self, *, external_id: str, lines: list[CollectedLine]) -> Any:
        """Fulfil the collected lines of the order's open fulfillment order(s) (``POST fulfillments.json``).

        The order's line items give each SKU's ``line_item_id``; its fulfillment orders give
        what is still fulfillable. What is already fulfilled is not asked again, so a push
        repeated after a lost answer finds nothing left and returns ``None``. The REST API
        has no "ready for pickup" call (only GraphQL has), and a refusal is the agent's to
        settle (cancel or refund).
        """
        order = self._object(f"orders/{external_id}.json", params={"fields": "id,line_items"}, key="order")
        sku_of = {item.get("id"): item.get("sku") or "" for item in order.get("line_items") or []}
        orders, _ = self._get(f"orders/{external_id}/fulfillment_orders.json", params={}, key="fulfillment_orders")
        open_items = [
            (
                fo["id"],
                [
                    (item["id"], sku_of.get(item.get("line_item_id"), ""), int(item.get("fulfillable_quantity") or 0))
                    for item in fo.get("line_items") or []
                ],
            )
            for fo in orders
            if fo.get("status") in ("open", "in_progress")
        ]
        batches = [
            {"fulfillment_order_id": fo, "fulfillment_order_line_items": [{"id": i, "quantity": q} for i, q in items]}
            for fo, items in collected_allocate(lines, open_items)
        ]
        if not batches:  # fulfilled already (a repeated push), or nothing of it is left to fulfil
            return None
        body = {"fulfillment": {"notify_customer": False, "line_items_by_fulfillment_order": batches}}
        return self.client.post("fulfillments.json", json=body).json().get("fulfillment")

    def _object(self, path: str, *, params: dict[str, Any], key: str) -> dict[str, Any]:
        response = self.client.get(path, params=params)
        self._throttle(response)
        try:
            found = response.json()[key]
        except (ValueError, KeyError, TypeError):
            raise TransportError(f"GET {path} answered no {key!r} object", permanent=False) from None
        if not isinstance(found, dict):
            raise TransportError(f"GET {path} answered no {key!r} object", permanent=False)
        return found

    def _get(self, path: str, *, params: dict[str, Any], key: str) -> tuple[list[Any], requests.Response]:
        response = self.client.get(path, params=params)
        self._throttle(response)
        try:
            body = response.json()
        except ValueError:
            raise TransportError(
                f"GET {path} answered a body that is not JSON",
                permanent=False,
                status=response.status_code,
            ) from None
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise TransportError(
                f"GET {path} answered JSON without a {key!r} list",
                permanent=False,
                status=response.status_code,
            )
        return items, response

    def _throttle(self, response: requests.Response) -> None:
        """Wait, when the call-limit bucket is 80% full, until it has drained to half."""
        used, size = _call_limit(response.headers.get(CALL_LIMIT_HEADER))
        if size and used / size >= THROTTLE_AT:
            self.client.sleep((used - size / 2) / LEAK_RATE)

    # -- webhooks ----------------------------------------------------------------------
    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str], url: str) -> WebhookEvent:
        """Verify ``X-Shopify-Hmac-Sha256`` on the raw body, then decode the bare resource.

        Header names are matched case-insensitively, with the ``X-Shopify-`` prefix or
        the unprefixed ``shopify-`` form of Shopify's newer event delivery.
        """
        header = header_reader(headers, "x-shopify-", "shopify-")
        secret = self.webhook_key("webhook_secret")
        signature = header("hmac-sha256")
        if not signature:
            raise WebhookSignatureError("missing X-Shopify-Hmac-Sha256 header")
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature.encode()):
            raise WebhookSignatureError("X-Shopify-Hmac-Sha256 does not match the body")

        topic = header("topic")
        stream = WEBHOOK_TOPICS.get(topic)
        if stream is None:
            raise ValueError(f"unsupported topic {topic!r}; expected one of {', '.join(WEBHOOK_TOPICS)}")
        event_id = header("event-id") or header("webhook-id")
        if not event_id:
            raise ValueError("missing X-Shopify-Event-Id and X-Shopify-Webhook-Id headers")
        payload = webhook_json(body)
        extra = {name.replace("-", "_"): header(name) for name in WEBHOOK_EXTRA_HEADERS if header(name)}
        return WebhookEvent(
            event_id=event_id,
            topic=topic,
            stream=stream,
            payload=payload,
            extra=extra,
            delivery_id=header("webhook-id") or "",
        )


def _call_limit(value: str | None) -> tuple[int, int]:
    """``"32/40"`` -> ``(32, 40)``; anything unreadable -> ``(0, 0)`` (no throttling)."""
    used, _, size = (value or "").partition("/")
    try:
        return int(used), int(size)
    except ValueError:
        return 0, 0


def _next_page_info(response: requests.Response) -> str:
    url = response.links.get("next", {}).get("url")
    if not url:
        return ""
    tokens = parse_qs(urlsplit(url).query).get("page_info")
    if not tokens:
        raise TransportError(f"Link rel=next without a page_info: {url}", permanent=True, status=response.status_code)
    return tokens[0]


__all__ = ["ShopifyAdapter", "map_customer", "map_location", "map_order"]
