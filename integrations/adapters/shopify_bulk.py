"""The storefront's first sync of orders through a GraphQL bulk operation, streamed page by page.

A source whose ``orders`` cursor is empty (its first sync, or a reset) asks Shopify to
run the whole orders query in the background (``bulkOperationRunQuery``), polls
``currentBulkOperation`` until it is ``COMPLETED``, then reads the JSONL file it wrote,
``page_size`` orders at a time, through the same map → upsert pipeline as any page.
Cursor, committed with each page as always::

    {"queued": true}                                            # another operation of the app runs first
    {"bulk": operation gid, "since": ISO}                       # waiting for the file
    {"bulk": ..., "since": ..., "url": file URL, "offset": n}   # reading it from byte n

``since`` is when the operation was created: once the file is read, the cursor becomes
``{"updated_at_min": since}`` and incremental queries take over from there (whatever
changed while the file was written is read again; upserts are idempotent). A run killed
anywhere resumes from the last committed offset, which is always the start of an
order's first line, with a ``Range`` request.

The file (Shopify's bulk JSONL): one object per line; every connection's nodes are lines
of their own after their parent, naming it in ``__parentId``; list fields
(``transactions``, ``fulfillments``, ``refunds``) stay inside their parent's line. A node
is put back under its parent by its global id's type (:data:`CHILD_FIELDS`). Shopify
refuses a bulk query with more than five connections, connections nested more than two
deep, or a connection inside a list field (the bulkOperationRunQuery reference; the
sandbox refuses the same), so :data:`BULK_ORDERS` cannot hold a fulfilment's or a refund's
line items: an order of the page that has fulfilments or refunds is read again whole as a
paged query reads it (``shopify_orders.OrderReader``: ``nodes(ids:)`` a few orders at a time,
each query within Shopify's cost limit, what did not fit read after), and the order handed
on is the node a paged query returns and maps the same way. The file is served from a signed
URL on another host: the access token is not sent there.

An operation that fails, is cancelled or expires is started again, at most :data:`STARTS`
times in one sync run (then the run fails, saying so, and the next run starts afresh: the
count is the run's, never the cursor's, so no cursor is left on something that cannot
succeed). Shopify runs one bulk query per shop and app at a time: while another client's
runs (another source of the same shop, a run of a script) it refuses ours
(``OPERATION_IN_PROGRESS``), and ours is queued: started once theirs is done. An operation
that is no longer the current one when polled (another client's started after ours ended)
is started again, and so is one whose file is gone when it is read (the signed URL expires
after a week; a run may resume later than that).
Polling waits :data:`POLL_SECONDS` between checks and hands back an empty page after
:data:`POLLS_PER_PAGE` checks, so a long wait still commits and renews the lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ..http import TransportError
from .base import Page
from .shopify_graphql import CUSTOMER_FIELDS, MONEY

POLL_SECONDS = 1.0
POLLS_PER_PAGE = 30
STARTS = 3
DONE = "COMPLETED"
WAITING = frozenset({"CREATED", "RUNNING", "CANCELING"})
IN_PROGRESS = "OPERATION_IN_PROGRESS"  # the userError code of a start refused while another operation runs
FILE_GONE = frozenset({403, 404, 410})  # an expired signed URL (403 on Google Cloud Storage), or no such file
TXN = f"id kind status gateway manualPaymentGateway processedAt createdAt amountSet {{ {MONEY} }} "
TXN += "paymentDetails { ... on CardPaymentDetails { company number } }"
# What Shopify lets a bulk query hold (bulkOperationRunQuery): at most five connections, nested at
# most two deep, and no connection inside a list field (a fulfilment's fulfillmentLineItems and a
# refund's refundLineItems and transactions are connections inside the lists fulfillments and
# refunds). So the file brings each order with its order-level connections (four, one deep), its
# transactions and the ids of its fulfilments and refunds; an order that has any of those is read
# again whole as a paged query reads it (shopify_orders.OrderReader). The pick-up fulfillment order's line items are not read here: the
# mapping does not use them (the counter's writes read them when they need them).
BULK_ORDERS = f"""{{ orders(sortKey: UPDATED_AT) {{ edges {{ node {{
  id name email phone createdAt updatedAt cancelledAt sourceName
  displayFinancialStatus displayFulfillmentStatus currencyCode
  totalPriceSet {{ {MONEY} }} customAttributes {{ key value }} retailLocation {{ id }}
  customer {{ {CUSTOMER_FIELDS} }}
  shippingLines {{ edges {{ node {{ id code title }} }} }}
  lineItems {{ edges {{ node {{ id sku name title quantity currentQuantity variant {{ id }} originalUnitPriceSet {{ {MONEY} }} }} }} }}
  fulfillmentOrders {{ edges {{ node {{ id status deliveryMethod {{ methodType }} assignedLocation {{ location {{ id }} }} }} }} }}
  fulfillments {{ id }}
  refunds {{ id }}
  transactions {{ {TXN} }}
}} }} }} }}"""
RUN_QUERY = """mutation BulkOrders($query: String!) {
  bulkOperationRunQuery(query: $query) { bulkOperation { id status createdAt } userErrors { field message code } }
}"""
CURRENT = """query CurrentBulkOperation {
  currentBulkOperation { id status errorCode createdAt completedAt objectCount url }
}"""
# A child line's global-id type -> the connection of its parent it belongs to.
CHILD_FIELDS = {
    "LineItem": "lineItems",
    "ShippingLine": "shippingLines",
    "FulfillmentOrder": "fulfillmentOrders",
}
PARENTS = ("Order",)  # the types a child line can name (BULK_ORDERS nests no connection deeper)
UNREAD = "__unread"  # an order the file lists with fulfilments or refunds that ``nodes(ids:)`` did not return


class BulkBackfill:
    """The bulk operation's three steps (start, wait, read) behind one ``fetch``, for the ``orders`` stream."""

    def __init__(self, graphql):
        self.graphql = graphql
        self.client = graphql.adapter.client
        self.starts = 0  # operations this run started (one backfill per adapter, and an adapter per run)

    def fetch(self, cursor: Mapping[str, Any]) -> Page:
        if cursor.get("queued"):
            return self._queued(cursor)
        if not cursor.get("bulk"):
            return self._start()
        if not cursor.get("url"):
            return self._wait(cursor)
        return self._read(cursor)

    def _start(self) -> Page:
        if self.starts >= STARTS:
            raise TransportError(f"Shopify's bulk operation did not complete in {STARTS} attempts", permanent=False)
        payload = self.graphql.mutate(
            RUN_QUERY, {"query": BULK_ORDERS}, "bulkOperationRunQuery", allowed_codes={IN_PROGRESS}
        )
        if payload.get("userErrors"):  # another client's operation runs: ours once it is done
            return Page.more([], queued=True)
        self.starts += 1
        operation = payload.get("bulkOperation") or {}
        if not operation.get("id"):
            raise TransportError("Shopify started a bulk operation without an id", permanent=False)
        return Page.more([], bulk=operation["id"], since=operation.get("createdAt"))

    def _queued(self, cursor: Mapping[str, Any]) -> Page:
        """Start ours once the operation Shopify refused it for is no longer running."""
        for operation in self._polls():
            if operation.get("status") not in WAITING:
                return self._start()
        return Page.more([], **cursor)

    def _wait(self, cursor: Mapping[str, Any]) -> Page:
        for operation in self._polls():
            status = operation.get("status")
            if operation.get("id") != cursor["bulk"]:  # another client's operation is the current one
                if status in WAITING:
                    continue  # it runs (one per shop and app): ours again once it is done
                return self._start()  # ours is no longer the current one
            if status == DONE:
                if not operation.get("url"):  # no orders at all: Shopify writes no file
                    return Page.final([], updated_at_min=cursor.get("since"))
                return Page.more([], bulk=cursor["bulk"], since=cursor.get("since"), url=operation["url"], offset=0)
            if status not in WAITING:
                return self._start()  # failed, cancelled or expired
        return Page.more([], **cursor)

    def _polls(self) -> Iterator[dict[str, Any]]:
        """The current operation, asked up to :data:`POLLS_PER_PAGE` times :data:`POLL_SECONDS` apart."""
        for poll in range(POLLS_PER_PAGE):
            if poll:
                self.client.sleep(POLL_SECONDS)
            yield self.graphql.query(CURRENT, {}).get("currentBulkOperation") or {}

    def _read(self, cursor: Mapping[str, Any]) -> Page:
        """The next ``page_size`` orders of the file from ``offset``, each with all its child lines."""
        offset = int(cursor.get("offset") or 0)
        limit = max(1, self.graphql.adapter.page_size)
        try:
            response = self.client.get(
                cursor["url"],
                headers={
                    "Range": f"bytes={offset}-",
                    "X-Shopify-Access-Token": None,
                },  # None: not sent to the file host
                stream=True,
            )
        except TransportError as error:
            if error.status in FILE_GONE:
                return self._start()
            raise
        orders: list[dict[str, Any]] = []
        index: dict[str, dict[str, Any]] = {}
        position = offset if response.status_code == 206 else 0
        end = None
        try:
            for raw in _lines(response):
                start, position = position, position + len(raw) + 1
                if start < offset or not raw.strip():
                    continue
                line = _decode(raw, start)
                if "__parentId" not in line:
                    if len(orders) == limit:
                        end = start
                        break
                    orders.append(line)
                    index = {}
                    _index(line, index)
                    continue
                if not orders:
                    raise TransportError(
                        f"the bulk file's line at byte {start} comes before any order", permanent=False
                    )
                _attach(line, index, orders[-1])
        finally:
            response.close()
        orders = self._complete(orders)
        if end is None:
            return Page.final(orders, updated_at_min=cursor.get("since"))
        return Page.more(orders, **{**cursor, "offset": end})

    def _complete(self, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The page's orders, each with fulfilments or refunds replaced by its whole node, read by ``nodes(ids:)``.

        An order Shopify no longer returns keeps its file line, marked :data:`UNREAD`: the
        mapping refuses it, so it becomes a dead letter saying so rather than an order
        landed without its shipments' or refunds' lines.
        """
        wanted = [
            order["id"]
            for order in orders
            if isinstance(order.get("id"), str)
            and (order.get("fulfillments") or order.get("refunds"))
            and not order.get("__unattached")  # a dead letter already: kept as read, with what it cannot hold
        ]
        if not wanted:
            return orders
        whole = dict(zip(wanted, self.graphql.orders.read(wanted), strict=True))
        completed = []
        for order in orders:
            if order.get("id") in whole:
                order = whole[order["id"]] or {**order, UNREAD: True}
            completed.append(order)
        return completed


def _lines(response, chunk_size: int = 1 << 16):
    """The body's lines without their ``\\n``, as they stream in (the last one even without a newline)."""
    pending = b""
    for chunk in response.iter_content(chunk_size=chunk_size):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from complete
    if pending:
        yield pending


def _decode(raw: bytes, at: int) -> dict[str, Any]:
    try:
        line = json.loads(raw)
    except ValueError:
        raise TransportError(f"the bulk file is not JSONL at byte {at}", permanent=False) from None
    if not isinstance(line, dict):
        raise TransportError(f"the bulk file holds a non-object at byte {at}", permanent=False)
    return line


def _type(value: Any) -> str:
    parts = str(value or "").split("/")
    return parts[3] if len(parts) > 4 and parts[:3] == ["gid:", "", "shopify"] else ""


def _index(obj: dict[str, Any], index: dict[str, dict[str, Any]]) -> None:
    """Remember ``obj`` and the list items inside it that child lines may name as their parent."""
    if _type(obj.get("id")) in PARENTS:
        index[obj["id"]] = obj
    for value in obj.values():
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and _type(item.get("id")) in PARENTS:
                    _index(item, index)


def _attach(line: dict[str, Any], index: dict[str, dict[str, Any]], order: dict[str, Any]) -> None:
    """Put a child line under its parent's connection, as ``{"nodes": [...]}``.

    A line whose parent is not in its order or holds something else in that field (a
    malformed parent line), or whose type is unknown, is kept in the order under ``__unattached``: the mapping refuses such an
    order, so it becomes a dead letter with everything that was read for it.
    """
    parent = index.get(line.get("__parentId"))
    field = CHILD_FIELDS.get(_type(line.get("id")))
    connection = None if parent is None or field is None else parent.setdefault(field, {"nodes": []})
    if not (isinstance(connection, dict) and isinstance(connection.get("nodes"), list)):
        order.setdefault("__unattached", []).append(line)
        return
    line.pop("__parentId")
    connection["nodes"].append(line)
    if _type(line.get("id")) in PARENTS:
        _index(line, index)
