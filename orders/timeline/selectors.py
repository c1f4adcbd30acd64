"""Reading an order's timeline back: every system's events in the order things happened, one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..models import Order, TimelineEvent
from ..timezones import LOCAL_FORMAT, screen_zone, utc_quotes_on_screen


def order_timeline(*, order_id: int) -> list[TimelineEvent]:
    """One order's timeline across every system, in the order things happened (one query).

    Events are stored in UTC with the time they happened in their own system, so a
    scan synced late still sorts where it belongs.
    """
    events = TimelineEvent.objects.filter(order_id=order_id).select_related("source", "actor")
    return list(events.order_by("occurred_at", "id"))


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One timeline event, ready to show: formatted once here rather than per row in the template."""

    at: datetime
    iso: str
    local: str  # as the store's clock showed it
    kind: str
    source: str | None
    who: str  # the system, the staff member, or OmniDesk itself
    summary: str


def timeline_rows(order: Order) -> list[TimelineRow]:
    """The order's merged timeline in one query, without building a model instance per event.

    The busiest orders carry hundreds of events; plain rows keep the order screen fast.
    """
    zone = screen_zone(order.store)
    events = (
        TimelineEvent.objects.filter(order_id=order.pk)
        .order_by("occurred_at", "id")
        .values_list("occurred_at", "kind", "source__name", "actor__username", "summary")
    )
    return [
        TimelineRow(
            at,
            at.isoformat(),
            at.astimezone(zone).strftime(LOCAL_FORMAT),
            kind,
            source,
            source or actor or "OmniDesk",
            utc_quotes_on_screen(summary, order.store, at),
        )
        for at, kind, source, actor, summary in events
    ]
