"""What can be promised from a shelf: one figure for the order pane, the API and ``stock_shortfall``.

Each system counts the shelf on its own: per system its rows add up (an Odoo quant per bin or
lot), net of what it holds *for other orders* — its ``reserved`` count, less this order's own
reservation (an Odoo picking in state ``assigned`` holds this order's units). Across systems the
lowest figure is what can be promised. A line is taken from where it is fulfilled: its own
location, else the order's store, else the warehouse of the ERP's outgoing picking.

A count may be a fraction (Square counts 12.5 m of rope as it sells it): the figures are exact
decimals, compared as such with a line sold by measure (2.5 m); a whole figure is an ``int``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db.models import QuerySet

from ..models import Lifecycle, Picking, StockLevel, quantity_value

ODOO_RESERVED_STATE = "assigned"  # Odoo's picking state "assigned" means its stock is reserved for the order

Need = tuple[int, str, int]  # (order id, SKU, location id)


def shipping_pickings() -> QuerySet[Picking]:
    """The ERP's outgoing pickings that say where an order ships from (not cancelled), first made first.

    An order's warehouse is its first one: read by :func:`warehouses_of` for the pane and, as a
    subquery, by ``stock_shortfall`` — one rule for both.
    """
    return (
        Picking.objects.filter(kind=Picking.Kind.OUTGOING, location__isnull=False)
        .exclude(status=Lifecycle.CANCELLED)
        .order_by("id")
    )


def warehouses_of(order_ids: Iterable[int]) -> dict[int, int]:
    """``{order_id: location}``: where each order's lines ship from when they name no place of their own."""
    found: dict[int, int] = {}
    for order_id, location_id in (
        shipping_pickings().filter(order_id__any=list(order_ids)).values_list("order_id", "location_id")
    ):
        found.setdefault(order_id, location_id)
    return found


def stock_available(needs: Mapping[Need, int | Decimal]) -> dict[Need, dict[str, int | Decimal]]:
    """Per need, each counting system's units available to that order (at most two queries for any number of needs).

    Each figure is whole (``int``) or an exact fraction without trailing zeros (``Decimal("12.5")``): see
    :func:`~orders.models.quantity_value`.
    """
    if not needs:
        return {}
    totals: dict[tuple[str, int, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for sku, place, system, on_hand, reserved in StockLevel.objects.filter(
        sku__any={k[1] for k in needs}, location_id__any={k[2] for k in needs}
    ).values_list("sku", "location_id", "source__name", "on_hand", "reserved"):
        totals[(sku, place, system)][0] += on_hand
        totals[(sku, place, system)][1] += reserved
    if not totals:  # no system counts these shelves: nothing to net a reservation from
        return {need: {} for need in needs}
    counts: dict[tuple[str, int], list[tuple[str, Decimal, Decimal]]] = defaultdict(list)
    for (sku, place, system), (on_hand, reserved) in totals.items():
        counts[(sku, place)].append((system, on_hand, reserved))
    holding = set(
        Picking.objects.filter(
            order_id__any={k[0] for k in needs}, kind=Picking.Kind.OUTGOING, raw_status=ODOO_RESERVED_STATE
        ).values_list("order_id", flat=True)
    )
    available: dict[Need, dict[str, int | Decimal]] = {}
    for (order_id, sku, place), quantity in needs.items():
        available[(order_id, sku, place)] = {
            # a measured need (2.5 ft) holds what the system reserved for it in whole units, rounded up as Odoo's is
            system: quantity_value(
                on_hand - (max(0, reserved - math.ceil(quantity)) if order_id in holding else reserved)
            )
            for system, on_hand, reserved in counts.get((sku, place), ())
        }
    return available
