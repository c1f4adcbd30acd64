"""What every rule shares: the finding it returns, its scope, status vocabularies and wording."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from ...catalogue.standing import CARRIER_UNSCANNED, RANK
from ...models import Lifecycle, Order, Shipment

Fulfilment = Order.Fulfilment

# EasyPost tracker statuses (the first part of a carrier shipment's ``raw_status``).
CARRIER_MOVING = ("unknown", "pre_transit", "in_transit", "out_for_delivery", "available_for_pickup")
CARRIER_EXCEPTIONS = ("failure", "return_to_sender", "error")
# An order in one of these states has kept (or no longer has) its promise, whatever its kind.
PROMISE_KEPT = (
    Lifecycle.DELIVERED,
    Lifecycle.COLLECTED,
    Lifecycle.RETURN_REQUESTED,
    Lifecycle.RETURNED,
    Lifecycle.REFUNDED,
    Lifecycle.CANCELLED,
)
# A pickup keeps its promise once it is ready at the counter (the ERP reports a done pickup as left the shelf).
PICKUP_READY = tuple(s for s, rank in RANK.items() if rank >= RANK[Lifecycle.READY_FOR_PICKUP])


@dataclass(frozen=True)
class Finding:
    """Why an order carries a flag: one sentence for people, the facts for machines."""

    detail: str
    evidence: dict = field(default_factory=dict)


Rule = Callable[..., dict[int, Finding]]


def orders_in(order_ids: Collection[int] | None) -> QuerySet[Order]:
    return Order.objects.all() if order_ids is None else Order.objects.filter(pk__any=list(order_ids))


def of_orders(queryset: QuerySet, order_ids: Collection[int] | None, path: str = "order_id") -> QuerySet:
    """Rows linked to an order, restricted to the scope (``None``: every order)."""
    queryset = queryset.filter(**{f"{path}__isnull": False})
    return queryset if order_ids is None else queryset.filter(**{f"{path}__in": list(order_ids)})


def not_cancelled(prefix: str = "") -> Q:
    return Q(**{f"{prefix}cancelled_at__isnull": True}) & ~Q(**{f"{prefix}status": Lifecycle.CANCELLED})


def carrier_status_in(statuses: Collection[str]) -> Q:
    """A shipment whose carrier status (``raw_status`` is ``status/detail``) is one of ``statuses``."""
    query = Q(pk__in=[])
    for status in statuses:
        query |= Q(raw_status=status) | Q(raw_status__startswith=f"{status}/")
    return query


def voided_label() -> Q:
    """A shipment of a voided label: a system reports that parcel cancelled (the storefront's fulfilment), and no
    carrier has scanned it past the label. A refunded label's tracker stays ``pre_transit`` for good, so the tracker
    alone would keep a parcel that never leaves on its way: stuck, or a second parcel beside its replacement."""
    cancelled = Shipment.objects.filter(
        order_id=OuterRef("order_id"), tracking_number=OuterRef("tracking_number"), status=Lifecycle.CANCELLED
    )
    return carrier_status_in(CARRIER_UNSCANNED) & ~Q(tracking_number="") & Exists(cancelled)


def when(moment: datetime | None) -> str:
    return f"{moment:%d %b %H:%M} UTC" if moment else "an unknown time"


def age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def names(values) -> str:
    return ", ".join(sorted(set(values)))
