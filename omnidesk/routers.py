"""Reads from a read replica when a request allows it; every write, and everything else, on the primary.

Only configured with ``DATABASE_REPLICA_URL`` (``omnidesk/settings.py`` then adds the ``replica``
alias and this router). A replica lags its primary by a moment, so a read goes there only when all
of these hold, and otherwise to the primary:

* the request opted in (:class:`omnidesk.middleware.ReplicaReadsMiddleware`, for views marked
  :func:`replica_reads`): Celery tasks, management commands, the sync and detection never do;
* it has not written to a model read from the replica (read your own writes within a request),
  and the person has not written within the last few seconds (the middleware's sticky window,
  across the redirect after a note or a handover);
* no transaction the request opened is in progress on the primary (read-then-write code locks and
  reads what it is about to change there);
* the model is not one whose every read must be current: sessions, users and groups, login
  throttling, API tokens and the access log (:data:`PRIMARY_ONLY_APPS`, :data:`PRIMARY_ONLY_MODELS`);
* it does not follow a relation of an object that came from the primary (``user.stores``: who may
  see which store is read where the user was).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connections

PRIMARY = "default"
REPLICA = "replica"

# Read where they are written, always: a session or a password changed a moment ago, a login
# failure counted, an admin change to a user's roles, a revoked API token must all count at once.
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "axes"})
# The access log is appended to by every screen and read back only to spare a polling board a row
# per poll (and by the admin, which reads the primary): it lives on the primary alone, so writing
# it does not make the rest of a request's reads stale.
PRIMARY_ONLY_MODELS = frozenset({"orders.accesslog", "orders.apitoken"})


@dataclass
class ReplicaReads:
    """One request's standing with the replica (see the module's docstring)."""

    allowed: bool = False
    atomic_depth: int = 0  # transactions open on the primary when reads were allowed (0 in production)
    wrote: bool = False


_reads: ContextVar[ReplicaReads | None] = ContextVar("replica_reads", default=None)


@contextmanager
def replica_reads_track() -> Iterator[ReplicaReads]:
    """Note this block's writes; its reads stay on the primary until :func:`replica_reads_allow`."""
    reads = ReplicaReads()
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


def replica_reads_allow() -> None:
    """From here on, the tracked block's reads may go to the replica (until it writes)."""
    reads = _reads.get()
    if reads is not None:
        reads.allowed = True
        reads.atomic_depth = len(connections[PRIMARY].atomic_blocks)


def replica_readable() -> bool:
    """Whether a read issued now may be served by the replica."""
    reads = _reads.get()
    return (
        reads is not None
        and reads.allowed
        and not reads.wrote
        and len(connections[PRIMARY].atomic_blocks) <= reads.atomic_depth
    )


def replica_reads(*methods: str) -> Callable:
    """Mark a view whose requests by these methods only read, so their reads may use the replica.

    ``@replica_reads("GET")`` for a screen (HEAD comes with GET); the search says
    ``@replica_reads("GET", "POST")``: its terms come by POST only to keep them out of URLs. The
    middleware reads the mark, as ``CsrfViewMiddleware`` reads ``csrf_exempt``'s.
    """
    allowed = frozenset(methods) | ({"HEAD"} if "GET" in methods else set())

    def mark(view: Callable) -> Callable:
        view.replica_reads = allowed
        return view

    return mark


def _primary_only(model) -> bool:
    return model._meta.app_label in PRIMARY_ONLY_APPS or model._meta.label_lower in PRIMARY_ONLY_MODELS


class ReplicaRouter:
    """Route reads to ``replica`` when :func:`replica_readable`, everything else to ``default``."""

    def db_for_read(self, model, **hints) -> str:
        if _primary_only(model):
            return PRIMARY
        instance = hints.get("instance")
        if instance is not None and instance._state.db == PRIMARY:
            return PRIMARY  # a relation of an object read or written on the primary
        return REPLICA if replica_readable() else PRIMARY

    def db_for_write(self, model, **hints) -> str:
        reads = _reads.get()
        if reads is not None and not _primary_only(model):
            reads.wrote = True  # the replica may not have it yet: this request reads the primary from now on
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        """The replica holds the primary's rows, so objects read from either may be related."""
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        """Migrations run on the primary; the replica follows it (it is read-only)."""
        return db == PRIMARY
