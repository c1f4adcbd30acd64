"""What the same item sold for in the other channel (S13): on the order's lines and on the customer's header."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from ..models import (
    Customer,
    Order,
    OrderLine,
)
from ..timezones import store_zone


@dataclass(frozen=True)
class OtherPrice:
    """S13: what the same SKU cost in the other channel (in store vs online) on the order's day, or the last day seen."""

    price: Decimal
    channel: str
    system: str
    seen_at: datetime
    same_day: bool


OTHER_PRICE_LOOKBACK = timedelta(days=7)


Day = tuple[datetime, datetime]  # [start, end) of a day as a store's clock counts it


def _store_day(order: Order) -> Day:
    """The start and end of the day the order was placed, as its store's clock counts days."""
    start = order.placed_at.astimezone(store_zone(order.store)).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _window(day: Day, *, week_before: bool) -> Day:
    """The day itself, or the week before it."""
    return (day[0] - OTHER_PRICE_LOOKBACK, day[0]) if week_before else day


def _channel_rows(channel: str, skus: set[str], windows: set[Day]) -> dict[tuple, list[tuple]]:
    """``{(sku, unit): [(price, system, placed at)], newest first}``: what these SKUs sold for in ``channel`` within
    any of ``windows`` (one query, one index range a window), by the unit each was priced in: a price per foot is no
    price per item (blank unit)."""
    within = Q()
    for since, until in windows:
        within |= Q(order__placed_at__gte=since, order__placed_at__lt=until)
    found: dict[tuple, list[tuple]] = defaultdict(list)
    rows = (
        OrderLine.objects.filter(within, sku__in=skus, order__channel=channel)
        .order_by("-order__placed_at", "id")
        .values_list("sku", "unit", "unit_price", "source__name", "order__placed_at")
    )
    for sku, unit, price, system, at in rows:
        found[sku, unit].append((price, system, at))
    return found


def _prices_on(channel: str, wanted: set[tuple[Day, str, str]]) -> dict[tuple[Day, str, str], OtherPrice]:
    """For each ``(day, sku, unit)``: what ``channel`` sold it for that day (its latest), else the latest of the week
    before the day; absent if neither. Two queries at most, each reading only those days (the day's newest price is
    the week's newest, so the week before is read only for what the days did not sell)."""
    found: dict[tuple[Day, str, str], OtherPrice] = {}
    for week_before in (False, True):
        missing = {key for key in wanted if key not in found}
        if not missing:
            break
        windows = {_window(day, week_before=week_before) for day, _, _ in missing}
        seen = _channel_rows(channel, {sku for _, sku, _ in missing}, windows)
        for day, sku, unit in missing:
            since, until = _window(day, week_before=week_before)
            newest = next(((p, system, at) for p, system, at in seen.get((sku, unit), ()) if since <= at < until), None)
            if newest is not None:
                price, system, at = newest
                found[day, sku, unit] = OtherPrice(price, channel, system, at, same_day=not week_before)
    return found


def other_channel_prices(order: Order, lines: list[OrderLine]) -> dict[str, OtherPrice]:
    """``{sku: price}`` of these lines' SKUs in the other channel on the order's day, else the latest of the week
    before (:func:`_prices_on`), each priced in the line's own unit."""
    if not lines or order.placed_at is None:
        return {}
    other = Order.Channel.WEB if order.channel == Order.Channel.STORE else Order.Channel.STORE
    day = _store_day(order)
    prices = _prices_on(other, {(day, line.sku, line.unit) for line in lines})
    return {line.sku: prices[key] for line in lines if (key := (day, line.sku, line.unit)) in prices}


def paid_more_in_store(customer: Customer, *, orders: QuerySet[Order], days: int = 30) -> list[dict]:
    """S13: the customer's in-store lines of the last ``days`` that cost more than online that day (or the
    last day the web sold it within a week before), newest first: a hint on the customer's header. Three queries at most."""
    since = timezone.now() - timedelta(days=days)
    store_lines = list(
        OrderLine.objects.filter(
            order__in=orders.filter(customer=customer).values("pk"),  # only the orders this user may see
            order__channel=Order.Channel.STORE,
            order__placed_at__gte=since,
        ).select_related("order__store")
    )
    if not store_lines:
        return []
    web = _prices_on(Order.Channel.WEB, {(_store_day(line.order), line.sku, line.unit) for line in store_lines})
    hints = []
    for line in store_lines:
        price = web.get((_store_day(line.order), line.sku, line.unit))
        if price is not None and line.unit_price > price.price:
            hints.append({"order": line.order, "line": line, "web": price, "more": line.unit_price - price.price})
    return sorted(hints, key=lambda h: (h["order"].placed_at, h["line"].pk), reverse=True)
