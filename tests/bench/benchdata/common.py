"""The bench world's shapes: constants the vendors' formats dictate, and small pure helpers."""

from __future__ import annotations

import random
import unicodedata
from collections import namedtuple
from datetime import UTC, datetime

from integrations.sandbox import catalog
from orders.models import (
    Flag,
    Lifecycle,
    TimelineEvent,
)

DAY, HOUR, MINUTE = 86_400, 3_600, 60
SPAN = 730 * DAY  # orders are placed over the last two years
CHUNK = 10_000  # orders per COPY round
MAX_EVENTS = 8
WORST_SCANS = 194  # the worst-case order: 194 carrier scans + 6 other events = 200 timeline events
NULL = "\\N"
# Never served (port 9 is "discard"): these sources are never synced. A loopback host, so it passes the
# source host check only where private sources are allowed, as in the benchmarks and the tests.
BENCH_URL = "http://127.0.0.1:9"
LABELS = dict(Lifecycle.choices)
FLAG_LABELS = dict(Flag.Code.choices)
Kind = TimelineEvent.Kind

# table -> columns COPYed, parents before children (each round is written in this order)
TABLES = {
    "orders_customer": ("id", "name", "email", "phone", "loyalty_id", "created_at", "updated_at"),
    "orders_customeridentity": (
        "id", "source_id", "external_id", "synced_at", "content_hash", "customer_id", "name", "email",
        "email_normalised", "phone", "phone_e164", "loyalty_id", "source_updated_at", "first_seen_at",
    ),
    "orders_order": (
        "id", "number", "customer_id", "origin_source_id", "channel", "fulfilment", "store_id", "status", "placed_at",
        "promised_by", "currency", "total", "email", "phone", "cancelled_at", "created_at", "updated_at",
    ),
    "orders_orderrecord": (
        "id", "source_id", "external_id", "synced_at", "content_hash", "order_id", "external_number", "references",
        "raw_status", "status", "source_updated_at", "first_seen_at", "fields",
    ),
    "orders_orderkey": ("id", "key", "order_id"),
    "orders_orderline": (
        "id", "source_id", "external_id", "synced_at", "content_hash", "order_id", "sku", "name", "quantity", "unit",
        "unit_price", "fulfilment_location_id",
    ),
    "orders_payment": (
        "id", "source_id", "external_id", "synced_at", "content_hash", "order_id", "order_external_id", "kind", "status",
        "amount", "currency", "gateway", "manual", "card_brand", "card_last4", "receipt_number", "processed_at",
    ),
    "orders_shipment": (
        "id", "source_id", "external_id", "synced_at", "content_hash", "order_id", "carrier", "tracking_number",
        "tracking_url", "raw_status", "status", "line_skus", "shipped_at", "window_start", "window_end",
        "estimated_delivery", "delivered_at", "last_event_at",
    ),
    "orders_trackingevent": ("id", "shipment_id", "source_id", "occurred_at", "status", "message", "location", "synced_at"),
    "orders_return": (
        "id", "source_id", "external_id", "synced_at", "content_hash", "order_id", "order_external_id", "status",
        "line_skus", "amount", "requested_at", "received_at", "refunded_at",
    ),
    "orders_flag": ("id", "order_id", "code", "opened_at", "closed_at", "detail", "evidence"),
    "orders_timelineevent": (
        "id", "key", "order_id", "customer_id", "kind", "occurred_at", "source_id", "actor_id", "summary", "subject",
        "data", "recorded_at",
    ),
}  # fmt: skip
# what wipe() empties besides TABLES: the places and sources generate() sets up
SETUP_TABLES = ("orders_storealias", "orders_store", "integrations_source")
# written by the database itself as customers are COPYed (a trigger, migration 0008): emptied and analysed with TABLES
DERIVED_TABLES = ("orders_customername",)

# Stores beyond the sandbox's three (catalog.PLACES), in other time zones: eight stores and a warehouse.
EXTRA_PLACES = (
    ("harbor-point", "Harbor Point", "store", "America/Los_Angeles", "2200 Harbor Dr", "San Diego", "CA", "92101", "+16195550150", "HP"),
    ("union-square", "Union Square", "store", "America/Los_Angeles", "170 O'Farrell St", "San Francisco", "CA", "94102", "+14155550160", "US"),
    ("mile-high", "Mile High", "store", "America/Denver", "1600 California St", "Denver", "CO", "80202", "+13035550170", "MH"),
    ("desert-ridge", "Desert Ridge", "store", "America/Phoenix", "21001 N Tatum Blvd", "Phoenix", "AZ", "85050", "+14805550180", "DR"),
    ("lakeshore", "Lakeshore", "store", "America/Chicago", "835 N Michigan Ave", "Chicago", "IL", "60611", "+13125550190", "LS"),
)  # fmt: skip
FIRST_NAMES = catalog.FIRST_NAMES + catalog.EXTRA_FIRST_NAMES
LAST_NAMES = catalog.LAST_NAMES + catalog.EXTRA_LAST_NAMES
AREA_CODES = tuple(sorted({a for *_, areas in catalog.CITIES for a in areas} | {
    "213", "310", "415", "510", "619", "858", "303", "720", "480", "602", "520", "224", "630", "872", "305", "404",
}))  # fmt: skip
FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "đ": "d", "Đ": "D", "æ": "ae"})

CANCEL_RATE, RETURN_RATE, FLAG_RATE, POS_REFUND_RATE = 0.03, 0.03, 0.03, 0.01
# Shopify's credit_card_company and Square's card_brand for the same four cards (the sandbox's)
CARDS = tuple((name, brand) for brand, name in catalog.CARD_BRANDS)
FLAG_CODES = {
    "carry_out": ("payment_mismatch",),
    "pickup": ("stock_shortfall", "unassigned", "promise_missed", "payment_mismatch", "phantom_order"),
    "ship": (
        "stuck_shipment", "delivery_exception", "promise_at_risk", "promise_missed", "duplicate_shipment",
        "payment_mismatch", "phantom_order", "unassigned",
    ),
    "delivery": ("promise_missed", "promise_at_risk", "payment_mismatch"),
}  # fmt: skip
FLAG_DETAIL = {
    "phantom_order": "Storefront has the order; the ERP never received it.",
    "unassigned": "ERP picking has nobody assigned to prepare it.",
    "stock_shortfall": "Pickup store has fewer on hand than the order needs.",
    "stuck_shipment": "No carrier scan for more than 48 hours.",
    "delivery_exception": "Carrier reported a delivery failure.",
    "promise_at_risk": "Carrier estimate is later than the promised date.",
    "promise_missed": "Promised date passed before delivery or pickup.",
    "return_not_refunded": "Return received by the warehouse; no refund issued.",
    "duplicate_shipment": "Two active shipments carry the same items.",
    "payment_mismatch": "Captured amount differs from the order total.",
}
TERMINAL = frozenset({"delivered", "collected", "cancelled", "returned", "refunded"})
# What the storefront shows of each stage: the ERP's internal stages are still just "paid" there.
SHOPIFY_VIEW = {"in_erp": "paid", "assigned": "paid", "picked": "paid", "packed": "paid"}
SHOPIFY_FULFILMENT = {  # canonical status -> Shopify fulfilment shipment_status
    "handed_to_carrier": "confirmed", "in_transit": "in_transit", "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
}  # fmt: skip
SCAN_STATUS = {  # EasyPost scan status -> lifecycle (integrations/adapters/easypost.py)
    "pre_transit": "handed_to_carrier", "in_transit": "in_transit", "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
}  # fmt: skip
SQUARE_MIRROR = {  # canonical status of a pickup order -> (Square state/fulfilment state, Square's status)
    "placed": ("OPEN/PROPOSED", "placed"), "paid": ("OPEN/PROPOSED", "placed"), "in_erp": ("OPEN/PROPOSED", "placed"),
    "assigned": ("OPEN/RESERVED", "assigned"), "picked": ("OPEN/RESERVED", "assigned"),
    "ready_for_pickup": ("OPEN/PREPARED", "ready_for_pickup"), "collected": ("COMPLETED/COMPLETED", "collected"),
    "cancelled": ("CANCELED/CANCELED", "cancelled"),
}  # fmt: skip

_Keyed = namedtuple("_Keyed", "external_id number references")  # what correlate.record_keys reads of a record
_DAYS: dict[int, str] = {}
_CLOCK = [f" {s // HOUR:02d}:{s // MINUTE % 60:02d}:{s % 60:02d}+00" for s in range(DAY)]
_ISO_CLOCK = [f"T{s // HOUR:02d}:{s // MINUTE % 60:02d}:{s % 60:02d}+00:00" for s in range(DAY)]


# --- small pure helpers ----------------------------------------------------------------------------------------
def _day(d: int) -> str:
    text = _DAYS.get(d)
    if text is None:
        text = _DAYS[d] = datetime.fromtimestamp(d * DAY, UTC).strftime("%Y-%m-%d")
    return text


def _ts(t: int | None) -> str:
    """Epoch seconds as COPY text of a timestamptz: two table look-ups, many times cheaper than datetime."""
    if t is None:
        return NULL
    d = t // DAY
    return (_DAYS.get(d) or _day(d)) + _CLOCK[t - d * DAY]


def _iso(t: int) -> str:
    """What ``datetime.isoformat()`` gives for the same UTC instant: event keys embed it."""
    d = t // DAY
    return (_DAYS.get(d) or _day(d)) + _ISO_CLOCK[t - d * DAY]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _fold(text: str) -> str:
    """The name without accents, as someone typing on a plain keyboard writes it (``Zoë Müller`` -> ``Zoe Muller``)."""
    return unicodedata.normalize("NFKD", text.translate(FOLD)).encode("ascii", "ignore").decode()


def _stem(text: str) -> str:
    return "".join(ch for ch in _fold(text).lower() if ch.isalnum())


def _scoped(order_external_id: str, child: str) -> str:
    """As ``orders.ingest.common.scoped``: children are unique within their order in some systems."""
    return f"{order_external_id}:{child}"


def _national(e164: str) -> tuple[str, str, str]:
    return e164[2:5], e164[5:8], e164[8:]


def _phone_unlike_stored(e164: str, i: int) -> str:
    """A phone as a caller reads it out, in a format no system here stores (all normalise to ``e164``)."""
    a, b, c = _national(e164)
    return (f"+1 {a} {b} {c}", f"{a}.{b}.{c}", f"({a}){b}-{c}")[i % 3]


def _name_as_typed(name: str, i: int, rng: random.Random) -> str:
    """Two thirds as written; the rest without accents or, for plain ASCII names, with two letters swapped."""
    if i % 3 != 2:
        return name
    folded = _fold(name)
    if folded != name and folded.strip():
        return folded
    first, _, last = name.partition(" ")
    if not name.isascii() or len(last) < 4:
        return name
    at = 1 + int(rng.random() * (len(last) - 2))
    return f"{first} {last[:at]}{last[at + 1]}{last[at]}{last[at + 2 :]}"


def _sample(rng: random.Random, n: int, queryset, *fields) -> list[tuple]:
    """Up to ``n`` rows of ``queryset`` at seeded random ids, in the order drawn (then the lowest ids, if short)."""
    bounds = queryset.model.objects.order_by("id").values_list("id", flat=True)
    low, high = bounds.first(), bounds.last()
    if low is None:
        return []
    drawn = list(dict.fromkeys(rng.randint(low, high) for _ in range(n * 6)))
    found = {row[0]: row[1:] for row in queryset.filter(id__in=drawn).values_list("id", *fields)}
    rows = [found[i] for i in drawn if i in found][:n]
    if len(rows) < n:
        rest = queryset.exclude(id__in=list(found)).order_by("id").values_list(*fields)[: n - len(rows)]
        rows += [tuple(row) for row in rest]
    return rows


def _sequences_advance(cursor) -> None:
    """Move each table's id sequence past the ids written here, so the app's next insert gets a fresh id."""
    for table in TABLES:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}",  # noqa: S608 (our table names)
            [table],
        )


def _constraints_drop(cursor) -> list[str]:
    """Drop the secondary indexes, unique constraints and foreign keys of TABLES; return the DDL that restores them.

    Loading into tables with only their primary key, then building each index once by
    sorting and checking each foreign key with one join, is much faster than updating a
    dozen indexes and firing a key check per row (pg_restore does the same). It all happens in generate()'s transaction: nobody ever sees
    the tables without them, and a failure rolls the drops back with the rows.
    """
    indexes, uniques, foreign = [], [], []
    for table in TABLES:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname, pg_get_constraintdef(c.oid)"
            " FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid"
            " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary ORDER BY 1",
            [table],
        )
        for index, index_ddl, constraint, constraint_ddl in cursor.fetchall():
            if constraint:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
                uniques.append(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {constraint_ddl}')
            else:
                cursor.execute(f"DROP INDEX {index}")
                indexes.append(
                    index_ddl.replace(" ON ONLY ", " ON ")
                )  # a partitioned table's: rebuilt on every partition
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'"
            " ORDER BY 1",
            [table],
        )
        for constraint, ddl in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
            foreign.append(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {ddl}')
    return [*indexes, *uniques, *foreign]
