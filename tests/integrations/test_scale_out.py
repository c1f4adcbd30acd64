"""Scaling out with Celery + Redis + PostgreSQL: per-source queues, worker processes as separate hosts.

Four worker processes consume the ten sources' queues (``sync.<source>``); one is killed
while it lands a page. Nothing is lost or doubled: after the next dispatch the database
is what syncing the ten sources one after another leaves, and no source ever had two
runs at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from integrations import tasks
from integrations.demo import demo_sources_ensure
from integrations.locks import LOCK_NAMESPACE
from integrations.models import Source, SyncRun
from integrations.sandbox import SandboxServer, World
from integrations.sync import source_sync
from omnidesk.celery import app as celery_app
from tests.bench.syncbench import data_reset, die_with_parent
from tests.integrations.state import end_state, state_differences

# The broker's database is shared by every test process (`make test` runs two): its tests take turns.
pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker_alone")]

WORKERS = 4
# The sandbox's five systems twice: ten sources. Their names, so their queues, are this run's own: a worker
# left behind by another run on this broker (an interrupted suite) can never take this run's tasks.
PREFIXES = tuple(f"{copy}{os.getpid()}-" for copy in ("a", "b"))


def test_sources_route_to_their_own_queue(db, monkeypatch):
    source = Source.objects.create(name="shopify-eu", kind="storefront", adapter="shopify", base_url="http://x")
    sent = []
    monkeypatch.setattr(tasks.sync_source, "apply_async", lambda args, queue: sent.append((args, queue)))

    tasks.sync_enqueue(source)

    assert sent == [((source.pk, "schedule"), "sync.shopify-eu")]
    assert tasks.worker_queues() == ["celery", "webhooks", "sync.shopify-eu"]
    assert tasks.worker_queues(["odoo"]) == ["celery", "webhooks", "sync.odoo"]


@pytest.fixture(scope="module")
def small_sandbox():
    server = SandboxServer(World(orders=500, seed=7))
    server.start()
    yield server
    server.stop()


def ten_sources(base_url) -> list[Source]:
    sources = [s for prefix in PREFIXES for s in demo_sources_ensure(base_url, interval_seconds=1, name_prefix=prefix)]
    assert len(sources) == 10
    return sources


def start_workers(queues: list[str]) -> list[subprocess.Popen]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "DB_CONN_MAX_AGE": "0",
    }
    command = [sys.executable, "-m", "celery", "-A", "omnidesk", "worker", "-P", "solo", "-Q", ",".join(queues)]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING"]
    return [
        subprocess.Popen(  # noqa: S603
            [*command, "-n", f"host{i}@%h"],
            cwd=settings.BASE_DIR,
            env=env,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,  # noqa: PLW1509 (no threads between fork and exec here)
        )
        for i in range(WORKERS)
    ]


def lock_holder(workers: list[subprocess.Popen], source: Source) -> subprocess.Popen | None:
    """The worker process whose database session holds the source's advisory lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s",
            [LOCK_NAMESPACE, source.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    for worker in workers:
        ports = {c.laddr.port for c in psutil.Process(worker.pid).net_connections(kind="tcp")}
        if row[0] in ports:
            return worker
    return None


def wait_until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; {stuck_report()}")


def stuck_report() -> str:
    """What a timeout needs to say, shortest first: each source's runs and last error, then who waits on what."""
    sources = []
    for source in Source.objects.order_by("name"):
        runs = list(source.runs.order_by("started_at").values_list("status", "pages", "error"))
        statuses = " ".join(f"{status[0].upper()}{pages}" for status, pages, _ in runs)  # S3: succeeded, 3 pages
        error = next((e for _, _, e in reversed(runs) if e), "")
        sources.append(f"{source.name}: {statuses} {error[:160]}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid), "
            "round(extract(epoch FROM now() - xact_start)), left(query, 90) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'"
        )
        sessions = [" ".join(str(value) for value in row) for row in cursor.fetchall()]
    return "sources: " + " | ".join(sources) + " || sessions: " + " | ".join(sessions)


def test_four_workers_lose_nothing_when_one_is_killed_mid_page_and_never_run_a_source_twice(small_sandbox):
    sources = ten_sources(small_sandbox.base_url)
    celery_app.conf.task_always_eager = False
    workers = start_workers(tasks.worker_queues())
    try:
        assert sorted(tasks.dispatch_due_syncs()) == sorted(s.pk for s in sources)
        # The biggest source (the ERP) is a few pages in: kill the process landing it, as a host dies.
        erp = next(s for s in sources if s.adapter == "odoo")

        def busy_landing():
            run = SyncRun.objects.filter(source=erp, status=SyncRun.Status.RUNNING, pages__gte=2).first()
            return run and lock_holder(workers, erp)

        victim = wait_until(busy_landing, 120, "the ERP sync to be a few pages in")
        os.kill(victim.pid, signal.SIGKILL)
        killed_at = timezone.now()
        victim.wait(10)
        killed_run = SyncRun.objects.get(source=erp, status=SyncRun.Status.RUNNING)

        # The other workers finish what they hold; the next dispatch (beat, every 15 s) queues every source
        # again, and the ERP's next run resumes from its last committed page.
        def others_done():
            return not SyncRun.objects.filter(status=SyncRun.Status.RUNNING).exclude(pk=killed_run.pk).exists()

        # (Two copies of one world contend for the same customers and orders: a page may lose its deadlock
        # retries and its run fail; like the killed one, the next dispatch takes it up again.)
        dispatched = [0.0]

        def all_resynced():
            done = SyncRun.objects.filter(started_at__gt=killed_at, status=SyncRun.Status.SUCCEEDED)
            if set(done.values_list("source_id", flat=True)) == {s.pk for s in sources} and others_done():
                return True
            if others_done() and time.monotonic() - dispatched[0] > 5:
                tasks.dispatch_due_syncs()
                dispatched[0] = time.monotonic()
            return False

        # Slow when the two copies keep losing deadlock races (seen: 5 min on a quiet 2-core machine): wait long.
        wait_until(all_resynced, 900, "every source synced after the kill")
    finally:
        celery_app.conf.task_always_eager = True
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in workers:
            worker.wait(30)
        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()  # the killed worker's unacked message

    runs = SyncRun.objects.exclude(status=SyncRun.Status.SKIPPED)
    for source in sources:
        spans = sorted(
            (run.started_at, run.finished_at or killed_at) for run in runs.filter(source=source).order_by("started_at")
        )
        assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False)), source
    assert killed_run.pages >= 2 and SyncRun.objects.get(pk=killed_run.pk).finished_at is None
    across_workers = end_state()

    data_reset()
    for source in ten_sources(small_sandbox.base_url):
        assert source_sync(source_id=source.pk).status == SyncRun.Status.SUCCEEDED
    one_after_another = end_state()

    assert state_differences(across_workers, one_after_another) == {}
