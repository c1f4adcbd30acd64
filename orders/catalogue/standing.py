"""Where an order stands: its status and projected date, from all the evidence, by one precedence.

Every screen and message that says where an order is reads :func:`standings`: the agent's
pane, the JSON API, the ``promise_at_risk`` rule, customer messages, and the status stored
on ``Order`` (:func:`orders_status_refresh`, after every landed page and counter action).

**Still to go out.** Part of an order may not have left yet while another part has: an ERP
outgoing picking not yet done (Odoo's backorder of what was not in stock), or a storefront
record saying the order is only partly fulfilled (Shopify ``fulfillment_status`` partial: a line
never fulfilled). While anything is still to go out, the order has not been *delivered*,
whatever a parcel or a system says of the part that went.

**Every package.** The packages the ERP's outgoing pickings name (Odoo's ``carrier_tracking_ref``,
comma-joined when a picking leaves in several boxes; a backorder's parcel too) each carry part of the
order: it has arrived when the last of them has. While one of them is still on its way after another
was delivered, the order has not been *delivered* (:attr:`Standing.on_the_way`); a package in a
carrier problem is not on its way (``delivery_exception`` says it). A parcel no picking names (a
duplicate, a replacement sent by hand) is a dispatch of its own: the first delivered is the order
delivered.

**Status precedence** (the first that holds):

1. *cancelled* — the order's origin system cancelled it;
2. *a return* — refunded, returned or return requested, as any system reports it (a return
   comes after delivery, so it beats delivered; a refund with nothing dispatched is no return,
   :attr:`Standing.dispatched` says which: only a system saying no line was ever fulfilled, and no
   stage of anything sent, makes a refund one before dispatch);
3. *delivered* / *collected* — a parcel delivered, a pickup handed over, or a system saying so;
   *delivered* only while nothing is still to go out and no package of a delivered dispatch is on its way;
4. *a carrier problem* — the latest scan of a parcel not delivered is a failure, an error
   (*delivery problem*) or a return to sender (*returning to sender*): it beats in transit;
5. otherwise the furthest stage short of arrival any system reports (ERP picking, carrier scan,
   the counter); a parcel delivered while the rest is still to go counts as handed to the carrier
   (:attr:`Standing.part_delivered` names it).

**Projected date** (the first that holds): the delivery of the first dispatch to arrive whole
(its last package's), once nothing is still to go out; no date while a parcel is in a carrier problem and no other parcel
moves; the latest of the carrier's estimates (else the booked delivery window) of the parcels
still moving and the ERP's scheduled dates of the pickings not yet done — unless that latest is a
picking leaving by the promise, when the promise stands; the promise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from omnidesk.db import update_rows

from ..models import Lifecycle, Order, OrderRecord, Picking, PickingPackage, Pickup, Shipment

RANK = {
    Lifecycle.PLACED: 0, Lifecycle.PAID: 1, Lifecycle.IN_ERP: 2, Lifecycle.ASSIGNED: 3, Lifecycle.PICKED: 4,
    Lifecycle.PACKED: 5, Lifecycle.READY_FOR_PICKUP: 6, Lifecycle.HANDED_TO_CARRIER: 7, Lifecycle.IN_TRANSIT: 8,
    Lifecycle.OUT_FOR_DELIVERY: 9, Lifecycle.DELIVERY_PROBLEM: 9, Lifecycle.RETURNING: 9, Lifecycle.DELIVERED: 10,
    Lifecycle.COLLECTED: 10, Lifecycle.RETURN_REQUESTED: 11, Lifecycle.RETURNED: 12, Lifecycle.REFUNDED: 13,
}  # fmt: skip
RETURN_STAGES = (Lifecycle.RETURN_REQUESTED, Lifecycle.RETURNED, Lifecycle.REFUNDED)
ARRIVED = (Lifecycle.DELIVERED, Lifecycle.COLLECTED)
OPEN_PICKING = (Lifecycle.IN_ERP, Lifecycle.ASSIGNED, Lifecycle.PICKED, Lifecycle.PACKED)
PICKUP_STATUS = {Pickup.Stage.READY: Lifecycle.READY_FOR_PICKUP, Pickup.Stage.COLLECTED: Lifecycle.COLLECTED}
# EasyPost tracker statuses (the first part of a carrier shipment's ``raw_status``) that mean trouble.
CARRIER_PROBLEM = {"failure": Lifecycle.DELIVERY_PROBLEM, "error": Lifecycle.DELIVERY_PROBLEM}
CARRIER_RETURNING = {"return_to_sender": Lifecycle.RETURNING}
# Carrier statuses of a parcel no carrier has scanned past its label. A refunded (voided) label's tracker stays so
# for good: the carrier is never told, only the system that cancelled the shipment knows.
CARRIER_UNSCANNED = ("unknown", "pre_transit")
# A storefront record's raw status whose fulfilment part says some lines were never fulfilled (Shopify's
# ``<financial_status>/<fulfillment_status>``: ``paid/partial``; GraphQL's PARTIALLY_FULFILLED maps to it too).
PARTLY_FULFILLED = "partial"
# ... and whose fulfilment part says nothing was ever fulfilled (``refunded/unfulfilled``): the only word any
# system gives that nothing was sent. A refund is taken as coming before dispatch on that word alone; a
# system that ranks its refund above its own fulfilment (Square's ``COMPLETED/COMPLETED`` refunded order)
# says nothing of the kind.
NOTHING_FULFILLED = "unfulfilled"


@dataclass(frozen=True)
class Parcel:
    """One parcel as the evidence shows it (a storefront fulfilment and a carrier tracker of one number are one)."""

    system: str
    tracking_number: str
    status: str
    raw_status: str
    estimated: datetime | None
    window_end: datetime | None
    delivered_at: datetime | None

    @property
    def carrier_status(self) -> str:
        return self.raw_status.split("/")[0]

    @property
    def problem(self) -> str | None:
        """The lifecycle a carrier problem puts the order in, or None."""
        return carrier_problem(self.status, self.raw_status, self.delivered_at)


def carrier_problem(status: str, raw_status: str, delivered_at: datetime | None) -> str | None:
    """The lifecycle a carrier problem puts a parcel in (returning to sender, a delivery problem), or None: its
    carrier's latest status (``raw_status``'s first part) while it is neither delivered nor cancelled. A carrier
    in trouble is stored as in transit (the adapters' lifecycle has no exception); the order's standing, the
    presence strip and the pane's parcels all read the trouble here."""
    if delivered_at or status in (Lifecycle.DELIVERED, Lifecycle.CANCELLED):
        return None
    carrier = raw_status.split("/")[0]
    return CARRIER_PROBLEM.get(carrier) or CARRIER_RETURNING.get(carrier)


PROJECTION_WORDS = {
    "delivered": "delivered parcel {subject}",
    "estimates": "estimates parcel {subject}",
    "books": "books the delivery window of parcel {subject}",
    "schedules": "schedules {subject}",
    "promised": "promised",
}


@dataclass(frozen=True)
class Projection:
    """A date some system projects for the order: ``system`` ``what`` for ``at`` ("odoo schedules WH/OUT/7").

    ``kind`` is where it comes from (:data:`PROJECTION_WORDS`), ``subject`` the parcel or picking it is about.
    """

    at: datetime
    system: str
    kind: str
    subject: str = ""

    @property
    def what(self) -> str:
        return PROJECTION_WORDS[self.kind].format(subject=self.subject).strip()

    def __str__(self) -> str:
        return f"{self.system} {self.what}".strip()


@dataclass
class Evidence:
    """Everything the systems say about one order's progress."""

    origin: int | None = None  # the origin system's source id
    origin_cancelled: bool = False
    promised_by: datetime | None = None
    stages: list[str] = field(default_factory=list)
    parcels: list[Parcel] = field(default_factory=list)
    open_pickings: list[tuple[str, str, datetime]] = field(default_factory=list)  # (system, name, scheduled)
    # What is still to go out: (system, picking name) of each open outgoing picking, (system, "") of a
    # storefront record saying the order is only partly fulfilled.
    unsent: list[tuple[str, str]] = field(default_factory=list)
    nothing_fulfilled: bool = False  # a storefront record says no line was ever fulfilled (:data:`NOTHING_FULFILLED`)
    packages: tuple[str, ...] = ()  # the tracking numbers the order's outgoing pickings name, when more than one


@dataclass(frozen=True)
class Standing:
    status: str
    projected: Projection | None
    problem: Parcel | None = None  # the parcel in a carrier problem, when that is the status
    unsent: tuple[tuple[str, str], ...] = ()  # what is still to go out (:attr:`Evidence.unsent`)
    part_delivered: Parcel | None = None  # the first parcel delivered while the rest is still to go out
    # something left on its way to the customer (:data:`SENT`), or a return stage unless nothing was fulfilled
    dispatched: bool = False
    on_the_way: tuple[str, ...] = ()  # the ERP's packages still on their way after another was delivered

    @property
    def label(self) -> str:
        return Lifecycle(self.status).label


def standing_of(e: Evidence) -> Standing:
    """The one function: status and projected date from the evidence (precedence in the module docstring)."""
    if e.origin_cancelled:
        return Standing(Lifecycle.CANCELLED, None)
    returns = [s for s in e.stages if s in RETURN_STAGES]
    delivered = [p for p in e.parcels if p.delivered_at or p.status == Lifecycle.DELIVERED]
    on_the_way = _on_the_way(e, delivered)
    arrival = _arrival(e, delivered)
    arrived = [s for s in e.stages if s in ARRIVED] or ([Lifecycle.DELIVERED] if delivered else [])
    rest = e.unsent or on_the_way
    if rest:  # the rest is still to go out or on its way: delivered is not the order's word, collected still is
        arrived = [s for s in arrived if s != Lifecycle.DELIVERED]
    moving = [p for p in e.parcels if p not in delivered and p.status != Lifecycle.CANCELLED and not p.problem]
    troubled = [p for p in e.parcels if p.problem]
    short_of_arrival = [s for s in e.stages if s not in ARRIVED and s not in RETURN_STAGES]
    part_delivered = None
    if rest and delivered:
        part_delivered = next((p for p in delivered if p.delivered_at == arrival), delivered[0])
        short_of_arrival.append(Lifecycle.HANDED_TO_CARRIER)
    if returns:
        status = max(returns, key=RANK.__getitem__)
    elif arrived:
        status = max(arrived, key=RANK.__getitem__)
    elif troubled and not moving:
        status = troubled[-1].problem
    else:
        status = max(short_of_arrival, key=RANK.__getitem__, default=Lifecycle.PLACED)
    problem = troubled[-1] if status in (Lifecycle.DELIVERY_PROBLEM, Lifecycle.RETURNING) else None
    projected = _projection(e, None if rest else arrival, delivered, moving, troubled)
    # Dispatched: a stage says something left; or a return stage, unless a system says nothing was ever sent.
    sent = any(s in SENT for s in (status, *e.stages))
    dispatched = sent or (status in RETURN_STAGES and not e.nothing_fulfilled)
    return Standing(
        status,
        projected,
        problem,
        tuple(e.unsent),
        part_delivered if status not in ARRIVED else None,
        dispatched,
        tuple(p.tracking_number for p in on_the_way),
    )


def _on_the_way(e: Evidence, delivered: list[Parcel]) -> list[Parcel]:
    """The ERP's packages not delivered, cancelled nor in a carrier problem, once another of them was delivered."""
    arrived = {p.tracking_number for p in delivered}
    if not arrived.intersection(e.packages):
        return []
    return [
        p
        for p in e.parcels
        if p.tracking_number in e.packages
        and p.tracking_number not in arrived
        and p.status != Lifecycle.CANCELLED
        and not p.problem
    ]


def _arrival(e: Evidence, delivered: list[Parcel]) -> datetime | None:
    """When the order first arrived whole: a package the ERP names counts when the last of them was delivered."""
    at = {p.tracking_number: p.delivered_at for p in delivered if p.delivered_at}
    whole = [max(at.get(n, when) for n in e.packages) if number in e.packages else when for number, when in at.items()]
    return min(whole, default=None)


def _projection(e: Evidence, arrival, delivered, moving, troubled) -> Projection | None:
    if arrival is not None:
        first = next(p for p in delivered if p.delivered_at == arrival)
        return Projection(arrival, first.system, "delivered", first.tracking_number)
    estimates = [
        Projection(p.estimated, p.system, "estimates", p.tracking_number)
        if p.estimated
        else Projection(p.window_end, p.system, "books", p.tracking_number)
        for p in moving
        if p.estimated or p.window_end
    ]
    if troubled and not estimates:
        return None
    schedules = [Projection(scheduled, system, "schedules", name) for system, name, scheduled in e.open_pickings]
    latest = max(estimates + schedules, key=lambda p: (p.at, p.system, p.what), default=None)
    if latest is not None and not (latest.kind == "schedules" and e.promised_by and latest.at <= e.promised_by):
        return latest
    return Projection(e.promised_by, "", "promised") if e.promised_by else None


# The rows an order's evidence is read from, as plain tuples (``evidence_of`` reads them for any number of
# orders; the agent's pane hands over the rows it shows anyway, :func:`evidence_read`):
RecordRow = tuple[int, str, str, str]  # (source id, system, status, raw status)
PickingRow = tuple[str, str, str, str, datetime | None]  # (system, name, kind, status, scheduled at)
# (id, system, system kind, tracking number, status, raw status, estimated delivery, window end, delivered at)
ShipmentRow = tuple[int, str, str, str, str, str, datetime | None, datetime | None, datetime | None]


def evidence_of(order_ids: Iterable[int]) -> dict[int, Evidence]:
    """Every order's evidence in five queries, whatever the number of orders."""
    order_ids = list(set(order_ids))
    facts: dict[int, tuple[int | None, datetime | None, str | None]] = {}
    for pk, origin, promised, stage in (
        Order.objects.filter(pk__any=order_ids)
        .order_by()
        .values_list("id", "origin_source_id", "promised_by", "pickup__stage")  # the pickup is one row per order
    ):
        facts[pk] = (origin, promised, stage)
    records: dict[int, list[RecordRow]] = defaultdict(list)
    for order_id, *row in (
        OrderRecord.objects.filter(order_id__any=order_ids)
        .values_list("order_id", "source_id", "source__name", "status", "raw_status")
        .order_by("order_id", "id")
    ):
        records[order_id].append(tuple(row))
    pickings: dict[int, list[PickingRow]] = defaultdict(list)
    for order_id, *row in (
        Picking.objects.filter(order_id__any=order_ids)
        .values_list("order_id", "source__name", "name", "kind", "status", "scheduled_at")
        .order_by("order_id", "id")
    ):
        pickings[order_id].append(tuple(row))
    packages: dict[int, list[str]] = defaultdict(list)
    for order_id, number in (
        PickingPackage.objects.filter(picking__order_id__any=order_ids, picking__kind=Picking.Kind.OUTGOING)
        .values_list("picking__order_id", "tracking_number")
        .order_by("picking_id", "id")
    ):
        packages[order_id].append(number)
    shipments: dict[int, list[ShipmentRow]] = defaultdict(list)
    for order_id, *row in (
        Shipment.objects.filter(order_id__any=order_ids)
        .values_list(
            "order_id", "id", "source__name", "source__kind", "tracking_number", "status", "raw_status",
            "estimated_delivery", "window_end", "delivered_at",
        )
        .order_by("order_id", "id")
    ):  # fmt: skip
        shipments[order_id].append(tuple(row))
    return {
        pk: evidence_read(
            origin=origin,
            promised_by=promised,
            pickup_stage=stage,
            records=records[pk],
            pickings=pickings[pk],
            shipments=shipments[pk],
            packages=packages[pk],
        )
        for pk, (origin, promised, stage) in facts.items()
    }


def evidence_read(
    *,
    origin: int | None,
    promised_by: datetime | None,
    pickup_stage: str | None,
    records: Iterable[RecordRow],
    pickings: Iterable[PickingRow],
    shipments: Iterable[ShipmentRow],
    packages: Iterable[str] = (),
) -> Evidence:
    """The one reading of an order's rows as evidence: its records, pickings and shipments, each in id order, and
    the tracking numbers of its outgoing pickings' packages (picking by picking, each picking's in id order)."""
    numbers = tuple(dict.fromkeys(packages))
    e = Evidence(origin=origin, promised_by=promised_by, packages=numbers if len(numbers) > 1 else ())
    for source_id, system, status, raw_status in records:
        if status == Lifecycle.CANCELLED:
            e.origin_cancelled = e.origin_cancelled or source_id == e.origin
        else:
            e.stages.append(status)
        fulfilment = raw_status.split("/")[1:]  # a storefront's ``financial/fulfilment[/cancelled]``
        if PARTLY_FULFILLED in fulfilment:
            e.unsent.append((system, ""))
        e.nothing_fulfilled = e.nothing_fulfilled or fulfilment[:1] == [NOTHING_FULFILLED]
    for system, name, kind, status, scheduled in pickings:
        if kind == Picking.Kind.INCOMING and status not in RETURN_STAGES:
            continue  # a return on its way back is not the order's progress
        if status != Lifecycle.CANCELLED:
            e.stages.append(status)
        if kind == Picking.Kind.OUTGOING and status in OPEN_PICKING:
            e.unsent.append((system, name))
            if scheduled:
                e.open_pickings.append((system, name, scheduled))
    e.parcels = _parcels(shipments)
    e.stages.extend(p.status for p in e.parcels if p.status != Lifecycle.CANCELLED)
    if pickup_stage in PICKUP_STATUS:
        e.stages.append(PICKUP_STATUS[pickup_stage])  # the counter's own word, before any system echoes it
    return e


def _parcels(shipments: Iterable[ShipmentRow]) -> list[Parcel]:
    """Parcels by tracking number: the carrier's own tracker speaks for a parcel the storefront also lists.

    Except for a voided label: a system says its shipment was cancelled and the carrier never scanned it past the
    label (:data:`CARRIER_UNSCANNED`, where a refunded label's tracker stays): that cancelled one speaks for it.
    """
    chosen: dict[str, tuple] = {}
    cancelled: dict[str, tuple] = {}
    for pk, system, kind, number, *facts in shipments:
        key = number or f"#{pk}"
        best = chosen.get(key)
        if best is None or (best[0] != "carrier" and kind == "carrier"):
            chosen[key] = (kind, system, number, *facts)
        if facts[0] == Lifecycle.CANCELLED:
            cancelled.setdefault(key, (kind, system, number, *facts))
    for key, voided in cancelled.items():
        if chosen[key][4].split("/")[0] in CARRIER_UNSCANNED:
            chosen[key] = voided
    return [Parcel(system, number, *facts) for _, system, number, *facts in sorted(chosen.values(), key=lambda r: r[2])]


def standings(order_ids: Iterable[int]) -> dict[int, Standing]:
    """Every order's standing (status, projection), for the pane, the API, the rules and the messages."""
    return {pk: standing_of(e) for pk, e in evidence_of(order_ids).items()}


def orders_status_refresh(order_ids: Iterable[int]) -> None:
    """Store each order's status as :func:`standing_of` derives it (searches and lists filter on it)."""
    order_ids = list(set(order_ids))
    if not order_ids:
        return
    current = dict(Order.objects.filter(pk__any=order_ids).values_list("id", "status"))
    rows = [{"id": pk, "status": s.status} for pk, s in standings(order_ids).items() if current.get(pk) != s.status]
    update_rows(Order, rows, fields=["status"])


# --- what the standing still allows ----------------------------------------------------------
# Something has left the building: a parcel any system reports, or the customer has the goods.
DISPATCHED = {
    Lifecycle.HANDED_TO_CARRIER,
    Lifecycle.DELIVERY_PROBLEM,
    Lifecycle.RETURNING,
    Lifecycle.IN_TRANSIT,
    Lifecycle.OUT_FOR_DELIVERY,
    Lifecycle.DELIVERED,
    Lifecycle.COLLECTED,
    Lifecycle.RETURN_REQUESTED,
    Lifecycle.RETURNED,
    Lifecycle.REFUNDED,
}
# Something left the building on its way to the customer (a return stage alone does not say so: a refund
# may come before anything was sent).
SENT = DISPATCHED - set(RETURN_STAGES)


def cannot_cancel(order: Order, standing: Standing) -> str:
    """Why the order can no longer be cancelled, in words for the customer; empty while it still can."""
    if standing.status == Lifecycle.CANCELLED or order.cancelled_at:
        return "already cancelled"
    if order.fulfilment == Order.Fulfilment.CARRY_OUT:
        return "bought at the till"
    if standing.status == Lifecycle.COLLECTED:
        return "collected in store"
    if standing.status == Lifecycle.DELIVERED:
        return "already delivered"
    if standing.status in RETURN_STAGES and (standing.dispatched or standing.status != Lifecycle.REFUNDED):
        return "already delivered and being returned"  # a return requested or received: it reached them
    if standing.dispatched:  # a parcel any system reports is a stage of the standing
        return "already dispatched"
    return ""  # refunded with nothing sent: not dispatched, so it can still be cancelled (S10)


def cancellable(order: Order, standing: Standing) -> bool:
    """An order can still be cancelled until something has left the building."""
    return not cannot_cancel(order, standing)
