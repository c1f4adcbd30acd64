"""Pure mapping of Shopify GraphQL Admin (2025-07) nodes to OmniDesk records.

A GraphQL node is first restated in the shape of the REST resource it stands for
(:func:`rest_order`, :func:`rest_customer`, :func:`rest_location`), then mapped by the one
REST mapping in ``shopify_mapping``: both transports give the same records by
construction, with one status table and one set of retailer conventions. A field the
restatement cannot read raises :class:`MappingError` naming its GraphQL path.

How GraphQL differs from REST, and what the restatement does about it:

* Ids are global ids (``gid://shopify/Order/450789469``); the record keeps the number
  after the last ``/``, the REST id, so a shop's rows do not change with the transport.
* Money is a ``MoneyBag``: the shop currency's ``shopMoney {amount currencyCode}`` is read.
* Enums are upper case (``PARTIALLY_REFUNDED``, ``SALE``, ``IN_TRANSIT``); REST's words are
  their lower case, except ``displayFulfillmentStatus`` (``FULFILLED`` -> fulfilled,
  ``PARTIALLY_FULFILLED`` -> partial, ``UNFULFILLED`` and the in-between states -> none,
  as REST says) and a fulfilment's ``displayStatus`` when it is no carrier event
  (``FULFILLED``, ``MARKED_AS_FULFILLED``, ``SUBMITTED``, ``CANCELED``, ``LABEL_VOIDED``).
* Connections (``lineItems``, ``refundLineItems``, ``fulfillmentOrders``…) come as
  ``{nodes: [...]}`` or ``{edges: [{node}]}``; lists (``transactions``, ``refunds``,
  ``fulfillments``) as plain lists. Both are read.
* The pickup store: REST puts it in the order's ``location_id``; GraphQL has it as the
  ``assignedLocation`` of the fulfillment order whose delivery method is ``PICK_UP``.
  A POS order's till is its ``retailLocation``.
* A refund has no ``processedAt`` in GraphQL: its ``createdAt`` stands (the REST mapping
  falls back to ``created_at`` the same way).
* A card is ``paymentDetails`` of type ``CardPaymentDetails`` (``company``, ``number``
  masked as ``•••• •••• •••• 4242``); the REST mapping keeps brand and last four only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..records import CustomerRecord, LocationRecord, MappingError, UpstreamOrder
from .fields import json_object, text
from .shopify_mapping import map_customer, map_location, map_order

GID_PREFIX = "gid://shopify/"
FULFILLMENT_STATUS = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}
NO_CARRIER_EVENT = frozenset({"FULFILLED", "MARKED_AS_FULFILLED", "SUBMITTED", "CANCELED", "LABEL_VOIDED"})


def is_graphql(payload: Any) -> bool:
    """Whether a payload is a GraphQL node (its id a global id) rather than a REST resource."""
    return isinstance(payload, dict) and isinstance(payload.get("id"), str) and payload["id"].startswith(GID_PREFIX)


def map_order_node(payload: Any) -> UpstreamOrder:
    return map_order(rest_order(payload))


def map_customer_node(payload: Any) -> CustomerRecord:
    return map_customer(rest_customer(payload))


def map_location_node(payload: Any) -> LocationRecord:
    return map_location(rest_location(payload))


def legacy_id(value: Any, where: str) -> str:
    """``gid://shopify/Order/450789469`` -> ``"450789469"``; a bare number is taken as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{where} is missing")
    tail = value.rsplit("/", 1)[-1].split("?", 1)[0]
    if not tail.isdigit():
        raise MappingError(f"{where} is not a Shopify global id: {value!r}")
    return tail


# -- restatements ---------------------------------------------------------------------------
def rest_order(payload: Any) -> dict[str, Any]:
    order = json_object(payload, "order")
    where = "order"
    if order.get("__unread"):  # a bulk order with fulfilments or refunds that nodes(ids:) did not return
        raise MappingError("order's fulfilment and refund lines could not be read: Shopify no longer returns the order")
    line_items = [_line_item(item, w) for item, w in _nodes(order, "lineItems", where)]
    fulfillment_orders = _nodes(order, "fulfillmentOrders", where)
    restated = {
        "id": _gid(order, "id", where),
        "name": order.get("name"),
        "email": order.get("email"),
        "phone": order.get("phone"),
        "created_at": order.get("createdAt"),
        "updated_at": order.get("updatedAt"),
        "cancelled_at": order.get("cancelledAt"),
        "source_name": order.get("sourceName"),
        "financial_status": _lower(order, "displayFinancialStatus", where),
        "fulfillment_status": _fulfillment_status(order, where),
        "currency": order.get("currencyCode"),
        "total_price": _money(order, "totalPriceSet", where),
        "location_id": _order_location(order, fulfillment_orders, where),
        "note_attributes": [
            {"name": attribute.get("key"), "value": attribute.get("value")}
            for attribute, _ in _list(order, "customAttributes", where)
        ],
        "customer": None if order.get("customer") is None else rest_customer(order["customer"], "order.customer"),
        "shipping_lines": [
            {"code": line.get("code"), "title": line.get("title")} for line, _ in _nodes(order, "shippingLines", where)
        ],
        "line_items": line_items,
        "fulfillments": [_fulfillment(f, w) for f, w in _list(order, "fulfillments", where)],
        "refunds": [_refund(r, w) for r, w in _list(order, "refunds", where)],
        "transactions": [_transaction(t, w) for t, w in _list(order, "transactions", where)],
    }
    if order.get("__unattached"):  # bulk lines shopify_bulk could not put under their parent
        first = json_object(order["__unattached"][0], "order.__unattached[0]")
        raise MappingError(f"order has bulk lines it cannot hold: {first.get('id')} (parent {first.get('__parentId')})")
    return restated


def rest_customer(payload: Any, where: str = "customer") -> dict[str, Any]:
    customer = json_object(payload, where)
    email = customer.get("email")
    if email is None and customer.get("defaultEmailAddress") is not None:
        email = json_object(customer["defaultEmailAddress"], f"{where}.defaultEmailAddress").get("emailAddress")
    phone = customer.get("phone")
    if phone is None and customer.get("defaultPhoneNumber") is not None:
        phone = json_object(customer["defaultPhoneNumber"], f"{where}.defaultPhoneNumber").get("phoneNumber")
    return {
        "id": _gid(customer, "id", where),
        "first_name": customer.get("firstName"),
        "last_name": customer.get("lastName"),
        "email": email,
        "phone": phone,
        "verified_email": customer.get("verifiedEmail"),
        "tags": customer.get("tags"),
        "updated_at": customer.get("updatedAt"),
    }


def rest_location(payload: Any) -> dict[str, Any]:
    location = json_object(payload, "location")
    address = location.get("address")
    address = {} if address is None else json_object(address, "location.address")
    return {
        "id": _gid(location, "id", "location"),
        "name": location.get("name"),
        "address1": address.get("address1"),
        "city": address.get("city"),
        "zip": address.get("zip"),
    }


# -- order parts ----------------------------------------------------------------------------
def _fulfillment_status(order: Mapping[str, Any], where: str) -> str | None:
    return FULFILLMENT_STATUS.get(text(order, "displayFulfillmentStatus", where))


def _order_location(order: Mapping[str, Any], fulfillment_orders, where: str) -> str | None:
    """The pickup store (the ``PICK_UP`` fulfillment order's location), else the POS till's ``retailLocation``."""
    for fo, fo_where in fulfillment_orders:
        method = fo.get("deliveryMethod")
        method = {} if method is None else json_object(method, f"{fo_where}.deliveryMethod")
        if method.get("methodType") == "PICK_UP" and fo.get("assignedLocation") is not None:
            assigned = json_object(fo["assignedLocation"], f"{fo_where}.assignedLocation")
            if assigned.get("location") is not None:
                return _gid(json_object(assigned["location"], f"{fo_where}.assignedLocation.location"), "id", "")
    if order.get("retailLocation") is not None:
        return _gid(json_object(order["retailLocation"], f"{where}.retailLocation"), "id", f"{where}.retailLocation")
    return None


def _line_item(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    return {
        "id": _gid(item, "id", where),
        "sku": item.get("sku"),
        "name": item.get("name"),
        "title": item.get("title"),
        "quantity": item.get("quantity"),
        "current_quantity": item.get("currentQuantity"),
        "variant_id": _variant_id(item, where),
        "price": _money(item, "originalUnitPriceSet", where),
    }


def _variant_id(item: Mapping[str, Any], where: str) -> str | None:
    variant = item.get("variant")
    if variant is None:
        return None
    return _gid(json_object(variant, f"{where}.variant"), "id", f"{where}.variant")


def _fulfillment(fulfillment: Mapping[str, Any], where: str) -> dict[str, Any]:
    display = text(fulfillment, "displayStatus", where)
    tracking = _list(fulfillment, "trackingInfo", where)
    first = tracking[0][0] if tracking else {}
    location = fulfillment.get("location")
    return {
        "id": _gid(fulfillment, "id", where),
        "status": _lower(fulfillment, "status", where),
        "shipment_status": None if not display or display in NO_CARRIER_EVENT else display.lower(),
        "created_at": fulfillment.get("createdAt"),
        "updated_at": fulfillment.get("updatedAt"),
        "location_id": None
        if location is None
        else _gid(json_object(location, f"{where}.location"), "id", f"{where}.location"),
        "tracking_company": first.get("company"),
        "tracking_number": first.get("number"),
        "tracking_url": first.get("url"),
        "line_items": [
            {**_line_of(item, w), "quantity": item.get("quantity")}
            for item, w in _nodes(fulfillment, "fulfillmentLineItems", where)
        ],
    }


def _line_of(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The line item an item of a fulfilment or refund points at, in REST's keys."""
    if item.get("lineItem") is None:
        raise MappingError(f"{where}.lineItem is missing")
    line = json_object(item["lineItem"], f"{where}.lineItem")
    return {
        "id": _gid(line, "id", f"{where}.lineItem"),
        "sku": line.get("sku"),
        "variant_id": _variant_id(line, f"{where}.lineItem"),
    }


def _refund(refund: Mapping[str, Any], where: str) -> dict[str, Any]:
    items = []
    for item, w in _nodes(refund, "refundLineItems", where):
        line = _line_of(item, w)
        items.append({
            "line_item_id": line["id"], "line_item": line, "quantity": item.get("quantity"),
            "restock_type": _lower(item, "restockType", w), "subtotal": _money(item, "subtotalSet", w),
            "total_tax": _money(item, "totalTaxSet", w, required=False),
        })  # fmt: skip
    return {
        "id": _gid(refund, "id", where),
        "created_at": refund.get("createdAt"),
        "refund_line_items": items,
        "transactions": [_transaction(t, w) for t, w in _nodes(refund, "transactions", where)],
    }


def _transaction(transaction: Mapping[str, Any], where: str) -> dict[str, Any]:
    details = transaction.get("paymentDetails")
    card = None
    if details is not None:
        details = json_object(details, f"{where}.paymentDetails")
        if details.get("company") is not None or details.get("number") is not None:
            card = {"credit_card_company": details.get("company"), "credit_card_number": details.get("number")}
    amount = transaction.get("amountSet")
    shop = _shop_money(amount, f"{where}.amountSet") if amount is not None else {}
    return {
        "id": _gid(transaction, "id", where),
        "kind": _lower(transaction, "kind", where),
        "status": _lower(transaction, "status", where),
        "gateway": transaction.get("gateway"),
        "manual_payment_gateway": transaction.get("manualPaymentGateway"),
        "amount": shop.get("amount"),
        "currency": shop.get("currencyCode"),
        "processed_at": transaction.get("processedAt"),
        "created_at": transaction.get("createdAt"),
        "payment_details": card,
    }


# -- field readers ------------------------------------------------------------------------
def _gid(obj: Mapping[str, Any], key: str, where: str) -> str:
    return legacy_id(obj.get(key), f"{where}.{key}" if where else key)


def _lower(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    value = text(obj, key, where)
    return value.lower() or None


def _shop_money(bag: Any, where: str) -> Mapping[str, Any]:
    bag = json_object(bag, where)
    if bag.get("shopMoney") is None:
        raise MappingError(f"{where}.shopMoney is missing")
    return json_object(bag["shopMoney"], f"{where}.shopMoney")


def _money(obj: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> Any:
    """The shop-currency amount of the MoneyBag ``obj[key]`` (a decimal string), or None when absent."""
    if obj.get(key) is None:
        if required:
            raise MappingError(f"{where}.{key} is missing")
        return None
    return _shop_money(obj[key], f"{where}.{key}").get("amount")


def _list(obj: Mapping[str, Any], key: str, where: str) -> list[tuple[Mapping[str, Any], str]]:
    """The objects of a GraphQL list field (absent or null: none), each with its path."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MappingError(f"{where}.{key} must be a list, got {type(value).__name__}")
    return [(json_object(item, f"{where}.{key}[{n}]"), f"{where}.{key}[{n}]") for n, item in enumerate(value)]


def _nodes(obj: Mapping[str, Any], key: str, where: str) -> list[tuple[Mapping[str, Any], str]]:
    """The nodes of a connection (``{nodes: [...]}`` or ``{edges: [{node}]}``), each with its path."""
    value = obj.get(key)
    if value is None:
        return []
    connection = json_object(value, f"{where}.{key}")
    if "nodes" in connection:
        return _list(connection, "nodes", f"{where}.{key}")
    edges = _list(connection, "edges", f"{where}.{key}")
    return [(json_object(edge.get("node"), f"{w}.node"), f"{w}.node") for edge, w in edges]
