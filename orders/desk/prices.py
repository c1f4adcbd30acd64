"""What the same item sold for in the other channel (S13): on the order's lines and on the customer's header."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import QuerySet
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


def _store_day(order: Order) -> tuple[datetime, datetime]:
    """The start and end of the day the order was placed, as its store's clock counts days."""
    start = order.placed_at.astimezone(store_zone(order.store)).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _channel_prices(channel: str, skus: set[str], since: datetime, until: datetime) -> dict[tuple, list[tuple]]:
    """``{(sku, unit): [(price, system, placed at)], newest first}``: what these SKUs sold for in ``channel`` (one
    query), by the unit each was priced in: a price per foot is no price per item (blank unit)."""
    found: dict[tuple, list[tuple]] = defaultdict(list)
    rows = (
        OrderLine.objects.filter(
            sku__in=skus, order__channel=channel, order__placed_at__gte=since, order__placed_at__lt=until
        )
        .order_by("-order__placed_at", "id")
        .values_list("sku", "unit", "unit_price", "source__name", "order__placed_at")
    )
    for sku, unit, price, system, at in rows:
        found[sku, unit].append((price, system, at))
    return found


def _price_on(seen: list[tuple], channel: str, day: tuple[datetime, datetime]) -> OtherPrice | None:
    """The price of that day, else the latest of the week before it (``seen`` newest first)."""
    start, end = day
    for price, system, at in seen:
        if start - OTHER_PRICE_LOOKBACK <= at < end:
            return OtherPrice(price, channel, system, at, at >= start)
    return None


def other_channel_prices(order: Order, lines: list[OrderLine]) -> dict[str, OtherPrice]:
    """``{sku: price}`` of these lines' SKUs in the other channel on the order's day (see :func:`_price_on`), each
    priced in the line's own unit."""
    if not lines or order.placed_at is None:
        return {}
    other = Order.Channel.WEB if order.channel == Order.Channel.STORE else Order.Channel.STORE
    day = _store_day(order)
    # The day itself first: its newest price is the week's newest. The week before is read only for what the day
    # did not sell, so the pane does not read a week of the other channel's orders (about 7× the rows) on every open.
    seen = _channel_prices(other, {line.sku for line in lines}, *day)
    if missing := {line.sku for line in lines if (line.sku, line.unit) not in seen}:
        earlier = _channel_prices(other, missing, day[0] - OTHER_PRICE_LOOKBACK, day[0])
        seen.update((key, rows) for key, rows in earlier.items() if key not in seen)
    return {line.sku: price for line in lines if (price := _price_on(seen.get((line.sku, line.unit), []), other, day))}


def paid_more_in_store(customer: Customer, *, orders: QuerySet[Order], days: int = 30) -> list[dict]:
    """S13: the customer's in-store lines of the last ``days`` that cost more than online that day (or the
    last day the web sold it within a week before), newest first: a hint on the customer's header. Two queries."""
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
    web = _channel_prices(
        Order.Channel.WEB, {line.sku for line in store_lines}, since - OTHER_PRICE_LOOKBACK, timezone.now()
    )
    hints = []
    for line in store_lines:
        price = _price_on(web.get((line.sku, line.unit), []), Order.Channel.WEB, _store_day(line.order))
        if price is not None and line.unit_price > price.price:
            hints.append({"order": line.order, "line": line, "web": price, "more": line.unit_price - price.price})
    return sorted(hints, key=lambda h: (h["order"].placed_at, h["line"].pk), reverse=True)
