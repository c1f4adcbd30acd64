"""Reads for the pages and the API."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Subquery

from integrations.models import Source, SyncRun

from .models import Customer, Flag, Order


def sync_overview() -> dict:
    """Counts and per-source health for the home page (a fixed number of queries)."""
    last_run = SyncRun.objects.filter(source=OuterRef("pk")).order_by("-started_at").values("pk")[:1]
    sources = list(Source.objects.annotate(last_run_id=Subquery(last_run)).order_by("name"))
    runs = SyncRun.objects.select_related("source").in_bulk([s.last_run_id for s in sources if s.last_run_id])
    return {
        "sources": [(source, runs.get(source.last_run_id)) for source in sources],
        "orders": Order.objects.count(),
        "customers": Customer.objects.count(),
        "open_flags": dict(Flag.objects.filter(closed_at__isnull=True).values_list("code").annotate(n=Count("id"))),
    }
