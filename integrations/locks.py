"""One source never syncs twice at once, and never lands two pages at once.

Two locks, of two sizes. :func:`source_lock` is held for a whole sync run: a second run of
the same source is skipped. :func:`landing_lock` is held for one page's transaction: a
webhook's event waits for the page in flight to commit, not for the whole run, so a
backfill of a source never delays that source's webhooks by more than a page.

On PostgreSQL: a session-level advisory lock. It belongs to the database
connection, so a worker that dies (killed, OOM, power cut) loses its connection and
with it the lock: it can never outlive a dead worker. Elsewhere (the SQLite demo): a
lease on the Source row taken with a conditional UPDATE and renewed every page; a
dead worker's lease simply expires.
"""

from __future__ import annotations

import time
import uuid
import zlib
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from .models import Source

LOCK_NAMESPACE = zlib.crc32(b"omnidesk.source-sync") & 0x7FFFFFFF
LANDING_NAMESPACE = zlib.crc32(b"omnidesk.source-landing") & 0x7FFFFFFF
LEASE_SECONDS = 120


class SourceLock:
    """A held lock; ``renew()`` is called once per page (a no-op for advisory locks)."""

    def __init__(self, source_id: int, owner: str):
        self.source_id = source_id
        self.owner = owner

    def renew(self) -> None:
        if connection.vendor == "postgresql":
            return
        Source.objects.filter(pk=self.source_id, lease_owner=self.owner).update(
            lease_expires_at=timezone.now() + timedelta(seconds=LEASE_SECONDS)
        )


def _try_acquire(source_id: int, owner: str) -> bool:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, source_id])
            return bool(cursor.fetchone()[0])
    now = timezone.now()
    taken = (
        Source.objects.filter(pk=source_id)
        .filter(Q(lease_owner="") | Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True))
        .update(lease_owner=owner, lease_expires_at=now + timedelta(seconds=LEASE_SECONDS))
    )
    return taken == 1


def _release(source_id: int, owner: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, source_id])
        return
    Source.objects.filter(pk=source_id, lease_owner=owner).update(lease_owner="", lease_expires_at=None)


@contextmanager
def source_lock(source_id: int, *, wait_seconds: float = 0.0, poll: float = 0.1):
    """Yield a :class:`SourceLock`, or ``None`` when another run holds it (after waiting up to ``wait_seconds``)."""
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + wait_seconds
    acquired = _try_acquire(source_id, owner)
    while not acquired and time.monotonic() < deadline:
        time.sleep(poll)
        acquired = _try_acquire(source_id, owner)
    if not acquired:
        yield None
        return
    try:
        yield SourceLock(source_id, owner)
    finally:
        _release(source_id, owner)


def landing_lock(source_id: int) -> None:
    """Wait until no other transaction is landing a page of the source; hold that until this one ends.

    Called first thing inside a page's transaction. Pages of one run are landed one after the
    other anyway; what this orders is a webhook's event against the run's page in flight, so
    the two never upsert the same rows at once (no deadlock, no lost update). On PostgreSQL a
    transaction-level advisory lock (released at commit or rollback, so it cannot leak); on
    SQLite nothing, since SQLite already lets one writer in at a time.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LANDING_NAMESPACE, source_id])
