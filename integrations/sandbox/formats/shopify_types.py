"""The GraphQL type of a value the sandbox rendered, for ``__typename`` and for fragments' type conditions.

The sandbox has no schema: a node says its type by its global id (``gid://shopify/Order/…`` is an
``Order``) or, as ``paymentDetails`` does, by a rendered ``__typename``; a connection is named after its
nodes (``LineItemConnection``, its edges ``LineItemEdge``); every other object the sandbox renders is
named by the field that holds it (:data:`BY_FIELD`), as Shopify's 2025-07 schema names it.

A type condition (``... on CardPaymentDetails``, ``fragment F on Order``) applies as Shopify applies it:
to an object of that type; ``Node`` to any object with a global id; the union ``PaymentDetails`` to its
members. A condition naming a type the sandbox does not render (an interface such as ``HasMetafields``)
applies to every object, and so does any condition on an object whose type the sandbox cannot tell:
the sandbox answers what it can rather than leave out what a client asked for.
"""

from __future__ import annotations

from typing import Any

QUERY_ROOT, MUTATION_ROOT = "QueryRoot", "Mutation"
BY_FIELD = {
    "totalPriceSet": "MoneyBag", "originalUnitPriceSet": "MoneyBag", "amountSet": "MoneyBag",
    "subtotalSet": "MoneyBag", "totalTaxSet": "MoneyBag", "shopMoney": "MoneyV2", "presentmentMoney": "MoneyV2",
    "pageInfo": "PageInfo", "customAttributes": "Attribute", "defaultEmailAddress": "CustomerEmailAddress",
    "defaultPhoneNumber": "CustomerPhoneNumber", "deliveryMethod": "DeliveryMethod",
    "assignedLocation": "FulfillmentOrderAssignedLocation", "trackingInfo": "FulfillmentTrackingInfo",
    "address": "LocationAddress", "bulkOperationRunQuery": "BulkOperationRunQueryPayload",
    "fulfillmentCreate": "FulfillmentCreatePayload",
    "fulfillmentOrderLineItemsPreparedForPickup": "FulfillmentOrderLineItemsPreparedForPickupPayload",
}  # fmt: skip
USER_ERRORS = {  # a payload's type -> the type of its userErrors
    "BulkOperationRunQueryPayload": "BulkOperationUserError",
    "FulfillmentCreatePayload": "UserError",
    "FulfillmentOrderLineItemsPreparedForPickupPayload": "FulfillmentOrderLineItemsPreparedForPickupUserError",
}
# A connection's node type, for a connection that came back empty: by its field, or (its owner, its field).
CONNECTION_NODES = {
    "orders": "Order", "customers": "Customer", "locations": "Location", "lineItems": "LineItem",
    "shippingLines": "ShippingLine", "fulfillmentOrders": "FulfillmentOrder",
    "fulfillmentLineItems": "FulfillmentLineItem", "refundLineItems": "RefundLineItem",
    "transactions": "OrderTransaction", ("FulfillmentOrder", "lineItems"): "FulfillmentOrderLineItem",
}  # fmt: skip
UNIONS = {"PaymentDetails": frozenset({"CardPaymentDetails", "ShopPayInstallmentsPaymentDetails"})}
# The object types the sandbox renders: a condition naming one of them applies to that type only.
RENDERED = frozenset({
    "Order", "Customer", "Location", "LineItem", "ShippingLine", "FulfillmentOrder", "FulfillmentOrderLineItem",
    "Fulfillment", "FulfillmentLineItem", "Refund", "RefundLineItem", "OrderTransaction", "ProductVariant",
    "BulkOperation", QUERY_ROOT, MUTATION_ROOT, *BY_FIELD.values(), *USER_ERRORS.values(), *UNIONS["PaymentDetails"],
})  # fmt: skip


def typename(value: dict[str, Any], field: str, owner: str | None) -> str | None:
    """The type of ``value``, held by ``field`` of an object of type ``owner``; None when the sandbox cannot tell."""
    if isinstance(value.get("__typename"), str):
        return value["__typename"]
    kind = _gid_type(value.get("id"))
    if kind:
        return kind
    if isinstance(value.get("nodes"), list):
        node = next((_gid_type(n.get("id")) for n in value["nodes"] if isinstance(n, dict)), None)
        node = node or node_type(field, owner)
        return f"{node}Connection" if node else None
    if field == "edges" and owner and owner.endswith("Connection"):
        return owner.removesuffix("Connection") + "Edge"
    if field == "userErrors":
        return USER_ERRORS.get(owner or "")
    return BY_FIELD.get(field)


def node_type(field: str, owner: str | None = None) -> str | None:
    """The type of the nodes of the connection ``field`` (of an object of type ``owner``), by the field."""
    return CONNECTION_NODES.get((owner, field)) or CONNECTION_NODES.get(field)


def applies(condition: str | None, kind: str | None, value: dict[str, Any]) -> bool:
    """Whether a fragment on ``condition`` applies to ``value``, an object of type ``kind``."""
    if condition is None or kind is None or condition == kind:
        return True
    if condition == "Node":
        return bool(_gid_type(value.get("id")))
    if condition in UNIONS:
        return kind in UNIONS[condition]
    return condition not in RENDERED


def _gid_type(ident: Any) -> str:
    if not isinstance(ident, str) or not ident.startswith("gid://shopify/"):
        return ""
    return ident.removeprefix("gid://shopify/").split("/", 1)[0]
