"""Benchmarks of the sync path. ``python -m tests.bench`` (``make bench``) runs them; later issues add their own.

Each figure goes into a :class:`Figures` collection that prints a table and writes
``.bench/latest.json`` as ``{"figures": {name: {"value": …, "unit": …}}}``.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import astuple, dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.db import connection

from integrations.demo import demo_sources_ensure
from integrations.models import DeadLetter, RawRecord, Source, SyncRun, WebhookDelivery
from integrations.services import source_upsert
from orders.models import (
    Customer,
    CustomerIdentity,
    Order,
    OrderLine,
    OrderRecord,
    Payment,
    Return,
    Shipment,
    TimelineEvent,
    TrackingEvent,
)
from orders.timeline.selectors import timeline_rows

CANONICAL_TABLES = [
    Customer,
    CustomerIdentity,
    Order,
    OrderRecord,
    OrderLine,
    Payment,
    Shipment,
    TrackingEvent,
    Return,
    TimelineEvent,
    RawRecord,
]


@dataclass
class Figures:
    values: dict[str, dict] = field(default_factory=dict)

    def add(self, name: str, value: float, unit: str, note: str = "") -> None:
        self.values[name] = {
            "value": round(value, 3),
            "unit": unit,
            **({"note": note} if note else {}),
        }

    def table(self) -> str:
        width = max((len(n) for n in self.values), default=10)
        lines = [f"{'figure':<{width}}  {'value':>14}  unit", "-" * (width + 26)]
        lines += [f"{name:<{width}}  {f['value']:>14,.3f}  {f['unit']}" for name, f in self.values.items()]
        return "\n".join(lines)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"figures": self.values}, indent=2, sort_keys=True) + "\n")


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """A child process's ``preexec_fn``: Linux kills it when its parent dies, however that dies, so no worker a
    bench or a test started outlives it (and consumes a later run's queues)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def data_reset() -> None:
    """Empty the canonical and sync tables (the bench database only)."""
    models = [*CANONICAL_TABLES, DeadLetter, WebhookDelivery, SyncRun, Source]
    tables = ", ".join(m._meta.db_table for m in models) + ", orders_storealias, orders_flag, orders_note"
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")  # noqa: S608 (model table names)


@dataclass(frozen=True)
class Sandbox:
    url: str
    pid: int


@contextmanager
def sandbox_process(*, orders: int, seed: int = 7):
    """Serve a sandbox world from its own process, as a real upstream system would be (own CPU, no shared GIL).

    Yields the :class:`Sandbox` (its base URL, and its process id for its CPU time).
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "manage.py",
        "sandbox",
        "--orders",
        str(orders),
        "--seed",
        str(seed),
        "--port",
        str(port),
    ]
    child = subprocess.Popen(command, cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                if requests.get(f"{base_url}/_sandbox/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start: " + child.stderr.read().decode()[-2000:])
            time.sleep(0.2)
        yield Sandbox(base_url, child.pid)
    finally:
        child.terminate()
        child.wait(timeout=30)


def _sources_sync_parallel(sources, *, workers: int, log) -> list[SyncRun]:
    """Sync every source in its own ``manage.py sync`` process, ``workers`` at a time (a Celery worker's concurrency).

    Largest sources start first so the two lanes finish close together.
    """
    expected = {"odoo": 0, "shopify": 1, "square": 2, "easypost": 3, "hubspot": 4}
    queue = sorted(sources, key=lambda s: expected.get(s.adapter, 9))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        codes = list(pool.map(lambda source: _source_sync_process(source, log), queue))
    if any(codes):
        raise RuntimeError("a bench sync failed (see above)")
    return list(SyncRun.objects.filter(source__in=sources).select_related("source").order_by("source__name"))


def _source_sync_process(source, log, env: dict | None = None) -> int:
    """``manage.py sync NAME`` in a process of its own (as a Celery worker process runs it); its exit code.

    The process syncs into this process's database (a test's own, under pytest) unless ``env`` says otherwise.
    """
    command = [sys.executable, "manage.py", "sync", source.name]
    env = env or {**os.environ, "DATABASE_URL": database_url(connection.settings_dict["NAME"])}
    done = subprocess.run(command, cwd=settings.BASE_DIR, capture_output=True, text=True, env=env)  # noqa: S603
    log(done.stdout.strip() or done.stderr.strip()[-500:])
    return done.returncode


def bench_sync(figures: Figures, *, orders: int, seed: int = 7, workers: int = 2, log=print) -> None:
    """Full sync of an ``orders``-sized sandbox world over HTTP, and a COPY of the same rows as baseline."""
    data_reset()
    started = time.perf_counter()
    with sandbox_process(orders=orders, seed=seed) as sandbox:
        figures.add(
            "sandbox.start_s", time.perf_counter() - started, "s", f"{orders} orders, generated in its own process"
        )
        sources = demo_sources_ensure(sandbox.url)
        cpu_before = cpu_reading(sandbox.pid)
        started = time.perf_counter()
        runs = _sources_sync_parallel(sources, workers=workers, log=log)
        elapsed = time.perf_counter() - started
        cpu = cpu_reading(sandbox.pid) - cpu_before
    fetched = sum(run.fetched for run in runs)
    for run in runs:
        figures.add(
            f"sync.{run.source.name}.records_per_s",
            run.fetched / run.duration.total_seconds(),
            "records/s",
            f"{run.fetched} records",
        )
    figures.add("sync.sources", len(sources), "sources", ", ".join(s.name for s in sources))
    figures.add("sync.upstream_records", fetched, "records")
    figures.add("sync.seconds", elapsed, "s")
    figures.add(
        "sync.workers", workers, "processes", "sources synced at once, as a Celery worker with this concurrency"
    )
    figures.add("sync.records_per_s", fetched / elapsed, "records/s", "end to end, HTTP included; target ≥ 3000")
    rows, copy_seconds = _copy_baseline()
    figures.add("baseline.copy_rows", rows, "rows", "canonical + raw rows the sync wrote")
    figures.add("baseline.copy_seconds", copy_seconds, "s")
    figures.add(
        "baseline.copy_records_per_s",
        fetched / copy_seconds,
        "records/s",
        "same upstream records, bare COPY of their rows",
    )
    figures.add("sync.vs_copy_ratio", (fetched / elapsed) / (fetched / copy_seconds), "ratio", "sync rate ÷ COPY rate")
    cpu_figures_add(figures, "sync", cpu, elapsed=elapsed, copy_seconds=copy_seconds)


# Orders of arrival, one source after another. Storefront first is the easy one: every later record finds its
# order. The others leave records waiting (orphans) for an order that arrives later: carrier trackers for the
# ERP's pickings, pickings for their sale orders, the storefront's own orders for last.
ARRIVALS = {
    "storefront_first": ("shopify", "square", "odoo", "hubspot", "easypost"),
    "carrier_first": ("easypost", "odoo", "hubspot", "square", "shopify"),
    "erp_first": ("odoo", "easypost", "square", "hubspot", "shopify"),
    "storefront_last": ("square", "hubspot", "easypost", "odoo", "shopify"),
}


def bench_sync_arrivals(figures: Figures, *, orders: int, arrivals: list[str], seed: int = 7, log=print) -> None:
    """The same world synced from empty in each order of arrival, one source at a time; each beside its own COPY.

    Reports records/s per order, the same run's COPY of the rows it wrote, their ratio,
    and the worst order's rate over the best's (issue 15: every order ≥ 0.25 of COPY,
    the worst within 20% of the best).
    """
    if not arrivals:
        return
    rates = {}
    with sandbox_process(orders=orders, seed=seed) as sandbox:
        for name in arrivals:
            data_reset()
            sources = {s.name: s for s in demo_sources_ensure(sandbox.url)}
            database_before = database_seconds()
            cpu_before = cpu_reading(sandbox.pid)
            started = time.perf_counter()
            for source_name in ARRIVALS[name]:
                if _source_sync_process(sources[source_name], log):
                    raise RuntimeError("a bench sync failed (see above)")
            elapsed = time.perf_counter() - started
            cpu = cpu_reading(sandbox.pid) - cpu_before
            active, waiting = (
                after - before for after, before in zip(database_seconds(), database_before, strict=True)
            )
            runs = SyncRun.objects.select_related("source").order_by("started_at")
            fetched = sum(run.fetched for run in runs)
            _, copy_seconds = _copy_baseline()
            rates[name] = fetched / elapsed
            copy_rate = fetched / copy_seconds
            prefix = f"sync_order.{name}"
            figures.add(f"{prefix}.records_per_s", rates[name], "records/s", " → ".join(ARRIVALS[name]))
            for run in runs:
                figures.add(
                    f"{prefix}.{run.source.name}_s", run.duration.total_seconds(), "s", f"{run.fetched} records"
                )
            figures.add(f"{prefix}.copy_records_per_s", copy_rate, "records/s", "same run, bare COPY")
            figures.add(f"{prefix}.vs_copy_ratio", rates[name] / copy_rate, "ratio", "target ≥ 0.25")
            figures.add(
                f"{prefix}.db_active_s", active, "s", f"of {elapsed:.1f} s: statements running (a COPY while fed rows)"
            )
            figures.add(
                f"{prefix}.db_idle_in_transaction_s", waiting, "s", "a page's transaction open, waiting for the sync"
            )
            figures.add(
                f"{prefix}.db_only_vs_copy_ratio",
                (fetched / active) / copy_rate,
                "ratio",
                "the ratio if the sync's statements were all it spent",
            )
            cpu_figures_add(figures, prefix, cpu, elapsed=elapsed, copy_seconds=copy_seconds)
    worst, best = min(rates, key=rates.get), max(rates, key=rates.get)
    figures.add("sync_order.worst_vs_best", rates[worst] / rates[best], "ratio", f"{worst} ÷ {best}; target ≥ 0.8")


STOREFRONT_WAYS = (
    ("bulk", {}),  # the default: GraphQL, the first sync through a bulk operation
    ("graphql_paged", {"backfill": "paged"}),
    ("rest", {"transport": "rest"}),
)


def bench_storefront(figures: Figures, *, orders: int, seed: int = 7, log=print) -> None:
    """The storefront's first sync three ways against one sandbox process: bulk, paged GraphQL, REST.

    Each way starts from empty tables and runs ``manage.py sync shopify`` (its own process,
    as the other sync figures); REST also asks each order's ``transactions.json``.
    """

    with sandbox_process(orders=orders, seed=seed) as sandbox:
        rates = {}
        for way, credentials in STOREFRONT_WAYS:
            data_reset()
            source, _ = source_upsert(
                name="shopify",
                adapter="shopify",
                base_url=f"{sandbox.url}/shopify/admin/api/2025-07",
                credentials={"access_token": "shpat_sandbox", **credentials},
            )
            started = time.perf_counter()
            failed = _source_sync_process(source, log)
            elapsed = time.perf_counter() - started
            if failed:
                raise RuntimeError(f"the storefront's {way} sync failed (see above)")
            run = SyncRun.objects.get(source__name="shopify")
            rates[way] = run.fetched / elapsed
            figures.add(
                f"storefront.{way}.records_per_s", rates[way], "records/s", f"{run.fetched} records in {elapsed:.1f} s"
            )
        figures.add("storefront.bulk_vs_rest_ratio", rates["bulk"] / rates["rest"], "ratio", "first sync, same run")
        figures.add(
            "storefront.paged_vs_rest_ratio", rates["graphql_paged"] / rates["rest"], "ratio", "first sync, same run"
        )


def bench_timeline(figures: Figures, *, repeat: int = 200) -> None:
    """Assemble the busiest order's timeline (every system's events, sorted) as the order screen does."""
    from django.db.models import Count

    busiest = (
        TimelineEvent.objects.values("order_id").exclude(order_id=None).annotate(n=Count("id")).order_by("-n").first()
    )
    if busiest is None:
        return
    order = Order.objects.select_related("store").get(pk=busiest["order_id"])
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        events = timeline_rows(order)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    figures.add("timeline.busiest_order_events", len(events), "events")
    figures.add("timeline.p50_ms", timings[len(timings) // 2], "ms", "one order's merged timeline, one query")
    figures.add("timeline.p95_ms", timings[int(len(timings) * 0.95)], "ms")


@dataclass(frozen=True)
class CpuReading:
    """CPU seconds used so far: by the whole machine (every core), this process's ended children (the bench's
    ``manage.py sync`` processes, once waited for), the sandbox process, and this process itself."""

    machine: float
    children: float
    sandbox: float
    own: float

    def __sub__(self, before: CpuReading) -> CpuReading:
        return CpuReading(*(now - then for now, then in zip(astuple(self), astuple(before), strict=True)))


def cpu_reading(sandbox_pid: int) -> CpuReading:
    """Read :class:`CpuReading` from ``/proc`` (Linux) and ``getrusage``."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as stat:
        machine = busy_ticks(stat.read(), os.sched_getaffinity(0))
    with open(f"/proc/{sandbox_pid}/stat") as stat:  # after the "(name)": utime and stime are fields 14 and 15
        utime, stime = (int(n) for n in stat.read().rsplit(")", 1)[1].split()[11:13])
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuReading(
        machine=machine / tick,
        children=children.ru_utime + children.ru_stime,
        sandbox=(utime + stime) / tick,
        own=time.process_time(),
    )


def busy_ticks(proc_stat: str, cpus: set[int]) -> int:
    """Busy ticks of ``cpus`` in a ``/proc/stat`` text: user, nice, system, irq and softirq of each ``cpuN`` line.

    Not idle, iowait nor steal (another guest's); guest time is inside user already. Only the
    CPUs this process may run on: in a container limited to some, the others are not the bench's.
    """
    busy = 0
    for line in proc_stat.splitlines():
        name, *ticks = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            user, nice, system, _, _, irq, softirq = (int(n) for n in ticks[:7])
            busy += user + nice + system + irq + softirq
    return busy


def cpu_figures_add(figures: Figures, prefix: str, cpu: CpuReading, *, elapsed: float, copy_seconds: float) -> None:
    """Where a sync's CPU went, and the ratio to COPY the same work would reach if it kept every core busy.

    The machine's busy time less the sync processes', the sandbox's and the bench's own is
    PostgreSQL's (and whatever else ran meanwhile: read it on a quiet machine). The ceiling
    counts the sync's work only (its processes and PostgreSQL), not the sandbox's: a real
    vendor's servers are elsewhere.
    """
    cores = len(os.sched_getaffinity(0))
    database = cpu.machine - cpu.children - cpu.sandbox - cpu.own
    figures.add(f"{prefix}.sync_cpu_s", cpu.children, "s", "the manage.py sync processes: their Python, every thread")
    figures.add(f"{prefix}.sandbox_cpu_s", cpu.sandbox, "s", "the upstream systems (the sandbox process)")
    figures.add(
        f"{prefix}.database_cpu_s", database, "s", "the rest of the machine's busy time: PostgreSQL, and anything else"
    )
    figures.add(f"{prefix}.machine_busy_share", cpu.machine / (cores * elapsed), "ratio", f"of {cores} cores")
    figures.add(
        f"{prefix}.cpu_bound_vs_copy_ratio",
        copy_seconds * cores / (cpu.children + database),
        "ratio",
        "the ratio if the sync's CPU work (its processes and PostgreSQL's) kept every core busy",
    )


def database_seconds(*, settle: float = 0.2, still: float = 0.01, wait: float = 10) -> tuple[float, float]:
    """Seconds this database's sessions have spent so far executing statements, and idle inside a transaction.

    PostgreSQL's own accounting (``pg_stat_database``). A session reports its time when a
    transaction ends a second or more after its last report, and when it ends; the sessions
    of a bench's sync processes have ended when this is read, but their server processes
    report a moment after the client is gone. So the reading waits until no other session of
    the database is left (a server process reports before it leaves ``pg_stat_activity``; at
    most ``wait`` seconds), then is repeated ``settle`` seconds apart until it holds still:
    within ``still`` seconds, as each reading adds its own statements' time (a fraction of a
    millisecond). This session's own pending time is reported first. Active counts
    a ``COPY … FROM STDIN`` for as long as the client streams its rows (the sync's own row
    formatting is in it), and a statement waiting for a lock; idle in a transaction is the
    client's turn: the sync's Python between the statements of an open page.
    """
    _others_gone(wait)
    reading = _database_reading()
    for _ in range(50):
        time.sleep(settle)
        again = _database_reading()
        settled = all(abs(now - then) < still for now, then in zip(again, reading, strict=True))
        reading = again
        if settled:
            break
    return reading


def _others_gone(wait: float) -> None:
    """Wait until no other client session of this database is open, or ``wait`` seconds have passed."""
    deadline = time.monotonic() + wait
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # a fresh look, even inside a transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
            if not cursor.fetchone()[0]:
                return
            time.sleep(0.05)


def _database_reading() -> tuple[float, float]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # this session's time, at this statement's end
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # a fresh reading, not this transaction's first
        cursor.execute(
            "SELECT active_time, idle_in_transaction_time FROM pg_stat_database WHERE datname = current_database()"
        )
        active_ms, idle_ms = cursor.fetchone()
    return active_ms / 1000, idle_ms / 1000


def _copy_baseline() -> tuple[int, float]:
    """COPY every row the sync wrote into empty look-alike tables (same indexes): the bare bulk-insert cost."""
    dumps = []
    with connection.cursor() as cursor:
        raw = cursor.connection
        for model in CANONICAL_TABLES:
            table = model._meta.db_table
            # (SELECT …): a partitioned table (the timeline, raw payloads) cannot be COPYed out by name
            with raw.cursor() as cur, cur.copy(f"COPY (SELECT * FROM {table}) TO STDOUT") as copy:  # noqa: S608
                dumps.append((table, b"".join(bytes(chunk) for chunk in copy)))
            cursor.execute(f"DROP TABLE IF EXISTS bench_{table}")
            cursor.execute(f"CREATE UNLOGGED TABLE bench_{table} (LIKE {table} INCLUDING INDEXES INCLUDING DEFAULTS)")
        rows = sum(data.count(b"\n") for _, data in dumps)
        started = time.perf_counter()
        for table, data in dumps:
            with raw.cursor() as cur, cur.copy(f"COPY bench_{table} FROM STDIN") as copy:  # noqa: S608
                copy.write(data)
        elapsed = time.perf_counter() - started
        for table, _ in dumps:
            cursor.execute(f"DROP TABLE bench_{table}")
    return rows, elapsed


def database_url(name: str) -> str:
    """``DATABASE_URL`` naming the database ``name`` instead: the same server, login and options."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path="/" + quote(name, safe="")))


def server_execute(sql: str, args: list | None = None) -> None:
    """Run one statement on the database server itself (the ``postgres`` database), outside any transaction.

    For what cannot run inside the database it concerns: CREATE, DROP, copying a database.
    """
    import psycopg
    from django.db import connection

    params = connection.settings_dict
    with psycopg.connect(
        host=params["HOST"],
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(sql, args)
