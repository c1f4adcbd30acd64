"""The sandbox world's objects and its time helpers.

Times are whole seconds since the epoch (UTC) everywhere inside the world: comparing
ints is what keeps generation and serving fast. Vendor formats turn them into each
vendor's own text at the edge.
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTE = 60
HOUR = 3600
DAY = 86400

# lifecycle values, in the order an order normally passes them
STATUSES = (
    "placed", "paid", "in_erp", "assigned", "picked", "packed", "ready_for_pickup",
    "handed_to_carrier", "in_transit", "out_for_delivery", "delivered", "collected",
    "cancelled", "return_requested", "returned", "refunded",
)  # fmt: skip
FLAGS = (
    "phantom_order", "unassigned", "stock_shortfall", "stuck_shipment", "delivery_exception",
    "promise_at_risk", "promise_missed", "return_not_refunded", "duplicate_shipment", "payment_mismatch",
)  # fmt: skip
# EasyPost tracker status -> the Shopify fulfilment ``shipment_status`` it shows as
SHOPIFY_SHIPMENT_STATUS = {
    "pre_transit": "confirmed",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "available_for_pickup": "ready_for_pickup",
    "delivered": "delivered",
}
EXCEPTION_STATUSES = frozenset({"failure", "return_to_sender", "error"})
MOVING_STATUSES = frozenset({"pre_transit", "in_transit", "out_for_delivery", "available_for_pickup", "unknown"})


class Store:
    __slots__ = (
        "idx", "code", "name", "kind", "timezone", "street", "city", "state", "zip", "phone",
        "odoo_code", "shopify_id", "square_id", "odoo_warehouse_id", "odoo_location_id",
        "odoo_picking_type_id", "staff",
    )  # fmt: skip

    def __init__(self, idx, code, name, kind, timezone, street, city, state, zip_code, phone, odoo_code):
        self.idx, self.code, self.name, self.kind, self.timezone = idx, code, name, kind, timezone
        self.street, self.city, self.state, self.zip, self.phone = (
            street,
            city,
            state,
            zip_code,
            phone,
        )
        self.odoo_code = odoo_code
        self.shopify_id = 0
        self.square_id: str | None = None
        self.odoo_warehouse_id = self.odoo_location_id = self.odoo_picking_type_id = 0
        self.staff: list[tuple[int, str]] = []  # Odoo res.users (id, name)


class Product:
    __slots__ = (
        "idx", "sku", "name", "category", "web_cents", "store_cents", "big", "grams", "title", "variant",
        "shopify_product_id", "shopify_variant_id", "square_item_id", "square_variation_id", "odoo_id",
    )  # fmt: skip

    def __init__(self, idx, sku, name, category, web_cents, store_cents, big, grams):
        self.idx, self.sku, self.name, self.category = idx, sku, name, category
        self.web_cents, self.store_cents, self.big, self.grams = web_cents, store_cents, big, grams
        self.title, _, variant = name.partition(" - ")
        self.variant = variant or None
        self.shopify_product_id = self.shopify_variant_id = self.odoo_id = 0
        self.square_item_id = self.square_variation_id = ""


class Person:
    __slots__ = (
        "idx", "person_id", "first", "last", "email", "phone", "loyalty_id", "created",
        "street", "city", "state", "zip", "shopify_email", "square_email", "orders",
        "shopify_id", "shopify_created", "shopify_versions", "shopify_orders",
        "square_id", "square_created", "hubspot_id", "hubspot_versions", "odoo_id", "odoo_created", "typed",
    )  # fmt: skip

    @property
    def shopify_verified(self) -> bool:
        """Whether they confirmed their storefront account's e-mail: most did, one in eight never did."""
        return self.idx % 8 != 5

    def __init__(self, idx):
        self.idx = idx
        self.person_id = f"P{idx + 1:06d}"
        self.orders: list[Order] = []
        self.shopify_id = self.shopify_created = None
        self.shopify_versions: list[int] = []
        self.shopify_orders: list[Order] = []  # non-guest web orders, by placed time
        self.square_id = self.square_created = None
        self.hubspot_id = None
        self.hubspot_versions: list[int] = []
        self.odoo_id = self.odoo_created = None
        # varied ``placeholder_contact``: what a system holds instead of their e-mail or phone, typed by a clerk or a
        # form when they gave none (``{"square": {"email": "noemail@gmail.com", "phone": "0000000000"}}``)
        self.typed: dict[str, dict[str, str]] = {}

    def contact(self, system: str, key: str, real: str) -> str:
        """The ``key`` (email, phone) ``system`` holds for them: a placeholder typed there, else ``real``."""
        return self.typed.get(system, {}).get(key, real)

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


class Shipment:
    """A parcel handed to a carrier: one Shopify fulfilment, one EasyPost tracker.

    ``lines``: the order's line numbers it carries (None: all of them); ``picking``: the ERP picking that
    names it in its ``carrier_tracking_ref`` ("out", the backorder "back", or None when the ERP does not).
    ``silent``: the carrier never scanned it, so its tracker has no tracking detail (its one plan scan is the
    hand-over).
    """

    __slots__ = (
        "order", "seq", "carrier", "service", "code", "tracker_id", "fulfillment_id", "created",
        "scans", "scan_times", "est_delivery", "public_url", "versions", "lines", "picking", "silent", "voided",
    )  # fmt: skip

    def __init__(self, order, created, carrier, service, scans, est_delivery):
        self.order = order
        self.seq = 0  # global creation rank, the EasyPost list order
        self.created = created
        self.carrier, self.service = carrier, service
        self.scans = scans  # [(t, status, status_detail, message, (city, state, zip))]
        self.scan_times = [s[0] for s in scans]
        self.est_delivery = est_delivery
        self.code = self.tracker_id = self.public_url = ""
        self.fulfillment_id = 0
        self.versions: list[int] = []
        self.lines: tuple[int, ...] | None = None
        self.picking: str | None = "out"
        self.silent = False
        self.voided: int | None = None  # when its label was voided (varied ``voided_label``)

    def carries(self, line: int) -> bool:
        return self.lines is None or line in self.lines

    def delivered_at(self) -> int | None:
        last = self.scans[-1]
        return last[0] if last[1] == "delivered" else None

    def status_at(self, now: int):
        """The last scan at or before ``now``, or None before the tracker exists."""
        times = self.scan_times
        if not times or times[0] > now:
            return None
        if times[-1] <= now:
            return self.scans[-1]
        lo, hi = 0, len(times)
        while lo < hi:
            mid = (lo + hi) // 2
            if times[mid] <= now:
                lo = mid + 1
            else:
                hi = mid
        return self.scans[lo - 1]


class Order:
    """One customer order and its planned lifecycle: every time below is absolute (or None)."""

    __slots__ = (
        "idx", "order_id", "channel", "kind", "person", "guest", "store", "placed", "promised",
        "window", "lines", "shipping_code", "shipping_cents", "total", "breakdown", "variant",
        "events", "event_times", "captured", "refunds", "cancel", "erp", "sq", "assign", "preparer",
        "pick", "pack", "ready", "collected", "done", "sched", "ret_request", "ret_done", "ret_lines",
        "shipments", "email", "card", "shopify_id", "number", "square_id", "receipt", "payment_id",
        "so_id", "so_name", "out_picking", "ret_picking", "shopify_versions", "square_versions",
        "so_versions", "line_ids", "sq_line_uids", "refund_ids", "txn_ids", "drop_at", "vary", "removed", "edited",
        "presentment", "sq_returns", "tender", "settle", "back_picking", "back_lines", "back_sched", "back_done",
        "voided", "pay_in_store", "marked_paid", "measure",
    )  # fmt: skip

    def __init__(self, idx, channel, kind):
        self.idx, self.channel, self.kind = idx, channel, kind
        self.order_id = ""
        self.person: Person | None = None
        self.guest = False
        self.store: Store | None = None
        self.placed = 0
        self.promised: int | None = None
        self.window: tuple[int, int] | None = None
        self.lines: list[tuple[Product, int, int]] = []  # (product, quantity, unit price cents)
        self.shipping_code = ""
        self.shipping_cents = self.total = self.captured = 0
        self.breakdown: str | None = None
        self.variant = ""
        self.events: list[tuple[int, str]] = []
        self.event_times: list[int] = []
        self.refunds: list[tuple[int, int, list[tuple[int, int]], str]] = []  # (t, cents, [(line, qty)], kind)
        self.cancel = self.erp = self.sq = self.assign = self.pick = self.pack = None
        self.ready = self.collected = self.done = self.ret_request = self.ret_done = None
        self.preparer: tuple[int, str] | None = None
        self.sched: list[tuple[int, int]] = []  # ERP scheduled_date versions: (changed at, value)
        self.ret_lines: list[tuple[int, int]] = []
        self.shipments: list[Shipment] = []
        self.email = ""
        self.card: tuple[str, str, str] = ("", "", "")  # (square brand, shopify company, last4)
        self.shopify_id = 0
        self.number = self.square_id = self.receipt = self.payment_id = self.so_name = ""
        self.so_id = 0
        self.out_picking = self.ret_picking = None
        self.shopify_versions: list[int] = []
        self.square_versions: list[int] = []
        self.so_versions: list[int] = []
        self.line_ids: list[int] = []
        self.sq_line_uids: list[str] = []
        self.refund_ids: list[tuple[int, int]] = []  # Shopify (refund id, transaction id)
        self.txn_ids: tuple[int, int] = (0, 0)  # Shopify (sale transaction id, refund-line base id)
        self.drop_at: int | None = None  # stock_shortfall: when the pickup shelf ran short
        self.vary: frozenset[str] = frozenset()  # the varied shape's departures for this order (generate.VARIATIONS)
        # varied ``order_edit``: lines an edit took off (product, quantity, unit price cents) at ``edited``; ``lines``
        # and ``total`` are the order after the edit, what every system but the storefront ever saw
        self.removed: list[tuple[Product, int, int]] = []
        self.edited: int | None = None
        # varied ``presentment_currency``: the currency the customer paid in and its units per 10,000 of the shop's
        self.presentment: tuple[str, int] | None = None
        self.sq_returns: list[SquareReturn] = []  # an in-store sale's returns at the counter: Square return orders
        self.tender = ""  # Square tender type of an in-store sale: "" = CARD, or CASH when ``card`` is empty
        self.settle: tuple[int, str] | None = None  # a BANK_ACCOUNT (ACH) payment: when it settles, COMPLETED|FAILED
        # A backorder (varied): the lines left behind when the outgoing picking was validated at ``done``, in a
        # second picking scheduled ``back_sched`` and validated at ``back_done`` (never, for ``partial_fulfilment``:
        # the stock did not come, the backorder still waits at every clock).
        self.back_picking = None
        self.back_lines: tuple[int, ...] = ()
        self.back_sched: int | None = None
        self.back_done: int | None = None
        # varied ``measured_quantity``: (line, quantity, Square measurement_unit, unit shown, base price cents) of an
        # in-store sale whose line was sold by measure; base price × quantity is the line's total, as ever
        self.measure: tuple[int, str, dict, str, int] | None = None
        # varied ``voided_label``: a label voided before the parcel left, replaced by the first parcel: a parcel the
        # carrier never scanned after the label (its ``voided`` says when), never one of ``shipments``
        self.voided: Shipment | None = None
        # varied ``pay_in_store``: a pickup paid at the counter: the storefront records the payment pending at
        # checkout, and a sale once the shop marks it paid (``marked_paid``: at collection; None, never)
        self.pay_in_store = False
        self.marked_paid: int | None = None

    def presented(self, cents: int) -> int:
        """``cents`` of the shop's money in the currency the customer shopped in (the same without one)."""
        if self.presentment is None:
            return cents
        return (cents * self.presentment[1] + 5000) // 10000

    def arrived_at(self) -> int | None:
        """When every line had been delivered: the first moment the delivered parcels carry them all.

        Packages of one dispatch and a backorder's parcel each carry some lines; a duplicate or a
        replacement carries them all again, so the first of those delivered completes the order.
        """
        missing = set(range(len(self.lines)))
        delivered = [(p.delivered_at(), p) for p in self.shipments if p.delivered_at() is not None]
        for at, parcel in sorted(delivered, key=lambda pair: pair[0]):
            missing -= set(range(len(self.lines)) if parcel.lines is None else parcel.lines)
            if not missing:
                return at
        return None

    def status_at(self, now: int) -> str | None:
        times = self.event_times
        if not times or times[0] > now:
            return None
        if times[-1] <= now:
            return self.events[-1][1]
        return self.events[_last_at_or_before(times, now)][1]

    def refunded_cents(self, now: int) -> int:
        return sum(r[1] for r in self.refunds if r[0] <= now)

    def captured_at(self, now: int) -> int:
        """Money taken by ``now``: a bank transfer (ACH) is taken only once it settled, and never if it failed; a
        pickup paid in store once the shop marked it paid."""
        if self.pay_in_store:
            return self.captured if self.marked_paid is not None and self.marked_paid <= now else 0
        if self.settle is None:
            return self.captured
        t, outcome = self.settle
        return self.captured if outcome == "COMPLETED" and t <= now else 0

    def payment_status_at(self, now: int) -> str:
        """The Square payment's ``status``: an ACH payment is PENDING until it settles, then COMPLETED or FAILED."""
        if self.settle is None:
            return "COMPLETED"
        t, outcome = self.settle
        return outcome if t <= now else "PENDING"

    def payment_versions(self) -> list[int]:
        """When the Square payment changes: taken, refunded (``refund_ids``, ``refunded_money``), settled."""
        times = [self.placed, *(t for r in self.sq_returns for t in (r.at, r.settled))]
        return distinct_sorted([*times, self.settle[0] if self.settle else None])

    def sched_at(self, now: int) -> int | None:
        value = None
        for t, v in self.sched:
            if t <= now:
                value = v
        return value


class SquareReturn:
    """Goods of an in-store sale brought back to a counter: a Square *return order*.

    Square records an itemized refund as an order of its own (``returns[].source_order_id`` = the
    sale, ``return_line_items``, total 0, the refund in its ``refunds``), never on the sale. Its
    refund is PENDING from ``at`` until ``settled`` (APPROVED); a cash refund is settled at once.
    """

    __slots__ = ("order", "seq", "at", "settled", "lines", "cents", "store", "square_id", "uid", "refund_id")

    channel = "store"

    def __init__(self, order, seq, at, settled, lines, store):
        self.order, self.seq, self.at, self.settled, self.lines, self.store = order, seq, at, settled, lines, store
        self.cents = sum(order.lines[n][2] * q for n, q in lines)
        self.square_id = self.uid = self.refund_id = ""

    @property
    def person(self):
        return self.order.person

    @property
    def square_versions(self) -> list[int]:
        return distinct_sorted([self.at, self.settled])


class Picking:
    """An Odoo stock.picking: the outgoing pick of an order or the return receipt."""

    __slots__ = ("id", "name", "kind", "order", "created", "versions", "moves", "store")

    def __init__(self, kind, order, created, store):
        self.kind, self.order, self.created, self.store = kind, order, created, store
        self.id = 0
        self.name = ""
        self.versions: list[int] = []
        self.moves: list[Move] = []


class Move:
    """An Odoo stock.move. ``picking`` is where it ends; a move left behind by a partial validation starts in
    ``home`` and Odoo rewrites its ``picking_id`` to the backorder at ``moved`` (``stock.picking._create_backorder``)."""

    __slots__ = ("id", "picking", "line_no", "versions", "home", "moved")

    def __init__(self, picking, line_no):
        self.picking, self.line_no = picking, line_no
        self.id = 0
        self.versions: list[int] = []
        self.home = picking
        self.moved: int | None = None

    def picking_at(self, now: int):
        return self.home if self.moved is None or now < self.moved else self.picking


class Bin:
    """A shelf place inside a store's stock location (an Odoo sub-location such as ``DT/Stock/B-07``)."""

    __slots__ = ("store", "name", "odoo_location_id")

    def __init__(self, store, name: str, odoo_location_id: int):
        self.store, self.name, self.odoo_location_id = store, name, odoo_location_id


class Stock:
    """On-hand count of one product at one place, on one bin; ``changes`` are (t, quantity).

    A quantity is whole, or a ``Decimal`` with a fraction where the product is counted by the ``unit`` it
    is sold by (varied ``measured_quantity``: 12.5 m of rope on the reel)."""

    __slots__ = ("store", "product", "odoo_id", "changes", "versions", "bin", "unit")

    def __init__(self, store, product, changes, bin_: Bin | None = None):
        self.store, self.product, self.changes = store, product, changes
        self.odoo_id = 0
        self.versions = [t for t, _ in changes]
        self.bin = bin_
        self.unit = ""

    def quantity_at(self, now: int) -> int | Decimal:
        quantity = 0
        for t, q in self.changes:
            if t <= now:
                quantity = q
        return quantity


def _last_at_or_before(times: list[int], now: int) -> int:
    lo, hi = 0, len(times)
    while lo < hi:
        mid = (lo + hi) // 2
        if times[mid] <= now:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


def last_version(versions: list[int], now: int) -> int | None:
    """The object's ``updated_at`` as of ``now``: its last change at or before it."""
    if not versions or versions[0] > now:
        return None
    if versions[-1] <= now:
        return versions[-1]
    return versions[_last_at_or_before(versions, now)]


def distinct_sorted(times) -> list[int]:
    return sorted({t for t in times if t is not None})


# --- time text ----------------------------------------------------------------------


_DAYS: dict[int, str] = {}


def _day(day: int) -> str:
    """``2026-11-20T`` for a day number since the epoch (cached: few days, many stamps)."""
    text = _DAYS.get(day)
    if text is None:
        g = time.gmtime(day * DAY)
        text = _DAYS[day] = f"{g.tm_year:04d}-{g.tm_mon:02d}-{g.tm_mday:02d}T"
    return text


def _clock(t: int) -> str:
    day, second = divmod(t, DAY)
    hour, second = divmod(second, HOUR)
    minute, second = divmod(second, MINUTE)
    return f"{_day(day)}{hour:02d}:{minute:02d}:{second:02d}"


def iso_z(t: int) -> str:
    """``2026-11-20T12:00:00Z``"""
    return _clock(t) + "Z"


def iso_ms_z(t: int) -> str:
    """``2026-11-20T12:00:00.000Z`` (Square, HubSpot)."""
    return _clock(t) + ".000Z"


def odoo_dt(t: int) -> str:
    """``2026-11-20 12:00:00``: Odoo's zone-less UTC."""
    text = _clock(t)
    return text[:10] + " " + text[11:]


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


_OFFSETS: dict[tuple[str, int], tuple[int, str]] = {}


def _offset(zone: str, hour: int) -> tuple[int, str]:
    """The zone's UTC offset during an hour since the epoch, in seconds and as ``-05:00``."""
    key = (zone, hour)
    found = _OFFSETS.get(key)
    if found is None:
        stamp = datetime.fromtimestamp(hour * HOUR, UTC).astimezone(_zone(zone))
        seconds = int(stamp.utcoffset().total_seconds())
        hours, minutes = divmod(abs(seconds) // 60, 60)
        found = _OFFSETS[key] = (seconds, f"{'-' if seconds < 0 else '+'}{hours:02d}:{minutes:02d}")
    return found


def iso_local(t: int, zone: str) -> str:
    """``2026-11-20T07:00:00-05:00``: Shopify writes times in the shop's zone."""
    seconds, suffix = _offset(zone, t // HOUR)
    return _clock(t + seconds) + suffix


def local_offset(t: int, zone: str) -> int:
    return _offset(zone, t // HOUR)[0]


def to_epoch(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def from_epoch(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def parse_time(text: str, *, ceil: bool = False) -> int:
    """Read an ISO-8601 / RFC 3339 time (``Z``, offset or none = UTC) as epoch seconds.

    ``ceil`` rounds a fractional second up, for inclusive lower bounds. Raises ValueError.
    """
    text = text.strip()
    if len(text) >= 19 and text[10] == " ":
        text = text[:10] + "T" + text[11:]
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = moment.timestamp()
    whole = int(seconds // 1)
    return whole + 1 if ceil and seconds > whole else whole


@contextmanager
def paused_gc():
    """Pause the cyclic GC while building many long-lived objects that hold no garbage.

    The world is millions of objects; a GC pass over them in the middle of generation
    or of a truth export costs more than the work itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
