"""Template helpers: times on the screen's clock, money, badges."""

from __future__ import annotations

from django import template
from django.urls import reverse

from integrations.adapters.fields import http_url

from ..desk.answer import flag_label as _flag_label
from ..desk.answer import money as _money
from ..desk.answer import span as _span
from ..models import quantity_text
from ..timezones import relative_day, screen_local, store_zone, utc_quotes_on_screen

register = template.Library()


@register.filter
def local_time(moment, store):
    """``{{ event.occurred_at|local_time:order.store }}`` → ``2026-11-03 09:00 EST``: in the viewer's own zone
    when they chose one, else the store's.

    No store (``local_time:None``, or an order without a store): the site's zone. A lookup through
    a missing relation (``note.order.store`` on a note without an order) raises in a filter
    argument, so templates test the relation first.
    """
    return screen_local(moment, store or None)


@register.filter
def relative(moment, store):
    """``{{ order.promised_by|relative:order.store }}`` → ``in 2 days`` / ``4 days ago`` (the screen's calendar)."""
    return relative_day(moment, store or None)


@register.filter
def flag_words(flag, store):
    """``{{ flag|flag_words:order.store }}``: the flag's evidence in words, its moments on the screen's clock
    (detection writes them in UTC, :func:`~orders.timezones.utc_quotes_on_screen`)."""
    return utc_quotes_on_screen(flag.detail, store or None, flag.opened_at)


@register.filter
def zone_city(name: str) -> str:
    """``America/Los_Angeles`` → ``Los Angeles``: a zone as the top bar names it."""
    return name.rsplit("/", 1)[-1].replace("_", " ")


@register.filter(name="http_url")
def http_url_filter(value) -> str:
    """``{{ shipment.tracking_url|http_url }}``: the link only when it is ``http(s)`` (never ``javascript:``)."""
    return http_url(value)


@register.filter
def quantity(value) -> str:
    """``{{ check.missing_quantity|quantity }}`` → ``2.5`` / ``2``: a quantity without trailing zeros."""
    return quantity_text(value)


@register.filter
def money(amount, currency="USD"):
    """``{{ order.total|money:order.currency }}`` → ``$129.50`` (minor units and symbol; the code when unknown)."""
    return _money(amount, currency)


@register.filter
def store_time(moment, store):
    """``{{ board.updated_at|store_time:store }}`` → ``14:05:09``: a clock time at the store."""
    if moment is None:
        return "—"
    return moment.astimezone(store_zone(store)).strftime("%H:%M:%S")


@register.filter
def duration_words(value) -> str:
    """``timedelta(minutes=15)`` → ``15 minutes``; whole hours as hours."""
    minutes = int(value.total_seconds() // 60)
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@register.filter
def span_words(value) -> str:
    """``timedelta(days=4, hours=3)`` → ``4 days``: how long, as the answer card says it."""
    return _span(value) if value is not None else ""


@register.filter
def flag_label(code: str) -> str:
    """``stuck_shipment`` → ``Parcel stuck``: words a customer could hear; the code stays in titles and the API."""
    return _flag_label(code)


UNDO_LABELS = {"unsnooze": "Undo snooze", "reopen": "Undo resolve"}


@register.filter
def undo_of(message) -> dict | None:
    """The undo a worklist message offers (``extra_tags`` "undo <action>:<flag id>"): its URL and label."""
    words = str(getattr(message, "extra_tags", "") or "").split()
    if "undo" not in words:
        return None
    action, _, flag_id = next((w for w in words if ":" in w), ":").partition(":")
    if action not in UNDO_LABELS or not flag_id.isdigit():
        return None
    return {"url": reverse("flag_action", args=[int(flag_id), action]), "label": UNDO_LABELS[action]}
