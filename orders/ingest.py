"""Correlate + upsert: typed records from any adapter become canonical rows.

Called by the sync engine inside the page's transaction. Everything here is bulk:
a handful of queries per page whatever its size, upserts on ``(source,
external_id)`` so a page landed twice changes nothing, and timeline events only
for real changes (a record whose content hash is unchanged is not touched beyond
its ``synced_at``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q

from integrations import records as rec

from . import events
from .identity import normalise_email, normalise_phone
from .models import (
    Customer,
    CustomerIdentity,
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

BATCH = 1000


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


def _latest_by_id(records: Iterable[rec.Record]) -> list:
    """One record per external id (the last one wins), keeping first-seen order."""
    by_id: dict[str, rec.Record] = {}
    for record in records:
        by_id[record.external_id] = record
    return list(by_id.values())


def _scoped(order_external_id: str, child_external_id: str) -> str:
    """Child ids are only unique within their order in some systems (Square line uids)."""
    return f"{order_external_id}:{child_external_id}"


# --- stores --------------------------------------------------------------------------


def ingest_locations(
    *, source, records: Sequence[rec.LocationRecord], synced_at: datetime
) -> IngestResult:
    """Match each location to a Store by code (creating it if new) and remember the source's id for it."""
    result = IngestResult()
    records = _latest_by_id(records)
    stores = {s.code: s for s in Store.objects.filter(code__in=[r.code for r in records])}
    aliases = dict(
        StoreAlias.objects.filter(
            source=source, external_id__in=[r.external_id for r in records]
        ).values_list("external_id", "store_id")
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
        StoreAlias.objects.update_or_create(
            source=source, external_id=record.external_id, defaults={"store": store}
        )
    return result


def store_ids_by_alias(source) -> dict[str, int]:
    return dict(StoreAlias.objects.filter(source=source).values_list("external_id", "store_id"))


# --- customers -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Person:
    name: str
    email: str
    phone: str
    loyalty_id: str

    @property
    def keys(self) -> list[tuple[str, str]]:
        return [
            (k, v)
            for k, v in (("loyalty", self.loyalty_id), ("email", self.email), ("phone", self.phone))
            if v
        ]


def _person(name: str, emails: Iterable[str], phones: Iterable[str], loyalty_id: str) -> _Person:
    email = next((e for e in map(normalise_email, emails) if e), "")
    phone = next((p for p in map(normalise_phone, phones) if p), "")
    return _Person(name=name, email=email, phone=phone, loyalty_id=loyalty_id)


def customers_resolve(people: Sequence[_Person]) -> list[int | None]:
    """The customer id for each person: an existing customer sharing a loyalty id, e-mail or phone, else a new one.

    People with no identifier at all get ``None``.
    """
    wanted = {
        kind: {v for p in people for k, v in p.keys if k == kind}
        for kind in ("loyalty", "email", "phone")
    }
    known: dict[tuple[str, str], int] = {}
    if any(wanted.values()):
        condition = (
            Q(loyalty_id__in=wanted["loyalty"])
            | Q(email__in=wanted["email"])
            | Q(phone__in=wanted["phone"])
        )
        for cid, loyalty, email, phone in (
            Customer.objects.filter(condition)
            .order_by("id")
            .values_list("id", "loyalty_id", "email", "phone")
        ):
            for key in (("loyalty", loyalty), ("email", email), ("phone", phone)):
                known.setdefault(key, cid)
        identity_condition = (
            Q(loyalty_id__in=wanted["loyalty"])
            | Q(email_normalised__in=wanted["email"])
            | Q(phone_e164__in=wanted["phone"])
        )
        rows = (
            CustomerIdentity.objects.filter(identity_condition)
            .order_by("id")
            .values_list("customer_id", "loyalty_id", "email_normalised", "phone_e164")
        )
        for cid, loyalty, email, phone in rows:
            for key in (("loyalty", loyalty), ("email", email), ("phone", phone)):
                if key[1]:
                    known.setdefault(key, cid)

    # People in this batch who match nobody yet: one new customer per connected group of keys.
    new_for: dict[int, Customer] = {}
    group_of: dict[tuple[str, str], int] = {}
    for index, person in enumerate(people):
        if not person.keys or any(key in known for key in person.keys):
            continue
        group = next((group_of[key] for key in person.keys if key in group_of), index)
        for key in person.keys:
            group_of.setdefault(key, group)
        if group not in new_for:
            new_for[group] = Customer(
                name=person.name,
                email=person.email,
                phone=person.phone,
                loyalty_id=person.loyalty_id,
            )
    Customer.objects.bulk_create(new_for.values(), batch_size=BATCH)
    for key, group in group_of.items():
        known.setdefault(key, new_for[group].pk)

    return [next((known[key] for key in p.keys if key in known), None) for p in people]


def ingest_customers(
    *, source, records: Sequence[rec.CustomerRecord], synced_at: datetime
) -> tuple[IngestResult, dict[str, int]]:
    """Upsert the source's identities; return the result and ``{external_id: customer_id}``."""
    result = IngestResult()
    records = _latest_by_id(records)
    existing = {
        i.external_id: i
        for i in CustomerIdentity.objects.filter(
            source=source, external_id__in=[r.external_id for r in records]
        )
    }
    customer_of: dict[str, int] = {}
    changed: list[tuple[rec.CustomerRecord, str, _Person]] = []
    for record in records:
        digest = record_hash(record)
        identity = existing.get(record.external_id)
        result.landed_external_ids.add(record.external_id)
        if identity is not None and identity.content_hash == digest:
            result.unchanged += 1
            customer_of[record.external_id] = identity.customer_id
            continue
        changed.append(
            (record, digest, _person(record.name, record.emails, record.phones, record.loyalty_id))
        )

    unmatched = [(r, d, p) for r, d, p in changed if r.external_id not in existing]
    resolved = customers_resolve([p for _, _, p in unmatched])
    for (record, _, person), customer_id in zip(unmatched, resolved, strict=True):
        if customer_id is None:  # nothing to match on: a customer of its own
            customer = Customer.objects.create(name=person.name)
            customer_id = customer.pk
        customer_of[record.external_id] = customer_id

    rows = []
    for record, digest, person in changed:
        identity = existing.get(record.external_id)
        customer_id = identity.customer_id if identity else customer_of[record.external_id]
        customer_of[record.external_id] = customer_id
        rows.append(
            CustomerIdentity(
                source=source,
                external_id=record.external_id,
                customer_id=customer_id,
                name=record.name,
                email=record.emails[0] if record.emails else "",
                email_normalised=person.email,
                phone=record.phones[0] if record.phones else "",
                phone_e164=person.phone,
                loyalty_id=record.loyalty_id,
                source_updated_at=record.updated_at,
                synced_at=synced_at,
                content_hash=digest,
            )
        )
        if identity is None:
            result.created += 1
        else:
            result.updated += 1
    CustomerIdentity.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["source", "external_id"],
        update_fields=[
            "name",
            "email",
            "email_normalised",
            "phone",
            "phone_e164",
            "loyalty_id",
            "source_updated_at",
            "synced_at",
            "content_hash",
        ],
        batch_size=BATCH,
    )
    unchanged_ids = [
        r.external_id for r in records if r.external_id not in {row.external_id for row in rows}
    ]
    if unchanged_ids:
        CustomerIdentity.objects.filter(source=source, external_id__in=unchanged_ids).update(
            synced_at=synced_at
        )
    _fill_customer_blanks(rows)
    return result, customer_of


def _fill_customer_blanks(identities: Sequence[CustomerIdentity]) -> None:
    """Give customers a name, e-mail, phone and loyalty id from their identities where they have none."""
    by_customer: dict[int, CustomerIdentity] = {}
    for identity in identities:
        by_customer.setdefault(identity.customer_id, identity)
    if not by_customer:
        return
    updates = []
    for customer in Customer.objects.filter(pk__in=by_customer):
        identity = by_customer[customer.pk]
        before = (customer.name, customer.email, customer.phone, customer.loyalty_id)
        customer.name = customer.name or identity.name
        customer.email = customer.email or identity.email_normalised
        customer.phone = customer.phone or identity.phone_e164
        customer.loyalty_id = customer.loyalty_id or identity.loyalty_id
        if before != (customer.name, customer.email, customer.phone, customer.loyalty_id):
            updates.append(customer)
    Customer.objects.bulk_update(
        updates, ["name", "email", "phone", "loyalty_id"], batch_size=BATCH
    )


# --- orders ----------------------------------------------------------------------------

_ORDER_FIELDS = [
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
_LABELS = dict(Lifecycle.choices)


def ingest_orders(
    *, source, records: Sequence[rec.OrderRecord], synced_at: datetime
) -> IngestResult:
    """Upsert orders with their lines, payments, shipments and returns; write timeline events for what changed."""
    result = IngestResult()
    records = _latest_by_id(records)
    existing = {
        r.external_id: r
        for r in OrderRecord.objects.filter(
            source=source, external_id__in=[x.external_id for x in records]
        ).only("id", "external_id", "order_id", "status", "content_hash")
    }
    changed: list[tuple[rec.OrderRecord, str]] = []
    unchanged_ids: list[str] = []
    for record in records:
        digest = record_hash(record)
        result.landed_external_ids.add(record.external_id)
        known = existing.get(record.external_id)
        if known is not None and known.content_hash == digest:
            unchanged_ids.append(record.external_id)
        else:
            changed.append((record, digest))
    result.unchanged = len(unchanged_ids)
    if unchanged_ids:
        OrderRecord.objects.filter(source=source, external_id__in=unchanged_ids).update(
            synced_at=synced_at
        )
    if not changed:
        return result

    customer_of = _order_customers(source, [r for r, _ in changed], synced_at)
    stores = store_ids_by_alias(source)
    orders = _upsert_orders(source, changed, existing, customer_of, stores)

    record_rows = [
        OrderRecord(
            source=source,
            external_id=record.external_id,
            order_id=orders[record.external_id].pk,
            external_number=record.number,
            references=record.references,
            raw_status=record.raw_status,
            status=record.status,
            source_updated_at=record.updated_at,
            synced_at=synced_at,
            content_hash=digest,
        )
        for record, digest in changed
    ]
    OrderRecord.objects.bulk_create(
        record_rows,
        update_conflicts=True,
        unique_fields=["source", "external_id"],
        update_fields=[
            "order_id",
            "external_number",
            "references",
            "raw_status",
            "status",
            "source_updated_at",
            "synced_at",
            "content_hash",
        ],
        batch_size=BATCH,
    )

    timeline = []
    for record, _ in changed:
        order = orders[record.external_id]
        before = existing.get(record.external_id)
        result.order_ids.add(order.pk)
        if before is None:
            result.created += 1
            timeline.extend(_first_sight_events(source, record, order))
        else:
            result.updated += 1
            if before.status != record.status:
                timeline.append(
                    events.order_status_changed(
                        source=source,
                        external_id=record.external_id,
                        order_id=order.pk,
                        customer_id=order.customer_id,
                        old=before.status,
                        new=record.status,
                        new_label=_LABELS[record.status],
                        raw_status=record.raw_status,
                        occurred_at=record.updated_at or synced_at,
                    )
                )
    timeline.extend(_upsert_children(source, [r for r, _ in changed], orders, stores, synced_at))
    result.events = events.events_write(timeline)
    return result


def _order_customers(
    source, records: Sequence[rec.OrderRecord], synced_at: datetime
) -> dict[str, int | None]:
    """``{order external_id: customer_id}``: the order's customer account, else a guest matched by e-mail/phone."""
    embedded = [r.customer for r in records if r.customer is not None]
    _, by_identity = ingest_customers(source=source, records=embedded, synced_at=synced_at)
    guests = [r for r in records if r.customer is None]
    resolved = customers_resolve([_person("", [r.email], [r.phone], "") for r in guests])
    customer_of: dict[str, int | None] = {
        r.external_id: by_identity[r.customer.external_id]
        for r in records
        if r.customer is not None
    }
    customer_of.update({r.external_id: cid for r, cid in zip(guests, resolved, strict=True)})
    return customer_of


def _upsert_orders(source, changed, existing, customer_of, stores) -> dict[str, Order]:
    """Create the canonical order of each new record; refresh the ones this source placed."""
    known_ids = {existing[r.external_id].order_id for r, _ in changed if r.external_id in existing}
    known = Order.objects.in_bulk(known_ids)
    orders: dict[str, Order] = {}
    to_create: list[Order] = []
    to_update: list[Order] = []
    for record, _ in changed:
        before = existing.get(record.external_id)
        order = known.get(before.order_id) if before else None
        if order is None:
            order = Order(origin_source=source)
            to_create.append(order)
        elif order.origin_source_id == source.pk:
            to_update.append(order)
        else:
            orders[record.external_id] = order
            continue
        order.number = record.number or record.external_id
        order.customer_id = customer_of.get(record.external_id)
        order.channel = record.channel
        order.fulfilment = record.fulfilment
        order.store_id = stores.get(record.location_id)
        order.status = record.status
        order.placed_at = record.placed_at
        order.promised_by = record.promised_by
        order.currency = record.currency
        order.total = record.total
        order.email = record.email
        order.phone = record.phone
        order.cancelled_at = record.cancelled_at
        orders[record.external_id] = order
    Order.objects.bulk_create(to_create, batch_size=BATCH)
    Order.objects.bulk_update(to_update, _ORDER_FIELDS, batch_size=BATCH)
    return orders


def _first_sight_events(source, record: rec.OrderRecord, order: Order) -> list:
    if order.origin_source_id == source.pk:
        first = [
            events.order_placed(
                source=source,
                external_id=record.external_id,
                order_id=order.pk,
                customer_id=order.customer_id,
                number=order.number,
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
                order_id=order.pk,
                customer_id=order.customer_id,
                status_label=_LABELS[record.status],
                occurred_at=record.placed_at or record.updated_at,
            )
        ]
    if record.status != Lifecycle.PLACED:
        first.append(
            events.order_status_changed(
                source=source,
                external_id=record.external_id,
                order_id=order.pk,
                customer_id=order.customer_id,
                old=None,
                new=record.status,
                new_label=_LABELS[record.status],
                raw_status=record.raw_status,
                occurred_at=record.updated_at or record.placed_at,
            )
        )
    return first


def _upsert_children(
    source,
    records: Sequence[rec.OrderRecord],
    orders: dict[str, Order],
    stores: dict[str, int],
    synced_at,
) -> list:
    """Lines, payments, shipments (with scans) and returns of changed orders; stale ones are removed."""
    lines, payments, shipments, returns, timeline = [], [], [], [], []
    scans: dict[str, list[rec.TrackingEventRecord]] = {}
    for record in records:
        order = orders[record.external_id]
        oid, cid = order.pk, order.customer_id
        for line in record.lines:
            lines.append(
                OrderLine(
                    source=source,
                    external_id=_scoped(record.external_id, line.external_id),
                    order_id=oid,
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    fulfilment_location_id=stores.get(line.location_id or record.location_id),
                    synced_at=synced_at,
                )
            )
        for pay in record.payments:
            ext = _scoped(record.external_id, pay.external_id)
            payments.append(
                Payment(
                    source=source,
                    external_id=ext,
                    order_id=oid,
                    kind=pay.kind,
                    status=pay.status,
                    amount=pay.amount,
                    currency=pay.currency,
                    gateway=pay.gateway,
                    card_brand=pay.card_brand,
                    card_last4=pay.card_last4,
                    receipt_number=pay.receipt_number,
                    processed_at=pay.processed_at,
                    synced_at=synced_at,
                )
            )
            card = (
                f"{pay.card_brand} ····{pay.card_last4}".strip()
                if pay.card_last4
                else pay.card_brand
            )
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
                    occurred_at=pay.processed_at or record.updated_at,
                )
            )
        for ship in record.shipments:
            ext = _scoped(record.external_id, ship.external_id)
            shipments.append(_shipment_row(source, ext, oid, ship, synced_at))
            scans[ext] = ship.events
            timeline.append(
                events.shipment_created(
                    source=source,
                    external_id=ext,
                    order_id=oid,
                    customer_id=cid,
                    carrier=ship.carrier,
                    tracking_number=ship.tracking_number,
                    occurred_at=ship.shipped_at or record.updated_at,
                )
            )
        for ret in record.returns:
            ext = _scoped(record.external_id, ret.external_id)
            returns.append(
                Return(
                    source=source,
                    external_id=ext,
                    order_id=oid,
                    status=ret.status,
                    line_skus=ret.line_skus,
                    amount=ret.amount,
                    requested_at=ret.requested_at,
                    received_at=ret.received_at,
                    refunded_at=ret.refunded_at,
                    synced_at=synced_at,
                )
            )
            timeline.append(
                events.return_changed(
                    source=source,
                    external_id=ext,
                    order_id=oid,
                    customer_id=cid,
                    status=ret.status,
                    amount=ret.amount,
                    occurred_at=ret.refunded_at
                    or ret.received_at
                    or ret.requested_at
                    or record.updated_at,
                )
            )

    order_ids = [o.pk for o in orders.values()]
    _replace(
        OrderLine,
        source,
        order_ids,
        lines,
        [
            "order_id",
            "sku",
            "name",
            "quantity",
            "unit_price",
            "fulfilment_location_id",
            "synced_at",
        ],
    )
    _replace(
        Payment,
        source,
        order_ids,
        payments,
        [
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
        ],
    )
    _replace(
        Return,
        source,
        order_ids,
        returns,
        [
            "order_id",
            "status",
            "line_skus",
            "amount",
            "requested_at",
            "received_at",
            "refunded_at",
            "synced_at",
        ],
    )
    _replace(Shipment, source, order_ids, shipments, _SHIPMENT_FIELDS)
    timeline.extend(_write_scans(source, scans, {s.external_id: s for s in shipments}))
    return timeline


_SHIPMENT_FIELDS = [
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


def _shipment_row(
    source, external_id: str, order_id: int | None, ship: rec.ShipmentRecord, synced_at
) -> Shipment:
    return Shipment(
        source=source,
        external_id=external_id,
        order_id=order_id,
        carrier=ship.carrier,
        tracking_number=ship.tracking_number,
        tracking_url=ship.tracking_url,
        raw_status=ship.raw_status,
        status=ship.status,
        line_skus=ship.line_skus,
        shipped_at=ship.shipped_at,
        window_start=ship.window_start,
        window_end=ship.window_end,
        estimated_delivery=ship.estimated_delivery,
        delivered_at=ship.delivered_at,
        last_event_at=max((e.occurred_at for e in ship.events), default=None),
        synced_at=synced_at,
    )


def _replace(model, source, order_ids: list[int], rows: list, update_fields: list[str]) -> None:
    """Upsert ``rows`` and delete this source's rows of these orders that the source no longer lists."""
    model.objects.filter(source=source, order_id__in=order_ids).exclude(
        external_id__in=[r.external_id for r in rows]
    ).delete()
    model.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["source", "external_id"],
        update_fields=update_fields,
        batch_size=BATCH,
    )


def _write_scans(
    source, scans: dict[str, list[rec.TrackingEventRecord]], shipments: dict[str, Shipment]
) -> list:
    if not any(scans.values()):
        return []
    ids = dict(
        Shipment.objects.filter(source=source, external_id__in=list(scans)).values_list(
            "external_id", "id"
        )
    )
    rows, timeline = [], []
    for ext, scan_list in scans.items():
        shipment = shipments[ext]
        for scan in scan_list:
            rows.append(
                TrackingEvent(
                    shipment_id=ids[ext],
                    source=source,
                    occurred_at=scan.occurred_at,
                    status=scan.status,
                    message=scan.message,
                    location=scan.location,
                )
            )
            timeline.append(
                events.tracking_scanned(
                    source=source,
                    shipment_external_id=ext,
                    order_id=shipment.order_id,
                    customer_id=None,
                    status=scan.status,
                    message=scan.message,
                    location=scan.location,
                    occurred_at=scan.occurred_at,
                )
            )
    TrackingEvent.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH)
    return timeline


# --- stock -----------------------------------------------------------------------------


def ingest_stock(
    *, source, records: Sequence[rec.StockRecord], synced_at: datetime
) -> IngestResult:
    """Upsert on-hand counts, one row per (source, SKU, location)."""
    result = IngestResult()
    stores = store_ids_by_alias(source)
    rows = {}
    for record in records:
        ext = f"{record.location_id}:{record.sku}"
        rows[ext] = StockLevel(
            source=source,
            external_id=ext,
            sku=record.sku,
            location_id=stores.get(record.location_id),
            location_external_id=record.location_id,
            on_hand=record.on_hand,
            reserved=record.reserved,
            counted_at=record.counted_at,
            synced_at=synced_at,
            content_hash=record_hash(record),
        )
        result.landed_external_ids.add(ext)
    before = dict(
        StockLevel.objects.filter(source=source, external_id__in=list(rows)).values_list(
            "external_id", "content_hash"
        )
    )
    for ext, row in rows.items():
        if ext not in before:
            result.created += 1
        elif before[ext] == row.content_hash:
            result.unchanged += 1
        else:
            result.updated += 1
    StockLevel.objects.bulk_create(
        rows.values(),
        update_conflicts=True,
        unique_fields=["source", "external_id"],
        update_fields=[
            "sku",
            "location_id",
            "location_external_id",
            "on_hand",
            "reserved",
            "counted_at",
            "synced_at",
            "content_hash",
        ],
        batch_size=BATCH,
    )
    return result


INGESTERS = {
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
        if record_type is rec.CustomerRecord:
            part, _ = ingest_customers(source=source, records=group, synced_at=synced_at)
        elif record_type in INGESTERS:
            part = INGESTERS[record_type](source=source, records=group, synced_at=synced_at)
        else:
            raise TypeError(f"no ingester for {record_type.__name__} yet")
        result.merge(part)
    return result
