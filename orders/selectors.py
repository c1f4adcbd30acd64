"""Reads for the pages and the API."""

from __future__ import annotations

from django.db.models import OuterRef, Q, Subquery

from integrations.models import Source, SyncRun

from .models import Customer, Order, TimelineEvent


def sync_overview() -> dict:
    """Counts and per-source health for the home page (a fixed number of queries)."""
    last_run = SyncRun.objects.filter(source=OuterRef("pk")).order_by("-started_at").values("pk")[:1]
    sources = list(Source.objects.annotate(last_run_id=Subquery(last_run)).order_by("name"))
    runs = SyncRun.objects.select_related("source").in_bulk([s.last_run_id for s in sources if s.last_run_id])
    return {
        "sources": [(source, runs.get(source.last_run_id)) for source in sources],
        "orders": Order.objects.count(),
        "customers": Customer.objects.count(),
    }


def order_timeline(*, order_id: int) -> list[TimelineEvent]:
    """One order's timeline across every system, in the order things happened (one query).

    Events are stored in UTC with the time they happened in their own system, so a
    scan synced late still sorts where it belongs.
    """
    events = TimelineEvent.objects.filter(order_id=order_id).select_related("source", "actor")
    return list(events.order_by("occurred_at", "id"))


def customer_timeline(*, customer_id: int) -> list[TimelineEvent]:
    """A customer's own events (merges, notes) and those of all their orders, in the order they happened."""
    events = TimelineEvent.objects.filter(Q(customer_id=customer_id) | Q(order__customer_id=customer_id))
    return list(events.select_related("source", "actor", "order").order_by("occurred_at", "id"))
