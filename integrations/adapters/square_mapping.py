"""Pure mapping of Square (Square-Version 2025-08-20) payloads to OmniDesk records.

Nothing here does I/O: each ``map_*`` takes one decoded object (as listed by the API
or carried by a webhook) and returns a record, or raises :class:`MappingError` naming
the offending field. Money is integer minor units (``{"amount": 1599, "currency":
"USD"}`` is 15.99; ``{"amount": 500, "currency": "JPY"}`` is 500), quantities are
decimal strings (a line's may be a fraction, ``"2.5"``, for an item sold by measure, its unit in
``quantity_unit``: see :func:`quantity_unit`), times are RFC 3339 UTC (nanoseconds are cut to microseconds).

Order status (first matching row wins; "the fulfilment" is the order's first one):

==  =================================================  ==============================
 #  condition                                          status
==  =================================================  ==============================
 1  order ``state`` CANCELED                           cancelled
 2  fulfilment CANCELED or FAILED                      cancelled
 3  successful refunds >= total > 0                    refunded
 4  fulfilment COMPLETED                               PICKUP collected, SHIPMENT
                                                       handed_to_carrier, DELIVERY
                                                       delivered
 5  fulfilment PREPARED                                PICKUP ready_for_pickup,
                                                       otherwise packed
 6  fulfilment RESERVED                                assigned
 7  no fulfilment and ``state`` COMPLETED              collected (a carry-out sale is
                                                       complete at the till)
 8  a successful sale/capture tender                   paid (e.g. PROPOSED, OPEN)
 9  anything else (OPEN, DRAFT, PROPOSED unpaid)       placed
==  =================================================  ==============================

``raw_status`` is the order ``state``, plus ``/<fulfilment state>`` when there is one.

Payments: a tender's state is the ``status`` of its details object. ``card_details``,
``square_account_details`` and ``buy_now_pay_later_details``: CAPTURED is a successful
sale, AUTHORIZED a successful authorization, VOIDED a failed authorization, FAILED a
failed sale. ``bank_account_details`` (ACH): COMPLETED is a successful sale, PENDING a
pending sale (no money has arrived: the order is not paid), FAILED a failed sale. A
CARD, BANK_ACCOUNT, SQUARE_ACCOUNT or BUY_NOW_PAY_LATER tender without its details
raises (nothing says it was paid); a tender with no status-bearing details (CASH,
OTHER, THIRD_PARTY_CARD…) is a successful sale; NO_SALE tenders (the drawer opened,
nothing paid) are skipped. A ``/v2/payments`` Payment
maps the same way from its ``status``: COMPLETED sale, APPROVED authorization,
PENDING pending sale, CANCELED failed authorization, FAILED failed sale. An unknown
status raises: a guessed money movement is worse than a dead letter. A tender's and
a payment's ``external_id`` are both the Square payment id, so the two routes name
one payment; their amount is what was collected (tender ``amount_money`` and payment
``total_money`` both include the tip).

Choices the Square payloads leave open:

* **number** — the receipt number of the first tender's payment: Square's receipt
  number is the first four characters of the payment id (``bP9m`` for payment
  ``bP9mAsEM…`` in Square's own examples). An order with no tender (a web order
  mirrored for pickup, paid online) has no Square-side number but its
  ``reference_id``, which is also what the sandbox's ground truth expects; else "".
* **references** — ``[reference_id]`` when set: the web order name (``#1001``) a
  mirrored pickup order carries; correlation links the two by it.
* **channel** — ``web`` when the order has a fulfilment and a ``reference_id`` (it
  mirrors a web order), otherwise ``store``.
* **sku** — a line's ``metadata.sku`` when an integration wrote one (the sandbox
  does), else ``omnidesk_sku`` (the SKU the adapter looked up in the catalog for the
  line's ``catalog_object_id`` when fetching, see ``square.py``), else the
  ``catalog_object_id`` (the item variation id: stable, never equal to another
  system's SKU), else ``square-line-<uid>`` for an ad-hoc line.
* **line name** — ``name``, plus `` - variation_name`` unless the variation is
  Square's default "Regular".
* **loyalty_id** — the customer's ``reference_id``: Square's field for "an id in
  another system"; the retailer (and the sandbox) write the loyalty id there.
* **verified** — the contact details Square's ``creation_source`` says the customer gave in
  person (:data:`VOUCHED_BY_CREATION_SOURCE`): DIRECTORY (made by hand in the Point of Sale
  app or the Seller Dashboard) both, EMAIL_COLLECTION (the buyer signing up for e-mails at
  checkout) the e-mail, LOYALTY (the buyer giving a phone for rewards at checkout) the phone.
  Every other source is vouched for by nobody: THIRD_PARTY (an API call: any app),
  THIRD_PARTY_IMPORT and IMPORT (someone's file), INSTANT_PROFILE (made from any payment, an
  online one too), TERMINAL (Virtual Terminal: card not present), APPOINTMENTS, INVOICES,
  FEEDBACK, ONLINE_STORE, MARKETING (online), EGIFTING (the recipient is not there), COUPON
  (issued, not given), MERGE, UNMERGE_RECOVERY, DELETION_RECOVERY (made from other profiles),
  OTHER and a missing or unknown source.
* The order names its customer only by ``customer_id``: it becomes
  ``customer_external_id``, which links the order to the customer synced from the
  customers stream; ``email``/``phone`` come from the fulfilment recipient.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from ..records import (
    CustomerRecord,
    LineRecord,
    LocationRecord,
    MappingError,
    OrderPaymentRecord,
    OrderReturnRecord,
    PaymentRecord,
    ReturnRecord,
    StockRecord,
    UpstreamOrder,
)
from . import fields
from .fields import enum, ident, json_object, objects, store_code, text

SKU_KEY = "omnidesk_sku"  # added to counts and lines by the adapter at fetch time
DEFAULT_VARIATION_NAME = "Regular"
# ISO 4217 minor-unit exponents that are not 2 (Square sells in USD, CAD, GBP, AUD, EUR, JPY).
CURRENCY_EXPONENTS = {
    "JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "XAF": 0, "XOF": 0,
    "BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
ORDER_STATES = frozenset({"OPEN", "COMPLETED", "CANCELED", "DRAFT"})
FULFILMENT_TYPES = {"PICKUP": "pickup", "SHIPMENT": "ship", "DELIVERY": "delivery"}
FULFILMENT_STATES = frozenset({"PROPOSED", "RESERVED", "PREPARED", "COMPLETED", "CANCELED", "FAILED"})  # fmt: skip
COMPLETED_STATUS = {"pickup": "collected", "ship": "handed_to_carrier", "delivery": "delivered"}
DETAILS_KEY = {
    "pickup": "pickup_details",
    "ship": "shipment_details",
    "delivery": "delivery_details",
}
PROMISE_KEY = {"pickup": "pickup_at", "delivery": "deliver_at"}
# Square's CustomerCreationSource -> the contact details the customer gave in person (module docstring).
VOUCHED_BY_CREATION_SOURCE = {
    "DIRECTORY": ("email", "phone"),
    "EMAIL_COLLECTION": ("email",),
    "LOYALTY": ("phone",),
}
TENDER_CARD_STATUS = {
    "CAPTURED": ("sale", "success"),
    "AUTHORIZED": ("authorization", "success"),
    "VOIDED": ("authorization", "failure"),
    "FAILED": ("sale", "failure"),
}
TENDER_BANK_ACCOUNT_STATUS = {
    "COMPLETED": ("sale", "success"),
    "PENDING": ("sale", "pending"),
    "FAILED": ("sale", "failure"),
}
# The Tender ``*_details`` that carry the payment's state, and what each state means. Square
# Account and Buy Now Pay Later payments are authorized and captured as a card is.
TENDER_DETAILS_STATUS = {
    "card_details": TENDER_CARD_STATUS,
    "bank_account_details": TENDER_BANK_ACCOUNT_STATUS,
    "square_account_details": TENDER_CARD_STATUS,
    "buy_now_pay_later_details": TENDER_CARD_STATUS,
}
# The tender types whose details Square documents as present: without them nobody can say it was paid.
TENDER_TYPE_DETAILS = {
    "CARD": "card_details",
    "BANK_ACCOUNT": "bank_account_details",
    "SQUARE_ACCOUNT": "square_account_details",
    "BUY_NOW_PAY_LATER": "buy_now_pay_later_details",
}
PAYMENT_STATUS = {
    "COMPLETED": ("sale", "success"),
    "APPROVED": ("authorization", "success"),
    "PENDING": ("sale", "pending"),
    "CANCELED": ("authorization", "failure"),
    "FAILED": ("sale", "failure"),
}
REFUND_STATUS = {
    "PENDING": "pending",
    "APPROVED": "success",
    "COMPLETED": "success",
    "REJECTED": "failure",
    "FAILED": "failure",
}


# -- public mappers ----------------------------------------------------------------------
def map_location(payload: Any) -> LocationRecord:
    """A location; its code is the slug of its name (cut at 32), the key every vendor shares."""
    location = json_object(payload, "location")
    name = text(location, "name", "location")
    code = store_code(name, "location")
    address = json_object(location.get("address") or {}, "location.address")
    keys = ("address_line_1", "address_line_2", "locality", "administrative_district_level_1")
    parts = [text(address, key, "location.address") for key in keys]
    parts.append(text(address, "postal_code", "location.address"))
    return LocationRecord(
        external_id=ident(location, "id", "location"),
        name=name,
        code=code,
        kind="warehouse" if "warehouse" in name.lower() else "store",
        timezone=text(location, "timezone", "location"),
        address=", ".join(p for p in parts if p),
    )


def map_customer(payload: Any, *, where: str = "customer") -> CustomerRecord:
    customer = json_object(payload, where)
    given, family = text(customer, "given_name", where), text(customer, "family_name", where)
    email = text(customer, "email_address", where)
    phone = text(customer, "phone_number", where)  # kept as Square wrote it
    vouched = VOUCHED_BY_CREATION_SOURCE.get(text(customer, "creation_source", where), ())
    return CustomerRecord(
        external_id=ident(customer, "id", where),
        name=" ".join(p for p in (given, family) if p) or text(customer, "company_name", where),
        emails=[email] if email else [],
        phones=[phone] if phone else [],
        loyalty_id=text(customer, "reference_id", where),
        # Vouched for only when made with the customer there (a placeholder is no key whoever typed it:
        # orders/catalogue/identity.py).
        verified=[kind for kind, value in (("email", email), ("phone", phone)) if value and kind in vouched],
        updated_at=_when(customer, "updated_at", where),
    )


def map_order(payload: Any) -> UpstreamOrder | OrderReturnRecord:
    """An order; a return order (one with ``returns``) is not a purchase: see :func:`map_return_order`."""
    order = json_object(payload, "order")
    if order.get("returns"):
        return map_return_order(order)
    state = enum(order, "state", "order", ORDER_STATES)
    total, currency = _money(order, "total_money", "order")
    reference = text(order, "reference_id", "order")
    location_id = ident(order, "location_id", "order")
    fulfilments = objects(order, "fulfillments", "order")
    kind, fulfilment_state, details, at = "carry_out", "", {}, "order.fulfillments[0]"
    if fulfilments:
        first = fulfilments[0][0]
        kind = FULFILMENT_TYPES.get(text(first, "type", at), "carry_out")
        fulfilment_state = enum(first, "state", at, FULFILMENT_STATES)
        if kind in DETAILS_KEY:
            at = f"{at}.{DETAILS_KEY[kind]}"
            details = json_object(first.get(DETAILS_KEY[kind]) or {}, at)
    recipient = json_object(details.get("recipient") or {}, f"{at}.recipient")
    tenders = [
        _tender(tender, where)
        for tender, where in objects(order, "tenders", "order")
        if tender.get("type") != "NO_SALE"
    ]
    refunds = [_refund(refund, where) for refund, where in objects(order, "refunds", "order")]
    status = order_status(
        state=state,
        fulfilment=kind,
        fulfilment_state=fulfilment_state,
        paid=any(p.kind in ("sale", "capture") and p.status == "success" for p in tenders),
        refunded=sum((p.amount for p in refunds if p.status == "success"), Decimal(0)),
        total=total,
    )
    updated_at = _when(order, "updated_at", "order")
    cancelled_at = _when(details, "canceled_at", at)
    if status == "cancelled" and cancelled_at is None:
        cancelled_at = updated_at
    promise_key = PROMISE_KEY.get(kind)
    receipt = next((p.receipt_number for p in tenders if p.receipt_number), "")
    return UpstreamOrder(
        external_id=ident(order, "id", "order"),
        number=receipt or reference,
        references=[reference] if reference else [],
        channel="web" if fulfilments and reference else "store",
        fulfilment=kind,
        location_id=location_id,
        raw_status=f"{state}/{fulfilment_state}" if fulfilment_state else state,
        status=status,
        placed_at=_when(order, "created_at", "order", required=True),
        updated_at=updated_at,
        cancelled_at=cancelled_at,
        promised_by=_when(details, promise_key, at) if promise_key else None,
        currency=currency,
        total=total,
        email=text(recipient, "email_address", f"{at}.recipient"),
        phone=text(recipient, "phone_number", f"{at}.recipient"),
        customer=None,
        customer_external_id=text(order, "customer_id", "order"),
        lines=[_line(item, where, location_id) for item, where in objects(order, "line_items", "order")],
        payments=tenders + refunds,
    )


def map_return_order(payload: Any) -> OrderReturnRecord:
    """A return order: Square records an itemized or custom refund as a new order naming the sale it
    returns (``returns[].source_order_id``), with total 0 and the refund in its ``refunds``.

    Its refunds and returns belong to that sale, so it maps to an :class:`OrderReturnRecord` for it,
    never to a purchase of its own. Each return is *refunded* once the return order's successful
    refunds cover the returned amount (``return_amounts.total_money``, else its lines'
    ``total_money``), *received* before (the goods came back over the counter). Raises on an
    unlinked return (no ``source_order_id``: there is no order to put the refund on), on one
    returning from two orders, and on an exchange (it also sells ``line_items``): each a dead letter
    with its reason rather than a guess.
    """
    order = json_object(payload, "order")
    order_id = ident(order, "id", "order")
    if order.get("line_items"):
        raise MappingError("order has both returns and line_items: an exchange is not mapped (return and sale)")
    returns = objects(order, "returns", "order")
    sources = {text(ret, "source_order_id", where) for ret, where in returns}
    if "" in sources:
        raise MappingError("order.returns[].source_order_id is missing: an unlinked return names no order to refund")
    if len(sources) > 1:
        raise MappingError(f"order returns goods from {len(sources)} orders: one return order, one source order")
    refunds = [_refund(refund, where) for refund, where in objects(order, "refunds", "order")]
    refunded = [p for p in refunds if p.status == "success"]
    created_at = _when(order, "created_at", "order", required=True)
    parts = [(ret, where, _returned_amount(ret, where)) for ret, where in returns]
    paid_back = sum((p.amount for p in refunded), Decimal(0))
    done = bool(refunded) and paid_back >= sum((amount for *_, amount in parts), Decimal(0))
    refunded_at = max((p.processed_at for p in refunded if p.processed_at), default=None) if done else None
    return OrderReturnRecord(
        external_id=order_id,
        order_external_id=sources.pop(),
        refunds=refunds,
        returns=[
            ReturnRecord(
                external_id=ident(ret, "uid", where),
                status="refunded" if done else "received",
                line_skus=[_returned_sku(item, at) for item, at in objects(ret, "return_line_items", where)],
                amount=amount,
                requested_at=created_at,
                received_at=created_at,
                refunded_at=refunded_at,
            )
            for ret, where, amount in parts
        ],
        updated_at=_when(order, "updated_at", "order"),
    )


def order_status(
    *,
    state: str,
    fulfilment: str,
    fulfilment_state: str,
    paid: bool,
    refunded: Decimal,
    total: Decimal,
) -> str:
    """The lifecycle status of an order: the table in this module's docstring, in code."""
    if state == "CANCELED" or fulfilment_state in ("CANCELED", "FAILED"):
        return "cancelled"
    if total > 0 and refunded >= total:
        return "refunded"
    if fulfilment_state == "COMPLETED":
        return COMPLETED_STATUS.get(fulfilment, "collected")
    if fulfilment_state == "PREPARED":
        return "ready_for_pickup" if fulfilment == "pickup" else "packed"
    if fulfilment_state == "RESERVED":
        return "assigned"
    if not fulfilment_state and state == "COMPLETED":
        return "collected"
    return "paid" if paid else "placed"


def map_payment(payload: Any) -> OrderPaymentRecord:
    """A ``/v2/payments`` Payment, attached to its order by ``order_id`` (required)."""
    payment = json_object(payload, "payment")
    payment_id = ident(payment, "id", "payment")
    order_id = text(payment, "order_id", "payment")
    if not order_id:
        raise MappingError("payment.order_id is missing: the payment cannot be attached to an order")
    kind, status = PAYMENT_STATUS[enum(payment, "status", "payment", PAYMENT_STATUS)]
    collected = "total_money" if payment.get("total_money") is not None else "amount_money"
    amount, currency = _money(payment, collected, "payment")
    brand, last4 = _card(payment.get("card_details"), "payment.card_details")
    return OrderPaymentRecord(
        external_id=payment_id,
        order_external_id=order_id,
        payment=PaymentRecord(
            external_id=payment_id,
            kind=kind,
            status=status,
            amount=amount,
            currency=currency,
            gateway=text(payment, "source_type", "payment").lower(),
            card_brand=brand,
            card_last4=last4,
            receipt_number=text(payment, "receipt_number", "payment"),
            processed_at=_when(payment, "created_at", "payment"),
        ),
        updated_at=_when(payment, "updated_at", "payment"),
    )


def map_stock(payload: Any) -> StockRecord:
    """An IN_STOCK inventory count; any other state (SOLD, WASTE…) is not stock on hand."""
    count = json_object(payload, "count")
    state = text(count, "state", "count")
    if state and state != "IN_STOCK":
        raise MappingError(f"count.state {state!r} is not IN_STOCK: it is not stock on hand")
    return StockRecord(
        sku=text(count, SKU_KEY, "count") or ident(count, "catalog_object_id", "count"),
        location_id=ident(count, "location_id", "count"),
        on_hand=_count_quantity(count, "quantity", "count"),
        counted_at=_when(count, "calculated_at", "count"),
    )


# -- order parts -------------------------------------------------------------------------
def _line(item: Mapping[str, Any], where: str, location_id: str) -> LineRecord:
    name = text(item, "name", where)
    variation = text(item, "variation_name", where)
    if variation and variation != DEFAULT_VARIATION_NAME:
        name = f"{name} - {variation}" if name else variation
    return LineRecord(
        external_id=ident(item, "uid", where),
        sku=line_sku(item, where),
        name=name,
        quantity=_line_quantity(item, "quantity", where),
        unit=quantity_unit(item.get("quantity_unit"), f"{where}.quantity_unit"),
        unit_price=_money(item, "base_price_money", where)[0],
        location_id=location_id,
    )


def line_sku(item: Mapping[str, Any], where: str) -> str:
    """The SKU of an order line: see "sku" in the module docstring."""
    metadata = json_object(item.get("metadata") or {}, f"{where}.metadata")
    sku = text(metadata, "sku", f"{where}.metadata") or text(item, SKU_KEY, where)
    if sku:
        return sku
    if item.get("catalog_object_id") is not None:
        return ident(item, "catalog_object_id", where)
    return f"square-line-{ident(item, 'uid', where)}"


def _tender(tender: Mapping[str, Any], where: str) -> PaymentRecord:
    amount, currency = _money(tender, "amount_money", where)
    tender_type = text(tender, "type", where)
    kind, status = _tender_status(tender, tender_type, where)
    brand, last4 = _card(tender.get("card_details"), f"{where}.card_details")
    payment_id = text(tender, "payment_id", where)
    return PaymentRecord(
        external_id=payment_id or ident(tender, "id", where),
        kind=kind,
        status=status,
        amount=amount,
        currency=currency,
        gateway=tender_type.lower(),
        card_brand=brand,
        card_last4=last4,
        receipt_number=payment_id[:4],
        processed_at=_when(tender, "created_at", where),
    )


def _tender_status(tender: Mapping[str, Any], tender_type: str, where: str) -> tuple[str, str]:
    """``(kind, status)`` from the one ``*_details`` that carries the tender's state; none: a settled sale (cash)."""
    present = [key for key in TENDER_DETAILS_STATUS if tender.get(key) is not None]
    expected = TENDER_TYPE_DETAILS.get(tender_type)
    if expected and expected not in present:
        raise MappingError(f"{where}.{expected} is missing: a {tender_type} tender's state says whether it was paid")
    if len(present) > 1:
        raise MappingError(f"{where} has {' and '.join(present)}: one tender is paid one way")
    if not present:
        return "sale", "success"
    statuses = TENDER_DETAILS_STATUS[present[0]]
    details = json_object(tender[present[0]], f"{where}.{present[0]}")
    return statuses[enum(details, "status", f"{where}.{present[0]}", statuses)]


def _returned_amount(ret: Mapping[str, Any], where: str) -> Decimal:
    """What one return gives back: its ``return_amounts.total_money``, else its lines' ``total_money``."""
    amounts = json_object(ret.get("return_amounts") or {}, f"{where}.return_amounts")
    if amounts.get("total_money") is not None:
        return _money(amounts, "total_money", f"{where}.return_amounts")[0]
    lines = objects(ret, "return_line_items", where)
    return sum((_money(item, "total_money", at)[0] for item, at in lines), Decimal(0))


def _returned_sku(item: Mapping[str, Any], where: str) -> str:
    """The SKU of a returned line: as the sold line's (an ad-hoc line by the sold line's uid)."""
    sold_uid = text(item, "source_line_item_uid", where)
    return line_sku({**item, "uid": sold_uid} if sold_uid else item, where)


def _refund(refund: Mapping[str, Any], where: str) -> PaymentRecord:
    amount, currency = _money(refund, "amount_money", where)
    return PaymentRecord(
        external_id=ident(refund, "id", where),
        kind="refund",
        status=REFUND_STATUS[enum(refund, "status", where, REFUND_STATUS)],
        amount=amount,
        currency=currency,
        processed_at=_when(refund, "created_at", where),
    )


def _card(payload: Any, where: str) -> tuple[str, str]:
    """Brand and last four digits, nothing else of the card."""
    if payload is None:
        return "", ""
    card = json_object(json_object(payload, where).get("card") or {}, f"{where}.card")
    return text(card, "card_brand", f"{where}.card"), text(card, "last_4", f"{where}.card")


# -- field readers: Square's own; the shared ones are in fields.py ------------------------
def _money(obj: Mapping[str, Any], key: str, where: str) -> tuple[Decimal, str]:
    """``{"amount": 1599, "currency": "USD"}`` -> ``(Decimal("15.99"), "USD")``."""
    money = obj.get(key)
    if money is None:
        raise MappingError(f"{where}.{key} is missing")
    money = json_object(money, f"{where}.{key}")
    amount = money.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MappingError(f"{where}.{key}.amount must be an integer of minor units, got {amount!r}")
    currency = text(money, "currency", f"{where}.{key}")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise MappingError(f"{where}.{key}.currency is not an ISO 4217 code: {currency!r}")
    return Decimal(amount).scaleb(-CURRENCY_EXPONENTS.get(currency, 2)), currency


def _decimal_string(obj: Mapping[str, Any], key: str, where: str) -> tuple[Decimal, str]:
    """Square's decimal string at ``key`` (a quantity, ``"2.500"``) and the string as sent."""
    value = obj.get(key)
    if not isinstance(value, str):
        raise MappingError(f"{where}.{key} must be a decimal string, got {value!r}")
    try:
        return Decimal(value.strip()), value
    except InvalidOperation:
        raise MappingError(f"{where}.{key} is not a quantity: {value!r}") from None


STOCK_LIMIT = Decimal(10) ** 9  # StockLevel.on_hand is numeric(12, 3)


def _count_quantity(obj: Mapping[str, Any], key: str, where: str) -> int | Decimal:
    """A count from Square's decimal string: ``"79"`` is the integer 79, ``"12.50"`` ``Decimal("12.5")`` (a product
    counted by measure: 12.5 m of rope on the reel); negative when oversold.

    A whole count stays an ``int``, as counts always were (its record, its hash and the API read the same).
    Places past the third are cut towards fewer units (Square keeps five; a shelf's thousandth of a unit
    is never promised).
    """
    quantity, value = _decimal_string(obj, key, where)
    if not quantity.is_finite():
        raise MappingError(f"{where}.{key} is not a quantity: {value!r}")
    if abs(quantity) >= STOCK_LIMIT:
        raise MappingError(f"{where}.{key} {value!r} is out of range (under a billion units)")
    quantity = quantity.quantize(Decimal("0.001"), rounding=ROUND_FLOOR)
    return int(quantity) if quantity == quantity.to_integral_value() else quantity.normalize()


def _line_quantity(obj: Mapping[str, Any], key: str, where: str) -> Decimal:
    """A line's quantity from Square's decimal string: ``"2"`` is 2, ``"2.500"`` 2.5 (an item sold by measure).

    Normalised (no trailing zeros, no exponent: ``"2.000"`` is ``Decimal("2")``); more than three
    decimal places (Square allows a precision of five) or a negative quantity raises.
    """
    quantity, value = _decimal_string(obj, key, where)
    if not quantity.is_finite() or quantity < 0:
        raise MappingError(f"{where}.{key} is not a quantity: {value!r}")
    if quantity != quantity.quantize(Decimal("0.001"), rounding="ROUND_DOWN"):
        raise MappingError(f"{where}.{key} {value!r} has more than three decimal places")
    return quantity.quantize(Decimal(1)) if quantity == quantity.to_integral_value() else quantity.normalize()


# Square's MeasurementUnit families a retailer sells by (``length_unit``, ``weight_unit``…): enum -> the
# short unit the desk shows. TIME and GENERIC ("UNIT") units are not measures of goods: they read as each.
MEASUREMENT_UNITS: dict[str, dict[str, str]] = {
    "length_unit": {
        "IMPERIAL_INCH": "in", "IMPERIAL_FOOT": "ft", "IMPERIAL_YARD": "yd", "IMPERIAL_MILE": "mi",
        "METRIC_MILLIMETER": "mm", "METRIC_CENTIMETER": "cm", "METRIC_METER": "m", "METRIC_KILOMETER": "km",
    },
    "weight_unit": {
        "IMPERIAL_WEIGHT_OUNCE": "oz", "IMPERIAL_POUND": "lb", "IMPERIAL_STONE": "st",
        "METRIC_MILLIGRAM": "mg", "METRIC_GRAM": "g", "METRIC_KILOGRAM": "kg",
    },
    "volume_unit": {
        "GENERIC_FLUID_OUNCE": "fl oz", "GENERIC_SHOT": "shot", "GENERIC_CUP": "cup", "GENERIC_PINT": "pt",
        "GENERIC_QUART": "qt", "GENERIC_GALLON": "gal", "IMPERIAL_CUBIC_INCH": "cu in",
        "IMPERIAL_CUBIC_FOOT": "cu ft", "IMPERIAL_CUBIC_YARD": "cu yd", "METRIC_MILLILITER": "ml", "METRIC_LITER": "l",
    },
    "area_unit": {
        "IMPERIAL_ACRE": "acre", "IMPERIAL_SQUARE_INCH": "sq in", "IMPERIAL_SQUARE_FOOT": "sq ft",
        "IMPERIAL_SQUARE_YARD": "sq yd", "IMPERIAL_SQUARE_MILE": "sq mi", "METRIC_SQUARE_CENTIMETER": "sq cm",
        "METRIC_SQUARE_METER": "sq m", "METRIC_SQUARE_KILOMETER": "sq km",
    },
}  # fmt: skip


UNIT_LENGTH = 32  # LineRecord.unit and OrderLine.unit


def quantity_unit(payload: Any, where: str) -> str:
    """The unit a line is measured in, from its ``quantity_unit`` (an OrderQuantityUnit); "" for items.

    ``measurement_unit`` holds one family: a length, weight, volume or area enum
    (:data:`MEASUREMENT_UNITS`), or a seller's ``custom_unit`` (its ``abbreviation``, else its
    ``name``). No ``quantity_unit``, a ``generic_unit`` or ``time_unit``: "" (counted, not measured).
    An unknown enum of a known family raises: a guessed unit is worse than a dead letter.
    """
    if payload is None:
        return ""
    unit = json_object(json_object(payload, where).get("measurement_unit") or {}, f"{where}.measurement_unit")
    where = f"{where}.measurement_unit"
    if unit.get("custom_unit") is not None:
        custom = json_object(unit["custom_unit"], f"{where}.custom_unit")
        custom_where = f"{where}.custom_unit"
        return (text(custom, "abbreviation", custom_where) or text(custom, "name", custom_where))[:UNIT_LENGTH]
    for family, units in MEASUREMENT_UNITS.items():
        if unit.get(family) is not None:
            return units[enum(unit, family, where, units)]
    return ""


def _when(obj: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> datetime | None:
    return parse_time(obj.get(key), f"{where}.{key}", required=required)


def parse_time(value: Any, field: str, *, required: bool = False) -> datetime | None:
    """Parse RFC 3339 (``…Z`` or an offset; nanoseconds are cut to microseconds) as UTC."""
    return fields.parse_time(value, field, required=required, standard="RFC 3339")
