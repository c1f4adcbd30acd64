"""What the API answers: every schema of the OpenAPI document (``docs/openapi.json``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Field, Schema


class FlagOut(Schema):
    code: str
    opened_at: datetime
    closed_at: datetime | None = None
    detail: str


class SystemOut(Schema):
    external_id: str
    number: str
    status: str
    raw_status: str
    synced_at: datetime
    stale: bool


class CustomerOut(Schema):
    id: int
    name: str
    emails: list[str]
    phones: list[str]
    loyalty_id: str
    matched: list[str]
    maybe_same_as: list[int] = Field(
        description="Other customers an open suggested link says may be the same person: not merged, so their "
        "orders are not listed here; a supervisor (or an agent with the caller verified) settles it on the "
        "customer screen. Empty for store staff."
    )


class OrderOut(Schema):
    id: int
    number: str
    customer_id: int | None
    channel: str
    fulfilment: str
    status: str
    store: str | None
    placed_at: datetime | None
    promised_by: datetime | None
    total: Decimal
    currency: str
    systems: dict[str, SystemOut]
    flags: list[FlagOut]
    matched: list[str]


class LookupOut(Schema):
    query: str
    customers: list[CustomerOut]
    orders: list[OrderOut]


class OtherPriceOut(Schema):
    price: Decimal
    channel: str = Field(description="The other channel: store for a web order's line, web for an in-store sale's.")
    source: str
    seen_at: datetime
    same_day: bool = Field(description="False when the last price seen is from the week before the order's day.")
    difference: Decimal = Field(description="This line's unit price minus the other channel's.")


class LineOut(Schema):
    sku: str
    name: str
    quantity: int | Decimal = Field(
        description='How many: an integer for items, as ever; a decimal string ("2.5", no trailing zeros) only '
        "for a fraction of an item sold by measure (see unit)."
    )
    unit: str = Field(
        description='The unit a measured quantity is in ("ft", "m", "kg", "lb", a seller\'s own abbreviation); '
        '"" for items. A measured line may have a whole quantity (2 kg).',
    )
    unit_price: Decimal = Field(description="The price of one item, or of one unit of a measured line.")
    fulfilment_location: str | None
    available: int | Decimal | None = Field(
        description="Units that can be promised at the fulfilment location: the lowest count of the systems "
        "that count it there, net of their reservations; null when none does. An integer, as ever; a decimal "
        'string ("12.5", no trailing zeros) only for a fraction of a product counted by measure.'
    )
    other_channel_price: OtherPriceOut | None = Field(
        description="S13: the same SKU's price in the other channel on the order's day (else the last in the week "
        "before); null when the other channel did not sell it."
    )


class PaymentOut(Schema):
    kind: str
    status: str
    amount: Decimal
    currency: str
    card_brand: str
    card_last4: str
    receipt_number: str
    processed_at: datetime | None
    source: str


class ScanOut(Schema):
    occurred_at: datetime
    status: str
    message: str
    location: str


class ShipmentOut(Schema):
    carrier: str
    tracking_number: str
    tracking_url: str
    status: str
    shipped_at: datetime | None
    estimated_delivery: datetime | None
    delivered_at: datetime | None
    events: list[ScanOut]


class ReturnOut(Schema):
    source: str = Field(description="The system that reports it: the storefront's refund, the ERP's return receipt.")
    reference: str
    status: str = Field(description="requested, received or refunded")
    line_skus: list[str]
    amount: Decimal | None = Field(description="The refunded amount where the system states one.")
    requested_at: datetime | None
    received_at: datetime | None
    refunded_at: datetime | None


class EventOut(Schema):
    at: datetime
    kind: str
    source: str | None
    summary: str


class ClauseOut(Schema):
    topic: str = Field(description="The question it answers: charged, where, when or cancel (cancel and refund).")
    text: str
    source: str = Field(description="The system whose record is the evidence.")
    at: datetime | None


class AnswerOut(Schema):
    summary: str = Field(description="The clauses in one paragraph, as the agent's answer card shows them.")
    clauses: list[ClauseOut]
    next_step: str = Field(description="What the retailer owes the customer next, from the open flags.")
    zone: str = Field(description="The time zone the days are given in (the order's store's).")


class OrderDetailOut(OrderOut):
    answer: AnswerOut
    projected_by: datetime | None = Field(
        description="The one projected date (orders.standing): delivered, the carrier's estimate, the ERP's "
        "schedule, else the promise; null while a parcel is in a carrier problem."
    )
    projected_from: str = Field(description='Who projects it, e.g. "easypost estimates parcel 1Z…".')
    late_by_days: int | None = Field(description="Whole days past the promise or projection, while not arrived.")
    cancellable: bool
    cannot_cancel: str = Field(
        description='Why not, in words for the customer ("already dispatched"); empty if it can.'
    )
    refundable: Decimal
    lines: list[LineOut]
    payments: list[PaymentOut]
    shipments: list[ShipmentOut]
    returns: list[ReturnOut]
    timeline: list[EventOut]


class ErrorOut(Schema):
    detail: str
