"""Shopify GraphQL Admin API 2025-07 nodes, as restatements of the REST resources of ``shopify_records``.

Global ids (``gid://shopify/<Type>/<REST id>``), ``MoneyBag`` amounts (``shopMoney``),
upper-case enums, UTC times, connections as ``{"nodes": [...]}``: one world, two APIs.
"""

from __future__ import annotations

from typing import Any

from ..model import iso_z, parse_time
from .shopify_records import fulfillment_order, money_set, transactions


# -- REST resource -> GraphQL node ----------------------------------------------------------------
def gid(kind: str, ident) -> str:
    return f"gid://shopify/{kind}/{ident}"


def _z(value: str | None) -> str | None:
    return iso_z(parse_time(value)) if value else None


def _bag(amount, currency: str = "USD", presented: dict | None = None) -> dict:
    """A ``MoneyBag``; ``presented``: the REST ``*_set``'s ``presentment_money``, else the same as the shop's."""
    text = f"{amount:.2f}" if isinstance(amount, float) else str(amount)
    shop = {"amount": text, "currencyCode": currency}
    if presented is not None:
        return {
            "shopMoney": shop,
            "presentmentMoney": {"amount": presented["amount"], "currencyCode": presented["currency_code"]},
        }
    return {"shopMoney": shop, "presentmentMoney": dict(shop)}


def _cents(amount: str) -> int:
    whole, _, part = amount.partition(".")
    return int(whole) * 100 + int((part + "00")[:2]) if not whole.startswith("-") else -_cents(amount[1:])


def _upper(value: str | None) -> str | None:
    return value.upper() if value else None


def _line_ref(item: dict) -> dict:
    variant = item.get("variant_id")
    return {
        "id": gid("LineItem", item["id"]),
        "sku": item.get("sku"),
        "variant": {"id": gid("ProductVariant", variant)} if variant else None,
    }


def transaction(t: dict, o=None) -> dict:
    """A transaction node from its REST form in the shop's money (``o``: the world order, for its presentment money)."""
    card = t.get("payment_details")
    return {
        "id": gid("OrderTransaction", t["id"]),
        "kind": _upper(t["kind"]),
        "status": _upper(t["status"]),
        "gateway": t.get("gateway"),
        "manualPaymentGateway": bool(t.get("manual_payment_gateway")),
        "processedAt": _z(t.get("processed_at")),
        "createdAt": _z(t.get("created_at")),
        "amountSet": _bag(
            t["amount"],
            t.get("currency") or "USD",
            None if o is None else money_set(o, _cents(t["amount"]))["presentment_money"],
        ),
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
        "verifiedEmail": bool(c.get("verified_email")),
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
        "displayStatus": "CANCELED" if f["status"] == "cancelled" else _upper(f.get("shipment_status")) or "FULFILLED",
        "createdAt": _z(f.get("created_at")),
        "updatedAt": _z(f.get("updated_at")),
        "location": {"id": gid("Location", f["location_id"])} if f.get("location_id") else None,
        "trackingInfo": tracking,
        "fulfillmentLineItems": {
            "nodes": [
                {
                    "id": gid("FulfillmentLineItem", f"{f['id']}{item['id']}"),
                    "quantity": item["quantity"],
                    "lineItem": _line_ref({**item, "variant_id": variants.get(item["id"])}),
                }
                for item in f["line_items"]
            ]
        },
    }


def _refund(r: dict, o) -> dict:
    return {
        "id": gid("Refund", r["id"]),
        "createdAt": _z(r.get("processed_at") or r.get("created_at")),
        "refundLineItems": {
            "nodes": [
                {
                    "id": gid("RefundLineItem", item["id"]),
                    "quantity": item["quantity"],
                    "restockType": item["restock_type"].upper(),
                    "lineItem": _line_ref(item["line_item"]),
                    "subtotalSet": _bag(item["subtotal"]),
                    "totalTaxSet": _bag(item["total_tax"]),
                }
                for item in r["refund_line_items"]
            ]
        },
        "transactions": {"nodes": [transaction(t, o) for t in r["transactions"]]},
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
        "totalPriceSet": _bag(r["total_price"], r["currency"], r["total_price_set"]["presentment_money"]),
        "customAttributes": [{"key": n["name"], "value": n["value"]} for n in r.get("note_attributes") or []],
        "retailLocation": None,
        "customer": None if c is None else customer(c),
        "shippingLines": {
            "nodes": [
                {"id": gid("ShippingLine", s["id"]), "code": s["code"], "title": s["title"]}
                for s in r.get("shipping_lines") or []
            ]
        },
        "lineItems": {
            "nodes": [
                {
                    "id": gid("LineItem", item["id"]),
                    "sku": item.get("sku"),
                    "name": item.get("name"),
                    "title": item.get("title"),
                    "quantity": item["quantity"],
                    "currentQuantity": item["current_quantity"],
                    "variant": {"id": gid("ProductVariant", item["variant_id"])} if item.get("variant_id") else None,
                    "originalUnitPriceSet": _bag(item["price"], r["currency"]),
                }
                for item in r["line_items"]
            ]
        },
        "fulfillments": [_fulfillment(f, variants) for f in r.get("fulfillments") or []],
        "fulfillmentOrders": {"nodes": [fulfillment_order_node(fulfillment_order(world, o, now), skus)]},
        "refunds": [_refund(x, o) for x in r.get("refunds") or []],
        "transactions": [transaction(t, o) for t in transactions(o, now)],
    }
