"""Bench data: a large retailer written straight into PostgreSQL, for the lookup benchmarks (issue 4).

The sync lands a few thousand records a second, so a million orders through it would
take hours. This module writes the rows the sync *would* have written — same sources,
vendor ids, number formats, correlation keys and timeline event keys — with COPY::

    from tests.bench import benchdata
    benchdata.wipe()
    benchdata.generate(orders=1_000_000, customers=300_000, seed=7)
    benchdata.probes(7)  # identifiers an agent would type, each known to exist

Everything comes from one ``random.Random(seed)`` and the ``now`` given (default: the
current hour), so a seed and a clock give the same rows. Ids are handed out here and
the sequences moved past them afterwards, so the app's own inserts carry on.

Shapes follow the adapters and the sandbox: Shopify numbers ``#1001`` and numeric ids,
Odoo sale orders ``S00042`` naming the web number, Square order ids and four-character
receipts (the start of the payment id), EasyPost trackers ``trk_…`` beside the
storefront's fulfilment of the same parcel, sandbox SKUs, names (some accented or not
Latin) and phones written differently by each system. OrderKey rows come from
:func:`orders.ingest.correlate.record_keys` itself, so a key lookup finds what the app finds;
e-mails go through :func:`orders.catalogue.identity.normalise_email`. Phones are written from
their E.164 form rather than parsed back (``normalise_phone`` costs ~30 µs, 20 s at
this size); the tests check ``normalise_phone`` gives the stored E.164 for every one.
Timeline event keys and wording are those of ``orders/timeline/events.py`` (tests compare them).

Simplified on purpose: no pickings, stock, notes or merges (issue 4 looks up orders and
people), and at most eight timeline events per order (a real sync that watched an order
live writes more status changes) — except one worst-case order with 200.
"""

from __future__ import annotations

import itertools
import queue
import random
import threading
import time
import unicodedata
from collections import namedtuple
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from integrations.demo import SANDBOX_SOURCES
from integrations.models import Source
from integrations.sandbox import catalog
from integrations.sandbox.draws import Draws, choose
from integrations.sandbox.generate import MIX
from integrations.services import source_upsert
from orders import partitions
from orders.catalogue.identity import normalise_email
from orders.ingest.correlate import record_keys
from orders.models import (
    Customer,
    CustomerIdentity,
    Flag,
    Lifecycle,
    Order,
    OrderRecord,
    Payment,
    Shipment,
    Store,
    StoreAlias,
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
        "id", "source_id", "external_id", "synced_at", "content_hash", "order_id", "sku", "name", "quantity",
        "unit_price", "fulfilment_location_id",
    ),
    "orders_payment": (
        "id", "source_id", "external_id", "synced_at", "content_hash", "order_id", "order_external_id", "kind", "status",
        "amount", "currency", "gateway", "card_brand", "card_last4", "receipt_number", "processed_at",
    ),
    "orders_shipment": (
        "id", "source_id", "external_id", "synced_at", "content_hash", "order_id", "carrier", "tracking_number",
        "tracking_url", "raw_status", "status", "line_skus", "shipped_at", "window_start", "window_end",
        "estimated_delivery", "delivered_at", "last_event_at",
    ),
    "orders_trackingevent": ("id", "shipment_id", "source_id", "occurred_at", "status", "message", "location", "synced_at"),
    "orders_return": (
        "id", "source_id", "external_id", "synced_at", "content_hash", "order_id", "status", "line_skus", "amount",
        "requested_at", "received_at", "refunded_at",
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


# --- public API ------------------------------------------------------------------------------------------------
def generate(
    orders: int = 1_000_000, customers: int = 300_000, seed: int = 7, log=print, *, now: datetime | None = None
) -> dict:
    """Fill the empty, migrated database with ``orders`` orders of ``customers`` customers; return counts and seconds.

    ``now`` (default: the current hour) is the clock the data is aged against: orders of
    the last days are still in flight, older ones delivered. Same seed and ``now``, same rows.

    One transaction: the tables it fills are truncated (they must hold no orders or
    customers; pickings, notes and merges pointing at them go too), their secondary
    indexes and foreign keys dropped, the rows COPYed, then indexes and keys rebuilt as
    the migrations made them. A failure leaves the database as it was.
    """
    if orders < 1 or customers < 2:
        raise ValueError("need at least one order and two customers")
    if Order.objects.exists() or Customer.objects.exists():
        raise RuntimeError("the database already has orders or customers: call benchdata.wipe() first")
    started = time.perf_counter()
    now = now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    world = _World(orders=orders, customers=customers, seed=seed, now=int(now.timestamp()))
    phases: dict[str, float] = {}

    def phase(name: str, next_step: str) -> None:
        phases[name] = round(time.perf_counter() - started - sum(phases.values()), 1)
        log(f"benchdata: {name} done at {time.perf_counter() - started:.0f}s; {next_step}")

    timeline_partitioned = partitions.partitioned(TimelineEvent._meta.db_table)
    if timeline_partitioned:  # a partition for every month the events fall in, not the default one
        this_month = partitions.month_start(now)
        months = range(-SPAN // (28 * DAY) - 1, partitions.AHEAD_MONTHS + 1)
        partitions.partitions_ensure(
            TimelineEvent._meta.db_table, [partitions.month_add(this_month, n) for n in months]
        )
    with transaction.atomic(), connection.cursor() as cursor:
        world.setup()
        if timeline_partitioned:  # the events' keys are written in one statement after the COPY, not row by row
            cursor.execute("SELECT set_config(%s, 'on', true)", [partitions.KEYS_BY_CALLER])
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")  # index builds sort in memory
        # Empty already; truncating in this transaction lets COPY FREEZE write rows frozen and all-visible,
        # so the first benchmark query neither rewrites every page (hint bits) nor waits for a VACUUM.
        cursor.execute(f"TRUNCATE {', '.join((*TABLES, *DERIVED_TABLES))} CASCADE")
        rebuild = _constraints_drop(cursor)
        phase("setup", f"{customers:,} customers next")
        copier = _Copier(
            cursor.connection, partitioned={TimelineEvent._meta.db_table} if timeline_partitioned else set()
        )
        try:
            world.write_customers(copier)
            world.write_orders(copier, log=log, started=started)
        finally:
            copier.close()
        phase("rows", "building indexes and foreign keys")
        for statement in rebuild:
            cursor.execute(statement)
        if timeline_partitioned:
            cursor.execute(f"INSERT INTO {partitions.TIMELINE.keys} (key) SELECT key FROM orders_timelineevent")  # noqa: S608
            cursor.execute("SELECT set_config(%s, 'off', true)", [partitions.KEYS_BY_CALLER])
        _sequences_advance(cursor)
        phase("indexes", "analysing")
        cursor.execute("ANALYZE " + ", ".join((*TABLES, *DERIVED_TABLES)))
    phase("analyse", "committed")
    return {
        "counts": dict(copier.counts),
        "seconds": round(time.perf_counter() - started, 1),
        "phases": phases,
        "seed": seed,
        "now": now.isoformat(),
    }


def wipe() -> None:
    """Empty every table generate() fills (and what references them), ids restarting at 1."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join((*TABLES, *DERIVED_TABLES, *SETUP_TABLES))} RESTART IDENTITY CASCADE")


def probes(seed: int = 7, n: int = 200) -> dict[str, list[str]]:
    """What an agent would type to find an order or a person, ``n`` of each kind, each present in the data.

    Kinds: order_number, erp_name, pos_id, email, phone, name, tracking_number,
    receipt_number, loyalty_id, card_last4. See :func:`probe_targets` for the row each finds.
    """
    return {kind: [text for text, _ in pairs] for kind, pairs in probe_targets(seed, n).items()}


def probe_targets(seed: int = 7, n: int = 200) -> dict[str, list[tuple[str, int]]]:
    """Each probe with the id it should find: an order id, or a customer id for email/phone/name/loyalty_id.

    Drawn from the loaded database with a generator seeded by ``seed`` (same data, same
    probes). ``phone`` is written unlike any system wrote it (``+1 212 555 4240``,
    ``212.555.4240``, ``(212)555-4240``); a third of ``name`` lose their accents or carry
    a typo; ``card_last4`` is ``"<customer name> <last four digits>"``.
    """

    rng = random.Random(f"benchdata-probes:{seed}")  # noqa: S311 (bench data, not secrets)
    customers = Customer.objects.all()
    return {
        "order_number": _sample(
            rng, n, OrderRecord.objects.filter(source__name="shopify"), "external_number", "order_id"
        ),
        "erp_name": _sample(rng, n, OrderRecord.objects.filter(source__name="odoo"), "external_number", "order_id"),
        "pos_id": _sample(
            rng, n, OrderRecord.objects.filter(source__name="square", order__channel="store"), "external_id", "order_id"
        ),
        "email": _sample(rng, n, CustomerIdentity.objects.exclude(email=""), "email", "customer_id"),
        "phone": [
            (_phone_unlike_stored(phone, i), cid)
            for i, (phone, cid) in enumerate(_sample(rng, n, customers.exclude(phone=""), "phone", "id"))
        ],
        "name": [
            (_name_as_typed(name, i, rng), cid)
            for i, (name, cid) in enumerate(_sample(rng, n, customers, "name", "id"))
        ],
        "tracking_number": _sample(
            rng, n, Shipment.objects.filter(source__name="shopify"), "tracking_number", "order_id"
        ),
        "receipt_number": _sample(rng, n, Payment.objects.exclude(receipt_number=""), "receipt_number", "order_id"),
        "loyalty_id": _sample(rng, n, customers.exclude(loyalty_id=""), "loyalty_id", "id"),
        "card_last4": [
            (f"{name} {last4}", oid)
            for name, last4, oid in _sample(
                rng,
                n,
                Payment.objects.exclude(card_last4="").filter(order__customer__isnull=False, kind="sale"),
                "order__customer__name",
                "card_last4",
                "order_id",
            )
        ],
    }


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


# --- COPY on a second core ---------------------------------------------------------------------------------------
class _Copier:
    """COPYs each finished round of rows from a thread while the main thread builds the next round.

    Python builds rows on one core and PostgreSQL parses and indexes them on the other;
    psycopg waits on the socket without the GIL, so the two overlap. The thread uses the
    same connection: the main thread does not touch it until :meth:`close`.
    """

    def __init__(self, raw_connection, partitioned=frozenset()):
        self.partitioned = partitioned
        self.raw = raw_connection
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.counts = dict.fromkeys(TABLES, 0)
        self.thread = threading.Thread(target=self._run, name="benchdata-copy", daemon=True)
        self.thread.start()

    def put(self, rows: dict[str, list[str]]) -> None:
        if self.error is not None:
            raise RuntimeError("COPY failed") from self.error
        self.queue.put(rows)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise RuntimeError("COPY failed") from self.error

    def _run(self) -> None:
        while (rows := self.queue.get()) is not None:
            if self.error is not None:
                continue  # drain, so put() never blocks forever
            try:
                self._copy(rows)
            except BaseException as exc:  # re-raised in the main thread by put() or close()
                self.error = exc

    def _copy(self, rows: dict[str, list[str]]) -> None:
        for table, columns in TABLES.items():
            lines = rows.get(table)
            if not lines:
                continue
            self.counts[table] += len(lines)
            quoted = ", ".join(f'"{c}"' for c in columns)
            freeze = "" if table in self.partitioned else " (FREEZE)"  # PostgreSQL cannot freeze into partitions
            statement = f"COPY {table} ({quoted}) FROM STDIN{freeze}"  # noqa: S608 (our table names)
            with self.raw.cursor() as cursor, cursor.copy(statement) as copy:
                copy.write("".join(lines))


# --- the world -----------------------------------------------------------------------------------------------------
class _O:
    """One order while it is being written: what its records, payments, shipments and events must agree on."""

    __slots__ = (
        "id", "kind", "channel", "customer", "store", "placed", "steps", "status", "cancel", "number", "ext",
        "total", "lines", "card", "events", "extras", "ship", "worst", "ret", "updated", "promised", "keyed", "email",
        "phone",
    )  # fmt: skip


class _World(Draws):
    """The seeded generator: sets up places and sources with the ORM, then streams customers and orders to COPY."""

    def __init__(self, *, orders: int, customers: int, seed: int, now: int):
        self.n_orders, self.n_customers, self.now = orders, customers, now
        self.rng = random.Random(seed)  # noqa: S311 (bench data, not secrets)
        self.random = self.rng.random
        self.now_ts = _ts(now)
        self.start = now - SPAN
        # ids handed out here, from 1: generate() has just emptied the tables (see _sequences_advance)
        self.id = {table: itertools.count(1).__next__ for table in TABLES}
        self.products = _catalogue()
        self.small = [p for p in self.products if not p[3]]
        self.big = [p for p in self.products if p[3]]
        self.receipts: set[str] = set()
        self.tracking: set[str] = set()
        self.web = self.so = 0
        # the whale: one customer with ~200 orders (every stride-th order), one of them the worst-case screen
        self.whale_orders = min(200, max(1, orders // 20))
        self.stride = orders // self.whale_orders
        self.worst_index = self.stride * (self.whale_orders // 2)

    def digest(self) -> str:
        """A content hash's shape (the sync stores the SHA-256 of each record), so rows are the real width."""
        return f"{self.rng.getrandbits(256):064x}"

    # --- setup with the ORM: a handful of rows ---------------------------------------------------------------------
    def setup(self) -> None:
        """Sources (as the demo registers them) and stores with each system's id for them."""
        self.sources = _sources_ensure(self.now)
        self.S, self.Q, self.O, self.H, self.E = (
            self.sources[n].pk for n in ("shopify", "square", "odoo", "hubspot", "easypost")
        )
        self.source_of = {s.pk: s for s in self.sources.values()}
        self.names = {s.pk: s.name for s in self.sources.values()}
        self.stores = self._stores_ensure()
        self.shops = [s for s in self.stores if s["kind"] == "store"]
        self.warehouse = next(s for s in self.stores if s["code"] == catalog.WAREHOUSE)

    def _stores_ensure(self) -> list[dict]:
        """The sandbox's places plus five stores further west; Shopify, Square and Odoo ids for each."""
        out = []
        for idx, (code, name, kind, tz, street, city, state, zip_code, _phone, odoo_code) in enumerate(
            (*catalog.PLACES, *EXTRA_PLACES)
        ):
            store, _ = Store.objects.update_or_create(
                code=code,
                defaults={
                    "name": name,
                    "kind": kind,
                    "timezone": tz,
                    "address": f"{street}, {city}, {state} {zip_code}",
                },
            )
            aliases = {self.S: str(70_000_000_000 + idx * 1_000_000_000 + self.u(0, 999_999_999)), self.O: str(idx + 1)}
            if kind == "store":
                aliases[self.Q] = "L8X" + self.token(10, upper=True)
            for source_id, external_id in aliases.items():
                StoreAlias.objects.update_or_create(
                    source_id=source_id, external_id=external_id, defaults={"store": store}
                )
            offset = int(ZoneInfo(tz).utcoffset(datetime(2025, 1, 15)).total_seconds())  # noqa: DTZ001 (a naive local date)
            out.append({"id": store.pk, "code": code, "kind": kind, "offset": offset, "odoo": odoo_code,
                        "place": (city.upper(), state, zip_code)})  # fmt: skip
        return out

    # --- customers ---------------------------------------------------------------------------------------------------
    def write_customers(self, copier: _Copier) -> None:
        """Customers and 1–3 identities each (Shopify, Square, HubSpot), each system writing e-mail and phone its way."""
        self.c_email: list[str] = []
        self.c_written: list[str] = []  # the e-mail as the customer types it at the storefront
        self.c_phone: list[str] = []
        self.c_place: list[tuple[str, str, str]] = []
        self.first_customer = 1
        self.serial = {"shopify": 0, "hubspot": 0}
        used_emails: dict[str, int] = {}
        used_phones: set[str] = set()
        loyalty = iter(self.rng.sample(range(1_000_000, 9_999_999), k=self.n_customers))
        for start in range(0, self.n_customers, CHUNK * 2):
            rows = {"orders_customer": [], "orders_customeridentity": []}
            for _ in range(start, min(self.n_customers, start + CHUNK * 2)):
                self._customer(rows, used_emails, used_phones, next(loyalty))
            copier.put(rows)

    def _customer(self, rows, used_emails: dict[str, int], used_phones: set[str], loyalty_number: int) -> None:
        name, stem = self._person_name()
        seen = used_emails.get(stem, 0)
        used_emails[stem] = seen + 1
        email = f"{stem}{seen + 1 if seen else ''}@{self.pick(catalog.EMAIL_DOMAINS)}"
        city, _state, _zip, areas = self.pick(catalog.CITIES)
        phone = ""
        if self.random() < 0.9:
            while phone in used_phones or not phone:
                phone = f"+1{self.pick(areas if self.random() < 0.7 else AREA_CODES)}{self.u(201, 999)}{self.u(0, 10000):04d}"
            used_phones.add(phone)
        loyalty_id = f"LY{loyalty_number}" if self.random() < 0.5 else ""
        created = self.start - self.u(0, 365 * DAY)
        cid = self.id["orders_customer"]()
        self.c_email.append(email)
        self.c_written.append(self.variant_email(email, 0.2))
        self.c_phone.append(phone)
        self.c_place.append((city.upper(), _state, _zip))
        rows["orders_customer"].append(
            f"{cid}\t{name}\t{email}\t{phone}\t{loyalty_id}\t{_ts(created)}\t{_ts(created + self.u(0, SPAN))}\n"
        )
        for source_id, external_id, written_name, written_email, written_phone, written_loyalty in self._identities(
            name, email, phone, loyalty_id
        ):
            rows["orders_customeridentity"].append(
                f"{self.id['orders_customeridentity']()}\t{source_id}\t{external_id}\t{self.now_ts}\t{self.digest()}\t"
                f"{cid}\t{written_name}\t{written_email}\t{normalise_email(written_email)}\t{written_phone}\t"
                f"{phone if written_phone else ''}\t{written_loyalty}\t{_ts(created + self.u(0, SPAN))}\t{_ts(created)}\n"
            )

    def _person_name(self) -> tuple[str, str]:
        """A display name and the e-mail stem its owner picked (``Zoë Müller`` -> ``zoe.muller``)."""
        if self.random() < 0.004:
            return self.pick(catalog.NON_LATIN_NAMES)
        first, last = self.pick(FIRST_NAMES), self.pick(LAST_NAMES)
        return f"{first} {last}", f"{_stem(first)}.{_stem(last)}"

    def _identities(self, name: str, email: str, phone: str, loyalty_id: str) -> list[tuple]:
        """Which systems know this person and how each wrote them: Shopify E.164 or dashed, Square ``+1-…``, HubSpot ``(…)``."""
        a, b, c = _national(phone) if phone else ("", "", "")
        out = []
        has = (self.random() < 0.7, self.random() < 0.4, self.random() < 0.75)
        if not any(has):
            has = (False, False, True)
        if has[0]:
            self.serial["shopify"] += 1
            written = (phone if self.random() < 0.6 else f"{a}-{b}-{c}") if phone and self.random() < 0.8 else ""
            external_id = str(7_100_000_000_000 + self.serial["shopify"] * 1000 + self.u(0, 1000))
            out.append((self.S, external_id, name, self.variant_email(email, 0.2), written, loyalty_id))
        if has[1]:
            written_name = _fold(name) if self.random() < 0.3 else name
            written_email = self.variant_email(email, 0.4) if self.random() < 0.8 else ""
            written = f"+1-{a}-{b}-{c}" if phone else ""
            out.append((self.Q, self.token(26, upper=True), written_name, written_email, written, loyalty_id))
        if has[2]:
            self.serial["hubspot"] += 1
            written = f"({a}) {b}-{c}" if phone and self.random() < 0.9 else ""
            external_id = str(51_000 + self.serial["hubspot"] * 3 + self.u(0, 3))
            out.append((self.H, external_id, name, email, written, loyalty_id))
        return out

    # --- orders ------------------------------------------------------------------------------------------------------
    def write_orders(self, copier: _Copier, *, log, started: float) -> None:
        """Orders in placement order (so Shopify and Odoo numbers rise with time), CHUNK at a time."""
        report = max(CHUNK, (self.n_orders // 10) // CHUNK * CHUNK)
        for first in range(0, self.n_orders, CHUNK):
            self.rows = {table: [] for table in TABLES if table not in ("orders_customer", "orders_customeridentity")}
            for i in range(first, min(self.n_orders, first + CHUNK)):
                self._order(i)
            copier.put(self.rows)
            done = min(self.n_orders, first + CHUNK)
            if done % report == 0 or done == self.n_orders:
                log(f"benchdata: {done:,} orders at {time.perf_counter() - started:.0f}s")

    def _order(self, i: int) -> None:
        o = self._order_plan(i)
        self._order_facts(o)
        self._order_row(o)
        self._events_flush(o)

    def _order_plan(self, i: int) -> _O:
        """Kind, customer, place and time of order ``i``, and the stages it has reached by ``now``."""
        o = _O()
        o.worst = i == self.worst_index
        o.kind = "ship" if o.worst else choose(MIX, self.random())
        o.channel = "store" if o.kind == "carry_out" else "web"
        o.placed = self.start + int((i + self.random()) * SPAN / self.n_orders)
        o.store = self.pick(self.shops) if o.kind in ("carry_out", "pickup") else None
        if o.kind == "carry_out":  # a sale at the counter: between 9:00 and 21:00 local
            local_day = (o.placed + o.store["offset"]) // DAY * DAY - o.store["offset"]
            o.placed = min(self.now - MINUTE, local_day + 9 * HOUR + self.u(0, 12 * HOUR))
        o.placed = min(o.placed, self.now - MINUTE)
        if i % self.stride == 0 and i // self.stride < self.whale_orders:
            o.customer = 0
        elif o.kind == "carry_out" and self.random() < 0.3:
            o.customer = None  # an anonymous sale
        else:
            o.customer = 1 + int((self.n_customers - 1) * self.random() ** 1.5)  # skewed: a few customers buy a lot
        o.id = self.id["orders_order"]()
        o.events, o.extras, o.ship, o.ret, o.cancel, o.promised = [], [], None, None, None, None
        o.lines = self._lines(o.kind)
        o.total = sum(q * cents for _, _, q, cents in o.lines) + {"ship": 599, "delivery": 4900}.get(o.kind, 0)
        o.card = (
            None if o.kind == "carry_out" and self.random() < 0.2 else (self.pick(CARDS), f"{self.u(0, 10000):04d}")
        )
        o.steps = self._stages(o)
        o.status = o.steps[-1][1]
        o.updated = o.steps[-1][0]
        return o

    def _lines(self, kind: str) -> list[tuple[str, str, int, int]]:
        """(sku, name, quantity, unit price in cents): 1–4 small items, or an appliance for scheduled delivery."""
        if kind == "delivery":
            chosen = [self.pick(self.big)] + ([self.pick(self.small)] if self.random() < 0.3 else [])
        else:
            chosen = [self.pick(self.small) for _ in range(self.u(1, 4 if kind == "pickup" else 5))]
        out = []
        for sku, name, cents, _big in chosen:
            roll = self.random()
            out.append((sku, name, 1 if roll < 0.85 else 2 if roll < 0.97 else 3, cents))
        return out

    def _stages(self, o: _O) -> list[tuple[int, str]]:
        """The lifecycle steps ``(time, status)`` reached by ``now``, last one the order's status."""
        p, u = o.placed, self.u
        if o.kind == "carry_out":
            return [(p, "placed"), (p, "paid"), (p, "collected")]
        if p > self.now - 2 * HOUR and self.random() < 0.1:
            return [(p, "placed")]  # payment still pending
        paid = p + u(30, 300)
        erp = paid + u(2 * MINUTE, 20 * MINUTE)
        assigned = erp + u(10 * MINUTE, 90 * MINUTE)
        picked = assigned + u(30 * MINUTE, 6 * HOUR)
        plan = [(p, "placed"), (paid, "paid"), (erp, "in_erp"), (assigned, "assigned"), (picked, "picked")]
        if o.kind == "pickup":
            ready = picked + u(30 * MINUTE, 3 * HOUR)
            o.promised = p + DAY
            plan += [(ready, "ready_for_pickup"), (ready + u(2 * HOUR, 5 * DAY), "collected")]
            cut = ready
        else:
            packed = picked + u(20 * MINUTE, 90 * MINUTE)
            plan.append((packed, "packed"))
            o.ship = self._transit(o, packed)
            plan += o.ship["stages"]
            cut = o.ship["handed"]
        if not o.worst and self.random() < CANCEL_RATE:
            cancel = p + u(HOUR, 30 * HOUR)
            if cancel < cut:
                o.ship, o.cancel = None, cancel
                plan = [step for step in plan if step[0] < cancel] + [(cancel, "cancelled")]
        elif o.kind == "ship" and not o.worst and self.random() < RETURN_RATE:
            delivered = plan[-1][0]
            requested = delivered + u(2 * DAY, 20 * DAY)
            received = requested + u(3 * DAY, 7 * DAY)
            o.ret = (requested, received, received + u(DAY, 3 * DAY))
            plan += [(requested, "return_requested"), (received, "returned"), (o.ret[2], "refunded")]
        return [step for step in plan if step[0] <= self.now]

    def _transit(self, o: _O, packed: int) -> dict:
        """The parcel's carrier, scans and stages: a label at packing, the carrier's scans until delivery."""
        u, now = self.u, self.now
        origin, dest = self.warehouse["place"], self._destination(o)
        if o.kind == "delivery":
            carrier = catalog.DELIVERY_CARRIER
            window = packed + u(3 * DAY, 10 * DAY)
            window = window // HOUR * HOUR
            o.promised = window + 4 * HOUR
            handed = window - 2 * HOUR
            delivered = window + u(10 * MINUTE, 4 * HOUR)
            scans = [
                (packed, "pre_transit", "status_update", "Shipping label created, carrier notified", origin),
                (handed, "pre_transit", "status_update", "Loaded for scheduled delivery", origin),
                (window, "out_for_delivery", "out_for_delivery", "Out for delivery", dest),
                (delivered, "delivered", "arrived_at_destination", "Delivered, left at front door", dest),
            ]
            stages = [(handed, "handed_to_carrier"), (window, "out_for_delivery"), (delivered, "delivered")]
            return {"carrier": carrier, "handed": handed, "scans": scans, "stages": stages,
                    "window": (window, window + 4 * HOUR), "est": window + 4 * HOUR}  # fmt: skip
        carrier = self.pick(catalog.SHIP_CARRIERS)
        hubs = catalog.CARRIERS[carrier][2]
        express = self.random() < 0.25
        o.promised = packed + (2 if express else 5) * DAY
        handed = packed + u(HOUR, 6 * HOUR)
        t = handed + u(4 * HOUR, 12 * HOUR)
        scans = [
            (packed, "pre_transit", "status_update", "Shipping label created, carrier notified", origin),
            (handed, "pre_transit", "status_update", "Picked up by carrier", origin),
            (t, "in_transit", "arrived_at_facility", "Arrived at origin facility", _place(hubs[0])),
        ]
        first_transit = t
        hops = WORST_SCANS - 5 if o.worst else 2
        for hop in range(hops):
            t += u(3 * HOUR, 6 * HOUR) if o.worst else u(8 * HOUR, 30 * HOUR)
            message = "Departed facility" if hop % 2 == 0 else "Arrived at regional facility"
            scans.append((t, "in_transit", "departed_facility", message, _place(hubs[1 + hop % (len(hubs) - 1)])))
        out_at = t + u(6 * HOUR, 30 * HOUR)
        delivered = out_at + u(HOUR, 8 * HOUR)
        scans += [
            (out_at, "out_for_delivery", "out_for_delivery", "Out for delivery", dest),
            (delivered, "delivered", "arrived_at_destination", "Delivered, left at front door", dest),
        ]
        stages = [(handed, "handed_to_carrier"), (first_transit, "in_transit"), (out_at, "out_for_delivery"),
                  (delivered, "delivered")]  # fmt: skip
        return {"carrier": carrier, "handed": handed, "scans": scans, "stages": stages, "window": None,
                "est": (delivered // HOUR + 1) * HOUR if delivered <= now else (out_at // HOUR + 8) * HOUR}  # fmt: skip

    def _destination(self, o: _O) -> tuple[str, str, str]:
        if o.customer is None:
            return self.warehouse["place"]
        return self.c_place[o.customer]

    # --- one order's rows ----------------------------------------------------------------------------------------
    def _order_facts(self, o: _O) -> None:
        """Records, keys, lines, payments, shipments, returns and flags of the order, with their timeline events."""
        if o.channel == "store":
            self._pos_sale(o)
        else:
            self._web_order(o)
        keys: set[str] = set()
        for source_id, external_id, number, references in o.keyed:
            keys |= record_keys(self.source_of[source_id], _Keyed(external_id, number, references))
        for key in sorted(keys):
            self.rows["orders_orderkey"].append(f"{self.id['orders_orderkey']()}\t{key}\t{o.id}\n")
        if not o.worst and self.random() < FLAG_RATE:
            self._flags(o)

    def _pos_sale(self, o: _O) -> None:
        """A sale at the till, as Square reports it: order id, receipt (first four of the payment id), lines, tender."""
        while True:
            payment_id = self.token(25) + "ZY"
            if payment_id[:4] not in self.receipts:
                break
        receipt = payment_id[:4]
        self.receipts.add(receipt)
        o.ext = self.token(27) + "B"
        o.number = receipt
        o.keyed = [(self.Q, o.ext, receipt, [])]
        self._record(o, self.Q, o.ext, receipt, "[]", "COMPLETED", "collected", o.placed, o.placed)
        self._first_sight(o, self.Q, o.ext, receipt, "COMPLETED", "collected", o.placed, origin=True)
        stem = self.token(19)
        self._order_lines(o, self.Q, o.ext, [f"{stem}{n:03d}" for n in range(len(o.lines))])
        card, last4 = (o.card[0][1], o.card[1]) if o.card else ("", "")
        self._payment(o, self.Q, o.ext, payment_id, "sale", "success", o.total, "card" if o.card else "cash", card, last4,
                      receipt, o.placed)  # fmt: skip
        refunded = o.placed + self.u(DAY, 20 * DAY)
        if self.random() < POS_REFUND_RATE and refunded <= self.now:  # one item brought back to the store
            self._payment(o, self.Q, o.ext, self.token(25) + "RF", "refund", "success", o.lines[0][3],
                          "card" if o.card else "cash", card, last4, "", refunded)  # fmt: skip

    def _web_order(self, o: _O) -> None:
        """A storefront order as Shopify, Odoo (and Square, for a pickup) report it: payment, parcel, return."""
        self.web += 1
        o.number = f"#{1000 + self.web}"
        o.ext = str(5_900_000_000_000 + self.web * 1000 + self.u(0, 1000))
        guest = self.random() < 0.15
        o.email = self.variant_email(self.c_email[o.customer], 0.3) if guest else self.c_written[o.customer]
        phone = self.c_phone[o.customer]
        o.phone = phone if phone and self.random() < 0.4 else ""
        reached = {status: t for t, status in o.steps}
        view = SHOPIFY_VIEW.get(o.status, o.status)
        shop_updated = max(t for t, status in o.steps if status not in SHOPIFY_VIEW)
        raw = self._shopify_raw(o)
        o.keyed = [(self.S, o.ext, o.number, [])]
        self._record(o, self.S, o.ext, o.number, "[]", raw, view, shop_updated, o.placed)
        self._first_sight(o, self.S, o.ext, o.number, raw, view, shop_updated, origin=True)
        first_line = 15_000_000_000_000 + self.web * 100 + self.u(0, 50)
        self._order_lines(o, self.S, o.ext, [str(first_line + n * 7) for n in range(len(o.lines))])
        txn = 6_300_000_000_000 + self.web * 1000 + self.u(0, 500)
        brand, last4 = o.card[0][0], o.card[1]
        paid = reached.get("paid")
        self._payment(o, self.S, o.ext, str(txn), "sale", "success" if paid else "pending", o.total, "shopify_payments",
                      brand, last4, "", paid or o.placed)  # fmt: skip
        if o.cancel is not None and paid:
            self._payment(o, self.S, o.ext, str(txn + 2), "refund", "success", o.total, "shopify_payments", brand,
                          last4, "", o.cancel)  # fmt: skip
        self._erp_record(o, reached.get("in_erp"))
        if o.kind == "pickup" and "in_erp" in reached:
            self._square_mirror(o, reached["in_erp"])
        if o.ret is not None and o.ret[0] <= self.now:
            self._return(o, txn, brand, last4)
        if o.ship is not None and o.ship["handed"] <= self.now:
            self._shipments(o)

    def _shopify_raw(self, o: _O) -> str:
        """Shopify's ``financial_status/fulfillment_status`` (``/cancelled``), as the adapter keeps it."""
        if o.status == "placed":
            return "pending/unfulfilled"
        if o.cancel is not None:
            return "refunded/unfulfilled/cancelled"
        financial = {"refunded": "partially_refunded"}.get(o.status, "paid")
        handed = o.ship is not None and o.ship["handed"] <= self.now
        return f"{financial}/{'fulfilled' if handed or o.status == 'collected' else 'unfulfilled'}"

    def _erp_record(self, o: _O, erp_at: int | None) -> None:
        """Odoo's sale order ``S00042`` naming the web number (client_order_ref): a draft while unpaid."""
        if erp_at is None and o.status != "placed":
            return
        self.so += 1
        external_id, name = str(self.so), f"S{self.so:05d}"
        if o.status == "placed":
            raw, status, updated = "draft", "placed", o.placed
        elif o.cancel is not None:
            raw, status, updated = "cancel", "cancelled", o.cancel
        else:
            raw, status, updated = "sale", "in_erp", erp_at
        o.keyed.append((self.O, external_id, name, [o.number]))
        first = erp_at or o.placed
        self._record(o, self.O, external_id, name, f'["{o.number}"]', raw, status, updated, first)
        self._first_sight(o, self.O, external_id, name, raw, status, updated, origin=False, seen_at=first)

    def _square_mirror(self, o: _O, since: int) -> None:
        """The POS's copy of a web pickup order: no receipt (paid online), the web number as its reference."""
        external_id = self.token(27) + "B"
        raw, status = SQUARE_MIRROR[o.status]
        o.keyed.append((self.Q, external_id, o.number, [o.number]))
        updated = max(since, o.updated) if status != "placed" else since
        self._record(o, self.Q, external_id, o.number, f'["{o.number}"]', raw, status, updated, since)
        self._first_sight(o, self.Q, external_id, o.number, raw, status, updated, origin=False, seen_at=since)

    def _record(self, o: _O, source_id: int, external_id: str, number: str, references: str, raw: str, status: str,
                updated: int, first_seen: int) -> None:  # fmt: skip
        self.rows["orders_orderrecord"].append(
            f"{self.id['orders_orderrecord']()}\t{source_id}\t{external_id}\t{self.now_ts}\t{self.digest()}\t{o.id}\t"
            f"{number}\t{references}\t{raw}\t{status}\t{_ts(updated)}\t{_ts(first_seen)}\t{{}}\n"
        )  # fields: the generated orders are written whole, never derived by precedence

    def _order_lines(self, o: _O, source_id: int, order_external_id: str, line_ids: list[str]) -> None:
        location = (o.store or self.warehouse)["id"]
        out = self.rows["orders_orderline"]
        for line_id, (sku, name, quantity, cents) in zip(line_ids, o.lines, strict=True):
            out.append(
                f"{self.id['orders_orderline']()}\t{source_id}\t{order_external_id}:{line_id}\t{self.now_ts}\t\t{o.id}\t"
                f"{sku}\t{name}\t{quantity}\t{_money(cents)}\t{location}\n"
            )

    def _payment(self, o: _O, source_id: int, order_external_id: str, payment_id: str, kind: str, status: str,
                 cents: int, gateway: str, brand: str, last4: str, receipt: str, at: int) -> None:  # fmt: skip
        """A payment row and its event (``orders.timeline.events.payment_recorded``'s key and wording)."""
        external_id = _scoped(order_external_id, payment_id)
        amount = _money(cents)
        self.rows["orders_payment"].append(
            f"{self.id['orders_payment']()}\t{source_id}\t{external_id}\t{self.now_ts}\t\t{o.id}\t{order_external_id}\t"
            f"{kind}\t{status}\t{amount}\tUSD\t{gateway}\t{brand}\t{last4}\t{receipt}\t{_ts(at)}\n"
        )
        card = f"{brand} ····{last4}".strip() if last4 else brand
        verb = {"authorization": "authorised", "capture": "captured", "sale": "paid", "refund": "refunded"}[kind]
        summary = (
            f"{amount} USD {verb}" + (f" ({card})" if card else "") + ("" if status == "success" else f" — {status}")
        )
        o.events.append(
            self._event_text(
                f"{source_id}:payment:{external_id}:{status}", Kind.REFUND if kind == "refund" else Kind.PAYMENT, at,
                summary, o, source_id, f'{{"kind": "{kind}", "status": "{status}", "amount": "{amount}"}}',
                f"payment:{source_id}:{external_id}",
            )
        )  # fmt: skip

    def _return(self, o: _O, txn: int, brand: str, last4: str) -> None:
        """A storefront refund of the first line: requested, received by the warehouse, refunded."""
        requested, received, refunded = (t if t <= self.now else None for t in o.ret)
        status = "refunded" if refunded else "received" if received else "requested"
        sku, _name, quantity, cents = o.lines[0]
        external_id = _scoped(o.ext, str(1_050_000_000_000 + self.web * 1000 + self.u(0, 1000)))
        amount = _money(quantity * cents)
        self.rows["orders_return"].append(
            f"{self.id['orders_return']()}\t{self.S}\t{external_id}\t{self.now_ts}\t\t{o.id}\t{status}\t"
            f'["{sku}"]\t{amount}\t{_ts(requested)}\t{_ts(received)}\t{_ts(refunded)}\n'
        )
        o.events.append(
            self._event_text(f"{self.S}:return:{external_id}:{status}", Kind.RETURN, refunded or received or requested,
                             f"Return {status} ({amount})", o, self.S, f'{{"status": "{status}"}}')
        )  # fmt: skip
        if refunded:
            self._payment(o, self.S, o.ext, str(txn + 3), "refund", "success", quantity * cents, "shopify_payments",
                          brand, last4, "", refunded)  # fmt: skip

    def _shipments(self, o: _O) -> None:
        """The parcel twice, as the sync has it: Shopify's fulfilment and EasyPost's tracker with the carrier scans."""
        ship, now = o.ship, self.now
        carrier = ship["carrier"]
        code = self._tracking_code(carrier)
        visible = [scan for scan in ship["scans"] if scan[0] <= now]
        if o.worst:
            kept = visible
        else:
            room = MAX_EVENTS - len(o.events) - 1
            want = max(2, min(self.u(2, 7), room))
            kept = visible if len(visible) <= want else [visible[0], *visible[len(visible) - want + 1 :]]
        last = kept[-1]
        status = SCAN_STATUS[last[1]]
        delivered = last[0] if status == "delivered" else None
        window_start, window_end = ship["window"] or (None, None)
        skus = ", ".join(f'"{line[0]}"' for line in o.lines)
        fulfilment = _scoped(o.ext, str(4_700_000_000_000 + self.web * 1000 + self.u(0, 1000)))
        url = catalog.CARRIERS[carrier][0].format(code=code)
        shipments = self.rows["orders_shipment"]
        shipments.append(
            f"{self.id['orders_shipment']()}\t{self.S}\t{fulfilment}\t{self.now_ts}\t\t{o.id}\t{carrier}\t{code}\t{url}\t"
            f"{SHOPIFY_FULFILMENT[status]}\t{status}\t[{skus}]\t{_ts(ship['handed'])}\t{_ts(window_start)}\t"
            f"{_ts(window_end)}\t{_ts(ship['est'])}\t{_ts(delivered)}\t{NULL}\n"
        )
        o.events.append(
            self._event_text(
                f"{self.S}:shipment:{fulfilment}:created", Kind.SHIPMENT_CREATED, ship["handed"],
                f"Handed to {carrier}, tracking {code}", o, self.S,
                f'{{"carrier": "{carrier}", "tracking_number": "{code}"}}', f"shipment:{self.S}:{fulfilment}",
            )
        )  # fmt: skip
        tracker = f"trk_{self.rng.getrandbits(128):032x}"
        shipment_id = self.id["orders_shipment"]()
        moving = next((scan[0] for scan in kept if scan[1] != "pre_transit"), None)
        shipments.append(
            f"{shipment_id}\t{self.E}\t{tracker}\t{self.now_ts}\t{self.digest()}\t{o.id}\t{carrier}\t{code}\t"
            f"https://track.easypost.com/{self.token(48)}\t{last[1]}/{last[2]}\t{status}\t[]\t{_ts(moving)}\t"
            f"{_ts(window_start)}\t{_ts(window_end)}\t{_ts(ship['est'])}\t{_ts(delivered)}\t{_ts(last[0])}\n"
        )
        self._scans(o, tracker, shipment_id, kept)

    def _scans(self, o: _O, tracker: str, shipment_id: int, scans: list[tuple]) -> None:
        """TrackingEvents of the tracker and their events (``orders.timeline.events.tracking_scanned``: no customer)."""
        out, E = self.rows["orders_trackingevent"], self.E
        for t, status, _detail, message, place in scans:
            where = f"{place[0]}, {place[1]} {place[2]}, US"
            out.append(
                f"{self.id['orders_trackingevent']()}\t{shipment_id}\t{E}\t{_ts(t)}\t{status}\t{message}\t{where}\t"
                f"{self.now_ts}\n"
            )
            o.events.append(
                f"{E}:scan:{tracker}:{_iso(t)}:{status}\t{o.id}\t{NULL}\t{Kind.TRACKING_SCAN}\t{_ts(t)}\t{E}\t{NULL}\t"
                f'{message} — {where}\tshipment:{E}:{tracker}\t{{"status": "{status}"}}\t{self.now_ts}\n'
            )

    def _tracking_code(self, carrier: str) -> str:
        """UPS ``1Z…``, USPS ``9400…`` (22 digits), FedEx 12 digits; never the same twice."""
        while True:
            if carrier == "UPS":
                code = f"1Z{self.token(6, upper=True)}03{self.u(0, 10**8):08d}"
            elif carrier == "USPS":
                code = f"9400{self.rng.getrandbits(64) % 10**18:018d}"
            else:
                code = str(self.u(10**11, 10**12))
            if code not in self.tracking:
                self.tracking.add(code)
                return code

    def _flags(self, o: _O) -> None:
        """A detected breakdown fitting the order's kind: closed once the order is done; now and then an earlier one."""
        codes = FLAG_CODES[o.kind] + (("return_not_refunded",) if o.ret is not None and o.status != "cancelled" else ())
        code = self.pick(codes)
        opened = min(self.now - MINUTE, o.placed + self.u(HOUR, 2 * DAY))
        spans = []
        if self.random() < 0.2 and opened + 2 * DAY < self.now:  # flagged before, cleared, then again
            spans.append((opened, opened + self.u(HOUR, DAY)))
            opened = spans[-1][1] + self.u(HOUR, DAY)
        closed = opened + self.u(HOUR, 3 * DAY) if o.status in TERMINAL else None
        spans.append((opened, closed if closed is not None and closed <= self.now else None))
        label = FLAG_LABELS[code]
        for opened_at, closed_at in spans:
            flag_id = self.id["orders_flag"]()
            self.rows["orders_flag"].append(
                f"{flag_id}\t{o.id}\t{code}\t{_ts(opened_at)}\t{_ts(closed_at)}\t{FLAG_DETAIL[code]}\t"
                f'{{"rule": "{code}", "order_status": "{o.status}"}}\n'
            )
            data = f'{{"flag": {flag_id}, "code": "{code}"}}'
            o.extras.append(
                self._event_text(f"flag:{flag_id}:opened", Kind.FLAG_OPENED, opened_at, f"Flag opened: {label}", o,
                                 None, data)
            )  # fmt: skip
            if closed_at is not None:
                o.extras.append(
                    self._event_text(f"flag:{flag_id}:closed", Kind.FLAG_CLOSED, closed_at, f"Flag closed: {label}",
                                     o, None, data)
                )  # fmt: skip

    # --- the order row and its timeline ---------------------------------------------------------------------------
    def _first_sight(self, o: _O, source_id: int, external_id: str, number: str, raw: str, status: str, updated: int,
                     *, origin: bool, seen_at: int | None = None) -> None:  # fmt: skip
        """What ingest writes when a system first reports the order: placed (origin) or seen, then its status.

        The origin's "placed" is always kept; "seen" and status events are filled in while the order has room.
        """
        name = self.names[source_id]
        if origin:
            where = "in store" if o.channel == "store" else "online"
            o.events.append(
                self._event_text(
                    f"{source_id}:order:{external_id}:placed", Kind.ORDER_PLACED, o.placed,
                    f"Order {number} placed {where} ({_money(o.total)} USD)", o, source_id,
                    f'{{"number": "{number}", "channel": "{o.channel}"}}',
                )
            )  # fmt: skip
        else:
            o.extras.append(
                self._event_text(
                    f"{source_id}:order:{external_id}:seen", Kind.SEEN_BY_SYSTEM, seen_at,
                    f"{name} has the order as {number or external_id} ({LABELS[status]})", o, source_id,
                    f'{{"external_id": "{external_id}", "external_number": "{number}"}}',
                )
            )  # fmt: skip
        if status != "placed":
            o.extras.append(
                self._event_text(
                    f"{source_id}:order:{external_id}:status:{status}:{_iso(updated)}", Kind.STATUS_CHANGED, updated,
                    f"{name}: {LABELS[status]}" + (f" ({raw})" if raw else ""), o, source_id,
                    f'{{"from": null, "to": "{status}", "raw_status": "{raw}"}}',
                )
            )  # fmt: skip

    def _event_text(self, key: str, kind: str, at: int, summary: str, o: _O, source_id: int | None, data: str,
                    subject: str = "") -> str:  # fmt: skip
        """A TimelineEvent row without its id (ids are given once the order's events are chosen)."""
        customer = NULL if o.customer is None else self.first_customer + o.customer
        source = NULL if source_id is None else source_id
        return (
            f"{key}\t{o.id}\t{customer}\t{kind}\t{_ts(at)}\t{source}\t{NULL}\t{summary}\t{subject}\t{data}\t"
            f"{self.now_ts}\n"
        )

    def _order_row(self, o: _O) -> None:
        if o.channel == "store":
            o.email = o.phone = ""
        customer = NULL if o.customer is None else self.first_customer + o.customer
        store = NULL if o.store is None else o.store["id"]
        origin = self.Q if o.channel == "store" else self.S
        self.rows["orders_order"].append(
            f"{o.id}\t{o.number}\t{customer}\t{origin}\t{o.channel}\t{o.kind}\t{store}\t{o.status}\t{_ts(o.placed)}\t"
            f"{_ts(o.promised)}\tUSD\t{_money(o.total)}\t{o.email}\t{o.phone}\t{_ts(o.cancel)}\t{_ts(o.placed)}\t"
            f"{_ts(o.updated)}\n"
        )

    def _events_flush(self, o: _O) -> None:
        """Every fact's event (carrier scans, payments, placed) plus the optional ones that fit in MAX_EVENTS."""
        chosen = o.events + (o.extras if o.worst else o.extras[: max(0, MAX_EVENTS - len(o.events))])
        out = self.rows["orders_timelineevent"]
        for text in chosen:
            out.append(f"{self.id['orders_timelineevent']()}\t{text}")


def _place(hub: tuple[str, str, str]) -> tuple[str, str, str]:
    city, state, zip_code = hub
    return city.upper(), state, zip_code


def _catalogue() -> list[tuple[str, str, int, bool]]:
    """The sandbox's products (sku, name, web price in cents, big), so bench SKUs are the ones the sandbox syncs."""
    out = []
    for group, (prefix, _category, items) in enumerate(catalog.REGULAR_PRODUCTS):
        for number, (base, cents) in enumerate(items):
            for colour in catalog.COLOURS:
                sku = f"{prefix}-{100 * (group + 1) + number:04d}-{colour[:3].upper()}"
                out.append((sku, f"{base} - {colour}", cents, False))
    for number, (base, cents) in enumerate(catalog.BIG_PRODUCTS):
        out.append((f"APL-{900 + number:04d}-WHT", base, cents, True))
    return out


def _sources_ensure(now: int) -> dict[str, Source]:
    """The five sandbox sources, as ``integrations.demo`` registers them, marked synced at ``now`` (not stale)."""

    sources = {}
    for name, (adapter, path, credentials) in SANDBOX_SOURCES.items():
        sources[name], _ = source_upsert(name=name, adapter=adapter, base_url=BENCH_URL + path, credentials=credentials)
    moment = datetime.fromtimestamp(now, UTC)
    Source.objects.filter(pk__in=[s.pk for s in sources.values()]).update(
        last_attempt_at=moment, last_success_at=moment
    )
    return sources
