"""Celery: the beat dispatcher, and a real worker consuming from Redis."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
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


def test_every_beat_entry_names_a_task_that_exists_and_expires_before_its_next_turn():
    """What the schedule must hold, not a copy of it: a misspelt task name would never run, and a
    run queued behind a backlog must not still be waiting when the next one is queued."""
    celery_app.loader.import_default_modules()
    for name, entry in celery_app.conf.beat_schedule.items():
        assert entry["task"] in celery_app.tasks, name
        schedule = entry["schedule"]
        # an interval's period, or a daily crontab's (one fixed minute and hour: once a day)
        period = schedule if isinstance(schedule, float) else 24 * 3600
        if not isinstance(schedule, float):
            assert (len(schedule.minute), len(schedule.hour)) == (1, 1), name
        assert 0 < entry["options"]["expires"] < period, name
    assert {entry["task"] for entry in celery_app.conf.beat_schedule.values()} >= {
        "integrations.tasks.dispatch_due_syncs",
        "orders.tasks.detect_flags",
        "orders.tasks.push_pending_pickups",
        "orders.tasks.partitions_upkeep",
    }


def test_sync_tasks_are_safe_to_redeliver_and_bounded_in_time():
    task = tasks.sync_source
    assert (task.acks_late, task.reject_on_worker_lost) == (True, True)
    assert task.time_limit < celery_app.conf.broker_transport_options["visibility_timeout"]
    assert celery_app.conf.worker_prefetch_multiplier == 1


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_runs_a_queued_sync(broker_alone, sandbox, fast_http):
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
