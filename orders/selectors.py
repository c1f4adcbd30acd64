"""Reads for the pages and the API."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from integrations.models import Source, SyncRun

from .correlate import PRECEDENCE
from .flags import MESSAGE_CODES
from .models import (
    Customer,
    Flag,
    Interaction,
    Lifecycle,
    Note,
    Order,
    OrderLine,
    OrderRecord,
    Payment,
    Return,
    Shipment,
    StockLevel,
    TimelineEvent,
)
from .timezones import LOCAL_FORMAT, store_zone


def sync_overview(*, orders: QuerySet[Order], customers: QuerySet[Customer]) -> dict:
    """Counts of the orders and customers given (the user's) and per-source health (a fixed number of queries)."""
    last_run = SyncRun.objects.filter(source=OuterRef("pk")).order_by("-started_at").values("pk")[:1]
    sources = list(Source.objects.annotate(last_run_id=Subquery(last_run)).order_by("name"))
    runs = SyncRun.objects.select_related("source").in_bulk([s.last_run_id for s in sources if s.last_run_id])
    return {
        "sources": [(source, runs.get(source.last_run_id)) for source in sources],
        "orders": orders.count(),
        "customers": customers.count(),
    }


def order_timeline(*, order_id: int) -> list[TimelineEvent]:
    """One order's timeline across every system, in the order things happened (one query).

    Events are stored in UTC with the time they happened in their own system, so a
    scan synced late still sorts where it belongs.
    """
    events = TimelineEvent.objects.filter(order_id=order_id).select_related("source", "actor")
    return list(events.order_by("occurred_at", "id"))


# --- the agent's customer and order screen ------------------------------------------------
DISPATCHED = {
    Lifecycle.HANDED_TO_CARRIER,
    Lifecycle.IN_TRANSIT,
    Lifecycle.OUT_FOR_DELIVERY,
    Lifecycle.DELIVERED,
    Lifecycle.COLLECTED,
    Lifecycle.RETURN_REQUESTED,
    Lifecycle.RETURNED,
    Lifecycle.REFUNDED,
}
RECENT_NOTES = 5
VERIFIED_FOR = timedelta(hours=2)  # "verified on this call": a later call verifies again


def customer_header(customer: Customer, *, orders: QuerySet[Order]) -> dict:
    """Who this is: every identity with its system, open flags, the last notes, a recent verification.

    ``orders`` are the customer's orders this user may see (``access.visible_orders``):
    flags and order notes of the others (another store's) stay hidden; notes on the
    customer show to everyone who sees the customer. A fixed number of queries.
    """
    order_ids = orders.filter(customer=customer).values("pk")
    identities = list(customer.identities.select_related("source").order_by("source__name", "external_id"))
    open_flags = list(
        Flag.objects.filter(order__in=order_ids, closed_at__isnull=True).select_related("order").order_by("-opened_at")
    )
    notes = list(
        Note.objects.filter(Q(customer=customer, order__isnull=True) | Q(order__in=order_ids))
        .select_related("author", "order__store")
        .order_by("-created_at", "-id")[:RECENT_NOTES]
    )
    verified = (
        Interaction.objects.filter(
            customer=customer,
            kind=Interaction.Kind.IDENTITY_VERIFIED,
            created_at__gte=timezone.now() - VERIFIED_FOR,
        )
        .select_related("author")
        .first()
    )
    return {
        "customer": customer,
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
    """The customer's orders for the table: newest first, with their open flags (two queries a page)."""
    open_flags = Prefetch("flags", queryset=Flag.objects.filter(closed_at__isnull=True), to_attr="open_flags")
    return orders.select_related("store", "origin_source").prefetch_related(open_flags).order_by("-placed_at", "-id")


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


@dataclass
class LineView:
    line: OrderLine
    available: int | None  # on hand minus reserved at the line's fulfilment location; None when unknown
    counts: str = ""  # each system's own count there, e.g. "odoo 31 · square 30"


def order_pane(order: Order) -> dict:
    """Everything the agent needs about one order, in a fixed number of queries.

    Whether it can be cancelled (nothing dispatched yet) and what could be refunded
    (captured minus refunded) are answered here, so the agent never does sums.
    """
    records = {r.source_id: r for r in order.records.select_related("source")}
    systems = Source.objects.filter(kind__in=["storefront", "pos", "erp", "carrier"]).order_by("name")
    shipments = parcels(order.shipments.select_related("source").prefetch_related("events"))
    zone = store_zone(order.store)
    for parcel in shipments:  # formatted once here: a parcel in limbo can carry hundreds of scans
        parcel.scans = [
            " · ".join(
                part
                for part in (e.occurred_at.astimezone(zone).strftime(LOCAL_FORMAT), e.status, e.message, e.location)
                if part
            )
            for e in parcel.events.all()
        ]
    by_source = {s.source_id: s for s in shipments} | {other.source_id: other for s in shipments for other in s.also}
    presence = [Presence(source, records.get(source.pk), by_source.get(source.pk)) for source in systems]
    if any(s.kind == "carrier" for s in systems):
        presence = [p for p in presence if p.source.kind != "carrier" or shipments]
    payments = list(order.payments.select_related("source"))
    returns = list(order.returns.all())
    return {
        "order": order,
        "presence": presence,
        "lines": _lines_with_stock(order),
        "payments": payments,
        "shipments": shipments,
        "returns": returns,
        "flags": list(order.flags.select_related("owner", "message").order_by("closed_at", "-opened_at")),
        "message_codes": MESSAGE_CODES,
        "timeline": timeline_rows(order),
        "projected": projected_date(order, shipments),
        "arrived": any(s.delivered_at for s in shipments),
        "cancellable": cancellable(order, shipments),
        "refundable": refundable(payments, returns),
    }


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One timeline event, ready to show: formatted once here rather than per row in the template."""

    at: datetime
    iso: str
    local: str  # as the store's clock showed it
    kind: str
    source: str | None
    who: str  # the system, the staff member, or OmniDesk itself
    summary: str


def timeline_rows(order: Order) -> list[TimelineRow]:
    """The order's merged timeline in one query, without building a model instance per event.

    The busiest orders carry hundreds of events; plain rows keep the order screen fast.
    """
    zone = store_zone(order.store)
    events = (
        TimelineEvent.objects.filter(order_id=order.pk)
        .order_by("occurred_at", "id")
        .values_list("occurred_at", "kind", "source__name", "actor__username", "summary")
    )
    return [
        TimelineRow(
            at,
            at.isoformat(),
            at.astimezone(zone).strftime(LOCAL_FORMAT),
            kind,
            source,
            source or actor or "OmniDesk",
            summary,
        )
        for at, kind, source, actor, summary in events
    ]


def parcels(shipments) -> list[Shipment]:
    """One entry per parcel: the storefront's fulfilment and the carrier's tracker of one tracking number are one.

    The entry kept is the one with the carrier's scans; the others are listed in its ``also``.
    """
    groups: dict[str, list[Shipment]] = {}
    for shipment in shipments:
        groups.setdefault(shipment.tracking_number or f"#{shipment.pk}", []).append(shipment)
    kept = []
    for group in groups.values():
        group.sort(key=lambda s: (s.source.kind != "carrier", -len(s.events.all()), s.pk))
        first, *rest = group
        first.also = rest
        kept.append(first)
    return kept


def _lines_with_stock(order: Order) -> list[LineView]:
    """The order's lines as its most authoritative system lists them, with stock where each ships from.

    A web order mirrored to the POS for pickup has its lines in both systems: showing
    both would double every item, so only the best source's lines are shown.
    """
    lines = list(order.lines.select_related("fulfilment_location", "source"))
    if lines:
        best = min(
            {line.source for line in lines}, key=lambda s: (s.pk != order.origin_source_id, PRECEDENCE.get(s.kind, 9))
        )
        lines = [line for line in lines if line.source_id == best.pk]
    wanted = {(line.sku, line.fulfilment_location_id or order.store_id) for line in lines}
    # Each system counts the same shelf: per system its rows add up (several bins), across systems the
    # lowest count is what can be promised (as stock_shortfall judges), never their sum.
    per_system: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if wanted:
        levels = StockLevel.objects.filter(
            sku__in={sku for sku, _ in wanted}, location_id__in={loc for _, loc in wanted if loc}
        ).values_list("sku", "location_id", "source__name", "on_hand", "reserved")
        for sku, location_id, system, on_hand, reserved in levels:
            per_system[(sku, location_id)][system] += on_hand - reserved
    views = []
    for line in lines:
        counts = per_system.get((line.sku, line.fulfilment_location_id or order.store_id), {})
        available = min(counts.values()) if counts else None
        views.append(LineView(line, available, " · ".join(f"{s} {n}" for s, n in sorted(counts.items()))))
    return views


def projected_date(order: Order, shipments: list[Shipment]):
    """The best current estimate of arrival: the carrier's estimate, else the booked window, else the promise."""
    for shipment in shipments:
        if shipment.delivered_at:
            return shipment.delivered_at
    estimates = [s.estimated_delivery or s.window_end for s in shipments if s.estimated_delivery or s.window_end]
    return max(estimates) if estimates else order.promised_by


def cancellable(order: Order, shipments: list[Shipment]) -> bool:
    """An order can still be cancelled until something has left the building."""
    if order.status == Lifecycle.CANCELLED or order.cancelled_at:
        return False
    return order.status not in DISPATCHED and not any(s.shipped_at for s in shipments)


def refundable(payments: list[Payment], returns: list[Return]) -> Decimal:
    """Money taken (captures and sales that succeeded) minus money already given back."""
    ok = [p for p in payments if p.status == Payment.Status.SUCCESS]
    taken = sum((p.amount for p in ok if p.kind in (Payment.Kind.CAPTURE, Payment.Kind.SALE)), Decimal(0))
    given = sum((p.amount for p in ok if p.kind == Payment.Kind.REFUND), Decimal(0))
    return max(taken - given, Decimal(0))


# --- which lines the counter prepares ------------------------------------------------------------
def counter_lines(order: Order) -> list[OrderLine]:
    """The order's lines as one system lists them: a pickup mirrored to the POS lists its lines twice.

    The origin system's lines when it has any, else the system listing the most lines.
    """
    by_source: dict[int, list[OrderLine]] = {}
    for line in order.lines.select_related("fulfilment_location").order_by("id"):
        by_source.setdefault(line.source_id, []).append(line)
    if not by_source:
        return []
    if order.origin_source_id in by_source:
        return by_source[order.origin_source_id]
    return max(by_source.values(), key=len)
