"""Reads for the store counter: the pickup board of one store and one order's checklist.

A fixed number of queries whatever the number of orders on the board: orders, records,
lines, flags, handovers and pending pushes are each read once and joined in Python.
The board polls every 30 s, so it reads only what it shows — open pickups and those
collected today, each found through an index (``order_open_pickup``, the pickup's
``(stage, closed_at)``) — never the store's whole pickup history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from integrations.models import Source

from ..catalogue.lines import PRECEDENCE, order_lines
from ..catalogue.money import how_paid, takings, to_pay_at_counter
from ..models import (
    PICKUP_DONE,
    Flag,
    Lifecycle,
    Order,
    OrderLine,
    OrderRecord,
    Pickup,
    PickupLine,
    PickupPush,
    StockLevel,
    Store,
    is_measured,
    quantity_value,
)
from ..timezones import store_zone

COLUMNS = ("new", "preparing", "ready", "collected", "problems")
COLUMN_TITLES = {
    "new": "New",
    "preparing": "Preparing",
    "ready": "Ready",
    "collected": "Collected today",
    "problems": "Problems",
}
# Upstream status of an order nobody touched at the counter yet -> its column.
UPSTREAM_STAGE = {
    Lifecycle.ASSIGNED: "preparing",
    Lifecycle.PICKED: "preparing",
    Lifecycle.PACKED: "preparing",
    Lifecycle.READY_FOR_PICKUP: "ready",
    **dict.fromkeys(PICKUP_DONE, "done"),
}


@dataclass
class Card:
    order: Order
    column: str
    numbers: list[tuple[str, str]]  # (system, number there)
    items: int
    flags: list[Flag]
    pending_pushes: list[PickupPush]
    due: str  # "due in 3 h" / "overdue 2 h" / "no promise"
    overdue: bool
    sort_key: tuple


@dataclass
class Board:
    store: Store
    columns: dict[str, list[Card]]
    stale_sources: list[Source]
    updated_at: datetime
    titles: dict[str, str] = field(default_factory=lambda: COLUMN_TITLES)

    @property
    def column_list(self) -> list[tuple[str, str, list[Card]]]:
        return [(key, self.titles[key], self.columns[key]) for key in COLUMNS]

    @property
    def problems_here(self) -> list[Card]:
        """Problems for the counter now: an item not on the shelf, a refusal, or the customer due or waiting."""
        return [card for card in self.columns["problems"] if _at_the_counter(card)]

    @property
    def problems_back_office(self) -> list[Card]:
        """Problems the back office owns (not in the ERP, nobody preparing it, money): shown collapsed."""
        return [card for card in self.columns["problems"] if not _at_the_counter(card)]


COUNTER_CODES = {Flag.Code.STOCK_SHORTFALL}  # what a clerk can act on at the shelf


def _at_the_counter(card: Card) -> bool:
    refused = getattr(getattr(card.order, "pickup", None), "stage", "") == "refused"
    return card.overdue or refused or any(flag.code in COUNTER_CODES for flag in card.flags)


def pickup_orders(store: Store, base: QuerySet[Order]) -> QuerySet[Order]:
    """Every order to be picked up at this store, from any channel (``base`` is the user's visible orders)."""
    return base.filter(store=store, fulfilment=Order.Fulfilment.PICKUP)


def board_orders(*, store: Store, orders: QuerySet[Order], now: datetime) -> QuerySet[Order]:
    """Of ``orders`` (the store's pickups), those the board shows: not done upstream, or at the counter now
    (preparing, ready, refused), or collected there today. Orders done before today are left unread."""
    start = datetime.combine(now.astimezone(store_zone(store)).date(), time.min, tzinfo=store_zone(store))
    open_upstream = orders.exclude(status__in=PICKUP_DONE).values_list("pk", flat=True)  # order_open_pickup
    at_counter = Pickup.objects.filter(order__in=orders).filter(
        Q(stage__in=[Pickup.Stage.PREPARING, Pickup.Stage.READY, Pickup.Stage.REFUSED])
        | Q(stage=Pickup.Stage.COLLECTED, closed_at__gte=start)
    )
    return orders.filter(pk__in={*open_upstream, *at_counter.values_list("order_id", flat=True)})


def pickup_board(*, store: Store, orders: QuerySet[Order], now: datetime | None = None) -> Board:
    """The board: one card per pickup order on it (see :func:`board_orders`), in its column, oldest-overdue first."""
    now = now or timezone.now()
    rows = list(board_orders(store=store, orders=orders, now=now).select_related("customer", "store", "pickup"))
    ids = [o.pk for o in rows]
    numbers = _numbers(ids)
    items = _items(rows)
    flags = defaultdict(list)
    for flag in Flag.objects.filter(order_id__in=ids, closed_at__isnull=True).order_by("opened_at"):
        flags[flag.order_id].append(flag)
    pushes = defaultdict(list)
    for push in PickupPush.objects.filter(order_id__in=ids, sent_at__isnull=True).select_related("target"):
        pushes[push.order_id].append(push)
    today = now.astimezone(store_zone(store)).date()
    columns: dict[str, list[Card]] = {key: [] for key in COLUMNS}
    for order in rows:
        column = _column(order, flags[order.pk], today, store)
        if column == "done":  # cancelled upstream while preparing, collected before today after a late refusal …
            continue
        due, overdue = _due(order.promised_by, now)
        columns[column].append(
            Card(
                order=order,
                column=column,
                numbers=numbers.get(order.pk, [("OmniDesk", order.number)]),
                items=items.get(order.pk, 0),
                flags=flags[order.pk],
                pending_pushes=pushes[order.pk],
                due=due,
                overdue=overdue,
                sort_key=(order.promised_by is None, order.promised_by or now, order.placed_at or now, order.pk),
            )
        )
    for cards in columns.values():
        cards.sort(key=lambda c: c.sort_key)
    stale = [s for s in Source.objects.filter(kind__in=[Source.Kind.ERP, Source.Kind.POS]) if s.is_stale]
    return Board(store=store, columns=columns, stale_sources=stale, updated_at=now)


def _column(order: Order, flags: list[Flag], today, store: Store) -> str:
    """Open flags or a refusal make it a problem; otherwise the counter's stage, else the upstream status."""
    pickup = getattr(order, "pickup", None)
    stage = pickup.stage if pickup is not None else None
    if stage == Pickup.Stage.REFUSED or (flags and stage != Pickup.Stage.COLLECTED and order.status not in _DONE):
        return "problems"
    if stage == Pickup.Stage.COLLECTED:
        closed = pickup.closed_at.astimezone(store_zone(store)).date() if pickup.closed_at else None
        return "collected" if closed == today else "done"
    if stage in (Pickup.Stage.PREPARING, Pickup.Stage.READY):
        return stage
    return UPSTREAM_STAGE.get(order.status, "new")


_DONE = set(PICKUP_DONE)


def _due(promised: datetime | None, now: datetime) -> tuple[str, bool]:
    if promised is None:
        return "no promise", False
    delta = promised - now
    if delta < timedelta(0):
        return f"overdue {_span(-delta)}", True
    return f"due in {_span(delta)}", False


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def _numbers(order_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The order's number in every system that knows it, e.g. [("shopify", "#1001"), ("odoo", "S00042")]."""
    same: dict[int, dict[str, list[str]]] = defaultdict(dict)  # a number two systems share is shown once
    records = OrderRecord.objects.filter(order_id__in=order_ids).values_list(
        "order_id", "source__kind", "source__name", "external_number", "external_id"
    )
    # The number the customer knows first: storefront, then POS, then ERP (correlation's precedence).
    for order_id, _, system, number, external_id in sorted(records, key=lambda r: (PRECEDENCE.get(r[1], 9), r[2])):
        same[order_id].setdefault(number or external_id, []).append(system)
    return {
        order_id: [(" + ".join(systems), number) for number, systems in numbers.items()]
        for order_id, numbers in same.items()
    }


def _items(orders: list[Order]) -> dict[int, int]:
    """Items per order, counted from one system's lines (a pickup mirrored to the POS lists them twice)."""
    per: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for order_id, source_id, quantity, unit in OrderLine.objects.filter(order__in=[o.pk for o in orders]).values_list(
        "order_id", "source_id", "quantity", "unit"
    ):
        per[order_id][source_id] += 1 if is_measured(quantity, unit) else int(quantity)  # a length of rope: one item
    origin = {o.pk: o.origin_source_id for o in orders}
    return {order_id: by_source.get(origin[order_id], max(by_source.values())) for order_id, by_source in per.items()}


# --- one order at the counter --------------------------------------------------------------------
@dataclass
class ChecklistRow:
    line: OrderLine
    check: PickupLine | None
    on_hand: list[tuple[str, int | Decimal]]  # (system, on hand at this store: 12.5 of a product counted by measure)
    location: str
    bins: list[str]  # where on this store's shelves (the ERP's sub-locations), if a system says


def _to_pay(order: Order) -> dict:
    """What the customer pays at the counter before handover (a "Pay in store" order), and how they chose to."""
    m = takings(order.payments.all(), order.total)
    due = to_pay_at_counter(order, m)
    return {"to_pay": due, "to_pay_how": how_paid(m.at_counter[0]) if due else ""}


def pickup_checklist(*, order: Order, store: Store) -> dict:
    """The lines to prepare with on-hand at this store per system, each line's check, the handover if any."""
    lines = order_lines(order)
    checks = {c.line_id: c for c in PickupLine.objects.filter(line__in=lines).select_related("by")}
    stock, bins = defaultdict(lambda: defaultdict(Decimal)), defaultdict(set)
    for sku, system, on_hand, place in StockLevel.objects.filter(
        sku__in={line.sku for line in lines}, location=store
    ).values_list("sku", "source__name", "on_hand", "bin"):
        stock[sku][system] += on_hand  # one system's counts on several bins add up
        if place:
            bins[sku].add(place)
    rows = [
        ChecklistRow(
            line=line,
            check=checks.get(line.pk),
            on_hand=[(system, quantity_value(count)) for system, count in sorted(stock.get(line.sku, {}).items())],
            location=(line.fulfilment_location or store).name,
            bins=sorted(bins.get(line.sku, ())),
        )
        for line in lines
    ]
    pickup = Pickup.objects.filter(order=order).select_related("started_by").first()
    return {
        **_to_pay(order),
        "order": order,
        "store": store,
        "rows": rows,
        "pickup": pickup,
        "stage": pickup.stage if pickup else "new",
        "handover": order.handovers.select_related("clerk").first(),
        "flags": list(order.flags.filter(closed_at__isnull=True)),
        "numbers": _numbers([order.pk]).get(order.pk, []),
        "pending_pushes": list(order.pickup_pushes.filter(sent_at__isnull=True).select_related("target")),
    }
