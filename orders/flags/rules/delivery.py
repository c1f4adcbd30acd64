"""Rules on the way to the customer: a silent or failed parcel, two parcels, a promise at risk or missed."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from integrations.models import Source

from ...catalogue.standing import RANK, Standing, standings
from ...models import Lifecycle, Picking, PickingLine, PickingPackage, Shipment
from .common import (
    CARRIER_EXCEPTIONS,
    CARRIER_MOVING,
    PICKUP_READY,
    PROMISE_KEPT,
    Finding,
    Fulfilment,
    age,
    carrier_status_in,
    iso,
    names,
    not_cancelled,
    of_orders,
    orders_in,
    voided_label,
    when,
)


def _shipment_facts(row: dict) -> dict:
    return {
        "system": row["source__name"],
        "carrier": row["carrier"],
        "tracking_number": row["tracking_number"],
        "carrier_status": row["raw_status"],
        "last_scan_at": iso(row["last_event_at"]),
    }


SHIPMENT_VALUES = (
    "order_id",
    "order__number",
    "source__name",
    "carrier",
    "tracking_number",
    "raw_status",
    "last_event_at",
)


def stuck_shipment(order_ids, *, now: datetime, threshold: timedelta | None) -> dict[int, Finding]:
    """S4: a parcel the carrier still reports as moving, silent for longer than the threshold.

    Silent since its last scan; or, when the carrier's tracker has no scan at all, since the
    parcel was handed over ("handed to the carrier, then silence"): the latest hand-over any
    system reports for its tracking number, the ERP's done picking of that package or another
    system's shipment handed to the carrier (on a tie, the ERP's picking: the hand-over's own
    record). Only the carrier's own tracker says "never scanned": another system's shipment
    without a scan time says nothing about scans.
    """
    cutoff = now - threshold
    moving = (
        of_orders(Shipment.objects, order_ids)
        .filter(carrier_status_in(CARRIER_MOVING))
        .exclude(status__in=[Lifecycle.DELIVERED, Lifecycle.CANCELLED])
        .exclude(voided_label())
    )
    rows = [
        {**row, "silent_since": row["last_event_at"]}
        for row in moving.filter(last_event_at__lt=cutoff).values(*SHIPMENT_VALUES)
    ]
    rows += _never_scanned(moving.filter(last_event_at__isnull=True, source__kind=Source.Kind.CARRIER), cutoff)
    found: dict[int, Finding] = {}
    for row in sorted(rows, key=lambda r: (r["order_id"], r["silent_since"])):
        if row["order_id"] in found:
            continue
        if row["last_event_at"]:
            since = f"last scanned {when(row['last_event_at'])} ({row['raw_status']})"
        else:
            since = f"handed over {when(row['silent_since'])} ({row['handed_over_by']}), never scanned ({row['raw_status']})"
        found[row["order_id"]] = Finding(
            detail=f"order {row['order__number']}: {row['carrier'] or 'carrier'} parcel {row['tracking_number']} "
            f"{since}, no scan for {age(now - row['silent_since'])} in {row['source__name']}",
            # who reported the hand-over is a fact of the flag: the detail names it, whichever system landed first
            evidence=_shipment_facts(row)
            | {"silent_since": iso(row["silent_since"])}
            | ({"handed_over_by": row["handed_over_by"]} if "handed_over_by" in row else {}),
        )
    return found


def _never_scanned(trackers: QuerySet[Shipment], cutoff: datetime) -> list[dict]:
    """Carrier trackers without a scan whose parcel was handed over before ``cutoff``, each with its hand-over."""
    rows = list(trackers.exclude(tracking_number="").values(*SHIPMENT_VALUES))
    if not rows:
        return []
    orders, numbers = {row["order_id"] for row in rows}, {row["tracking_number"] for row in rows}
    handed: dict[tuple[int, str], tuple[datetime, str]] = {}
    for order_id, number, at, system in [
        *PickingPackage.objects.filter(
            picking__order_id__any=orders,
            tracking_number__any=numbers,
            picking__kind=Picking.Kind.OUTGOING,
            picking__status=Lifecycle.HANDED_TO_CARRIER,
            picking__done_at__isnull=False,
        ).values_list("picking__order_id", "tracking_number", "picking__done_at", "picking__source__name"),
        *Shipment.objects.filter(
            order_id__any=orders,
            tracking_number__any=numbers,
            shipped_at__isnull=False,
            status__in=[s for s, rank in RANK.items() if rank >= RANK[Lifecycle.HANDED_TO_CARRIER]],
        ).values_list("order_id", "tracking_number", "shipped_at", "source__name"),
    ]:
        if (order_id, number) not in handed or handed[order_id, number][0] < at:
            handed[order_id, number] = (at, system)
    silent = []
    for row in rows:
        at, system = handed.get((row["order_id"], row["tracking_number"]), (None, ""))
        if at is not None and at < cutoff:
            silent.append({**row, "silent_since": at, "handed_over_by": system})
    return silent


def delivery_exception(order_ids, *, now: datetime, threshold: timedelta | None) -> dict[int, Finding]:
    """S4: the carrier reports a failure, a return to sender or an error on a parcel of the order.

    A cancelled shipment is no parcel: Shopify's failed fulfilment request (``status: failure``,
    no ``shipment_status``) keeps ``failure`` as its raw status, but nothing reached a carrier
    (the status precedence of ``orders.catalogue.standing`` ignores it too).
    """
    rows = (
        of_orders(Shipment.objects, order_ids)
        .filter(carrier_status_in(CARRIER_EXCEPTIONS))
        .exclude(status=Lifecycle.CANCELLED)
        .values(*SHIPMENT_VALUES)
        .order_by("order_id", "source__name", "tracking_number")
    )
    found: dict[int, list[dict]] = defaultdict(list)
    numbers = {}
    for row in rows:
        found[row["order_id"]].append(row)
        numbers[row["order_id"]] = row["order__number"]
    return {
        order_id: Finding(
            detail=f"order {numbers[order_id]}: "
            + "; ".join(
                f"{r['source__name']} reports {r['carrier'] or 'carrier'} parcel {r['tracking_number'] or '?'} "
                f"as {r['raw_status']}"
                for r in parcels
            ),
            evidence={"parcels": [_shipment_facts(r) for r in parcels]},
        )
        for order_id, parcels in found.items()
    }


def duplicate_shipment(order_ids, *, now: datetime, threshold: timedelta | None) -> dict[int, Finding]:
    """S14: two or more live parcels (distinct tracking numbers) carrying the same order lines.

    One parcel is often reported twice (the storefront's fulfilment and the carrier's
    tracker): parcels are counted by tracking number, and a parcel carries the lines any
    system says it carries (a carrier's tracker names none). Two parcels overlap when they
    share a SKU, or when no system says which lines one of them carries.

    A parcel is live unless it is cancelled (a voided label, a failed fulfilment request; a voided label's
    tracker, never scanned past the label, too: :func:`~.common.voided_label`) or
    any system reports a carrier exception on it (the carrier returning it to the sender, a
    failed delivery; Shopify shows a return to sender as ``failure``): that one is not on its
    way to the customer, and its replacement is the only parcel that is.

    The ERP says which lines a package carries: its picking's (a backorder's parcel carries what
    was left behind, not the first parcel's lines). The packages of one ERP picking (Odoo's
    comma-joined ``carrier_tracking_ref``) are one dispatch split into boxes, never duplicates of
    each other, even while no system has said which lines each box carries.
    """
    failed = Shipment.objects.filter(
        carrier_status_in(CARRIER_EXCEPTIONS),
        order_id=OuterRef("order_id"),
        tracking_number=OuterRef("tracking_number"),
    )
    live = (
        of_orders(Shipment.objects, order_ids)
        .exclude(status=Lifecycle.CANCELLED)
        .exclude(tracking_number="")
        .exclude(Exists(failed))
        .exclude(voided_label())
    )
    candidates = (
        live.values("order_id").annotate(parcels=Count("tracking_number", distinct=True)).filter(parcels__gte=2)
    )
    rows = live.filter(order_id__in=Subquery(candidates.values("order_id"))).values(
        "order_id", "order__number", "tracking_number", "carrier", "line_skus", "source__name"
    )
    rows = list(rows)
    pickings: dict[tuple[int, str], set[int]] = defaultdict(set)  # (order, tracking number) -> its ERP pickings
    for order_id, number, picking_id in PickingPackage.objects.filter(
        picking__order_id__any={row["order_id"] for row in rows},
        tracking_number__any={row["tracking_number"] for row in rows},
    ).values_list("picking__order_id", "tracking_number", "picking_id"):
        pickings[order_id, number].add(picking_id)
    picked: dict[int, set[str]] = defaultdict(set)  # ERP picking -> the SKUs of its lines
    for picking_id, sku in PickingLine.objects.filter(
        picking_id__any={p for ids in pickings.values() for p in ids}
    ).values_list("picking_id", "sku"):
        picked[picking_id].add(sku)
    parcels: dict[int, dict[str, dict]] = defaultdict(dict)
    numbers = {}
    for row in rows:
        parcel = parcels[row["order_id"]].setdefault(
            row["tracking_number"],
            {
                "carrier": row["carrier"],
                "skus": set(),
                "systems": set(),
                "pickings": pickings[row["order_id"], row["tracking_number"]],
            },
        )
        parcel["skus"] |= set(row["line_skus"] or ()).union(*(picked[p] for p in parcel["pickings"]))
        parcel["systems"].add(row["source__name"])
        numbers[row["order_id"]] = row["order__number"]
    found = {}
    for order_id, by_number in parcels.items():
        if not _parcels_overlap(list(by_number.values())):
            continue
        found[order_id] = Finding(
            detail=f"order {numbers[order_id]} has {len(by_number)} live parcels for the same lines: "
            + "; ".join(
                f"{p['carrier'] or 'carrier'} {number} (in {names(p['systems'])})"
                for number, p in sorted(by_number.items())
            ),
            evidence={
                "parcels": [
                    {
                        "tracking_number": number,
                        "carrier": p["carrier"],
                        "skus": sorted(p["skus"]),
                        "systems": sorted(p["systems"]),
                    }
                    for number, p in sorted(by_number.items())
                ]
            },
        )
    return found


def _parcels_overlap(parcels: list[dict]) -> bool:
    """Whether two parcels may carry the same lines: they share a SKU, or one's lines are unknown (no SKUs);
    never two packages of one ERP picking."""
    for i, first in enumerate(parcels):
        for second in parcels[i + 1 :]:
            if first["pickings"] & second["pickings"]:
                continue
            if not first["skus"] or not second["skus"] or first["skus"] & second["skus"]:
                return True
    return False


def _open_promises(order_ids, promised_by: Q) -> dict[int, tuple[dict, Standing]]:
    """Orders with a promise (``promised_by`` filters it) neither kept (delivered; a pickup ready) nor void
    (cancelled), each with its row and its standing.

    Kept is the order's standing (:func:`orders.catalogue.standing.standings`), not a parcel: one parcel
    delivered while a backorder is still in the warehouse, or while the storefront says a line was never
    fulfilled, has not kept the promise. The status stored from the standing narrows the orders in SQL
    first; the standing read now has the last word.
    """
    rows = {
        row["id"]: row
        for row in orders_in(order_ids)
        .filter(not_cancelled(), promised_by, promised_by__isnull=False)
        .exclude(status__in=PROMISE_KEPT)
        .exclude(fulfilment=Fulfilment.PICKUP, status__in=PICKUP_READY)
        .values("id", "number", "fulfilment", "promised_by")
    }
    return {
        pk: (rows[pk], standing)
        for pk, standing in standings(rows).items()
        if standing.status not in PROMISE_KEPT
        and not (rows[pk]["fulfilment"] == Fulfilment.PICKUP and standing.status in PICKUP_READY)
    }


def promise_at_risk(order_ids, *, now: datetime, threshold: timedelta | None) -> dict[int, Finding]:
    """S6: the promise is still ahead, but the order's projected date is later.

    The projection is the one every screen shows (:func:`orders.catalogue.standing.standings`): the latest of
    the carrier's estimates of the parcels still moving (a parcel in an exception has none:
    ``delivery_exception`` carries it) and the ERP's scheduled dates of the pickings not yet done (a
    backorder moves it, even while its first parcel is on its way or delivered). No vendor API here
    exposes a backorder lead time beyond the ERP's rescheduled date.
    """
    found = {}
    for order_id, (row, standing) in _open_promises(order_ids, Q(promised_by__gte=now)).items():
        projected, promised = standing.projected, row["promised_by"]
        if projected is None or projected.kind == "promised" or projected.at <= promised:
            continue
        found[order_id] = Finding(
            detail=f"order {row['number']} promised by {when(promised)}; {projected} for {when(projected.at)}",
            evidence={
                "promised_by": iso(promised),
                "projected": {"date": iso(projected.at), "system": projected.system, "what": projected.what},
            },
        )
    return found


def promise_missed(order_ids, *, now: datetime, threshold: timedelta | None) -> dict[int, Finding]:
    """S6/S14: the promised date (or delivery window) has passed and the order is not delivered or ready."""
    return {
        order_id: Finding(
            detail=f"order {row['number']} promised by {when(row['promised_by'])}; "
            f"{'not ready for pickup' if row['fulfilment'] == Fulfilment.PICKUP else 'not delivered'} "
            f"{age(now - row['promised_by'])} later (now {standing.label.lower()})",
            evidence={"promised_by": iso(row["promised_by"]), "status": standing.status},
        )
        for order_id, (row, standing) in sorted(_open_promises(order_ids, Q(promised_by__lt=now)).items())
    }
