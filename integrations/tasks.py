"""Thin Celery tasks: take ids, call one service, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from .models import Source, SyncRun
from .services import webhook_process
from .sync import source_sync


@shared_task(time_limit=15 * 60, soft_time_limit=14 * 60, acks_late=True, reject_on_worker_lost=True)
def sync_source(source_id: int, trigger: str = SyncRun.Trigger.SCHEDULE) -> int:
    """Run one sync of one source. Safe to repeat: the lock skips a duplicate, upserts make a re-run a no-op."""
    return source_sync(source_id=source_id, trigger=trigger).pk


@shared_task(time_limit=60, soft_time_limit=50)
def dispatch_due_syncs() -> list[int]:
    """Beat's one periodic job: queue a sync for every enabled source whose interval has elapsed."""
    due = [source.pk for source in Source.objects.filter(enabled=True) if source.is_due]
    for source_id in due:
        sync_source.delay(source_id)
    return due


@shared_task(time_limit=5 * 60, soft_time_limit=4 * 60, acks_late=True, reject_on_worker_lost=True)
def process_webhook(delivery_id: int) -> None:
    """Land a received webhook through the sync pipeline (idempotent: a processed delivery is skipped)."""
    webhook_process(delivery_id=delivery_id)
