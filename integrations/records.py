"""Plain typed records: what every adapter maps a vendor payload into.

Adapters know vendors; the ingest layer knows only these. Validation failures
(pydantic ``ValidationError``) and :class:`MappingError` become dead letters.
All datetimes are timezone-aware UTC; money is ``Decimal`` in major units.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints


class MappingError(ValueError):
    """A vendor payload that cannot be turned into a record; the message is the reason."""


class Record(BaseModel):
    """Datetimes are ``AwareDatetime``: a time without a zone is refused, not guessed."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


UpstreamStatus = Literal[
    "placed", "paid", "in_erp", "assigned", "picked", "packed", "ready_for_pickup",
    "handed_to_carrier", "in_transit", "out_for_delivery", "delivered", "collected",
    "cancelled", "return_requested", "returned", "refunded",
]  # fmt: skip


class CustomerRecord(Record):
    """A customer as one system knows them."""

    external_id: str = Field(min_length=1, max_length=128)
    name: str = Field(default="", max_length=200)
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    loyalty_id: str = Field(default="", max_length=64)
    verified: list[Literal["email", "phone"]] = Field(
        default_factory=list,
        description="The identifiers the system vouches for (a verified account e-mail, a POS customer record's "
        "e-mail and phone); the rest are as someone typed them. The loyalty id is always trusted.",
    )
    updated_at: AwareDatetime | None = None


class LineRecord(Record):
    external_id: str = Field(min_length=1, max_length=128)
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=255)
    quantity: Decimal = Field(
        ge=0,
        le=100_000,
        max_digits=12,
        decimal_places=3,
        description="Whole for items; a fraction (2.5) for an item sold by measure, in ``unit``.",
    )
    unit: str = Field(default="", max_length=32, description='What the quantity counts: "ft", "kg"…; "" for items.')
    unit_price: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    location_id: str = Field(default="", max_length=128, description="Fulfilment location, in the source's ids.")


class PaymentRecord(Record):
    external_id: str = Field(min_length=1, max_length=128)
    kind: Literal["authorization", "capture", "sale", "refund", "void"]
    status: Literal["pending", "success", "failure"] = "success"
    amount: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    gateway: str = Field(default="", max_length=64)
    manual: bool = False  # through the shop's manual payment method (Shopify's manualPaymentGateway)
    card_brand: str = Field(default="", max_length=32)
    card_last4: str = Field(default="", pattern=r"^(\d{4})?$")
    receipt_number: str = Field(default="", max_length=64)
    processed_at: AwareDatetime | None = None


class TrackingEventRecord(Record):
    occurred_at: AwareDatetime
    status: str = Field(default="", max_length=64)
    message: str = Field(default="", max_length=500)
    location: str = Field(default="", max_length=255)


class ShipmentRecord(Record):
    external_id: str = Field(min_length=1, max_length=128)
    carrier: str = Field(default="", max_length=64)
    tracking_number: str = Field(default="", max_length=64)
    tracking_url: str = Field(default="", max_length=500)
    raw_status: str = Field(default="", max_length=64)
    status: UpstreamStatus = "handed_to_carrier"
    line_skus: list[str] = Field(default_factory=list)
    shipped_at: AwareDatetime | None = None
    window_start: AwareDatetime | None = None
    window_end: AwareDatetime | None = None
    estimated_delivery: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None
    events: list[TrackingEventRecord] = Field(default_factory=list)


class ReturnRecord(Record):
    external_id: str = Field(min_length=1, max_length=128)
    status: Literal["requested", "received", "refunded", "rejected"] = "requested"
    line_skus: list[str] = Field(default_factory=list)
    amount: Decimal = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=2)
    requested_at: AwareDatetime | None = None
    received_at: AwareDatetime | None = None
    refunded_at: AwareDatetime | None = None


class UpstreamOrder(Record):
    """An order as one system knows it, with everything that system says about it."""

    external_id: str = Field(min_length=1, max_length=128)
    number: str = Field(
        default="",
        max_length=64,
        description="The number this system shows, e.g. '#1001', 'S00042'.",
    )
    references: list[str] = Field(default_factory=list, description="Other systems' order numbers this record names.")
    channel: Literal["web", "store", "phone"] = "web"
    fulfilment: Literal["ship", "pickup", "delivery", "carry_out"] = "ship"
    location_id: str = Field(default="", max_length=128, description="Pickup / selling location, in the source's ids.")
    raw_status: str = Field(default="", max_length=64)
    status: UpstreamStatus = "placed"
    placed_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    promised_by: AwareDatetime | None = None
    currency: str = Field(default="USD", min_length=3, max_length=3)
    total: Decimal = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=2)
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=64)
    customer: CustomerRecord | None = None
    customer_external_id: str = Field(
        default="",
        max_length=128,
        description="The customer's id in this source when the order names them only by id (Square).",
    )
    customer_name: str = Field(
        default="", max_length=200, description="A name given with the order (pickup recipient)."
    )
    lines: list[LineRecord] = Field(default_factory=list, max_length=1000)
    payments: list[PaymentRecord] = Field(default_factory=list, max_length=1000)
    shipments: list[ShipmentRecord] = Field(default_factory=list, max_length=200)
    returns: list[ReturnRecord] = Field(default_factory=list, max_length=200)


class StockRecord(Record):
    """On-hand count of one SKU at one location."""

    sku: str = Field(min_length=1, max_length=64)
    location_id: str = Field(min_length=1, max_length=128)
    bin: str = Field(default="", max_length=128)  # the shelf place inside the location, where a system keeps one
    # The system's own id of this count where one location holds several for a SKU (an Odoo quant per bin
    # or lot): each is kept, and a system's counts of one SKU at one location add up.
    part: str = Field(default="", max_length=64)
    # Whole counts stay integers (as they always were, so their hash is unchanged); a product counted by measure
    # may have a fraction (12.5 m of rope on the reel).
    on_hand: int | Annotated[Decimal, Field(max_digits=12, decimal_places=3)]
    reserved: int = 0
    counted_at: AwareDatetime | None = None


class TrackerRecord(Record):
    """A carrier tracker: a shipment seen from the carrier's side, found by its tracking number."""

    external_id: str = Field(min_length=1, max_length=128)
    shipment: ShipmentRecord
    updated_at: AwareDatetime | None = None


class LocationRecord(Record):
    """A store or warehouse as one system names it. Matched to a Store by ``code``."""

    external_id: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=128)
    code: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z0-9-]+$",
        description="Slug shared across systems, e.g. 'downtown'.",
    )
    kind: Literal["store", "warehouse"] = "store"
    timezone: str = Field(default="", max_length=64)
    address: str = Field(default="", max_length=500)


class PickingLineRecord(Record):
    """One product line of an ERP picking (an Odoo stock.move)."""

    external_id: str = Field(min_length=1, max_length=128)
    sku: str = Field(min_length=1, max_length=64)
    quantity: Decimal = Field(ge=0, max_digits=12, decimal_places=3, description="Ordered (demand) quantity.")
    done_quantity: Decimal = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=3)
    state: str = Field(default="", max_length=32)


class PickingRecord(Record):
    """An ERP fulfilment task (an Odoo stock.picking): who prepares which order, when it is scheduled, when done.

    Linked to its order by ``order_reference`` (the ERP's sale order name, e.g. ``S00042``,
    matched to ``UpstreamOrder.number`` of the same source) or ``order_external_id``.
    """

    external_id: str = Field(min_length=1, max_length=128)
    name: str = Field(default="", max_length=64, description="e.g. WH/OUT/00012")
    order_reference: str = Field(default="", max_length=64)
    order_external_id: str = Field(default="", max_length=128)
    kind: Literal["outgoing", "incoming", "internal"] = "outgoing"
    raw_status: str = Field(default="", max_length=64)
    status: UpstreamStatus = "in_erp"
    assigned_to: str = Field(
        default="",
        max_length=128,
        description="Who is to prepare it; empty when nobody is assigned.",
    )
    location_id: str = Field(default="", max_length=128)
    scheduled_at: AwareDatetime | None = None
    done_at: AwareDatetime | None = None
    tracking_numbers: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=200, description="One carrier tracking number per package."
    )
    carrier: str = Field(default="", max_length=64)
    updated_at: AwareDatetime | None = None
    lines: list[PickingLineRecord] = Field(default_factory=list, max_length=1000)


class MoveRecord(Record):
    """A stock move reported on its own (Odoo ``stock.move`` stream), attached to its picking by id."""

    external_id: str = Field(min_length=1, max_length=128)
    picking_external_id: str = Field(default="", max_length=128)
    line: PickingLineRecord
    updated_at: AwareDatetime | None = None


class OrderReturnRecord(Record):
    """A return reported as a record of its own (a Square return order), attached to the order it returns by id.

    It is not a purchase: its refunds become payments of that order, its returns that order's returns.
    """

    external_id: str = Field(min_length=1, max_length=128, description="The return's own id (the return order).")
    order_external_id: str = Field(min_length=1, max_length=128, description="The order the goods were sold on.")
    refunds: list[PaymentRecord] = Field(default_factory=list, max_length=1000)
    returns: list[ReturnRecord] = Field(default_factory=list, max_length=200)
    updated_at: AwareDatetime | None = None


class OrderPaymentRecord(Record):
    """A payment reported on its own (Square ``/v2/payments``), attached to its order by id."""

    external_id: str = Field(min_length=1, max_length=128)
    order_external_id: str = Field(min_length=1, max_length=128)
    payment: PaymentRecord
    updated_at: AwareDatetime | None = None
