"""Correlate + upsert: typed records from any adapter become canonical rows.

Called by the sync engine inside the page's transaction. Everything is bulk — a
fixed handful of statements per page whatever its size (``orders/bulk.py``) —
upserts on ``(source, external_id)`` so a page landed twice changes nothing, and
timeline events only for real changes: a record whose content hash is unchanged is
not touched beyond its ``synced_at``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from integrations import records as rec

from . import events
from .bulk import insert_new, update_rows, upsert
from .customers import customers_resolve, ingest_customers, person
from .models import (
    Lifecycle,
    Order,
    OrderLine,
    OrderRecord,
    Payment,
    Return,
    Shipment,
    StockLevel,
    Store,
    StoreAlias,
    TrackingEvent,
)

_LABELS = dict(Lifecycle.choices)


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    events: int = 0
    order_ids: set[int] = field(default_factory=set)
    landed_external_ids: set[str] = field(default_factory=set)

    def merge(self, other: IngestResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.events += other.events
        self.order_ids |= other.order_ids
        self.landed_external_ids |= other.landed_external_ids


def record_hash(record: rec.Record) -> str:
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()


def _latest_by_id(records):
    """One record per external id (the last one wins), keeping first-seen order."""
    return list({record.external_id: record for record in records}.values())


def _scoped(order_external_id: str, child_external_id: str) -> str:
    """Child ids are only unique within their order in some systems (Square line uids)."""
    return f"{order_external_id}:{child_external_id}"


# --- stores ----------------------------------------------------------------------------


def ingest_locations(*, source, records: Sequence[rec.LocationRecord], synced_at: datetime) -> IngestResult:
    """Match each location to a Store by code (creating it if new) and remember the source's id for it."""
    result = IngestResult()
    records = _latest_by_id(records)
    stores = {s.code: s for s in Store.objects.filter(code__in=[r.code for r in records])}
    aliases = dict(
        StoreAlias.objects.filter(source=source, external_id__in=[r.external_id for r in records]).values_list(
            "external_id", "store_id"
        )
    )
    for record in records:
        result.landed_external_ids.add(record.external_id)
        store = stores.get(record.code)
        if store is None:
            store = stores[record.code] = Store.objects.create(
                code=record.code,
                name=record.name,
                kind=record.kind,
                timezone=record.timezone or "UTC",
                address=record.address,
            )
        if aliases.get(record.external_id) == store.pk:
            result.unchanged += 1
            continue
        if record.external_id in aliases:
            result.updated += 1
        else:
            result.created += 1
        StoreAlias.objects.update_or_create(source=source, external_id=record.external_id, defaults={"store": store})
    return result


def store_ids_by_alias(source) -> dict[str, int]:
    return dict(StoreAlias.objects.filter(source=source).values_list("external_id", "store_id"))


# --- customers ---------------------------------------------------------------------------


def ingest_customer_records(*, source, records: Sequence[rec.CustomerRecord], synced_at: datetime) -> IngestResult:
    records = _latest_by_id(records)
    created, updated, unchanged, _ = ingest_customers(
        source=source,
        records=records,
        synced_at=synced_at,
        hashes={r.external_id: record_hash(r) for r in records},
    )
    return IngestResult(
        created=created,
        updated=updated,
        unchanged=unchanged,
        landed_external_ids={r.external_id for r in records},
    )


# --- orders ------------------------------------------------------------------------------

ORDER_FIELDS = [
    "number",
    "customer_id",
    "channel",
    "fulfilment",
    "store_id",
    "status",
    "placed_at",
    "promised_by",
    "currency",
    "total",
    "email",
    "phone",
    "cancelled_at",
]
RECORD_FIELDS = [
    "order_id",
    "external_number",
    "references",
    "raw_status",
    "status",
    "source_updated_at",
    "synced_at",
    "content_hash",
]


def ingest_orders(*, source, records: Sequence[rec.OrderRecord], synced_at: datetime) -> IngestResult:
    """Upsert orders with their lines, payments, shipments and returns; write timeline events for what changed."""
    result = IngestResult()
    records = _latest_by_id(records)
    hashes = {r.external_id: record_hash(r) for r in records}
    existing = {
        ext: (order_id, status, digest)
        for ext, order_id, status, digest in OrderRecord.objects.filter(
            source=source, external_id__in=list(hashes)
        ).values_list("external_id", "order_id", "status", "content_hash")
    }
    result.landed_external_ids = set(hashes)
    changed = [
        r for r in records if r.external_id not in existing or existing[r.external_id][2] != hashes[r.external_id]
    ]
    unchanged = [
        r.external_id
        for r in records
        if r.external_id in existing and existing[r.external_id][2] == hashes[r.external_id]
    ]
    result.unchanged = len(unchanged)
    if unchanged:
        OrderRecord.objects.filter(source=source, external_id__in=unchanged).update(synced_at=synced_at)
    if not changed:
        return result

    customer_of = _order_customers(source, changed, synced_at)
    stores = store_ids_by_alias(source)
    order_of = _orders_upsert(source, changed, existing, customer_of, stores)
    upsert(
        OrderRecord,
        [
            {
                "source_id": source.pk,
                "external_id": r.external_id,
                "order_id": order_of[r.external_id],
                "external_number": r.number,
                "references": r.references,
                "raw_status": r.raw_status,
                "status": r.status,
                "source_updated_at": r.updated_at,
                "synced_at": synced_at,
                "first_seen_at": synced_at,
                "content_hash": hashes[r.external_id],
            }
            for r in changed
        ],
        unique=["source_id", "external_id"],
        update=RECORD_FIELDS,
    )

    timeline = []
    origin_of = dict(Order.objects.filter(pk__in=set(order_of.values())).values_list("id", "origin_source_id"))
    for r in changed:
        order_id, customer_id = order_of[r.external_id], customer_of.get(r.external_id)
        result.order_ids.add(order_id)
        before = existing.get(r.external_id)
        if before is None:
            result.created += 1
            timeline.extend(
                _first_sight_events(source, r, order_id, customer_id, is_origin=origin_of[order_id] == source.pk)
            )
        else:
            result.updated += 1
            if before[1] != r.status:
                timeline.append(
                    events.order_status_changed(
                        source=source,
                        external_id=r.external_id,
                        order_id=order_id,
                        customer_id=customer_id,
                        old=before[1],
                        new=r.status,
                        new_label=_LABELS[r.status],
                        raw_status=r.raw_status,
                        occurred_at=r.updated_at or synced_at,
                    )
                )
    timeline.extend(_children_upsert(source, changed, order_of, customer_of, stores, synced_at))
    result.events = events.events_write(timeline)
    return result


def _order_customers(source, records: Sequence[rec.OrderRecord], synced_at: datetime) -> dict[str, int | None]:
    """``{order external_id: customer_id}``: the order's customer account, else a guest matched by e-mail/phone."""
    embedded = _latest_by_id(r.customer for r in records if r.customer is not None)
    _, _, _, by_identity = ingest_customers(
        source=source,
        records=embedded,
        synced_at=synced_at,
        hashes={c.external_id: record_hash(c) for c in embedded},
    )
    guests = [r for r in records if r.customer is None]
    resolved = customers_resolve([person("", [r.email], [r.phone], "") for r in guests])
    customer_of: dict[str, int | None] = {
        r.external_id: by_identity[r.customer.external_id] for r in records if r.customer is not None
    }
    customer_of.update({r.external_id: cid for r, cid in zip(guests, resolved, strict=True)})
    return customer_of


def _order_row(source, record: rec.OrderRecord, customer_id, stores) -> dict:
    return {
        "number": record.number or record.external_id,
        "customer_id": customer_id,
        "channel": record.channel,
        "fulfilment": record.fulfilment,
        "store_id": stores.get(record.location_id),
        "status": record.status,
        "placed_at": record.placed_at,
        "promised_by": record.promised_by,
        "currency": record.currency,
        "total": record.total,
        "email": record.email,
        "phone": record.phone,
        "cancelled_at": record.cancelled_at,
    }


def _orders_upsert(source, changed, existing, customer_of, stores) -> dict[str, int]:
    """The canonical order of each record: created for a new record; refreshed where this source placed it."""
    order_of = {r.external_id: existing[r.external_id][0] for r in changed if r.external_id in existing}
    now = timezone.now()
    new = [r for r in changed if r.external_id not in existing]
    new_ids = insert_new(
        Order,
        [
            {
                **_order_row(source, r, customer_of.get(r.external_id), stores),
                "origin_source_id": source.pk,
                "created_at": now,
                "updated_at": now,
            }
            for r in new
        ],
    )
    order_of.update({r.external_id: pk for r, pk in zip(new, new_ids, strict=True)})
    placed_here = set(
        Order.objects.filter(
            pk__in=[order_of[r.external_id] for r in changed if r.external_id in existing],
            origin_source=source,
        ).values_list("id", flat=True)
    )
    refresh = [
        {
            "id": order_of[r.external_id],
            **_order_row(source, r, customer_of.get(r.external_id), stores),
            "updated_at": now,
        }
        for r in changed
        if order_of[r.external_id] in placed_here
    ]
    update_rows(Order, refresh, fields=[*ORDER_FIELDS, "updated_at"])
    return order_of


def _first_sight_events(source, record: rec.OrderRecord, order_id: int, customer_id, *, is_origin: bool) -> list:
    if is_origin:
        first = [
            events.order_placed(
                source=source,
                external_id=record.external_id,
                order_id=order_id,
                customer_id=customer_id,
                number=record.number or record.external_id,
                channel=record.channel,
                total=record.total,
                currency=record.currency,
                occurred_at=record.placed_at or record.updated_at,
            )
        ]
    else:
        first = [
            events.order_seen(
                source=source,
                external_id=record.external_id,
                external_number=record.number,
                order_id=order_id,
                customer_id=customer_id,
                status_label=_LABELS[record.status],
                occurred_at=record.placed_at or record.updated_at,
            )
        ]
    if record.status != Lifecycle.PLACED:
        first.append(
            events.order_status_changed(
                source=source,
                external_id=record.external_id,
                order_id=order_id,
                customer_id=customer_id,
                old=None,
                new=record.status,
                new_label=_LABELS[record.status],
                raw_status=record.raw_status,
                occurred_at=record.updated_at or record.placed_at,
            )
        )
    return first


LINE_FIELDS = [
    "order_id",
    "sku",
    "name",
    "quantity",
    "unit_price",
    "fulfilment_location_id",
    "synced_at",
]
PAYMENT_FIELDS = [
    "order_id",
    "kind",
    "status",
    "amount",
    "currency",
    "gateway",
    "card_brand",
    "card_last4",
    "receipt_number",
    "processed_at",
    "synced_at",
]
RETURN_FIELDS = [
    "order_id",
    "status",
    "line_skus",
    "amount",
    "requested_at",
    "received_at",
    "refunded_at",
    "synced_at",
]
SHIPMENT_FIELDS = [
    "order_id",
    "carrier",
    "tracking_number",
    "tracking_url",
    "raw_status",
    "status",
    "line_skus",
    "shipped_at",
    "window_start",
    "window_end",
    "estimated_delivery",
    "delivered_at",
    "last_event_at",
    "synced_at",
]


def _children_upsert(
    source,
    records: Sequence[rec.OrderRecord],
    order_of: dict[str, int],
    customer_of,
    stores,
    synced_at,
) -> list:
    """Lines, payments, shipments (with scans) and returns of changed orders; ones the source dropped are removed."""
    lines, payments, shipments, returns, timeline = [], [], [], [], []
    scans: dict[str, list[rec.TrackingEventRecord]] = {}
    base = {"source_id": source.pk, "synced_at": synced_at, "content_hash": ""}
    for r in records:
        oid, cid = order_of[r.external_id], customer_of.get(r.external_id)
        for line in r.lines:
            lines.append(
                {**base, "external_id": _scoped(r.external_id, line.external_id), "order_id": oid, "sku": line.sku, "name": line.name,
                 "quantity": line.quantity, "unit_price": line.unit_price, "fulfilment_location_id": stores.get(line.location_id or r.location_id)}
            )  # fmt: skip
        for pay in r.payments:
            ext = _scoped(r.external_id, pay.external_id)
            payments.append(
                {**base, "external_id": ext, "order_id": oid, "kind": pay.kind, "status": pay.status, "amount": pay.amount,
                 "currency": pay.currency, "gateway": pay.gateway, "card_brand": pay.card_brand, "card_last4": pay.card_last4,
                 "receipt_number": pay.receipt_number, "processed_at": pay.processed_at}
            )  # fmt: skip
            card = f"{pay.card_brand} ····{pay.card_last4}".strip() if pay.card_last4 else pay.card_brand
            timeline.append(
                events.payment_recorded(
                    source=source,
                    external_id=ext,
                    order_id=oid,
                    customer_id=cid,
                    kind=pay.kind,
                    status=pay.status,
                    amount=pay.amount,
                    currency=pay.currency,
                    card=card,
                    occurred_at=pay.processed_at or r.updated_at,
                )
            )
        for ship in r.shipments:
            ext = _scoped(r.external_id, ship.external_id)
            shipments.append({**base, **shipment_row(ship), "external_id": ext, "order_id": oid})
            scans[ext] = ship.events
            timeline.append(
                events.shipment_created(
                    source=source,
                    external_id=ext,
                    order_id=oid,
                    customer_id=cid,
                    carrier=ship.carrier,
                    tracking_number=ship.tracking_number,
                    occurred_at=ship.shipped_at or r.updated_at,
                )
            )
        for ret in r.returns:
            ext = _scoped(r.external_id, ret.external_id)
            returns.append(
                {**base, "external_id": ext, "order_id": oid, "status": ret.status, "line_skus": ret.line_skus, "amount": ret.amount,
                 "requested_at": ret.requested_at, "received_at": ret.received_at, "refunded_at": ret.refunded_at}
            )  # fmt: skip
            timeline.append(
                events.return_changed(
                    source=source,
                    external_id=ext,
                    order_id=oid,
                    customer_id=cid,
                    status=ret.status,
                    amount=ret.amount,
                    occurred_at=ret.refunded_at or ret.received_at or ret.requested_at or r.updated_at,
                )
            )
    order_ids = list(set(order_of.values()))
    _replace(OrderLine, source, order_ids, lines, LINE_FIELDS)
    _replace(Payment, source, order_ids, payments, PAYMENT_FIELDS)
    _replace(Return, source, order_ids, returns, RETURN_FIELDS)
    shipment_ids = dict(
        _replace(Shipment, source, order_ids, shipments, SHIPMENT_FIELDS, returning=["external_id", "id"])
    )
    order_by_shipment = {s["external_id"]: s["order_id"] for s in shipments}
    timeline.extend(_scans_write(source, scans, shipment_ids, order_by_shipment))
    return timeline


def shipment_row(ship: rec.ShipmentRecord) -> dict:
    return {
        "carrier": ship.carrier, "tracking_number": ship.tracking_number, "tracking_url": ship.tracking_url,
        "raw_status": ship.raw_status, "status": ship.status, "line_skus": ship.line_skus, "shipped_at": ship.shipped_at,
        "window_start": ship.window_start, "window_end": ship.window_end, "estimated_delivery": ship.estimated_delivery,
        "delivered_at": ship.delivered_at, "last_event_at": max((e.occurred_at for e in ship.events), default=None),
    }  # fmt: skip


def _replace(model, source, order_ids: list[int], rows: list[dict], update: list[str], returning=()) -> list[tuple]:
    """Upsert ``rows`` and delete this source's rows of these orders that the source no longer lists."""
    keep = [row["external_id"] for row in rows]
    model.objects.filter(source=source, order_id__in=order_ids).exclude(external_id__in=keep).delete()
    return upsert(model, rows, unique=["source_id", "external_id"], update=update, returning=returning)


def _scans_write(
    source,
    scans: dict[str, list[rec.TrackingEventRecord]],
    shipment_ids: dict[str, int],
    order_by_shipment: dict[str, int | None],
) -> list:
    rows, timeline = [], []
    now = timezone.now()
    for ext, scan_list in scans.items():
        for scan in scan_list:
            rows.append(
                {"shipment_id": shipment_ids[ext], "source_id": source.pk, "occurred_at": scan.occurred_at, "status": scan.status,
                 "message": scan.message, "location": scan.location, "synced_at": now}
            )  # fmt: skip
            timeline.append(
                events.tracking_scanned(
                    source=source,
                    shipment_external_id=ext,
                    order_id=order_by_shipment.get(ext),
                    customer_id=None,
                    status=scan.status,
                    message=scan.message,
                    location=scan.location,
                    occurred_at=scan.occurred_at,
                )
            )
    upsert(TrackingEvent, rows, unique=["shipment_id", "occurred_at", "status", "message"], update=None)
    return timeline


# --- stock -------------------------------------------------------------------------------


def ingest_stock(*, source, records: Sequence[rec.StockRecord], synced_at: datetime) -> IngestResult:
    """Upsert on-hand counts, one row per (source, location, SKU)."""
    result = IngestResult()
    stores = store_ids_by_alias(source)
    rows = {}
    for record in records:
        ext = f"{record.location_id}:{record.sku}"
        rows[ext] = {
            "source_id": source.pk, "external_id": ext, "sku": record.sku, "location_id": stores.get(record.location_id),
            "location_external_id": record.location_id, "on_hand": record.on_hand, "reserved": record.reserved,
            "counted_at": record.counted_at, "synced_at": synced_at, "content_hash": record_hash(record),
        }  # fmt: skip
    result.landed_external_ids = set(rows)
    before = dict(
        StockLevel.objects.filter(source=source, external_id__in=list(rows)).values_list("external_id", "content_hash")
    )
    for ext, row in rows.items():
        if ext not in before:
            result.created += 1
        elif before[ext] == row["content_hash"]:
            result.unchanged += 1
        else:
            result.updated += 1
    fields = [
        "sku",
        "location_id",
        "location_external_id",
        "on_hand",
        "reserved",
        "counted_at",
        "synced_at",
        "content_hash",
    ]
    upsert(StockLevel, rows.values(), unique=["source_id", "external_id"], update=fields)
    return result


INGESTERS = {
    rec.CustomerRecord: ingest_customer_records,
    rec.LocationRecord: ingest_locations,
    rec.OrderRecord: ingest_orders,
    rec.StockRecord: ingest_stock,
}


def ingest(*, source, records: Sequence[rec.Record], synced_at: datetime) -> IngestResult:
    """Route a page's records to their ingester by type (one page holds one stream, so usually one type)."""
    result = IngestResult()
    by_type: dict[type, list] = {}
    for record in records:
        by_type.setdefault(type(record), []).append(record)
    for record_type, group in by_type.items():
        ingester = INGESTERS.get(record_type)
        if ingester is None:
            raise TypeError(f"no ingester for {record_type.__name__} yet")
        result.merge(ingester(source=source, records=group, synced_at=synced_at))
    return result
