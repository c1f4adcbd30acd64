"""Whole Shopify orders over GraphQL, each query within Shopify's single-query cost limit.

Shopify works out a query's *requested* cost from the sizes it asks for before running it (an
object 1, a connection or a sized list 2 + ``first`` × one of its objects; the sandbox's
``formats/shopify_cost.py`` applies the same rules) and refuses one above 1,000 points
(``MAX_COST_EXCEEDED``). An order as the mapping reads it holds six lists and connections, two
of them with connections inside: asked for at sizes that hold any order, one order alone
requests some 24,500. So ``shopify_graphql.ORDER`` asks for sizes that hold a usual order
(237 points, :data:`~.shopify_graphql.ORDERS_PER_QUERY` orders to a ``nodes(ids:)`` query),
and :class:`OrderReader` reads what did not fit, each query again within the limit:

* a connection whose ``pageInfo.hasNextPage`` (an order's line items, shipping lines and
  fulfillment orders; a fulfilment's line items; a refund's line items and transactions) is
  paged on from its ``endCursor`` through its owner's root field (``order(id:)``,
  ``fulfillment(id:)``, ``refund(id:)``, ``fulfillmentOrder(id:)``): :data:`MORE`;
* a list (``fulfillments``, ``refunds``, ``transactions``: Shopify gives them no
  ``pageInfo``) that comes back exactly as long as asked may hold more: it is read again
  whole at the largest size that fits (:data:`AGAIN`). One still full then is a permanent
  TransportError naming the order: an order is never landed short of its lines.

The node handed on is then what one query at unlimited sizes would have answered (``pageInfo``
dropped): ``shopify_graphql_mapping`` maps it unchanged.
"""

from __future__ import annotations

from typing import Any

from ..http import TransportError
from .shopify_graphql import (
    FULFILLMENT,
    FULFILLMENT_LINE_ITEM,
    FULFILLMENT_ORDER,
    LINE_ITEM,
    LIST_SIZES,
    NODES_QUERY,
    ORDERS_PER_QUERY,
    PAGE_INFO,
    PICKUP_FULFILLMENT_ORDER,
    PICKUP_LINE_ITEM,
    REFUND,
    REFUND_LINE_ITEM,
    SHIPPING_LINE,
    TRANSACTION,
    _connection,
    _nodes,
)


def _more(name: str, root: str, field: str, size: int, selection: str, fragments: str = "") -> str:
    """The next ``size`` nodes of ``root(id:)``'s connection ``field`` after a cursor."""
    return f"""query {name}($id: ID!, $after: String) {{
  {root}(id: $id) {{ {field}(first: {size}, after: $after) {{ {PAGE_INFO} nodes {{ {selection} }} }} }}
}}{fragments}"""


def _again(name: str, field: str, size: int, fragment: str, fragments: str) -> str:
    """An order's list ``field`` read again at ``size``."""
    return f"""query {name}($id: ID!) {{ order(id: $id) {{ {field}(first: {size}) {{ ...{fragment} }} }} }}
{fragments}"""


# (owner's root field, connection) -> the follow-up page's document; sizes as large as fit 1,000.
MORE = {
    ("order", "lineItems"): _more("OrderLineItems", "order", "lineItems", 240, LINE_ITEM),
    ("order", "shippingLines"): _more("OrderShippingLines", "order", "shippingLines", 250, SHIPPING_LINE),
    ("order", "fulfillmentOrders"): _more(
        "OrderFulfillmentOrders", "order", "fulfillmentOrders", 240, FULFILLMENT_ORDER
    ),
    ("fulfillment", "fulfillmentLineItems"): _more(
        "FulfillmentLineItems", "fulfillment", "fulfillmentLineItems", 250, FULFILLMENT_LINE_ITEM
    ),
    ("refund", "refundLineItems"): _more("RefundLineItems", "refund", "refundLineItems", 140, REFUND_LINE_ITEM),
    ("refund", "transactions"): _more(
        "RefundTransactions", "refund", "transactions", 240, "...TransactionFields", f"\n{TRANSACTION}"
    ),
}
# The counter's read pages on with its own selection (the fulfillment orders' line items).
PICKUP_MORE = {
    ("order", "fulfillmentOrders"): _more(
        "PickupMoreFulfillmentOrders", "order", "fulfillmentOrders", 5, PICKUP_FULFILLMENT_ORDER
    ),
    ("fulfillmentOrder", "lineItems"): _more("PickupLineItems", "fulfillmentOrder", "lineItems", 250, PICKUP_LINE_ITEM),
}
# list -> (its document read again, the size it asks for)
AGAIN = {
    "fulfillments": (_again("OrderFulfillments", "fulfillments", 45, "FulfillmentFields", FULFILLMENT), 45),
    "refunds": (_again("OrderRefunds", "refunds", 36, "RefundFields", f"{REFUND}\n{TRANSACTION}"), 36),
    "transactions": (_again("OrderTransactions", "transactions", 240, "TransactionFields", TRANSACTION), 240),
}
ORDER_CONNECTIONS = ("lineItems", "shippingLines", "fulfillmentOrders")


class OrderReader:
    """Reads order nodes whole for a :class:`~.shopify_graphql.GraphQLTransport`, in queries that fit."""

    def __init__(self, graphql):
        self.graphql = graphql

    def read(self, ids: list[str]) -> list[dict[str, Any] | None]:
        """The whole node of each order id, in order; None for an order the shop no longer has."""
        found: list[dict[str, Any] | None] = []
        for start in range(0, len(ids), ORDERS_PER_QUERY):
            batch = ids[start : start + ORDERS_PER_QUERY]
            nodes = self.graphql.query(NODES_QUERY, {"ids": batch}).get("nodes")
            if not isinstance(nodes, list) or len(nodes) != len(batch):
                raise TransportError("Shopify answered nodes(ids:) without one node per id", permanent=False)
            found += [
                self.complete(node, ident) if isinstance(node, dict) else None
                for ident, node in zip(batch, nodes, strict=True)
            ]
        return found

    def complete(self, order: dict[str, Any], ident: str) -> dict[str, Any]:
        """``order`` (the node of ``ident`` as ``ORDER`` selects it) with what its sizes left out read."""
        for field, (document, size) in AGAIN.items():
            held = order.get(field)
            if isinstance(held, list) and len(held) >= LIST_SIZES[field]:
                order[field] = self._again(document, ident, field, size)
        for field in ORDER_CONNECTIONS:
            self.page_on(MORE["order", field], "order", ident, order, field)
        for fulfillment in _listed(order.get("fulfillments")):
            self.page_on(
                MORE["fulfillment", "fulfillmentLineItems"],
                "fulfillment",
                fulfillment.get("id"),
                fulfillment,
                "fulfillmentLineItems",
            )
        for refund in _listed(order.get("refunds")):
            for field in ("refundLineItems", "transactions"):
                self.page_on(MORE["refund", field], "refund", refund.get("id"), refund, field)
        return order

    def pickup(self, order: dict[str, Any], ident: str) -> dict[str, Any]:
        """The counter's read of ``order`` with every fulfillment order and each one's every line item."""
        self.page_on(PICKUP_MORE["order", "fulfillmentOrders"], "order", ident, order, "fulfillmentOrders")
        for fulfillment_order in _nodes(order.get("fulfillmentOrders")):
            self.page_on(
                PICKUP_MORE["fulfillmentOrder", "lineItems"],
                "fulfillmentOrder",
                fulfillment_order.get("id"),
                fulfillment_order,
                "lineItems",
            )
        return order

    def page_on(self, document: str, root: str, ident: Any, owner: dict[str, Any], field: str) -> None:
        """Add to ``owner[field]`` the nodes after its first page, while Shopify says there are more."""
        connection = owner.get(field)
        if not isinstance(connection, dict):
            return  # absent or malformed: the mapping says so
        info = connection.pop("pageInfo", None) or {}
        nodes = connection.get("nodes")
        while info.get("hasNextPage") and isinstance(nodes, list):
            if not info.get("endCursor"):
                raise TransportError(f"{root} {ident}: {field} has a next page without an endCursor", permanent=False)
            more, info = _connection(self._owner(document, root, ident, after=info["endCursor"]), field)
            nodes += more

    def _again(self, document: str, ident: str, field: str, size: int) -> list[Any]:
        items = self._owner(document, "order", ident).get(field)
        if not isinstance(items, list):
            raise TransportError(f"Shopify answered order {ident} without its {field}", permanent=False)
        if len(items) >= size:
            raise TransportError(
                f"order {ident} has {size} {field} or more: more than one query within Shopify's cost limit reads",
                permanent=True,
            )
        return items

    def _owner(self, document: str, root: str, ident: Any, **variables: Any) -> dict[str, Any]:
        found = self.graphql.query(document, {"id": ident, **variables}).get(root)
        if not isinstance(found, dict):
            raise TransportError(f"Shopify answered {root}(id: {ident}) with nothing", permanent=False)
        return found


def _listed(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
