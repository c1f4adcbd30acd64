"""Locations (stores and warehouses, matched across systems by code) and stock counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from integrations import records as rec
from omnidesk.db import upsert

from ..models import StockLevel, Store, StoreAlias
from .common import IngestResult, latest_by_id, record_hash


def ingest_locations(*, source, records: Sequence[rec.LocationRecord], synced_at: datetime) -> IngestResult:
    """Match each location to a Store by code (creating it if new) and remember the source's id for it."""
    result = IngestResult()
    records = latest_by_id(records)
    stores = {s.code: s for s in Store.objects.filter(code__any=[r.code for r in records])}
    known = StoreAlias.objects.filter(source=source, external_id__any=[r.external_id for r in records])
    aliases = dict(known.values_list("external_id", "store_id"))
    for record in records:
        store = stores.get(record.code)
        if store is None:  # get_or_create: another source's sync may be creating the same store right now
            store, _ = Store.objects.get_or_create(
                code=record.code,
                defaults={
                    "name": record.name,
                    "kind": record.kind,
                    "timezone": record.timezone or "UTC",
                    "address": record.address,
                },
            )
            stores[record.code] = store
        _fill_blanks(store, record)
        if aliases.get(record.external_id) == store.pk:
            result.unchanged += 1
            continue
        if record.external_id in aliases:
            result.updated += 1
        else:
            result.created += 1
        StoreAlias.objects.update_or_create(source=source, external_id=record.external_id, defaults={"store": store})
    return result


def _fill_blanks(store: Store, record: rec.LocationRecord) -> None:
    """A storefront's locations often lack the time zone and address the POS knows: take them when they come."""
    changed = {}
    if record.timezone and store.timezone in ("", "UTC") and record.timezone != store.timezone:
        changed["timezone"] = record.timezone
    if record.address and not store.address:
        changed["address"] = record.address
    if changed:
        Store.objects.filter(pk=store.pk).update(**changed)
        for field, value in changed.items():
            setattr(store, field, value)


def store_ids_by_alias(source) -> dict[str, int]:
    return dict(StoreAlias.objects.filter(source=source).values_list("external_id", "store_id"))


STOCK_FIELDS = [
    "sku",
    "location_id",
    "location_external_id",
    "bin",
    "on_hand",
    "reserved",
    "counted_at",
    "synced_at",
    "content_hash",
]


def ingest_stock(*, source, records: Sequence[rec.StockRecord], synced_at: datetime) -> IngestResult:
    """Upsert on-hand counts, one row per (source, location, SKU), or per part of it (an Odoo quant)."""
    result = IngestResult()
    stores = store_ids_by_alias(source)
    rows = {}
    for record in records:
        ext = f"{record.location_id}:{record.sku}" + (f":{record.part}" if record.part else "")
        rows[ext] = {
            "source_id": source.pk, "external_id": ext, "sku": record.sku, "location_id": stores.get(record.location_id),
            "location_external_id": record.location_id, "bin": record.bin, "on_hand": record.on_hand,
            "reserved": record.reserved,
            "counted_at": record.counted_at, "synced_at": synced_at, "content_hash": record_hash(record),
        }  # fmt: skip
    before = dict(
        StockLevel.objects.filter(source=source, external_id__any=list(rows)).values_list("external_id", "content_hash")
    )
    for ext, row in rows.items():
        if ext not in before:
            result.created += 1
        elif before[ext] == row["content_hash"]:
            result.unchanged += 1
        else:
            result.updated += 1
    upsert(StockLevel, rows.values(), unique=["source_id", "external_id"], update=STOCK_FIELDS)
    return result
