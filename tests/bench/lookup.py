"""Benchmarks of the agent's screens on a large database (``python -m tests.bench`` (``make bench``); issue 4).

A 1,000,000-order / 300,000-customer retailer is written straight into PostgreSQL
(:mod:`tests.bench.benchdata`, no HTTP). Then, for each kind of identifier a caller reads
out, real probes go through the Django view exactly as the search box sends them
(an htmx POST), and the same lookup runs as bare indexed SQL in the same run as the
baseline. The order screen is measured on the worst customer (hundreds of orders)
and the busiest order (hundreds of timeline events), with its query count.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.test import Client
from django.utils import timezone

from orders import partitions
from orders.catalogue.identity import normalise_email, normalise_phone
from orders.desk import search
from orders.flags.detection import detect
from orders.ingest.correlate import normalise_number
from orders.models import Customer, Order, TimelineEvent
from orders.roles import AGENT

from . import benchdata
from .syncbench import Figures

REPEAT = 3  # each probe is searched this many times (the first run warms the cache like a busy day)

# kind -> (bare SQL, how the probe becomes its parameters)
BASELINE_SQL: dict[str, tuple[str, Callable[[str], list]]] = {
    "order_number": ("SELECT order_id FROM orders_orderkey WHERE key = %s", lambda p: [normalise_number(p)]),
    "erp_name": ("SELECT order_id FROM orders_orderrecord WHERE external_number = %s", lambda p: [p]),
    "pos_id": ("SELECT order_id FROM orders_orderrecord WHERE external_id = %s", lambda p: [p]),
    "email": (
        "SELECT customer_id FROM orders_customeridentity WHERE email_normalised = %s",
        lambda p: [normalise_email(p)],
    ),
    "phone": ("SELECT customer_id FROM orders_customeridentity WHERE phone_e164 = %s", lambda p: [normalise_phone(p)]),
    "name": (
        """SELECT c.id FROM orders_customername n JOIN orders_customer c ON omnidesk_fold(c.name) = n.folded
           WHERE omnidesk_fold(%s) <%% n.folded ORDER BY omnidesk_fold(%s) <<-> n.folded LIMIT 20""",
        lambda p: [p, p],
    ),
    "tracking_number": ("SELECT order_id FROM orders_shipment WHERE tracking_number = %s", lambda p: [p]),
    "receipt_number": ("SELECT order_id FROM orders_payment WHERE receipt_number = %s", lambda p: [p]),
    "loyalty_id": ("SELECT customer_id FROM orders_customeridentity WHERE loyalty_id = %s", lambda p: [p]),
    "card_last4": (
        """SELECT p.order_id FROM orders_payment p JOIN orders_order o ON o.id = p.order_id
           JOIN orders_customer c ON c.id = o.customer_id
           WHERE p.card_last4 = %s AND word_similarity(omnidesk_fold(%s), omnidesk_fold(c.name)) >= 0.5 LIMIT 20""",
        lambda p: [
            next(t for t in p.split() if t.isdigit() and len(t) == 4),
            " ".join(t for t in p.split() if not t.isdigit()),
        ],
    ),
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def bench_lookup(
    figures: Figures,
    *,
    orders: int = 1_000_000,
    customers: int = 300_000,
    probes: int = 100,
    timeline_events: int = 0,
    log=print,
) -> None:
    """Search latency per identifier kind, its bare-SQL baseline, and the order screen's render time and queries.

    With ``timeline_events``, measured again after the timeline is filled to that many
    events (:func:`timeline_fill`), under ``big_timeline.``: the same figures beside the
    normal timeline's, and the order pane's plan on the partitioned timeline.
    """
    lookup_data_ensure(orders, customers, log)
    agent = _bench_agent()
    client = Client()
    client.force_login(agent)
    client.get("/")  # the session's first request writes it; measure steady state
    targets = benchdata.probe_targets(n=probes)
    if timeline_events and TimelineEvent.objects.count() >= timeline_events:
        log("lookup bench: the timeline is filled already; the normal timeline's figures need a fresh database")
    else:
        _lookup_measure(figures, client, agent, targets, "", log)
    bench_rules(figures, log=log)
    if timeline_events:
        timeline_fill(timeline_events, log=log)
        client.force_login(agent)  # the fill outlasts the idle session timeout (30 min): sign in again
        client.get("/")
        _lookup_measure(figures, client, agent, targets, "big_timeline.", log)
        _pane_plan(figures, log)


def _lookup_measure(figures: Figures, client: Client, agent, targets, prefix: str, log) -> None:
    figures.add(f"{prefix}timeline.events", TimelineEvent.objects.count(), "events")
    for kind, pairs in targets.items():
        texts = [text for text, _ in pairs]
        view = _time(lambda text: _search(client, text), texts)
        sql, params = BASELINE_SQL[kind]
        bare = _time(lambda text, sql=sql, params=params: _bare(sql, params(text)), texts)
        figures.add(f"{prefix}search.{kind}.p50_ms", statistics.median(view), "ms")
        figures.add(
            f"{prefix}search.{kind}.p95_ms", percentile(view, 0.95), "ms", "through the Django view (htmx POST)"
        )
        figures.add(f"{prefix}search.{kind}.sql_p95_ms", percentile(bare, 0.95), "ms", "bare indexed SQL, same probes")
        figures.add(
            f"{prefix}search.{kind}.found_pct", _found_share(agent, kind, pairs) * 100, "%", "probes whose row is a hit"
        )
        log(f"  search by {kind}: p95 {percentile(view, 0.95):.1f} ms (bare SQL {percentile(bare, 0.95):.2f} ms)")
    _bench_screen(figures, client, log, prefix=prefix)


FILL_CHUNK = 1_000_000
FILL_MONTHS = 24


def timeline_fill(total: int, *, log=print) -> None:
    """Add carrier scans until the timeline holds ``total`` events, written by PostgreSQL itself (generate_series).

    Spread over the last :data:`FILL_MONTHS` months and over every order (a fixed stride
    through the order ids, each event on its order's customer too), a million per
    transaction. Their keys (``bench:<n>``) go to the key table in the same statement
    instead of through the row trigger. Idempotent: a timeline this big already is left.
    """
    have = TimelineEvent.objects.count()
    if have >= total:
        log(f"lookup bench: the timeline holds {have:,} events already")
        return
    now = timezone.now()
    table = TimelineEvent._meta.db_table
    if partitions.partitioned(table):
        this_month = partitions.month_start(now)
        months = [partitions.month_add(this_month, -n) for n in range(FILL_MONTHS + 1)]
        partitions.partitions_ensure(table, months)
    low, high = Order.objects.aggregate(low=Min("id"), high=Max("id")).values()
    span = int(timedelta(days=FILL_MONTHS * 30).total_seconds())
    started = time.perf_counter()
    log(f"lookup bench: filling the timeline from {have:,} to {total:,} events …")
    for first in range(have + 1, total + 1, FILL_CHUNK):
        last = min(total, first + FILL_CHUNK - 1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [partitions.KEYS_BY_CALLER])
            cursor.execute(
                "WITH made AS (INSERT INTO orders_timelineevent"
                " (key, order_id, customer_id, kind, occurred_at, summary, subject, data, recorded_at)"
                " SELECT 'bench:' || g, o.id, o.customer_id, 'tracking_scan', at, 'In transit — bench fill', '', '{}', at"
                " FROM generate_series(%s::bigint, %s::bigint) AS g"
                " CROSS JOIN LATERAL (SELECT %s::timestamptz - make_interval(secs => (g * 7919) %% %s) AS at) t"
                " JOIN orders_order o ON o.id = %s + (g * 104729) %% (%s - %s + 1)"
                " RETURNING key)"
                " INSERT INTO orders_timelineevent_key (key) SELECT key FROM made",
                [first, last, now, span, low, high, low],
            )
        log(f"  {last:,} events at {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


def _pane_plan(figures: Figures, log) -> None:
    """EXPLAIN ANALYZE of the order pane's timeline query for the busiest order: how many partitions, which scans."""
    busiest = (
        TimelineEvent.objects.exclude(order_id=None).values("order_id").annotate(n=Count("id")).order_by("-n").first()
    )
    query = (
        TimelineEvent.objects.filter(order_id=busiest["order_id"])
        .order_by("occurred_at", "id")
        .values_list("occurred_at", "kind", "source__name", "actor__username", "summary")
    )
    plan = query.explain(analyze=True)
    index_scans = len(re.findall(r"Index Scan (?:using|on) \S*order_id_occurred_at_idx", plan))
    seq_scans = len(re.findall(r"Seq Scan on orders_timelineevent_", plan))  # the planner's choice for empty months
    figures.add("big_timeline.pane_plan.index_scans", index_scans, "partitions", "(order, occurred_at) index or bitmap")
    figures.add("big_timeline.pane_plan.seq_scans", seq_scans, "partitions", "empty partitions only (no statistics)")
    if match := re.search(r"Execution Time: ([\d.]+) ms", plan):
        figures.add("big_timeline.pane_plan.execution_ms", float(match[1]), "ms", f"{busiest['n']} events")
    log("  order pane's timeline query on the big timeline:\n" + plan)


def bench_rules(figures: Figures, *, sample: int = 1000, log=print) -> None:
    """Every rule over the whole database (the periodic run), then over the 1,000 orders one sync touched."""
    import random

    started = time.perf_counter()
    first = detect()
    everything = time.perf_counter() - started
    started = time.perf_counter()
    again = detect()
    steady = time.perf_counter() - started
    ids = list(Order.objects.values_list("pk", flat=True))
    touched = random.Random(7).sample(ids, min(sample, len(ids)))  # noqa: S311 - a benchmark sample
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        detect(order_ids=touched)
        timings.append(time.perf_counter() - started)
    figures.add("rules.all_orders_s", everything, "s", f"every rule over {len(ids):,} orders; opened {first.opened}")
    figures.add("rules.all_orders_again_s", steady, "s", f"the same, nothing changed ({again.still_open} open)")
    figures.add("rules.one_sync_1000_orders_p50_s", statistics.median(timings), "s", "the orders one sync touched")
    log(
        f"  rules over {len(ids):,} orders: {everything:.1f} s (again {steady:.1f} s); 1,000 orders: "
        f"{statistics.median(timings) * 1000:.0f} ms"
    )


def lookup_data_ensure(orders: int, customers: int, log) -> None:
    """Generate the big retailer unless this database already holds exactly that (a re-run saves minutes)."""
    if Order.objects.count() == orders and Customer.objects.count() == customers:
        log(f"lookup bench: reusing the {orders:,}-order database")
        return
    log(f"lookup bench: generating {orders:,} orders and {customers:,} customers (COPY, no HTTP) …")
    benchdata.wipe()
    result = benchdata.generate(orders=orders, customers=customers, log=log)
    log(f"  generated in {result['seconds']:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _found_share(user, kind: str, pairs: list[tuple[str, int]]) -> float:
    """How many probes list the row they were drawn from (orders, or customers for the person kinds)."""
    person = kind in ("email", "phone", "name", "loyalty_id")
    found = 0
    for text, target in pairs:
        hits = search.search(user, text).hits
        ids = {h.customer.pk for h in hits if h.customer} if person else {h.order.pk for h in hits if h.order}
        found += target in ids
    return found / len(pairs) if pairs else 1.0


def _bench_agent() -> User:
    from django.contrib.auth.models import Group

    user, _ = User.objects.get_or_create(username="bench.agent")
    user.groups.set([Group.objects.get(name=AGENT)])
    return user


def _search(client: Client, text: str) -> None:
    response = client.post("/", {"q": text, "go": "0"}, headers={"HX-Request": "true"})
    if response.status_code != 200:
        raise RuntimeError(f"search for a probe answered {response.status_code}")


def _bare(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET pg_trgm.word_similarity_threshold = 0.5")
        cursor.execute(sql, params)
        cursor.fetchall()


def _time(action: Callable[[str], None], texts: list[str]) -> list[float]:
    timings = []
    for _ in range(REPEAT):
        for text in texts:
            started = time.perf_counter()
            action(text)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _bench_screen(figures: Figures, client: Client, log, repeat: int = 50, prefix: str = "") -> None:
    """The order screen for the busiest order of the customer with the most orders: time, queries, and the swap."""
    from django.db import reset_queries
    from django.test.utils import CaptureQueriesContext

    busiest = (
        TimelineEvent.objects.exclude(order_id=None).values("order_id").annotate(n=Count("id")).order_by("-n").first()
    )
    order = Order.objects.get(pk=busiest["order_id"])
    biggest = Order.objects.exclude(customer=None).values("customer_id").annotate(n=Count("id")).order_by("-n").first()
    other = Order.objects.filter(customer_id=biggest["customer_id"]).order_by("-placed_at").first()
    screens = {
        f"{prefix}screen.busiest_order": f"/customers/{order.customer_id}/orders/{order.pk}/",
        f"{prefix}screen.biggest_customer": f"/customers/{other.customer_id}/orders/{other.pk}/",
    }
    for name, url in screens.items():
        client.get(url)
        full = _time(lambda url: client.get(url), [url] * (repeat // REPEAT))
        swap = _time(lambda url: client.get(url, headers={"HX-Request": "true"}), [url] * (repeat // REPEAT))
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        figures.add(f"{name}.p95_ms", percentile(full, 0.95), "ms", "customer header + orders table + order pane")
        figures.add(f"{name}.swap_p95_ms", percentile(swap, 0.95), "ms", "htmx partial: the order pane alone")
        figures.add(f"{name}.queries", len(queries.captured_queries), "queries")
        log(f"  {name}: p95 {percentile(full, 0.95):.1f} ms, swap p95 {percentile(swap, 0.95):.1f} ms")
    figures.add(f"{prefix}screen.busiest_order.events", busiest["n"], "events")
    figures.add(f"{prefix}screen.biggest_customer.orders", biggest["n"], "orders")
