"""Rules on the way from order to shelf: the ERP never got it, nobody prepares it, the shelf is short."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import BigIntegerField, Exists, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from integrations.models import Source

from ...catalogue.stock import shipping_pickings, stock_available
from ...models import (
    Lifecycle,
    Order,
    OrderLine,
    OrderRecord,
    Picking,
    Pickup,
    PickupLine,
    Store,
    quantity_json,
    quantity_of,
)
from .common import Finding, Fulfilment, age, iso, not_cancelled, of_orders, orders_in, when

# Stock still has to be found on the shelf for these: a pickup until collected, a parcel until picked.
NOT_YET_PICKED = (Lifecycle.PLACED, Lifecycle.PAID, Lifecycle.IN_ERP, Lifecycle.ASSIGNED)
PICKUP_GONE = (
    Lifecycle.COLLECTED,
    Lifecycle.DELIVERED,
    Lifecycle.RETURN_REQUESTED,
    Lifecycle.RETURNED,
    Lifecycle.REFUNDED,
    Lifecycle.CANCELLED,
)


def phantom_order(order_ids, *, now: datetime, threshold: timedelta | None) -> dict[int, Finding]:
    """S1: the storefront took the order, but neither the ERP nor the POS has it after the grace period.

    Absence only counts in a system OmniDesk has read completely at least once: before the
    ERP's first sync has finished, "not in the ERP" would be a guess.
    """
    witnesses = sorted(
        Source.objects.filter(kind__in=[Source.Kind.ERP, Source.Kind.POS], last_success_at__isnull=False).values_list(
            "name", flat=True
        )
    )
    if not witnesses:
        return {}
    storefront = OrderRecord.objects.filter(order_id=OuterRef("pk"), source__kind=Source.Kind.STOREFRONT)
    elsewhere = OrderRecord.objects.filter(order_id=OuterRef("pk"), source__kind__in=[Source.Kind.ERP, Source.Kind.POS])
    rows = (
        orders_in(order_ids)
        .filter(not_cancelled(), channel=Order.Channel.WEB, placed_at__lt=now - threshold)
        .annotate(storefront=Subquery(storefront.values("source__name")[:1]))
        .filter(storefront__isnull=False)
        .exclude(Exists(elsewhere))
        .values("id", "number", "placed_at", "storefront")
    )
    return {
        row["id"]: Finding(
            detail=f"web order {row['number']} placed {when(row['placed_at'])} in {row['storefront']}; "
            f"not in {' or '.join(witnesses)} after {age(now - row['placed_at'])}",
            evidence={"placed_at": iso(row["placed_at"]), "known_to": [row["storefront"]], "missing_from": witnesses},
        )
        for row in rows
    }


def unassigned(order_ids, *, now: datetime, threshold: timedelta | None) -> dict[int, Finding]:
    """S3: the ERP has the order's picking, nobody is assigned to prepare it, and the threshold has passed.

    The clock starts when the order was placed: the ERP's own creation time of the
    picking is not read by the adapter (see docs/architecture.md, Detection). A pickup a
    clerk has started at the store counter is being prepared, whatever the ERP says.
    """
    rows = (
        of_orders(Picking.objects, order_ids)
        .filter(
            not_cancelled("order__"),
            kind=Picking.Kind.OUTGOING,
            status=Lifecycle.IN_ERP,
            assigned_to="",
            order__placed_at__lt=now - threshold,
        )
        .exclude(order__pickup__started_at__isnull=False)
        .values("order_id", "order__number", "order__placed_at", "name", "external_id", "source__name")
        .order_by("order_id", "external_id")
    )
    found: dict[int, Finding] = {}
    for row in rows:
        if row["order_id"] in found:
            continue
        placed = row["order__placed_at"]
        found[row["order_id"]] = Finding(
            detail=f"order {row['order__number']} placed {when(placed)}: {row['source__name']} picking "
            f"{row['name'] or row['external_id']} has nobody assigned after {age(now - placed)}",
            evidence={"placed_at": iso(placed), "system": row["source__name"], "picking": row["name"]},
        )
    return found


def stock_shortfall(order_ids, *, now: datetime, threshold: timedelta | None) -> dict[int, Finding]:
    """S2/S5: a line needs more than its fulfilment location has, net of other orders' reservations.

    Open orders only: a pickup until it is collected, a parcel or delivery until it is
    picked. A line's location is where it is fulfilled from (the storefront's fulfilment or
    pickup store), else the ERP picking's warehouse. Every system that counts that SKU
    there is compared, so the POS and the ERP disagreeing shows. "Reserved" is the
    system's own count of units held for orders; this order's own reservation (an Odoo
    picking in state ``assigned``) is given back, so only *other* orders' hold counts.
    A SKU no system counts at the location is unknown, not zero: no flag. A line a clerk
    marked missing at the counter is short whatever the systems count (S2), until the
    order leaves the counter.
    """
    open_orders = orders_in(order_ids).filter(
        not_cancelled(),
        (Q(fulfilment=Fulfilment.PICKUP) & ~Q(status__in=PICKUP_GONE))
        | Q(fulfilment__in=[Fulfilment.SHIP, Fulfilment.DELIVERY], status__in=NOT_YET_PICKED),
    )
    counted = _shortfall_counted(open_orders)
    marked = _marked_missing(open_orders)
    for order_id, finding in marked.items():
        if order_id in counted:
            finding = Finding(
                detail=counted[order_id].detail + "; " + finding.detail.split(": ", 1)[1],
                evidence={**counted[order_id].evidence, **finding.evidence},
            )
        counted[order_id] = finding
    return counted


def _marked_missing(open_orders) -> dict[int, Finding]:
    """Lines a clerk marked missing on pickups still at the counter (not collected, not refused)."""
    rows = (
        PickupLine.objects.filter(state=PickupLine.State.MISSING, pickup__order__in=open_orders)
        .exclude(pickup__stage__in=[Pickup.Stage.COLLECTED, Pickup.Stage.REFUSED])
        .values("pickup__order_id", "pickup__order__number", "line__sku", "line__unit", "missing_quantity", "reason")
        .order_by("pickup__order_id", "line_id")
    )
    marked: dict[int, list[dict]] = defaultdict(list)
    numbers = {}
    for row in rows:
        marked[row["pickup__order_id"]].append(
            {"sku": row["line__sku"], "missing": quantity_json(row["missing_quantity"]), "reason": row["reason"]}
            | ({"unit": row["line__unit"]} if row["line__unit"] else {})
        )
        numbers[row["pickup__order_id"]] = row["pickup__order__number"]
    return {
        order_id: Finding(
            detail=f"order {numbers[order_id]}: "
            + "; ".join(
                f"{quantity_of(m['missing'], m.get('unit', ''), m['sku'])} marked missing at the counter" for m in lines
            ),
            evidence={"marked_missing": lines},
        )
        for order_id, lines in marked.items()
    }


def _shortfall_counted(open_orders) -> dict[int, Finding]:
    """Lines that need more than the systems count at their location (net of other orders' reservations)."""
    warehouse = shipping_pickings().filter(order_id=OuterRef("order_id"))  # the pane's rule (orders/catalogue/stock.py)
    lines = (
        OrderLine.objects.filter(order__in=open_orders, quantity__gt=0)
        .annotate(
            place=Coalesce(
                "fulfilment_location_id",
                "order__store_id",
                Subquery(warehouse.values("location_id")[:1]),
                output_field=BigIntegerField(),
            )
        )
        .filter(place__isnull=False)
        .values("order_id", "order__number", "source_id", "sku", "place")
        .annotate(quantity=Sum("quantity"), unit=Max("unit"))
    )
    # The most any one system says the order needs (a pickup mirrored to the POS lists its lines twice).
    needs: dict[tuple[int, str, int], Decimal] = {}
    numbers: dict[int, str] = {}
    units: dict[tuple[int, str, int], str] = {}  # "ft" for a line sold by measure
    for row in lines:
        key = (row["order_id"], row["sku"], row["place"])
        needs[key] = max(needs.get(key, Decimal(0)), row["quantity"])
        units[key] = units.get(key) or row["unit"]
        numbers[row["order_id"]] = row["order__number"]
    if not needs:
        return {}
    short: dict[int, list[dict]] = defaultdict(list)
    for (order_id, sku, place), available in stock_available(needs).items():
        quantity = needs[(order_id, sku, place)]
        if available and min(available.values()) < quantity:
            short[order_id].append(
                {
                    "sku": sku,
                    "location": place,
                    "needed": quantity_json(quantity),
                    "available": {system: quantity_json(count) for system, count in available.items()},
                }
                | ({"unit": units[(order_id, sku, place)]} if units[(order_id, sku, place)] else {})
            )
    places = dict(
        Store.objects.filter(pk__in={s["location"] for lines in short.values() for s in lines}).values_list(
            "id", "name"
        )
    )
    return {
        order_id: Finding(
            detail=f"order {numbers[order_id]}: "
            + "; ".join(
                f"needs {quantity_of(s['needed'], s.get('unit', ''), s['sku'])} at "
                f"{places.get(s['location'], s['location'])}, "
                + ", ".join(f"{system} has {count} available" for system, count in sorted(s["available"].items()))
                for s in lines
            ),
            evidence={"lines": lines},
        )
        for order_id, lines in short.items()
    }
