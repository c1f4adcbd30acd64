"""People working the exception queues: take a flag, snooze it, resolve it, tell the customer.

Detection opens and closes flags from the data; these are the human actions on them.
Each lands in the order's timeline with who and when.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ..models import Flag, TimelineEvent
from ..timeline import events
from .store import flag_close


def _event(flag: Flag, kind: str, summary: str, actor) -> None:
    at = timezone.now()
    events.events_write(
        [
            events.flag_action(
                key=f"flag:{flag.pk}:{kind}:{at.timestamp()}",
                kind=kind,
                occurred_at=at,
                summary=summary,
                order_id=flag.order_id,
                actor=actor,
            )
        ]
    )


@transaction.atomic
def flag_take(flag: Flag, *, by) -> Flag:
    Flag.objects.filter(pk=flag.pk).update(owner=by)
    flag.owner = by
    _event(flag, TimelineEvent.Kind.FLAG_TAKEN, f"{by.get_username()} took {flag.code}", by)
    return flag


@transaction.atomic
def flag_snooze(flag: Flag, *, by, until: datetime, reason: str) -> Flag:
    Flag.objects.filter(pk=flag.pk).update(snoozed_until=until, snooze_reason=reason)
    flag.snoozed_until, flag.snooze_reason = until, reason
    _event(flag, TimelineEvent.Kind.FLAG_SNOOZED, f"{flag.code} snoozed until {until:%Y-%m-%d %H:%M} UTC: {reason}", by)
    return flag


@transaction.atomic
def flag_resolve(flag: Flag, *, by, reason: str) -> Flag:
    """A person closes the flag (the condition may still hold: detection then leaves it closed until it clears).

    Closing is the race-safe path detection takes too (:func:`.store.flag_close`), which writes
    the "closed" event with the reason; here only who resolved it, and why, is added.
    """
    if flag_close(flag=flag, reason=f"resolved by {by.get_username()}: {reason}", by=by):
        Flag.objects.filter(pk=flag.pk).update(resolved_by=by, resolution=reason, resolved_while_holding=True)
        flag.refresh_from_db()
    return flag


@transaction.atomic
def flag_unsnooze(flag: Flag, *, by) -> bool:
    """Undo a snooze: the flag is back in the queue at once. False when it was not snoozed."""
    if not Flag.objects.filter(pk=flag.pk, snoozed_until__isnull=False).update(snoozed_until=None, snooze_reason=""):
        return False
    flag.snoozed_until, flag.snooze_reason = None, ""
    _event(flag, TimelineEvent.Kind.FLAG_SNOOZED, f"snooze of {flag.code} undone by {by.get_username()}", by)
    return True


class CannotReopen(Exception):
    """The resolve cannot be undone (the flag is open, or detection opened a new one of its code since)."""


@transaction.atomic
def flag_reopen(flag: Flag, *, by) -> Flag:
    """Undo a resolve: the flag is open again as it was, with who undid it in the timeline."""
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.closed_at is None:
        raise CannotReopen(f"{flag.code} on {flag.order.number} is open already")
    if Flag.objects.filter(order_id=flag.order_id, code=flag.code, closed_at__isnull=True).exists():
        raise CannotReopen(f"a new {flag.code} flag was opened on {flag.order.number} since: work that one")
    flag.closed_at, flag.resolved_by, flag.resolution, flag.resolved_while_holding = None, None, "", False
    flag.save(update_fields=["closed_at", "resolved_by", "resolution", "resolved_while_holding"])
    _event(flag, TimelineEvent.Kind.FLAG_OPENED, f"resolve of {flag.code} undone by {by.get_username()}", by)
    return flag
