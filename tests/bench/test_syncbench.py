"""The sync bench's orders of arrival at a tiny scale: each synced from empty by ``manage.py sync`` processes into
this test's database, timed beside the same run's COPY and beside PostgreSQL's own account of its time."""

from __future__ import annotations

import subprocess
import sys
import time

import psycopg
import pytest
from django.db import connection

from integrations.models import SyncRun
from orders.models import Order
from tests.bench.syncbench import (
    ARRIVALS,
    Figures,
    bench_storefront,
    bench_sync_arrivals,
    busy_ticks,
    cpu_reading,
    database_seconds,
    database_url,
    sandbox_process,
)

# transaction: the sync processes see the sources this test's connection wrote, and write where it reads
pytestmark = pytest.mark.django_db(transaction=True)


def test_each_order_of_arrival_is_timed_beside_its_copy_and_the_database_time_it_took():
    figures = Figures()

    bench_sync_arrivals(figures, orders=200, arrivals=["carrier_first", "storefront_last"], log=lambda *_: None)

    values = {name: figure["value"] for name, figure in figures.values.items()}
    for name in ("carrier_first", "storefront_last"):
        prefix = f"sync_order.{name}"
        assert figures.values[f"{prefix}.records_per_s"]["note"] == " → ".join(ARRIVALS[name])
        assert all(values[f"{prefix}.{source}_s"] > 0 for source in ARRIVALS[name])
        assert values[f"{prefix}.records_per_s"] < values[f"{prefix}.copy_records_per_s"]
        assert values[f"{prefix}.vs_copy_ratio"] == pytest.approx(
            values[f"{prefix}.records_per_s"] / values[f"{prefix}.copy_records_per_s"], abs=0.001
        )
        # the server's time is part of the run's, and the sync's Python runs inside open pages too
        assert values[f"{prefix}.db_active_s"] > 0
        assert values[f"{prefix}.db_idle_in_transaction_s"] > 0
        assert values[f"{prefix}.db_only_vs_copy_ratio"] > values[f"{prefix}.vs_copy_ratio"]
        # the CPU went to the sync processes, the sandbox and PostgreSQL; none kept the machine busier than it can be
        assert values[f"{prefix}.sync_cpu_s"] > 0
        assert values[f"{prefix}.sandbox_cpu_s"] > 0
        assert values[f"{prefix}.database_cpu_s"] > 0
        assert 0 < values[f"{prefix}.machine_busy_share"] <= 1.02
        assert values[f"{prefix}.cpu_bound_vs_copy_ratio"] >= values[f"{prefix}.vs_copy_ratio"] * 0.98
    assert 0 < values["sync_order.worst_vs_best"] <= 1
    # the last order's runs landed in this database, one a source, each complete
    runs = SyncRun.objects.order_by("started_at")
    assert [run.source.adapter for run in runs] == list(ARRIVALS["storefront_last"])
    assert {run.status for run in runs} == {SyncRun.Status.SUCCEEDED}
    assert Order.objects.count() >= 200


def test_the_storefront_is_synced_three_ways_into_this_tests_database_each_from_empty():
    figures = Figures()

    bench_storefront(figures, orders=60, log=lambda *_: None)

    run = SyncRun.objects.get(source__name="shopify")  # the last way's (REST), in this test's database
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.source.credentials["transport"] == "rest"
    for way in ("bulk", "graphql_paged", "rest"):
        figure = figures.values[f"storefront.{way}.records_per_s"]
        assert figure["value"] > 0
        assert figure["note"].startswith(f"{run.fetched} records in ")  # each way landed the same records
    assert figures.values["storefront.bulk_vs_rest_ratio"]["value"] == pytest.approx(
        figures.values["storefront.bulk.records_per_s"]["value"]
        / figures.values["storefront.rest.records_per_s"]["value"],
        rel=0.01,
    )


def test_a_cpu_reading_counts_this_process_the_whole_machine_and_ended_children_apart_from_the_sandbox():
    with sandbox_process(orders=5) as sandbox:
        idle = cpu_reading(sandbox.pid)
        spin_until = time.process_time() + 0.3
        while time.process_time() < spin_until:
            pass
        spun = cpu_reading(sandbox.pid) - idle
        done = subprocess.run([sys.executable, "-c", "sum(range(10**7))"], check=True)  # noqa: S603
        served = cpu_reading(sandbox.pid) - idle

    assert done.returncode == 0
    assert 0.3 <= spun.own < 1
    assert spun.machine >= 0.28  # the machine's ticks are 10 ms
    assert spun.children == 0
    assert served.children > 0.05  # the child process, once it ended
    assert spun.sandbox < 0.1  # it served nothing meanwhile
    assert (served - spun).own == pytest.approx(served.own - spun.own)


PROC_STAT = """\
cpu  900 9 90 9000 90 9 9 99 0 0
cpu0 100 1 10 4000 40 2 3 50 7 0
cpu1 200 2 20 3000 30 4 5 40 0 0
cpu12 600 6 60 2000 20 3 1 9 0 0
intr 123456 0 0
ctxt 999
"""


def test_busy_ticks_add_up_the_busy_columns_of_the_cpus_named_and_no_other_line():
    # user + nice + system + irq + softirq; never idle, iowait, steal, guest (inside user) or the "cpu" total
    assert busy_ticks(PROC_STAT, {0}) == 100 + 1 + 10 + 2 + 3
    assert busy_ticks(PROC_STAT, {0, 1}) == 116 + 200 + 2 + 20 + 4 + 5
    assert busy_ticks(PROC_STAT, {1, 12}) == 231 + 600 + 6 + 60 + 3 + 1
    assert busy_ticks(PROC_STAT, {2}) == 0


def test_the_database_time_counts_another_sessions_statements_once_it_ends():
    active, _ = database_seconds()

    with psycopg.connect(database_url(connection.settings_dict["NAME"]), autocommit=True) as other:
        other.execute("SELECT pg_sleep(0.3)")

    grown = database_seconds()[0] - active
    assert 0.3 <= grown < 5


def test_a_database_url_keeps_the_server_login_and_options_of_database_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://ops:p%40ss@%2Fvar%2Frun%2Fpostgresql:5433/omnidesk?sslmode=require")

    assert database_url("test_omnidesk_gw1") == (
        "postgres://ops:p%40ss@%2Fvar%2Frun%2Fpostgresql:5433/test_omnidesk_gw1?sslmode=require"
    )
