"""What happens to an order after it is placed, as the ERP, the POS and the carriers report it on their own:
ERP pickings and their moves, payments listed separately from orders, returns reported as records of
their own (a Square return order), carrier trackers.

Each may arrive before the order it belongs to; it keeps the reference that names the
order and ``orders.ingest.correlate.orphans_link`` attaches it when the order lands.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from integrations import records as rec
from omnidesk.db import upsert

from ..models import Lifecycle, OrderRecord, Payment, Picking, PickingLine, PickingPackage, Return, Shipment
from ..timeline import events
from .common import IngestResult, latest_by_id, record_hash, scoped, split_changed
from .orders import LABELS, RETURN_FIELDS, payment_event, payment_row, return_row, scans_write, shipment_row
from .stores import store_ids_by_alias

PICKING_FIELDS = ["order_id", "order_reference", "order_external_id", "name", "kind", "raw_status", "status", "assigned_to", "location_id", "scheduled_at", "done_at", "carrier", "source_updated_at", "synced_at", "content_hash"]  # fmt: skip
PICKING_LINE_FIELDS = [
    "picking_id",
    "picking_external_id",
    "sku",
    "quantity",
    "done_quantity",
    "state",
    "synced_at",
    "content_hash",
]


def _changed_only(model, source, records, synced_at, *also: str):
    """Split a page by content hash: ``(changed records, their hashes, {external_id: (hash, status, *also)} before,
    result)``; ``also`` names more stored fields the caller needs of the rows (read in the same query).

    Unchanged rows only get ``synced_at`` bumped; the result already counts them.
    """
    records = latest_by_id(records)
    hashes = {r.external_id: record_hash(r) for r in records}
    rows = model.objects.filter(source=source, external_id__any=list(hashes))
    before = {ext: tuple(rest) for ext, *rest in rows.values_list("external_id", "content_hash", "status", *also)}
    changed, unchanged = split_changed(records, {k: v[0] for k, v in before.items()}, hashes)
    if unchanged:
        model.objects.filter(source=source, external_id__any=unchanged).update(synced_at=synced_at)
    return changed, hashes, before, IngestResult(unchanged=len(unchanged))


def ingest_pickings(*, source, records: Sequence[rec.PickingRecord], synced_at: datetime) -> IngestResult:
    changed, hashes, before, result = _changed_only(Picking, source, records, synced_at)
    if not changed:
        return result
    stores = store_ids_by_alias(source)
    order_rows = OrderRecord.objects.filter(source=source).filter(
        external_number__any={r.order_reference for r in changed if r.order_reference}
    ) | OrderRecord.objects.filter(
        source=source, external_id__any={r.order_external_id for r in changed if r.order_external_id}
    )
    by_number, by_id = {}, {}
    for ext, number, order_id in order_rows.values_list("external_id", "external_number", "order_id"):
        by_id[ext], by_number[number] = order_id, order_id
    rows, lines, timeline = [], [], []
    for r in changed:
        order_id = by_id.get(r.order_external_id) or by_number.get(r.order_reference)
        rows.append(
            {"source_id": source.pk, "external_id": r.external_id, "order_id": order_id, "order_reference": r.order_reference,
             "order_external_id": r.order_external_id, "name": r.name, "kind": r.kind, "raw_status": r.raw_status,
             "status": r.status, "assigned_to": r.assigned_to, "location_id": stores.get(r.location_id),
             "scheduled_at": r.scheduled_at, "done_at": r.done_at, "carrier": r.carrier,
             "source_updated_at": r.updated_at, "synced_at": synced_at, "content_hash": hashes[r.external_id]}
        )  # fmt: skip
        lines.extend((r.external_id, line) for line in r.lines)
        if order_id:
            result.order_ids.add(order_id)
        previous = before.get(r.external_id)
        result.created += previous is None
        result.updated += previous is not None
        if previous is None or previous[1] != r.status or r.status == Lifecycle.ASSIGNED:
            timeline.append(
                events.picking_changed(
                    source=source, external_id=r.external_id, name=r.name, order_id=order_id, status=r.status,
                    status_label=LABELS[r.status], assigned_to=r.assigned_to, kind=r.kind,
                    occurred_at=r.done_at if r.status in (Lifecycle.HANDED_TO_CARRIER, Lifecycle.RETURNED) and r.done_at else r.updated_at,
                )
            )  # fmt: skip
    ids = dict(
        upsert(
            Picking, rows, unique=["source_id", "external_id"], update=PICKING_FIELDS, returning=["external_id", "id"]
        )
    )
    _picking_lines_upsert(source, [(ids[ext], ext, line) for ext, line in lines], synced_at)
    _picking_packages_write({ids[r.external_id]: r.tracking_numbers for r in changed})
    result.events = events.events_write(timeline)
    return result


def _picking_packages_write(numbers_of: dict[int, list[str]]) -> None:
    """Each changed picking's packages become exactly the tracking numbers it names now."""
    PickingPackage.objects.filter(picking_id__any=list(numbers_of)).delete()
    PickingPackage.objects.bulk_create(
        PickingPackage(picking_id=picking_id, tracking_number=number)
        for picking_id, numbers in numbers_of.items()
        for number in numbers
    )


def _picking_lines_upsert(source, lines: list[tuple[int | None, str, rec.PickingLineRecord]], synced_at) -> None:
    rows = [
        {"source_id": source.pk, "external_id": line.external_id, "picking_id": picking_id, "picking_external_id": picking_ext,
         "sku": line.sku, "quantity": line.quantity, "done_quantity": line.done_quantity, "state": line.state,
         "synced_at": synced_at, "content_hash": ""}
        for picking_id, picking_ext, line in lines
    ]  # fmt: skip
    upsert(PickingLine, rows, unique=["source_id", "external_id"], update=PICKING_LINE_FIELDS)


def ingest_moves(*, source, records: Sequence[rec.MoveRecord], synced_at: datetime) -> IngestResult:
    records = latest_by_id(records)
    pickings, orders = {}, set()
    for ext, pk, order_id in Picking.objects.filter(
        source=source, external_id__any={r.picking_external_id for r in records}
    ).values_list("external_id", "id", "order_id"):
        pickings[ext] = pk
        if order_id:
            orders.add(order_id)  # a move changes what its order's picking holds: its rules are checked again
    before = set(
        PickingLine.objects.filter(source=source, external_id__any=[r.external_id for r in records]).values_list(
            "external_id", flat=True
        )
    )
    _picking_lines_upsert(
        source, [(pickings.get(r.picking_external_id), r.picking_external_id, r.line) for r in records], synced_at
    )
    created = sum(r.external_id not in before for r in records)
    return IngestResult(
        created=created,
        updated=len(records) - created,
        order_ids=orders,
    )


def ingest_order_payments(*, source, records: Sequence[rec.OrderPaymentRecord], synced_at: datetime) -> IngestResult:
    """Payments listed on their own (Square ``/v2/payments``): the same row as the order's tender, by the same id."""
    records = latest_by_id(records)
    orders = dict(
        OrderRecord.objects.filter(source=source, external_id__any={r.order_external_id for r in records}).values_list(
            "external_id", "order_id"
        )
    )
    rows = [
        payment_row(source, r.order_external_id, orders.get(r.order_external_id), r.payment, synced_at) for r in records
    ]
    before = set(
        Payment.objects.filter(source=source, external_id__any=[row["external_id"] for row in rows]).values_list(
            "external_id", flat=True
        )
    )
    upsert(
        Payment,
        rows,
        unique=["source_id", "external_id"],
        update=[f for f in rows[0] if f not in ("source_id", "external_id")],
    )
    result = IngestResult(order_ids={o for o in orders.values() if o})
    result.created = sum(row["external_id"] not in before for row in rows)
    result.updated = len(rows) - result.created
    result.events = events.events_write(
        payment_event(source, row, None, r.updated_at) for row, r in zip(rows, records, strict=True)
    )
    return result


def ingest_order_returns(*, source, records: Sequence[rec.OrderReturnRecord], synced_at: datetime) -> IngestResult:
    """Returns reported on their own (a Square return order): refunds and returns of the order they name.

    Each row is scoped by the return's own id (``<return order>:<refund id>``) and names the
    returned order in ``order_external_id``, so the order's own sync never takes it for a row it
    dropped (``orders._replace``). Refunds and returns that arrive before their order (a return
    order paged before the sale it names) are orphans, linked when the order lands
    (``correlate.orphans_link``): the return order need not change again to be seen.
    """
    records = latest_by_id(records)
    orders = dict(
        OrderRecord.objects.filter(source=source, external_id__any={r.order_external_id for r in records}).values_list(
            "external_id", "order_id"
        )
    )
    payments, returns, timeline = [], [], []
    for r in records:
        order_id = orders.get(r.order_external_id)
        for refund in r.refunds:
            row = payment_row(source, r.order_external_id, order_id, refund, synced_at)
            payments.append({**row, "external_id": scoped(r.external_id, refund.external_id)})
            timeline.append(payment_event(source, payments[-1], None, r.updated_at))
        for ret in r.returns:
            ext = scoped(r.external_id, ret.external_id)
            returns.append(return_row(source, ext, r.order_external_id, order_id, ret, synced_at))
            timeline.append(
                events.return_changed(
                    source=source, external_id=returns[-1]["external_id"], order_id=order_id, customer_id=None,
                    status=ret.status, amount=ret.amount,
                    occurred_at=ret.refunded_at or ret.received_at or ret.requested_at or r.updated_at,
                )
            )  # fmt: skip
    ids = [row["external_id"] for row in payments] + [row["external_id"] for row in returns]
    before = set(Payment.objects.filter(source=source, external_id__any=ids).values_list("external_id", flat=True))
    before |= set(Return.objects.filter(source=source, external_id__any=ids).values_list("external_id", flat=True))
    if payments:
        upsert(Payment, payments, unique=["source_id", "external_id"], update=[f for f in payments[0] if f not in ("source_id", "external_id")])  # fmt: skip
    if returns:
        upsert(Return, returns, unique=["source_id", "external_id"], update=RETURN_FIELDS)
    result = IngestResult(order_ids={o for o in orders.values() if o})
    result.created = sum(ext not in before for ext in ids)
    result.updated = len(ids) - result.created
    result.events = events.events_write(timeline)
    return result


def _trackers_not_older(
    records: list[rec.TrackerRecord], last_scans: dict[str, datetime | None], result: IngestResult
) -> list[rec.TrackerRecord]:
    """Leave out a tracker whose last scan is older than the parcel's stored one, or that has no scan where the
    stored parcel has one (counted unchanged).

    It is an earlier look at the parcel: a sync page fetched before a webhook brought a newer
    scan, landing after it. Landing it would take the parcel back a step ("in transit" again
    after "out for delivery").
    """
    kept = []
    for r in records:
        latest = max((e.occurred_at for e in r.shipment.events), default=None)
        known = last_scans.get(r.external_id)
        if known is not None and (latest is None or latest < known):  # no scan yet, or only older ones
            result.unchanged += 1
            continue
        kept.append(r)
    return kept


def ingest_trackers(*, source, records: Sequence[rec.TrackerRecord], synced_at: datetime) -> IngestResult:
    """Carrier trackers become shipments of the carrier source, matched to orders by tracking number."""
    changed, hashes, before, result = _changed_only(Shipment, source, records, synced_at, "last_event_at")
    changed = _trackers_not_older(changed, {ext: row[2] for ext, row in before.items()}, result)
    if not changed:
        return result
    numbers = {r.shipment.tracking_number for r in changed if r.shipment.tracking_number}
    order_of_number = dict(
        Shipment.objects.filter(tracking_number__any=numbers, order__isnull=False)
        .exclude(source=source)
        .values_list("tracking_number", "order_id")
    )
    order_of_number.update(
        (number, order_id)
        for number, order_id in PickingPackage.objects.filter(
            tracking_number__any=numbers, picking__order__isnull=False
        ).values_list("tracking_number", "picking__order_id")
        if number not in order_of_number
    )
    rows = []
    for r in changed:
        order_id = order_of_number.get(r.shipment.tracking_number)
        rows.append(
            {"source_id": source.pk, "external_id": r.external_id, "order_id": order_id, **shipment_row(r.shipment),
             "synced_at": synced_at, "content_hash": hashes[r.external_id]}
        )  # fmt: skip
        if order_id:
            result.order_ids.add(order_id)
        result.created += r.external_id not in before
        result.updated += r.external_id in before
    fields = [f for f in rows[0] if f not in ("source_id", "external_id")]
    ids = dict(
        upsert(Shipment, rows, unique=["source_id", "external_id"], update=fields, returning=["external_id", "id"])
    )
    order_of = {row["external_id"]: row["order_id"] for row in rows}
    result.events = events.events_write(
        scans_write(source, {r.external_id: r.shipment.events for r in changed}, ids, order_of)
    )
    return result
