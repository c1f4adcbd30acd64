"""Correlate + upsert: typed records from any adapter become canonical rows.

Called by the sync engine inside the page's transaction. Everything is bulk — a
fixed handful of statements per page whatever its size (``omnidesk/db.py``) —
upserts on ``(source, external_id)`` so a page landed twice changes nothing, and
timeline events only for real changes: a record whose content hash is unchanged is
not touched beyond its ``synced_at``. After each page, records that arrived before
their order are linked (``correlate.py``) and the touched orders' status is
derived again from every system's view.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from integrations import records as rec

from ..catalogue.standing import orders_status_refresh
from .common import IngestResult, latest_by_id, record_hash
from .correlate import OrphanScope, orphans_link
from .customers import ingest_customers
from .fulfilment import ingest_moves, ingest_order_payments, ingest_order_returns, ingest_pickings, ingest_trackers
from .orders import ingest_orders
from .stores import ingest_locations, ingest_stock


def ingest_customer_records(*, source, records: Sequence[rec.CustomerRecord], synced_at: datetime) -> IngestResult:
    records = latest_by_id(records)
    hashes = {r.external_id: record_hash(r) for r in records}
    created, updated, unchanged, _ = ingest_customers(
        source=source, records=records, synced_at=synced_at, hashes=hashes
    )
    return IngestResult(created=created, updated=updated, unchanged=unchanged)


INGESTERS = {
    rec.CustomerRecord: ingest_customer_records,
    rec.LocationRecord: ingest_locations,
    rec.UpstreamOrder: ingest_orders,
    rec.StockRecord: ingest_stock,
    rec.PickingRecord: ingest_pickings,
    rec.MoveRecord: ingest_moves,
    rec.OrderPaymentRecord: ingest_order_payments,
    rec.OrderReturnRecord: ingest_order_returns,
    rec.TrackerRecord: ingest_trackers,
}
LINKING = (rec.UpstreamOrder, rec.PickingRecord, rec.OrderPaymentRecord, rec.OrderReturnRecord, rec.TrackerRecord)


def ingest(*, source, records: Sequence[rec.Record], synced_at: datetime) -> IngestResult:
    """Route a page's records to their ingester by type (one page holds one stream, so usually one type)."""
    result = IngestResult()
    by_type: dict[type, list] = {}
    for record in records:
        by_type.setdefault(type(record), []).append(record)
    for record_type in sorted(by_type, key=list(INGESTERS).index):  # orders first: the rest may name them
        result.merge(INGESTERS[record_type](source=source, records=by_type[record_type], synced_at=synced_at))
    if any(t in LINKING for t in by_type):
        result.order_ids |= orphans_link(orphan_scope(source, by_type))
    orders_status_refresh(result.order_ids)
    return result


def orphan_scope(source, by_type: dict[type, list]) -> OrphanScope:
    """The keys a page wrote that orphans may wait for, and those its own pickings, payments and trackers name."""
    orders, pickings = by_type.get(rec.UpstreamOrder, []), by_type.get(rec.PickingRecord, [])
    payments = by_type.get(rec.OrderPaymentRecord, []) + by_type.get(rec.OrderReturnRecord, [])
    trackers = by_type.get(rec.TrackerRecord, [])
    ids = [r.external_id for r in orders] + [r.order_external_id for r in (*pickings, *payments)]
    numbers = [r.number for r in orders] + [r.order_reference for r in pickings]
    tracking = [s.tracking_number for r in orders for s in r.shipments] + [
        n for r in pickings for n in r.tracking_numbers
    ]
    tracking += [r.shipment.tracking_number for r in trackers]
    return OrphanScope(
        source_id=source.pk,
        order_external_ids=frozenset(filter(None, ids)),
        order_numbers=frozenset(filter(None, numbers)),
        tracking_numbers=frozenset(filter(None, tracking)),
        picking_external_ids=frozenset(r.external_id for r in pickings),
    )


def orphans_settle() -> set[int]:
    """Link every orphan whose order is there now (see ``orphans_link`` without a scope); once per sync run.

    Returns the orders touched, their status derived again.
    """
    with transaction.atomic():
        touched = orphans_link()
        orders_status_refresh(touched)
    return touched


__all__ = ["IngestResult", "ingest", "orphans_settle", "record_hash"]
