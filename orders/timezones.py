"""Times are stored in UTC. Staff read them in their own zone when they chose one (one zone per screen),
otherwise in the zone of the store concerned; customers always in their store's.

:func:`viewer_zone_use` (the request's middleware) sets the zone of the person looking for one
request; :func:`screen_zone` is what every screen shows times in; :func:`store_zone` stays the
store's own (the board's "today", customer e-mails).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

LOCAL_FORMAT = "%Y-%m-%d %H:%M %Z"
SESSION_KEY = "omnidesk_time_zone"  # the viewer's chosen zone, copied into the session at sign-in and on change
_viewer_zone: ContextVar[ZoneInfo | None] = ContextVar("viewer_zone", default=None)


@contextmanager
def viewer_zone_use(name: str) -> Iterator[None]:
    """Show every time in ``name`` (an IANA zone; empty: each store's own) until the block ends."""
    token = _viewer_zone.set(zone_named(name) if name else None)
    try:
        yield
    finally:
        _viewer_zone.reset(token)


def viewer_zone() -> ZoneInfo | None:
    """The zone the person looking chose, or None (they read each store's own)."""
    return _viewer_zone.get()


def screen_zone(store) -> ZoneInfo:
    """The zone a screen shows the store's times in: the viewer's own when they chose one, else the store's."""
    return viewer_zone() or store_zone(store)


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


def screen_local(moment: datetime | None, store) -> str:
    """``2026-11-03 09:00 EST``: the moment on the screen's clock (:func:`screen_zone`)."""
    if moment is None:
        return "—"
    return moment.astimezone(screen_zone(store)).strftime(LOCAL_FORMAT)


def customer_day(moment: datetime | None, store) -> str:
    """``Friday 20 November 2026``: the day on the store's calendar (the site's for an order with no store),
    in words a customer reads in an e-mail: no clock and no zone name, so never "UTC"."""
    if moment is None:
        return "—"
    local = moment.astimezone(store_zone(store))
    return f"{local:%A} {local.day} {local:%B %Y}"


def relative_day(moment: datetime | None, store, now: datetime | None = None) -> str:
    """``in 2 days``, ``tomorrow``, ``today``, ``yesterday``, ``4 days ago``: calendar days between now
    and the moment on the screen's clock (:func:`screen_zone`); empty when there is no moment."""
    if moment is None:
        return ""
    zone = screen_zone(store)
    days = (moment.astimezone(zone).date() - (now or timezone.now()).astimezone(zone).date()).days
    if days == 0:
        return "today"
    if abs(days) == 1:
        return "tomorrow" if days > 0 else "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


_UTC_QUOTE = re.compile(r"\b(\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{2}):(\d{2}) UTC\b")


def utc_quotes_on_screen(text: str, store, written_at: datetime | None) -> str:
    """``promised by 26 Nov 23:00 UTC`` → ``promised by 26 Nov 17:00 CST``: the moments a flag's words quote,
    on the screen's clock (:func:`screen_zone`).

    Detection writes its words on the UTC clock (``rules.common.when``) so they never depend on
    the order in which systems were synced (a store's zone may arrive after the flag); they are
    put on the screen's clock only when shown. The words leave out the year: it is the one that
    puts the moment nearest ``written_at`` (when the words were written), which is right for any
    moment within six months of it.
    """
    if not text or " UTC" not in text:
        return text
    zone = screen_zone(store)
    near = written_at or timezone.now()

    def local(match: re.Match) -> str:
        day, month, hour, minute = match.groups()
        candidates = []
        for year in (near.year - 1, near.year, near.year + 1):
            try:
                candidates.append(datetime.strptime(f"{year} {day} {month} {hour}:{minute}", "%Y %d %b %H:%M"))
            except ValueError:  # 29 Feb outside a leap year
                continue
        if not candidates:
            return match.group(0)
        moment = min((c.replace(tzinfo=UTC) for c in candidates), key=lambda c: abs(c - near))
        return f"{moment.astimezone(zone):%d %b %H:%M %Z}"

    return _UTC_QUOTE.sub(local, text)
