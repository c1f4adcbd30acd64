"""Celery: the beat dispatcher, and a real worker consuming from Redis."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.schedules import crontab
from celery.signals import worker_process_init
from django.utils import timezone

from integrations import tasks
from integrations.models import Source, SyncRun
from omnidesk.celery import app as celery_app
from orders.models import Order
from tests.factories import SourceFactory

from .conftest import shopify_source_for


def test_dispatch_queues_exactly_the_due_enabled_sources(db, monkeypatch):
    now = timezone.now()
    due = SourceFactory(name="due", interval_seconds=60, last_attempt_at=now - timedelta(seconds=61))
    never = SourceFactory(name="never-synced")
    SourceFactory(name="recent", interval_seconds=60, last_attempt_at=now - timedelta(seconds=10))
    SourceFactory(name="off", enabled=False)
    queued = []
    monkeypatch.setattr(tasks.sync_source, "apply_async", lambda args, queue: queued.append((args[0], queue)))

    result = tasks.dispatch_due_syncs()

    assert sorted(result) == sorted([due.pk, never.pk])
    assert sorted(queued) == sorted([(due.pk, "sync.due"), (never.pk, "sync.never-synced")])


def test_the_beat_schedule_has_one_dispatcher_the_detection_run_and_the_nightly_partitions_upkeep():
    assert celery_app.conf.beat_schedule == {
        "dispatch-due-syncs": {
            "task": "integrations.tasks.dispatch_due_syncs",
            "schedule": 15.0,
            "options": {"expires": 14},
        },
        "detect-flags": {
            "task": "orders.tasks.detect_flags",
            "schedule": 300.0,
            "options": {"expires": 240},
        },
        "push-pending-pickups": {
            "task": "orders.tasks.push_pending_pickups",
            "schedule": 120.0,
            "options": {"expires": 110},
        },
        "partitions-upkeep": {
            "task": "orders.tasks.partitions_upkeep",
            "schedule": crontab(minute=17, hour=3),
            "options": {"expires": 21600},
        },
    }


def test_sync_tasks_are_safe_to_redeliver_and_bounded_in_time():
    task = tasks.sync_source
    assert (task.acks_late, task.reject_on_worker_lost) == (True, True)
    assert task.time_limit < celery_app.conf.broker_transport_options["visibility_timeout"]
    assert celery_app.conf.worker_prefetch_multiplier == 1


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("broker")  # with the scale-out tests: one test at a time on the real broker
def test_a_real_worker_on_redis_runs_a_queued_sync(sandbox, fast_http):
    broker = os.environ.get("REDIS_URL")
    assert broker, "make test sets REDIS_URL: this test needs the real broker"
    assert celery_app.conf.broker_url == broker
    source = shopify_source_for(sandbox)

    celery_app.conf.task_always_eager = False
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            tasks.sync_source.delay(source.pk)
            _wait_for_run(source)  # no result backend: the SyncRun row is the result
    finally:
        celery_app.conf.task_always_eager = True

    run = SyncRun.objects.get(source=source)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.trigger == "schedule"
    assert Order.objects.count() == sum("shopify" in o["systems"] for o in sandbox.world.truth()["orders"])
    assert Source.objects.get(pk=source.pk).last_success_at is not None


def _wait_for_run(source, seconds: float = 120) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if SyncRun.objects.filter(source=source).exclude(status=SyncRun.Status.RUNNING).exists():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not finish the sync in time")


@pytest.mark.parametrize("niceness", [10, 0])
def test_worker_processes_lower_their_cpu_priority_so_staff_requests_come_first(settings, monkeypatch, niceness):
    settings.OMNIDESK_WORKER_NICENESS = niceness
    asked = []
    monkeypatch.setattr("omnidesk.celery.os.nice", asked.append)

    worker_process_init.send(sender=None)

    assert asked == [niceness]
