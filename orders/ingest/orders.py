"""Orders: upsert each system's record of an order onto one canonical order, with its lines,
payments, shipments and returns, and timeline events for what changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone

from integrations import records as rec
from omnidesk.db import insert_new, upsert

from ..models import (
    CustomerIdentity,
    Lifecycle,
    Order,
    OrderLine,
    OrderRecord,
    Payment,
    Return,
    Shipment,
    TrackingEvent,
)
from ..timeline import events
from .common import IngestResult, latest_by_id, record_hash, scoped, split_changed, updated_before
from .correlate import keys_claim, orders_fields_refresh, orders_for, orders_merge, record_fields
from .customers import customers_pin, customers_resolve, ingest_customers, person
from .stores import store_ids_by_alias

LABELS = dict(Lifecycle.choices)
RECORD_FIELDS = ["order_id", "external_number", "references", "raw_status", "status", "source_updated_at", "synced_at", "content_hash", "fields"]  # fmt: skip


def ingest_orders(*, source, records: Sequence[rec.UpstreamOrder], synced_at: datetime) -> IngestResult:
    result = IngestResult()
    records = latest_by_id(records)
    hashes = {r.external_id: record_hash(r) for r in records}
    known = OrderRecord.objects.filter(source=source, external_id__any=list(hashes))
    before = {
        ext: (order_id, status, digest, updated_at)
        for ext, order_id, status, digest, updated_at in known.values_list(
            "external_id", "order_id", "status", "content_hash", "source_updated_at"
        )
    }
    older = [r for r in records if r.external_id in before and updated_before(r.updated_at, before[r.external_id][3])]
    if older:  # a replayed webhook, or a late page: never roll an order back to an earlier state
        records = [r for r in records if r.external_id not in {o.external_id for o in older}]
    changed, unchanged = split_changed(records, {ext: b[2] for ext, b in before.items()}, hashes)
    result.unchanged = len(unchanged) + len(older)
    if unchanged:
        OrderRecord.objects.filter(source=source, external_id__any=unchanged).update(synced_at=synced_at)
    if not changed:
        return result

    customer_of, guests = _order_customers(source, changed, synced_at)
    stores = store_ids_by_alias(source)
    order_of = _orders_correlate(source, changed, {ext: b[0] for ext, b in before.items()}, customer_of, stores)
    customer_of.update(_guest_customers(source, guests, order_of))
    survivor_of = customers_pin(customer_of.values())  # a guest may have shown two customers to be one
    customer_of = {ext: survivor_of.get(cid, cid) for ext, cid in customer_of.items()}
    upsert(
        OrderRecord,
        [
            {
                "source_id": source.pk, "external_id": r.external_id, "order_id": order_of[r.external_id],
                "external_number": r.number, "references": r.references, "raw_status": r.raw_status, "status": r.status,
                "source_updated_at": r.updated_at, "synced_at": synced_at, "first_seen_at": synced_at,
                "content_hash": hashes[r.external_id],
                "fields": record_fields(_order_row(r, customer_of.get(r.external_id), stores)),
            }
            for r in changed
        ],
        unique=["source_id", "external_id"],
        update=RECORD_FIELDS,
    )  # fmt: skip
    orders_fields_refresh(set(order_of.values()))

    origin_of = dict(Order.objects.filter(pk__any=set(order_of.values())).values_list("id", "origin_source_id"))
    timeline = []
    for r in changed:
        order_id, customer_id = order_of[r.external_id], customer_of.get(r.external_id)
        result.order_ids.add(order_id)
        previous = before.get(r.external_id)
        if previous is None:
            result.created += 1
            timeline.extend(
                _first_sight_events(source, r, order_id, customer_id, is_origin=origin_of[order_id] == source.pk)
            )
        else:
            result.updated += 1
            if previous[1] != r.status:
                timeline.append(_status_event(source, r, order_id, customer_id, old=previous[1]))
    timeline.extend(_children_upsert(source, changed, order_of, customer_of, stores, synced_at))
    result.events = events.events_write(timeline)
    return result


def _order_customers(
    source, records: Sequence[rec.UpstreamOrder], synced_at: datetime
) -> tuple[dict[str, int | None], list[rec.UpstreamOrder]]:
    """``({order external_id: customer_id}, guests)``: the customer account on the order or the customer it
    names by id; the records naming no customer are the guests (:func:`_guest_customers`)."""
    # The customer embedded in an order is often partial (Odoo gives only the partner's id and
    # name); the source's customers stream owns the identity. So an embedded customer only
    # creates an identity the source has not reported yet, and never overwrites one.
    embedded = latest_by_id(r.customer for r in records if r.customer is not None)
    wanted = {c.external_id for c in embedded} | {r.customer_external_id for r in records if r.customer_external_id}
    by_identity = dict(
        CustomerIdentity.objects.filter(source=source, external_id__any=wanted).values_list(
            "external_id", "customer_id"
        )
    )
    unknown = [c for c in embedded if c.external_id not in by_identity]
    _, _, _, created = ingest_customers(
        source=source, records=unknown, synced_at=synced_at, hashes={c.external_id: record_hash(c) for c in unknown}
    )
    by_identity.update(created)
    customer_of: dict[str, int | None] = {}
    guests = []
    for r in records:
        if r.customer is not None:
            customer_of[r.external_id] = by_identity[r.customer.external_id]
        elif r.customer_external_id in by_identity:
            customer_of[r.external_id] = by_identity[r.customer_external_id]
        else:
            guests.append(r)
    survivor_of = customers_pin(customer_of.values())
    return {ext: survivor_of.get(cid, cid) for ext, cid in customer_of.items()}, guests


def _guest_customers(source, guests: Sequence[rec.UpstreamOrder], order_of: dict[str, int]) -> dict[str, int | None]:
    """The customer of each record naming no customer account.

    - A copy of a web order in another system (the POS's pickup, the ERP's sale order) is the same
      order, so the same buyer: it takes the order's customer, and never makes one (that is the
      storefront's to say, whenever it syncs).
    - Any other guest record takes the customer its order already has from guest records (the
      same order synced again, or seen first in another system), else one matched on trusted
      evidence or made anew (:func:`~orders.ingest.customers.customers_resolve`: one unverified key is only
      a suggested link).
    """
    if not guests:
        return {}
    copies = {r.external_id for r in guests if r.channel == "web" and source.kind != "storefront"}
    known_to_a_system = Exists(CustomerIdentity.objects.filter(customer_id=OuterRef("customer_id")))
    rows = (
        Order.objects.filter(pk__any=[order_of[r.external_id] for r in guests])
        .exclude(customer=None)
        .values_list("id", "customer_id", known_to_a_system)
    )
    of_order, guest_only = {}, set()
    for order_id, customer_id, has_identity in rows:
        of_order[order_id] = customer_id
        if not has_identity:
            guest_only.add(order_id)
    customer_of: dict[str, int | None] = {}
    rest = []
    for r in guests:
        order_id = order_of[r.external_id]
        if r.external_id in copies or order_id in guest_only:
            customer_of[r.external_id] = of_order.get(order_id)
        else:
            rest.append(r)
    resolved = customers_resolve([person(r.customer_name, [r.email], [r.phone], "") for r in rest], source=source)
    customer_of.update({r.external_id: cid for r, cid in zip(rest, resolved, strict=True)})
    return customer_of


def _order_row(record: rec.UpstreamOrder, customer_id, stores) -> dict:
    return {
        "number": record.number or record.external_id, "customer_id": customer_id, "channel": record.channel,
        "fulfilment": record.fulfilment, "store_id": stores.get(record.location_id), "placed_at": record.placed_at,
        "promised_by": record.promised_by, "currency": record.currency, "total": record.total, "email": record.email,
        "phone": record.phone, "cancelled_at": record.cancelled_at,
        "contact_name": ((record.customer.name if record.customer else "") or record.customer_name)[:200],
    }  # fmt: skip


def _orders_correlate(source, changed, known: dict[str, int], customer_of, stores) -> dict[str, int]:
    """The canonical order of each record: found by key or link, created when new.

    A new order starts with its first record's fields; every order's fields are then derived
    from all its records by :func:`~orders.ingest.correlate.orders_fields_refresh`, whatever arrived first.
    """
    target, merges = orders_for(source, changed, known)
    for survivor, others in merges:
        orders_merge(survivor, others)
    now = timezone.now()
    new = [r for r in changed if target[r.external_id] is None]
    new_ids = insert_new(
        Order,
        [{**_order_row(r, customer_of.get(r.external_id), stores), "status": r.status, "origin_source_id": source.pk, "created_at": now, "updated_at": now} for r in new],
    )  # fmt: skip
    order_of = {r.external_id: target[r.external_id] for r in changed if target[r.external_id] is not None}
    order_of.update({r.external_id: pk for r, pk in zip(new, new_ids, strict=True)})
    order_of = keys_claim(source, changed, order_of)
    # A new order whose records all turned out to belong to another (a key claimed first by
    # another record of this page, or by a concurrent run) is left empty: remove it.
    unused = set(new_ids) - set(order_of.values())
    if unused:
        Order.objects.filter(pk__any=unused).delete()
    return order_of


def _status_event(source, record, order_id, customer_id, *, old):
    return events.order_status_changed(
        source=source, external_id=record.external_id, order_id=order_id, customer_id=customer_id, old=old,
        new=record.status, new_label=LABELS[record.status], raw_status=record.raw_status,
        occurred_at=record.updated_at or record.placed_at,
    )  # fmt: skip


def _first_sight_events(source, record: rec.UpstreamOrder, order_id: int, customer_id, *, is_origin: bool) -> list:
    if is_origin:
        first = events.order_placed(
            source=source, external_id=record.external_id, order_id=order_id, customer_id=customer_id,
            number=record.number or record.external_id, channel=record.channel, total=record.total,
            currency=record.currency, occurred_at=record.placed_at or record.updated_at,
        )  # fmt: skip
    else:
        first = events.order_seen(
            source=source, external_id=record.external_id, external_number=record.number, order_id=order_id,
            customer_id=customer_id, status_label=LABELS[record.status], occurred_at=record.placed_at or record.updated_at,
        )  # fmt: skip
    return (
        [first]
        if record.status == Lifecycle.PLACED
        else [first, _status_event(source, record, order_id, customer_id, old=None)]
    )


LINE_FIELDS = ["order_id", "sku", "name", "quantity", "unit", "unit_price", "fulfilment_location_id", "synced_at"]
PAYMENT_FIELDS = ["order_id", "order_external_id", "kind", "status", "amount", "currency", "gateway", "card_brand", "card_last4", "receipt_number", "processed_at", "synced_at"]  # fmt: skip
RETURN_FIELDS = ["order_id", "order_external_id", "status", "line_skus", "amount", "requested_at", "received_at", "refunded_at", "synced_at"]  # fmt: skip
SHIPMENT_FIELDS = ["order_id", "carrier", "tracking_number", "tracking_url", "raw_status", "status", "line_skus", "shipped_at", "window_start", "window_end", "estimated_delivery", "delivered_at", "last_event_at", "synced_at"]  # fmt: skip


def payment_row(source, order_external_id: str, order_id, pay: rec.PaymentRecord, synced_at) -> dict:
    return {
        "source_id": source.pk, "external_id": scoped(order_external_id, pay.external_id), "order_id": order_id,
        "order_external_id": order_external_id, "kind": pay.kind, "status": pay.status, "amount": pay.amount,
        "currency": pay.currency, "gateway": pay.gateway, "manual": pay.manual, "card_brand": pay.card_brand, "card_last4": pay.card_last4,
        "receipt_number": pay.receipt_number, "processed_at": pay.processed_at, "synced_at": synced_at, "content_hash": "",
    }  # fmt: skip


def payment_event(source, row: dict, customer_id, occurred_at):
    card = f"{row['card_brand']} ····{row['card_last4']}".strip() if row["card_last4"] else row["card_brand"]
    return events.payment_recorded(
        source=source, external_id=row["external_id"], order_id=row["order_id"], customer_id=customer_id, kind=row["kind"],
        status=row["status"], amount=row["amount"], currency=row["currency"], card=card,
        occurred_at=row["processed_at"] or occurred_at,
    )  # fmt: skip


def return_row(source, external_id: str, order_external_id: str, order_id, ret: rec.ReturnRecord, synced_at) -> dict:
    return {
        "source_id": source.pk, "external_id": external_id, "order_id": order_id,
        "order_external_id": order_external_id, "status": ret.status,
        "line_skus": ret.line_skus, "amount": ret.amount, "requested_at": ret.requested_at,
        "received_at": ret.received_at, "refunded_at": ret.refunded_at, "synced_at": synced_at, "content_hash": "",
    }  # fmt: skip


def shipment_row(ship: rec.ShipmentRecord) -> dict:
    return {
        "carrier": ship.carrier, "tracking_number": ship.tracking_number, "tracking_url": ship.tracking_url,
        "raw_status": ship.raw_status, "status": ship.status, "line_skus": ship.line_skus, "shipped_at": ship.shipped_at,
        "window_start": ship.window_start, "window_end": ship.window_end, "estimated_delivery": ship.estimated_delivery,
        "delivered_at": ship.delivered_at, "last_event_at": max((e.occurred_at for e in ship.events), default=None),
    }  # fmt: skip


def _children_upsert(
    source, records: Sequence[rec.UpstreamOrder], order_of: dict[str, int], customer_of, stores, synced_at
) -> list:
    """Lines, payments, shipments (with scans) and returns of changed orders; ones the source dropped are removed."""
    lines, payments, shipments, returns, timeline = [], [], [], [], []
    scans: dict[str, list[rec.TrackingEventRecord]] = {}
    base = {"source_id": source.pk, "synced_at": synced_at, "content_hash": ""}
    for r in records:
        oid, cid = order_of[r.external_id], customer_of.get(r.external_id)
        for line in r.lines:
            lines.append(
                {**base, "external_id": scoped(r.external_id, line.external_id), "order_id": oid, "sku": line.sku,
                 "name": line.name, "quantity": line.quantity, "unit": line.unit, "unit_price": line.unit_price,
                 "fulfilment_location_id": stores.get(line.location_id or r.location_id)}
            )  # fmt: skip
        for pay in r.payments:
            payments.append(payment_row(source, r.external_id, oid, pay, synced_at))
            timeline.append(payment_event(source, payments[-1], cid, r.updated_at))
        for ship in r.shipments:
            ext = scoped(r.external_id, ship.external_id)
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
            ext = scoped(r.external_id, ret.external_id)
            returns.append(return_row(source, ext, r.external_id, oid, ret, synced_at))
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
    owners = {r.external_id: order_of[r.external_id] for r in records}
    _replace(OrderLine, source, owners, lines, LINE_FIELDS)
    _replace(Payment, source, owners, payments, PAYMENT_FIELDS)
    _replace(Return, source, owners, returns, RETURN_FIELDS)
    shipment_ids = dict(_replace(Shipment, source, owners, shipments, SHIPMENT_FIELDS, returning=["external_id", "id"]))
    timeline.extend(scans_write(source, scans, shipment_ids, {s["external_id"]: s["order_id"] for s in shipments}))
    return timeline


def _replace(model, source, owners: dict[str, int], rows: list[dict], update: list[str], returning=()) -> list[tuple]:
    """Upsert ``rows`` and delete the rows the records ``owners`` (``{external id: order id}``) no longer list.

    A record's rows are those scoped by its id (``<record id>:<child id>``). Another record's rows on
    the same order stay: a Square return order's refunds on the sale it returns, a second record of
    the same source correlated onto the order.
    """
    prefixes: dict[int, tuple[str, ...]] = {}
    for external_id, order_id in owners.items():
        prefixes[order_id] = (*prefixes.get(order_id, ()), scoped(external_id, ""))
    keep = [row["external_id"] for row in rows]
    stale = model.objects.filter(source=source, order_id__any=list(prefixes)).exclude(external_id__any=keep)
    dropped = [pk for pk, ext, order_id in stale.values_list("id", "external_id", "order_id") if ext.startswith(prefixes[order_id])]  # fmt: skip
    if dropped:
        model.objects.filter(pk__any=dropped).delete()
    return upsert(model, rows, unique=["source_id", "external_id"], update=update, returning=returning)


def scans_write(
    source,
    scans: dict[str, list[rec.TrackingEventRecord]],
    shipment_ids: dict[str, int],
    order_of: dict[str, int | None],
) -> list:
    """Carrier scans of shipments (``{shipment external_id: scans}``) and their timeline events."""
    rows, timeline = [], []
    now = timezone.now()
    for ext, scan_list in scans.items():
        for scan in scan_list:
            rows.append(
                {"shipment_id": shipment_ids[ext], "source_id": source.pk, "occurred_at": scan.occurred_at,
                 "status": scan.status, "message": scan.message, "location": scan.location, "synced_at": now}
            )  # fmt: skip
            timeline.append(
                events.tracking_scanned(
                    source=source,
                    shipment_external_id=ext,
                    order_id=order_of.get(ext),
                    customer_id=None,
                    status=scan.status,
                    message=scan.message,
                    location=scan.location,
                    occurred_at=scan.occurred_at,
                )
            )
    upsert(TrackingEvent, rows, unique=["shipment_id", "occurred_at", "status", "message"], update=None)
    return timeline
