"""Times are stored in UTC; people read them in the time zone of the store concerned."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

LOCAL_FORMAT = "%Y-%m-%d %H:%M %Z"


def store_zone(store) -> ZoneInfo:
    """The store's zone, or the site's default when there is no store (or its zone is unknown)."""
    return zone_named(store.timezone if store is not None else "")


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone called ``name``, or the site's default for an empty or unknown name."""
    try:
        return ZoneInfo(name) if name else timezone.get_default_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def store_local(moment: datetime | None, store) -> str:
    """``2026-11-03 09:00 EST``: the moment as the store's clock showed it."""
    if moment is None:
        return "—"
    return moment.astimezone(store_zone(store)).strftime(LOCAL_FORMAT)


def customer_day(moment: datetime | None, store) -> str:
    """``Friday 20 November 2026``: the day on the store's calendar (the site's for an order with no store),
    in words a customer reads in an e-mail: no clock and no zone name, so never "UTC"."""
    if moment is None:
        return "—"
    local = moment.astimezone(store_zone(store))
    return f"{local:%A} {local.day} {local:%B %Y}"
