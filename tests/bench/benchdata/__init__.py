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

import random
import time
from datetime import UTC, datetime

from django.db import connection, transaction

from orders import partitions
from orders.models import Customer, CustomerIdentity, Order, OrderRecord, Payment, Shipment, TimelineEvent

from .common import (  # TABLES and _fold: read by the tests too
    DAY,
    DERIVED_TABLES,
    SETUP_TABLES,
    SPAN,
    TABLES,
    _constraints_drop,
    _name_as_typed,
    _phone_unlike_stored,
    _sample,
    _sequences_advance,
)
from .common import (
    _fold as _fold,
)
from .copier import _Copier
from .world import _World


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
