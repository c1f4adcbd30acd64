"""Thin Celery tasks: take ids, call one service, safe to run twice.

Each source's syncs go to a queue of its own, ``sync.<source name>`` (:func:`sync_enqueue`):
a long backfill of one source never holds up another's, and a host can be given some
sources only (``celery worker -Q``, see ``manage.py sync_queues``). Webhooks have a queue
of their own, ``webhooks``: a worker for it alone, at the web's CPU priority
(``OMNIDESK_WORKER_NICENESS=0``), keeps them seconds fresh while backfills run. Beat's
periodic jobs use the default queue, ``celery``. Whichever worker takes a sync, the
source's advisory lock (``integrations/locks.py``) keeps it to one run at a time.
"""

from __future__ import annotations

from celery import shared_task

from .models import Source, SyncRun
from .services import webhook_process
from .sync import source_sync


@shared_task(time_limit=15 * 60, soft_time_limit=14 * 60, acks_late=True, reject_on_worker_lost=True)
def sync_source(source_id: int, trigger: str = SyncRun.Trigger.SCHEDULE) -> int:
    """Run one sync of one source. Safe to repeat: the lock skips a duplicate, upserts make a re-run a no-op."""
    return source_sync(source_id=source_id, trigger=trigger).pk


DEFAULT_QUEUE = "celery"
WEBHOOK_QUEUE = "webhooks"


def sync_queue(source_name: str) -> str:
    return f"sync.{source_name}"


def worker_queues(source_names=None) -> list[str]:
    """What a worker consumes: the default and webhook queues and the sync queue of these sources (default: every
    source)."""
    names = source_names if source_names is not None else Source.objects.order_by("name").values_list("name", flat=True)
    return [DEFAULT_QUEUE, WEBHOOK_QUEUE, *(sync_queue(name) for name in names)]


def sync_enqueue(source: Source, trigger: str = SyncRun.Trigger.SCHEDULE) -> None:
    """Queue one sync of the source on its own queue."""
    sync_source.apply_async((source.pk, trigger), queue=sync_queue(source.name))


@shared_task(time_limit=60, soft_time_limit=50)
def dispatch_due_syncs() -> list[int]:
    """Beat's one periodic job: queue a sync for every enabled source whose interval has elapsed."""
    due = [source for source in Source.objects.filter(enabled=True) if source.is_due]
    for source in due:
        sync_enqueue(source)
    return [source.pk for source in due]


@shared_task(
    time_limit=5 * 60,
    soft_time_limit=4 * 60,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=10 * 60,
    retry_kwargs={"max_retries": 10},
)
def process_webhook(delivery_id: int) -> None:
    """Land a received webhook through the sync pipeline (idempotent: a processed delivery is skipped).

    Tried again with backoff (5 s … 10 min, ten times) when it fails: a deadlock with another
    source's page, the vendor down while completing the event. The last error stays on the
    delivery for the admin; the next sync of the source brings the record anyway.
    """
    webhook_process(delivery_id=delivery_id)
