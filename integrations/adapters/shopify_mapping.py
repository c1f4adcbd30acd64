"""Pure mapping of Shopify Admin REST (2025-07) payloads to OmniDesk records.

Nothing here does I/O: each ``map_*`` takes one decoded resource (the bare object, as
listed by ``orders.json`` or delivered by a webhook) and returns a record, or raises
:class:`MappingError` naming the offending field. The retailer conventions the sandbox
shares (pickup store, promised date, delivery window, loyalty tag) are those of
``docs/sandbox-conventions.md``.

Order status (first matching row wins; ``active`` fulfilments are those whose own
``status`` is not cancelled / failure / error):

==  ===========================================================  =================
 #  condition                                                    status
==  ===========================================================  =================
 1  ``cancelled_at`` set                                         cancelled
 2  ``financial_status`` refunded                                refunded
 3  pickup or till order and ``fulfillment_status`` fulfilled    collected
 4  active fulfilments exist, all ``shipment_status`` delivered  delivered
 5  an active shipment out_for_delivery                          out_for_delivery
 6  an active shipment in_transit                                in_transit
 7  an active shipment handed_to_carrier with a tracking number  handed_to_carrier
 8  an active shipment ready_for_pickup                          ready_for_pickup
 9  an active shipment packed (label printed, fulfilment open)   packed
10  ``financial_status`` paid or partially_refunded              paid
11  anything else (pending, authorized, partially_paid, voided)  placed
==  ===========================================================  =================

``authorized`` stays ``placed``: the money is not captured yet, and the payments list
says so exactly. Shipment statuses come from :data:`SHIPMENT_STATUS`.

Choices the Shopify REST order leaves open:

* A POS sale (``source_name`` pos) without shipping lines was taken at the till
  (``carry_out``): its fulfilment, written as the customer leaves, is no parcel handed
  to a carrier but the goods collected (a POS order to be shipped carries a shipping line).

* A line without a SKU gets ``shopify-variant-<variant_id>`` (or ``shopify-line-<id>``
  for a custom item): unique and stable, and by design never equal to another
  system's SKU, so two unrelated SKU-less products are never merged.
* An order edit that took items off keeps the line, its ``current_quantity`` lowered (to 0 for
  a line removed whole). ``current_quantity`` also falls for refunded items, which were bought
  and stay bought (a return shows them coming back): a line's quantity is what was ordered less
  only what an edit removed, ``quantity - current_quantity`` less the items refunds name; a
  line left with none is no line of the order. A cancelled order keeps the lines it was placed with.
* The line name is Shopify's ``name`` ("IPod Nano - 8gb - green"), which names the
  variant; ``title`` alone cannot tell the three iPods of the sample apart.
* REST 2025-07 order JSON has no returns resource. A refund whose
  ``refund_line_items`` carry ``restock_type`` "return" is a return that was received
  and refunded at the refund's ``processed_at``; its amount is the returned lines'
  subtotal plus tax. Other restock types (no_restock, cancel, legacy_restock) are
  refunds without a return and show only as refund payments.
* Payments are the order's ``transactions`` (when embedded) plus each refund's
  ``transactions``, deduplicated by id. An unknown ``kind`` or ``status`` raises: a
  guessed money movement is worse than a dead letter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ..records import (
    CustomerRecord,
    LineRecord,
    LocationRecord,
    MappingError,
    PaymentRecord,
    ReturnRecord,
    ShipmentRecord,
    UpstreamOrder,
)
from .fields import (
    Objects,
    enum,
    flag,
    ident,
    json_object,
    objects,
    optional_ident,
    parse_time,
    store_code,
    text,
    web_url,
)

FULFILMENT_BY_SHIPPING_CODE = {"pickup": "pickup", "scheduled_delivery": "delivery"}
DEAD_FULFILMENT_STATUSES = frozenset({"cancelled", "failure", "error"})
OPEN_FULFILMENT_STATUSES = frozenset({"pending", "open"})

# Shopify fulfilment ``shipment_status`` -> lifecycle. "failure" is a carrier-side
# delivery failure: the parcel is still out there, raw_status keeps the detail.
SHIPMENT_STATUS = {
    "label_printed": "packed",
    "label_purchased": "packed",
    "confirmed": "handed_to_carrier",
    "in_transit": "in_transit",
    "attempted_delivery": "in_transit",
    "failure": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "ready_for_pickup": "ready_for_pickup",
    "picked_up": "collected",
    "delivered": "delivered",
}
PAID_FINANCIAL_STATUSES = frozenset({"paid", "partially_refunded"})
PAYMENT_KINDS = frozenset({"authorization", "capture", "sale", "refund", "void", "change", "emv_authorization"})
# Kinds recorded as another: an EMV (card-present) authorisation is an authorisation. The change handed back
# on a cash sale paid with too much (GraphQL's CHANGE) is no payment of its own: it nets off the cash received.
PAYMENT_KIND_AS = {"emv_authorization": "authorization"}
PAYMENT_STATUS = {
    "success": "success",
    "pending": "pending",
    "failure": "failure",
    "error": "failure",
}
LOYALTY_TAG_PREFIX = "loyalty:"
Window = tuple[datetime | None, datetime | None]  # a scheduled delivery window (start, end)


# -- public mappers ----------------------------------------------------------------------
def map_customer(payload: Any, *, where: str = "customer") -> CustomerRecord:
    customer = json_object(payload, where)
    name = " ".join(p for p in (text(customer, "first_name", where), text(customer, "last_name", where)) if p)
    email = text(customer, "email", where)
    phone = text(customer, "phone", where)
    return CustomerRecord(
        external_id=ident(customer, "id", where),
        name=name,
        emails=[email] if email else [],
        phones=[phone] if phone else [],
        loyalty_id=_loyalty_id(customer.get("tags"), f"{where}.tags"),
        verified=["email"] if email and customer.get("verified_email") is True else [],  # the account's own
        updated_at=_when(customer, "updated_at", where),
    )


def map_location(payload: Any) -> LocationRecord:
    """A location; its code is the slug of its name, the key every vendor shares for a place.

    Names longer than the code allows are cut at 32 characters (trailing dash removed),
    which is deterministic, so every adapter that slugs the same name agrees.
    """
    location = json_object(payload, "location")
    name = text(location, "name", "location")
    code = store_code(name, "location")
    address_parts = (text(location, key, "location") for key in ("address1", "city", "zip"))
    return LocationRecord(
        external_id=ident(location, "id", "location"),
        name=name,
        code=code,
        kind="warehouse" if "warehouse" in name.lower() else "store",
        address=", ".join(p for p in address_parts if p),
    )


def map_order(payload: Any) -> UpstreamOrder:
    order = json_object(payload, "order")
    currency = text(order, "currency", "order")
    if not currency:
        raise MappingError("order.currency is missing")
    cancelled_at = _when(order, "cancelled_at", "order")
    financial_status = text(order, "financial_status", "order")
    fulfillment_status = text(order, "fulfillment_status", "order")
    channel = "store" if text(order, "source_name", "order") == "pos" else "web"
    fulfilment = _fulfilment_kind(order, channel)
    pickup = fulfilment == "pickup"
    handed_over = fulfilment in ("pickup", "carry_out")  # the customer takes the goods in store
    # The order's location is the pickup store (conventions) or, for POS, the till's store.
    location_id = optional_ident(order, "location_id", "order") if pickup or channel == "store" else ""
    promised_by, window = _promise(order, delivery=fulfilment == "delivery")

    fulfilments = objects(order, "fulfillments", "order")
    shipments = [_shipment(f, where, pickup=handed_over, window=window) for f, where in fulfilments]
    located = _line_locations(fulfilments, shipments)
    refunds = objects(order, "refunds", "order")
    refunded = None if cancelled_at else _refunded_quantities(refunds)
    lines = [
        line
        for item, where in objects(order, "line_items", "order")
        if (line := _line(item, where, located, location_id, refunded)) is not None
    ]
    raw_status = f"{financial_status or 'unknown'}/{fulfillment_status or 'unfulfilled'}"
    customer = order.get("customer")
    return UpstreamOrder(
        external_id=ident(order, "id", "order"),
        number=text(order, "name", "order"),
        references=[],
        channel=channel,
        fulfilment=fulfilment,
        location_id=location_id,
        raw_status=raw_status + ("/cancelled" if cancelled_at else ""),
        status=order_status(
            cancelled=cancelled_at is not None,
            financial_status=financial_status,
            fulfillment_status=fulfillment_status,
            pickup=handed_over,
            shipments=shipments,
        ),
        placed_at=_when(order, "created_at", "order", required=True),
        updated_at=_when(order, "updated_at", "order"),
        cancelled_at=cancelled_at,
        promised_by=promised_by,
        currency=currency,
        total=_money(order, "total_price", "order"),
        email=text(order, "email", "order") or text(order, "contact_email", "order"),
        phone=text(order, "phone", "order"),
        customer=None if customer is None else map_customer(customer, where="order.customer"),
        lines=lines,
        payments=_payments(order, refunds, currency, _presentment_rate(order, currency)),
        shipments=shipments,
        returns=_returns(refunds, {line.external_id: line.sku for line in lines}),
    )


def order_status(
    *,
    cancelled: bool,
    financial_status: str,
    fulfillment_status: str,
    pickup: bool,
    shipments: list[ShipmentRecord],
) -> str:
    """The lifecycle status of an order: the table in this module's docstring, in code."""
    active = [s for s in shipments if s.status != "cancelled"]
    if cancelled:
        return "cancelled"
    if financial_status == "refunded":
        return "refunded"
    if pickup and fulfillment_status == "fulfilled":
        return "collected"
    if active and all(s.status == "delivered" for s in active):
        return "delivered"
    for status in ("out_for_delivery", "in_transit"):
        if any(s.status == status for s in active):
            return status
    if any(s.status == "handed_to_carrier" and s.tracking_number for s in active):
        return "handed_to_carrier"
    for status in ("ready_for_pickup", "packed"):
        if any(s.status == status for s in active):
            return status
    if financial_status in PAID_FINANCIAL_STATUSES:
        return "paid"
    return "placed"


def shipment_status(*, status: str, shipment_status: str, pickup: bool) -> str:
    """Lifecycle of one fulfilment from its own ``status`` and the carrier's ``shipment_status``.

    Unknown carrier statuses fall back to handed_to_carrier (Shopify adds values over
    time; ``raw_status`` keeps the original), unlike payments, which must be exact.
    """
    if status in DEAD_FULFILMENT_STATUSES:
        return "cancelled"
    if shipment_status:
        return SHIPMENT_STATUS.get(shipment_status, "handed_to_carrier")
    if status in OPEN_FULFILMENT_STATUSES:
        return "packed"
    return "collected" if pickup else "handed_to_carrier"


# -- order parts -------------------------------------------------------------------------
def _fulfilment_kind(order: Mapping[str, Any], channel: str) -> str:
    """By the first shipping line's code; without one, a POS sale is taken at the till, anything else ships."""
    shipping_lines = objects(order, "shipping_lines", "order")
    if not shipping_lines:
        return "carry_out" if channel == "store" else "ship"
    first, where = shipping_lines[0]
    code = text(first, "code", where).lower()
    return FULFILMENT_BY_SHIPPING_CODE.get(code, "ship")


def _promise(order: Mapping[str, Any], *, delivery: bool) -> tuple[datetime | None, Window]:
    """``promised_by`` and, for a scheduled delivery, its window, from ``note_attributes``.

    A scheduled delivery without an explicit ``promised_by`` promises the window's end.
    The pickup/delivery apps write these times without an offset, in UTC (conventions).
    """
    values = {
        text(pair, "name", where): pair.get("value") for pair, where in objects(order, "note_attributes", "order")
    }

    def note_time(name: str) -> datetime | None:
        return parse_time(values.get(name), f"order.note_attributes.{name}", assume_utc=True)

    promised_by = note_time("promised_by")
    if not delivery:
        return promised_by, (None, None)
    window = (note_time("delivery_window_start"), note_time("delivery_window_end"))
    return promised_by or window[1], window


def _shipment(fulfilment: Mapping[str, Any], where: str, *, pickup: bool, window: Window) -> ShipmentRecord:
    status = text(fulfilment, "status", where)
    carrier_status = text(fulfilment, "shipment_status", where)
    items = objects(fulfilment, "line_items", where)
    delivered_at = _when(fulfilment, "updated_at", where) if carrier_status == "delivered" else None
    return ShipmentRecord(
        external_id=ident(fulfilment, "id", where),
        carrier=text(fulfilment, "tracking_company", where),
        tracking_number=text(fulfilment, "tracking_number", where),
        tracking_url=web_url(fulfilment, "tracking_url", where),
        raw_status=carrier_status or status,
        status=shipment_status(status=status, shipment_status=carrier_status, pickup=pickup),
        line_skus=_unique(_sku(item, item_where) for item, item_where in items),
        shipped_at=_when(fulfilment, "created_at", where),
        window_start=window[0],
        window_end=window[1],
        delivered_at=delivered_at,
    )


def _line_locations(fulfilments: Objects, shipments: list[ShipmentRecord]) -> dict[str, str]:
    """Line item id -> the location of the live fulfilment that ships it."""
    locations: dict[str, str] = {}
    for (fulfilment, where), shipment in zip(fulfilments, shipments, strict=True):
        fulfilled_from = optional_ident(fulfilment, "location_id", where)
        if shipment.status != "cancelled" and fulfilled_from:
            for item, item_where in objects(fulfilment, "line_items", where):
                locations[ident(item, "id", item_where)] = fulfilled_from
    return locations


def _refunded_quantities(refunds: Objects) -> dict[str, int]:
    """Line item id -> the items of it the refunds name (whatever their restock type)."""
    refunded: dict[str, int] = {}
    for refund, where in refunds:
        for item, item_where in objects(refund, "refund_line_items", where):
            line_id = ident(item, "line_item_id", item_where)
            refunded[line_id] = refunded.get(line_id, 0) + _count(item, "quantity", item_where)
    return refunded


def _line(
    item: Mapping[str, Any], where: str, located: dict[str, str], default_location: str, refunded: dict[str, int] | None
) -> LineRecord | None:
    """The line as it stands after any order edit (``refunded`` None: as placed, for a cancelled order); None if
    an edit took all of it off."""
    external_id = ident(item, "id", where)
    quantity = _count(item, "quantity", where)
    if refunded is not None and item.get("current_quantity") is not None:
        removed = quantity - _count(item, "current_quantity", where) - refunded.get(external_id, 0)
        quantity -= max(0, removed)
        if quantity <= 0:
            return None
    return LineRecord(
        external_id=external_id,
        sku=_sku(item, where),
        name=text(item, "name", where) or text(item, "title", where),
        quantity=quantity,
        unit_price=_money(item, "price", where),
        location_id=located.get(external_id, default_location),
    )


def _count(item: Mapping[str, Any], key: str, where: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MappingError(f"{where}.{key} must be an integer, got {value!r}")
    return value


def _sku(item: Mapping[str, Any], where: str) -> str:
    sku = text(item, "sku", where)
    if sku:
        return sku
    if item.get("variant_id") is not None:
        return f"shopify-variant-{ident(item, 'variant_id', where)}"
    return f"shopify-line-{ident(item, 'id', where)}"


def _presentment_rate(order: Mapping[str, Any], currency: str) -> tuple[str, Decimal] | None:
    """``(presentment currency, shop money per unit of it)`` from the order's ``total_price_set``, if it differs."""
    bag = order.get("total_price_set")
    if not isinstance(bag, Mapping):
        return None
    shop, shown = bag.get("shop_money"), bag.get("presentment_money")
    if not (isinstance(shop, Mapping) and isinstance(shown, Mapping)):
        return None
    code = text(shown, "currency_code", "order.total_price_set.presentment_money")
    if not code or code == currency:
        return None
    shop_amount = _money(shop, "amount", "order.total_price_set.shop_money")
    shown_amount = _money(shown, "amount", "order.total_price_set.presentment_money")
    return (code, shop_amount / shown_amount) if shown_amount else None


def _payments(
    order: Mapping[str, Any], refunds: Objects, currency: str, rate: tuple[str, Decimal] | None = None
) -> list[PaymentRecord]:
    transactions = objects(order, "transactions", "order")
    for refund, where in refunds:
        transactions += objects(refund, "transactions", where)
    payments: dict[str, PaymentRecord] = {}
    change: dict[str, tuple[Decimal, str, str]] = {}  # id -> (amount, gateway, where) of change given back
    for transaction, where in transactions:
        if enum(transaction, "kind", where, PAYMENT_KINDS) == "change":
            if enum(transaction, "status", where, PAYMENT_STATUS) == "success":
                amount = _shop_amount(transaction, where, currency, rate)
                change.setdefault(ident(transaction, "id", where), (amount, text(transaction, "gateway", where), where))
            continue
        payment = _payment(transaction, where, currency, rate)
        payments.setdefault(payment.external_id, payment)
    for amount, gateway, where in change.values():  # off the sale of the same gateway it was given back from
        sale = next(
            (p for p in reversed(payments.values())
             if p.kind in ("sale", "capture") and p.status == "success" and p.gateway == gateway and p.amount >= amount),
            None,
        )  # fmt: skip
        if sale is None:
            raise MappingError(f"{where}: change of {amount} with no {gateway or 'cash'} sale to give it from")
        payments[sale.external_id] = sale.model_copy(update={"amount": sale.amount - amount})
    return list(payments.values())


def _payment(
    transaction: Mapping[str, Any], where: str, currency: str, rate: tuple[str, Decimal] | None = None
) -> PaymentRecord:
    """One transaction, its amount in the shop's money (the order's ``currency``), as ``total_price`` is.

    REST transactions are in the presentment currency unless asked ``in_shop_currency``
    (embedded refund transactions always are): ``amount_set.shop_money`` is used when
    present, else a presentment amount is converted at the order's own rate
    (``total_price_set`` shop / presentment). An amount in another currency raises.
    """
    status = enum(transaction, "status", where, PAYMENT_STATUS)
    kind = enum(transaction, "kind", where, PAYMENT_KINDS)
    amount = _shop_amount(transaction, where, currency, rate)
    card_brand, card_last4 = _card(transaction.get("payment_details"), f"{where}.payment_details")
    return PaymentRecord(
        external_id=ident(transaction, "id", where),
        kind=PAYMENT_KIND_AS.get(kind, kind),
        status=PAYMENT_STATUS[status],
        amount=amount,
        currency=currency,
        gateway=text(transaction, "gateway", where),
        manual=flag(transaction, "manual_payment_gateway", where),
        card_brand=card_brand,
        card_last4=card_last4,
        processed_at=_when(transaction, "processed_at", where, fallback="created_at"),
    )


def _shop_amount(transaction: Mapping[str, Any], where: str, currency: str, rate) -> Decimal:
    bag = transaction.get("amount_set")
    if isinstance(bag, Mapping) and isinstance(bag.get("shop_money"), Mapping):
        return _money(bag["shop_money"], "amount", f"{where}.amount_set.shop_money")
    amount = _money(transaction, "amount", where)
    paid_in = text(transaction, "currency", where) or currency
    if paid_in == currency:
        return amount
    if rate is not None and paid_in == rate[0]:
        return (amount * rate[1]).quantize(Decimal("0.01"))
    raise MappingError(
        f"{where}.currency {paid_in} is neither the shop's {currency} nor the order's presentment currency"
    )


def _card(payload: Any, where: str) -> tuple[str, str]:
    """Brand and last four digits; any other digit of ``credit_card_number`` is dropped."""
    if payload is None:
        return "", ""
    details = json_object(payload, where)
    digits = re.sub(r"\D", "", text(details, "credit_card_number", where))
    return text(details, "credit_card_company", where), digits[-4:] if len(digits) >= 4 else ""


def _returns(refunds: Objects, skus_by_line: dict[str, str]) -> list[ReturnRecord]:
    returns = []
    for refund, where in refunds:
        returned = [
            (item, w) for item, w in objects(refund, "refund_line_items", where) if item.get("restock_type") == "return"
        ]
        if not returned:
            continue
        refunded_at = _when(refund, "processed_at", where, fallback="created_at")
        amounts = (_money(item, "subtotal", w) + _money(item, "total_tax", w, required=False) for item, w in returned)
        returns.append(
            ReturnRecord(
                external_id=ident(refund, "id", where),
                status="refunded",
                line_skus=_unique(_returned_sku(item, w, skus_by_line) for item, w in returned),
                amount=sum(amounts, Decimal(0)),
                received_at=refunded_at,
                refunded_at=refunded_at,
            )
        )
    return returns


def _returned_sku(item: Mapping[str, Any], where: str, skus_by_line: dict[str, str]) -> str:
    if item.get("line_item") is not None:
        return _sku(json_object(item["line_item"], f"{where}.line_item"), f"{where}.line_item")
    line_id = ident(item, "line_item_id", where)
    if line_id not in skus_by_line:
        raise MappingError(f"{where}.line_item_id {line_id} is not a line of this order")
    return skus_by_line[line_id]


# -- field readers: Shopify's own; the shared ones are in fields.py -----------------------
def _money(obj: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> Decimal:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise MappingError(f"{where}.{key} is missing")
        return Decimal(0)
    # Shopify sends money as strings, but refund line subtotals as JSON numbers.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MappingError(f"{where}.{key} must be a decimal string, got {type(value).__name__}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise MappingError(f"{where}.{key} is not an amount: {value!r}") from None
    if not amount.is_finite():
        raise MappingError(f"{where}.{key} is not an amount: {value!r}")
    return amount


def _when(
    obj: Mapping[str, Any], key: str, where: str, *, required: bool = False, fallback: str = ""
) -> datetime | None:
    """The timestamp at ``key``, or at ``fallback`` when ``key`` is empty."""
    if fallback and obj.get(key) in (None, ""):
        key = fallback
    return parse_time(obj.get(key), f"{where}.{key}", required=required)


def _loyalty_id(tags: Any, field: str) -> str:
    """The ``<ID>`` of a ``loyalty:<ID>`` tag; Shopify sends tags as one comma-separated string."""
    if tags is None:
        return ""
    if isinstance(tags, str):
        tags = tags.split(",")
    elif not (isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)):
        raise MappingError(f"{field} must be a comma-separated string, got {type(tags).__name__}")
    for tag in tags:
        tag = tag.strip()
        if tag.lower().startswith(LOYALTY_TAG_PREFIX):
            return tag[len(LOYALTY_TAG_PREFIX) :].strip()
    return ""


def _unique(values) -> list[str]:
    return list(dict.fromkeys(values))
