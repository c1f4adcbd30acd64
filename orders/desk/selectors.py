"""Reads for the pages and the API."""

from __future__ import annotations

import operator
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import OuterRef, Q, QuerySet, Subquery, prefetch_related_objects
from django.utils import timezone

from integrations.models import Source, SyncRun

from ..catalogue.lines import lines_of
from ..catalogue.money import takings
from ..catalogue.standing import (
    ARRIVED,
    RETURN_STAGES,
    Evidence,
    Standing,
    cancellable,
    cannot_cancel,
    carrier_problem,
    evidence_read,
    standing_of,
)
from ..catalogue.stock import stock_available, warehouses_of
from ..flags.codes import MESSAGE_CODES
from ..flags.rules import rules_waiting
from ..models import (
    Customer,
    Flag,
    Interaction,
    Lifecycle,
    Note,
    Order,
    OrderLine,
    OrderRecord,
    Picking,
    Pickup,
    Shipment,
    TrackingEvent,
)
from ..timeline.selectors import timeline_rows
from ..timezones import LOCAL_FORMAT, screen_zone
from .answer import CALLER_FACING, order_answer
from .prices import OtherPrice, other_channel_prices, paid_more_in_store


def sync_overview(*, orders: QuerySet[Order], customers: QuerySet[Customer]) -> dict:
    """Counts of the orders and customers given (the user's) and per-source health (a fixed number of queries)."""
    last_run = SyncRun.objects.filter(source=OuterRef("pk")).order_by("-started_at").values("pk")[:1]
    sources = list(Source.objects.annotate(last_run_id=Subquery(last_run)).order_by("name"))
    runs = SyncRun.objects.select_related("source").in_bulk([s.last_run_id for s in sources if s.last_run_id])
    return {
        "sources": [(source, runs.get(source.last_run_id)) for source in sources],
        # rules that conclude from absence, holding their verdicts until these sources have been read once
        "waiting": [(Flag.Code(code).label, names) for code, names in rules_waiting(sources).items()],
        "orders": orders.count(),
        "customers": customers.count(),
    }


# --- the agent's customer and order screen ------------------------------------------------
# Arrived, cancelled or on its way back: no longer late, whatever the dates say.
NOT_LATE = (*ARRIVED, Lifecycle.CANCELLED, *RETURN_STAGES)
RECENT_NOTES = 5
VERIFIED_FOR = timedelta(hours=2)  # "verified on this call": a later call verifies again


def verified_on_this_call(customer: Customer) -> Interaction | None:
    """The caller's identity check logged for this customer within :data:`VERIFIED_FOR`, if any."""
    return (
        Interaction.objects.filter(
            customer=customer,
            kind=Interaction.Kind.IDENTITY_VERIFIED,
            created_at__gte=timezone.now() - VERIFIED_FOR,
        )
        .select_related("author")
        .first()
    )


def customer_header(customer: Customer, *, orders: QuerySet[Order]) -> dict:
    """Who this is: every identity with its system, open flags, the last notes, a recent verification.

    ``orders`` are the customer's orders this user may see (``access.visible_orders``):
    flags and order notes of the others (another store's) stay hidden; notes on the
    customer show to everyone who sees the customer. A fixed number of queries.
    """
    order_ids = orders.filter(customer=customer).values("pk")
    identities = list(customer.identities.select_related("source").order_by("source__name", "external_id"))
    open_flags = list(
        Flag.objects.filter(order__in=order_ids, closed_at__isnull=True)
        .select_related("order__store")
        .order_by("-opened_at")
    )
    notes = list(
        Note.objects.filter(Q(customer=customer, order__isnull=True) | Q(order__in=order_ids))
        .select_related("author", "order__store")
        .order_by("-created_at", "-id")[:RECENT_NOTES]
    )
    verified = verified_on_this_call(customer)
    return {
        "customer": customer,
        "paid_more_in_store": paid_more_in_store(customer, orders=orders),
        "emails": distinct([customer.email, *(i.email_normalised for i in identities)]),
        "phones": distinct([customer.phone, *(i.phone_e164 for i in identities)]),
        "identities": identities,
        "open_flags": open_flags,
        "notes": notes,
        "verified": verified,
    }


def distinct(values) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def customer_orders(orders: QuerySet[Order]) -> QuerySet[Order]:
    """The customer's orders for the table: newest first (one query a page; their open flags are the header's)."""
    return orders.select_related("store").order_by("-placed_at", "-id")


@dataclass
class Presence:
    """One system's view of the order, or its absence, for the presence strip."""

    source: Source
    record: OrderRecord | None
    shipment: Shipment | None = None  # a carrier knows the order through its parcel, not an order record

    @property
    def stale(self) -> bool:
        return self.source.is_stale

    @property
    def known(self) -> bool:
        return self.record is not None or self.shipment is not None

    @property
    def number(self) -> str:
        """The order's number there: the system's own, or a carrier's tracking number."""
        return self.record.external_number if self.record else self.shipment.tracking_number

    @property
    def held(self) -> OrderRecord | Shipment:
        """What the system holds for the order: its record, or a carrier's tracker."""
        return self.record or self.shipment


@dataclass
class LineView:
    line: OrderLine
    available: int | Decimal | None  # on hand minus reserved where the line ships from (12.5 m); None when unknown
    counts: str = ""  # each system's own count there, e.g. "odoo 31 · square 30"
    other: OtherPrice | None = None

    @property
    def difference(self) -> Decimal | None:
        return None if self.other is None else self.line.unit_price - self.other.price


def order_pane(order: Order) -> dict:
    """Everything the agent needs about one order, in a fixed number of queries.

    Status and projected date come from :func:`orders.catalogue.standing.standing_of`, the one function the
    API, the rules and the messages read too, over the evidence :func:`~orders.catalogue.standing.evidence_read`
    reads from the rows the pane shows anyway (``standings`` reads the same rows for many orders).
    Whether it can be cancelled (and why not) and what could be refunded (captured minus refunded)
    are answered here, so the agent never does sums.
    """
    sources = {source.pk: source for source in Source.objects.order_by("name")}  # the few systems, read once
    order.origin_source = sources.get(order.origin_source_id)
    prefetch_related_objects([order], "records")  # for the standing and the presence strip
    sent = _sourced(order.shipments.all(), sources)
    for shipment in sent:  # as the standing reads it: "returning to sender", not the stored "in transit"
        shipment.lifecycle = Lifecycle(
            carrier_problem(shipment.status, shipment.raw_status, shipment.delivered_at) or shipment.status
        ).label
    scans = _scans(sent)
    pickings = _sourced(order.pickings.prefetch_related("packages"), sources)
    standing = standing_of(_evidence(order, sent, pickings, sources))
    shipments = parcels(sent)
    zone = screen_zone(order.store)
    for parcel in shipments:  # formatted once here: a parcel in limbo can carry hundreds of scans
        parcel.scan_rows = scans.get(parcel.pk, [])
        parcel.scans = [
            " · ".join(
                part
                for part in (e.occurred_at.astimezone(zone).strftime(LOCAL_FORMAT), e.status, e.message, e.location)
                if part
            )
            for e in parcel.scan_rows
        ]
    payments = _sourced(order.payments.all(), sources)
    returns = order_returns(order, sources, pickings)
    pane = {
        "order": order,
        "presence": order_systems(order, shipments, [s for s in sources.values() if s.kind in PRESENCE_KINDS]),
        "standing": standing,
        "lines": _lines_with_stock(order, sources),
        "payments": payments,
        "shipments": shipments,
        "returns": returns,
        "flags": list(order.flags.select_related("owner", "message").order_by("closed_at", "-opened_at")),
        "message_codes": MESSAGE_CODES,
        "timeline": timeline_rows(order),
        "projected": standing.projected,
        "arrived": standing.projected is not None and standing.projected.kind == "delivered",
        "late": lateness(order, standing),
        "cancellable": cancellable(order, standing),
        "cannot_cancel": cannot_cancel(order, standing),
        "refundable": takings(payments).refundable,
    }
    pane["caller_flags"], pane["back_office_flags"] = flags_for_the_call(pane["flags"])
    pane["back_office_open"] = sum(flag.closed_at is None for flag in pane["back_office_flags"])
    pane["back_office_closed"] = len(pane["back_office_flags"]) - pane["back_office_open"]
    pane["answer"] = order_answer(pane, now=timezone.now())
    return pane


@dataclass(frozen=True, slots=True)
class Scan:
    """One carrier scan as the pane, the answer card and the API read it: a plain row, not a model instance (a
    parcel in limbo carries hundreds)."""

    occurred_at: datetime
    status: str
    message: str
    location: str


def _scans(shipments: list[Shipment]) -> dict[int, list[Scan]]:
    """``{shipment id: its scans, oldest first}`` in one query (none when there is no shipment)."""
    found: dict[int, list[Scan]] = defaultdict(list)
    if shipments:
        rows = (
            TrackingEvent.objects.filter(shipment__in=[s.pk for s in shipments])
            .order_by("occurred_at", "id")
            .values_list("shipment_id", "occurred_at", "status", "message", "location")
        )
        for shipment_id, *scan in rows:
            found[shipment_id].append(Scan(*scan))
    return found


def _evidence(order: Order, shipments: list[Shipment], pickings: list[Picking], sources: dict[int, Source]) -> Evidence:
    """The order's evidence from the rows the pane shows anyway, read by the one :func:`~orders.catalogue.standing.evidence_read`
    (``standings`` reads the same columns of the same rows for any number of orders)."""
    by_id = operator.attrgetter("pk")
    return evidence_read(
        origin=order.origin_source_id,
        promised_by=order.promised_by,
        pickup_stage=next(iter(Pickup.objects.filter(order_id=order.pk).values_list("stage", flat=True)), None),
        records=[
            (r.source_id, sources[r.source_id].name, r.status, r.raw_status)
            for r in sorted(order.records.all(), key=by_id)
        ],
        pickings=[(p.source.name, p.name, p.kind, p.status, p.scheduled_at) for p in sorted(pickings, key=by_id)],
        packages=[
            package.tracking_number
            for p in sorted(pickings, key=by_id)
            if p.kind == Picking.Kind.OUTGOING
            for package in sorted(p.packages.all(), key=by_id)
        ],
        shipments=[
            (
                s.pk, s.source.name, s.source.kind, s.tracking_number, s.status, s.raw_status, s.estimated_delivery,
                s.window_end, s.delivered_at,
            )
            for s in sorted(shipments, key=by_id)
        ],
    )  # fmt: skip


def _sourced(rows, sources: dict[int, Source]) -> list:
    """The rows, each with its system from ``sources`` (read once per pane) instead of a join per query."""
    rows = list(rows)
    for row in rows:
        row.source = sources[row.source_id]
    return rows


def flags_for_the_call(flags: list[Flag]) -> tuple[list[Flag], list[Flag]]:
    """The open flags the caller may ask about (:data:`answer.CALLER_FACING`), and the rest: open back-office
    work (nobody preparing it, not on the shelf, a charge that does not match…) then closed flags."""
    caller = [flag for flag in flags if flag.closed_at is None and flag.code in CALLER_FACING]
    return caller, [flag for flag in flags if flag not in caller]


PRESENCE_KINDS = ("storefront", "pos", "erp", "carrier")


def presence_sources() -> list[Source]:
    return list(Source.objects.filter(kind__in=PRESENCE_KINDS).order_by("name"))


def order_systems(order: Order, shipments: list[Shipment] | None = None, sources=None) -> list[Presence]:
    """Which systems know the order: its record in each, and a carrier through the tracker it holds for it.

    The presence strip and the API's ``systems`` both read this (``order.records`` and
    ``order.shipments`` may come prefetched). A carrier is listed only when the order has
    parcels: an order picked up in store never meets one.
    """
    records = {r.source_id: r for r in order.records.all()}
    if shipments is None:
        shipments = parcels(order.shipments.all())
    by_source = {s.source_id: s for s in shipments} | {other.source_id: other for s in shipments for other in s.also}
    presence = [
        Presence(source, records.get(source.pk), by_source.get(source.pk)) for source in sources or presence_sources()
    ]
    return presence if shipments else [p for p in presence if p.source.kind != "carrier"]


@dataclass(frozen=True)
class ReturnView:
    """A return as one system reports it: the storefront's refund of returned lines, or the ERP's return receipt."""

    system: str
    reference: str
    status: str  # requested, received, refunded
    skus: list[str]
    amount: Decimal | None
    requested_at: datetime | None
    received_at: datetime | None
    refunded_at: datetime | None

    @property
    def status_label(self) -> str:
        return {"requested": "Requested", "received": "Received", "refunded": "Refunded"}.get(self.status, self.status)


def order_returns(order: Order, sources: dict[int, Source], pickings: list[Picking]) -> list[ReturnView]:
    """Every return any system reports: ``Return`` rows and the ERP's return receipts (the order's ``pickings``
    that are incoming)."""
    views = [
        ReturnView(
            r.source.name, r.external_id, r.status, list(r.line_skus or []), r.amount, r.requested_at,
            r.received_at, r.refunded_at,
        )
        for r in _sourced(order.returns.all(), sources)
    ]  # fmt: skip
    receipts = [picking for picking in pickings if picking.kind == Picking.Kind.INCOMING]
    prefetch_related_objects(receipts, "lines")
    for picking in receipts:
        done = picking.status == Lifecycle.RETURNED
        views.append(
            ReturnView(
                picking.source.name, picking.name or picking.external_id, "received" if done else "requested",
                sorted({line.sku for line in picking.lines.all()}), None, picking.scheduled_at,
                picking.done_at if done else None, None,
            )
        )  # fmt: skip
    return sorted(views, key=lambda v: (v.received_at or v.requested_at or v.refunded_at or order.placed_at, v.system))


def lateness(order: Order, standing: Standing, now: datetime | None = None) -> timedelta | None:
    """How late the order is, by its projection or its promise, while it has not arrived; None when on time."""
    if standing.status in NOT_LATE:
        return None
    if order.fulfilment == Order.Fulfilment.PICKUP and standing.status == Lifecycle.READY_FOR_PICKUP:
        return None
    now = now or timezone.now()
    due = [d for d in (order.promised_by, standing.projected.at if standing.projected else None) if d]
    overdue = [now - d for d in due if d < now]
    return max(overdue) if overdue else None


def parcels(shipments) -> list[Shipment]:
    """One entry per parcel: the storefront's fulfilment and the carrier's tracker of one tracking number are one.

    The entry kept is the one with the carrier's scans; the others are listed in its ``also``.
    """
    groups: dict[str, list[Shipment]] = {}
    for shipment in shipments:
        groups.setdefault(shipment.tracking_number or f"#{shipment.pk}", []).append(shipment)
    kept = []
    for group in groups.values():
        group.sort(key=lambda s: (s.source.kind != "carrier", s.last_event_at is None, s.pk))
        first, *rest = group
        first.also = rest
        kept.append(first)
    return kept


def _lines_with_stock(order: Order, sources: dict[int, Source]) -> list[LineView]:
    """The order's lines as one system lists them (``catalogue.lines``), with stock where each ships from."""
    listed = _sourced(order.lines.select_related("fulfilment_location"), sources)
    lines = lines_of(order, listed, {source.pk: source.kind for source in sources.values()})
    unplaced = any(not (line.fulfilment_location_id or order.store_id) for line in lines)
    warehouse = warehouses_of([order.pk]).get(order.pk) if unplaced else None
    place = {line.pk: line.fulfilment_location_id or order.store_id or warehouse for line in lines}
    needs = {}
    for line in lines:
        if place[line.pk]:
            key = (order.pk, line.sku, place[line.pk])
            needs[key] = needs.get(key, 0) + line.quantity
    available = stock_available(needs)  # the figure stock_shortfall judges by
    others = other_channel_prices(order, lines)
    views = []
    for line in lines:
        counts = available.get((order.pk, line.sku, place[line.pk]), {})
        views.append(
            LineView(
                line,
                min(counts.values()) if counts else None,
                " · ".join(f"{s} {n}" for s, n in sorted(counts.items())),
                others.get(line.sku),
            )
        )
    return views
