"""Opening and closing flags, race-safe: the one place a flag row is opened or closed, with its timeline event.

**Exactly once.** At most one open flag per order and code: the partial unique index
``flag_one_open_per_code`` is the conflict target of ``INSERT … ON CONFLICT DO NOTHING``,
so two workers opening the same flag at once insert one row and only the winner writes
the "opened" event. Closing locks the open rows (``SELECT … FOR UPDATE``) and re-reads
``closed_at``, so a flag closes once. Detection (``detection.py``) calls the set-based
:func:`flags_open`/:func:`flags_close`; a clerk's missing line and a person's resolve call
the one-flag :func:`flag_open`/:func:`flag_close`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from omnidesk.db import upsert

from ..models import Flag, Order
from ..timeline import events


def flags_open(rows: list[dict], *, now: datetime) -> list[int]:
    """Open flags (``order_id``, ``code``, ``detail``, ``evidence``) unless one is open already; returns the new ids.

    Race-safe: a concurrent opener of the same order and code loses on the partial unique
    index and gets nothing back, so it writes no event either.
    """
    if not rows:
        return []
    inserted = upsert(
        Flag,
        [{**row, "opened_at": now, "closed_at": None} for row in rows],
        unique=["order_id", "code"],
        unique_where="closed_at IS NULL",
        update=None,
        returning=["id", "order_id", "code", "opened_at", "closed_at"],
    )
    # Off PostgreSQL the rows are read back by key: keep only the ones this call opened.
    opened = [(pk, order_id, code) for pk, order_id, code, at, closed in inserted if closed is None and at == now]
    details = {(row["order_id"], row["code"]): row["detail"] for row in rows}
    customers = _customers_of({order_id for _, order_id, _ in opened})
    events.events_write(
        events.flag_opened(
            flag_id=pk,
            order_id=order_id,
            customer_id=customers.get(order_id),
            code=code,
            label=Flag.Code(code).label,
            detail=details[(order_id, code)],
            occurred_at=now,
        )
        for pk, order_id, code in opened
    )
    return [pk for pk, _, _ in opened]


def flags_close(flag_ids: Iterable[int], *, now: datetime, reason: str, by=None) -> int:
    """Close the flags among ``flag_ids`` that are still open; returns how many this call closed.

    The rows are locked first, so of two workers closing one flag only one closes it and
    writes the "closed" event.
    """
    flag_ids = list(flag_ids)
    if not flag_ids:
        return 0
    still_open = list(
        Flag.objects.select_for_update()
        .filter(pk__any=flag_ids, closed_at__isnull=True)
        .order_by("pk")
        .values_list("id", "order_id", "code")
    )
    Flag.objects.filter(pk__any=[pk for pk, _, _ in still_open]).update(closed_at=now)
    customers = _customers_of({order_id for _, order_id, _ in still_open})
    events.events_write(
        events.flag_closed(
            flag_id=pk,
            order_id=order_id,
            customer_id=customers.get(order_id),
            code=code,
            label=Flag.Code(code).label,
            reason=reason,
            occurred_at=now,
            actor=by,
        )
        for pk, order_id, code in still_open
    )
    return len(still_open)


def _customers_of(order_ids: set[int]) -> dict[int, int | None]:
    if not order_ids:
        return {}
    return dict(Order.objects.filter(pk__any=order_ids).values_list("id", "customer_id"))


@transaction.atomic
def flag_open(*, order_id: int, code: str, detail: str, evidence: dict | None = None, now=None) -> Flag:
    """Raise a flag on an order (a clerk marks a line missing), or return the one already open for that code.

    The same race-safe path as detection: never two open flags of one code on one order.
    A flag whose rule does not see the condition is closed by the next detection run (as
    is every flag of a rule a supervisor turned off): keep hand-raised codes to ones the
    rules also detect, as ``stock_shortfall`` detects the lines a clerk marked missing.
    """
    flags_open(
        [{"order_id": order_id, "code": code, "detail": detail, "evidence": evidence or {}}],
        now=now or timezone.now(),
    )
    return Flag.objects.get(order_id=order_id, code=code, closed_at__isnull=True)


@transaction.atomic
def flag_close(*, flag: Flag, reason: str, by=None, now=None) -> bool:
    """Resolve a flag by hand, with the reason in the timeline. False when it was already closed."""
    return flags_close([flag.pk], now=now or timezone.now(), reason=reason, by=by) == 1
