"""Rules on money: a return nobody refunded, payments that disagree with the order."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import BooleanField, Case, Count, DecimalField, Exists, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from integrations.models import Source

from ..models import Lifecycle, OrderRecord, Payment, Picking, Return
from .common import Finding, age, iso, names, of_orders, orders_in, when

# Shopify financial statuses that mean the whole total was captured (refunds are reported separately).
STOREFRONT_PAID_IN_FULL = ("paid", "partially_refunded", "refunded")
ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=12, decimal_places=2))


def return_not_refunded(order_ids, *, now: datetime, threshold: timedelta | None) -> dict[int, Finding]:
    """S11: the warehouse received a return longer ago than the threshold, and no refund was issued for it.

    Received: the ERP's return receipt is done (or a system reports the return received).
    Refunded: a return some system reports refunded, or a refund payment after the receipt.
    """
    cutoff = now - threshold
    refunded_return = Return.objects.filter(order_id=OuterRef("order_id"), status=Return.Status.REFUNDED)

    def refund_since(field: str):
        return Payment.objects.filter(
            order_id=OuterRef("order_id"),
            kind=Payment.Kind.REFUND,
            status=Payment.Status.SUCCESS,
            processed_at__gte=OuterRef(field),
        )

    receipts = (
        of_orders(Picking.objects, order_ids)
        .filter(kind=Picking.Kind.INCOMING, status=Lifecycle.RETURNED, done_at__lt=cutoff)
        .exclude(Exists(refunded_return))
        .exclude(Exists(refund_since("done_at")))
        .values_list("order_id", "order__number", "source__name", "name", "done_at")
    )
    received = (
        of_orders(Return.objects, order_ids)
        .filter(status=Return.Status.RECEIVED, received_at__lt=cutoff)
        .exclude(Exists(refunded_return))
        .exclude(Exists(refund_since("received_at")))
        .values_list("order_id", "order__number", "source__name", "external_id", "received_at")
    )
    found: dict[int, Finding] = {}
    for order_id, number, system, name, at in sorted([*receipts, *received], key=lambda r: (r[0], r[4])):
        if order_id not in found:
            found[order_id] = Finding(
                detail=f"order {number}: {system} received return {name} {when(at)}; "
                f"no refund in any system {age(now - at)} later",
                evidence={"system": system, "receipt": name, "received_at": iso(at)},
            )
    return found


def payment_mismatch(order_ids, *, now: datetime, threshold: timedelta | None) -> dict[int, Finding]:
    """Money disagrees with the order: captured ≠ total, refunded > captured, or cancelled, captured, not refunded.

    Captured is the sum of the successful sales and captures any system reports (the
    POS's tenders). Shopify's ``orders.json`` lists refund transactions but not the sale,
    so for a storefront order without a reported capture the storefront's
    ``financial_status`` speaks: paid / partially_refunded / refunded mean the total was
    captured, partially_paid that less was (the amount is not exposed), anything else
    that nothing was. Only orders placed in a system that takes payment (storefront,
    POS) are compared: an order the ERP alone knows has no payment information.

    Three grouped reads (orders, payment sums per order, the storefront's status) merged
    here: linear in the orders, where one query with correlated subqueries per order was
    not (2 s for 20,000 orders).
    """
    orders = orders_in(order_ids).filter(origin_source__kind__in=[Source.Kind.STOREFRONT, Source.Kind.POS])
    facts = {
        pk: {"id": pk, "number": number, "total": total, "currency": currency, "cancelled": cancelled}
        for pk, number, total, currency, cancelled in orders.annotate(
            cancelled=Case(When(_cancelled(), then=Value(True)), default=Value(False), output_field=BooleanField())
        ).values_list("id", "number", "total", "currency", "cancelled")
    }
    if not facts:
        return {}
    sums = _payment_sums(order_ids)
    financial = dict(
        of_orders(OrderRecord.objects, order_ids)
        .filter(source__kind=Source.Kind.STOREFRONT)
        .values_list("order_id", "raw_status")
    )
    found = {}
    for pk, row in facts.items():
        sales, captured, refunded, systems = sums.get(pk, (0, Decimal(0), Decimal(0), set()))
        status = financial.get(pk, "") or ""
        if not sales and status.split("/")[0] in STOREFRONT_PAID_IN_FULL:
            captured = row["total"]
        row = {**row, "captured": captured, "refunded": refunded, "financial": status}
        row["underpaid"] = not sales and status.startswith("partially_paid/")
        wrong = (
            captured != row["total"]
            or row["underpaid"]
            or refunded > captured
            or (row["cancelled"] and captured > 0 and refunded == 0)
        )
        if wrong:
            found[pk] = _money_finding(row, systems)
    return found


def _cancelled() -> Q:
    return Q(cancelled_at__isnull=False) | Q(status=Lifecycle.CANCELLED)


def _payment_sums(order_ids) -> dict[int, tuple[int, Decimal, Decimal, set[str]]]:
    """``{order_id: (sales, captured, refunded, systems)}`` from the successful payments, one grouped query."""
    sale = Q(kind__in=[Payment.Kind.SALE, Payment.Kind.CAPTURE])
    rows = (
        of_orders(Payment.objects, order_ids)
        .filter(status=Payment.Status.SUCCESS)
        .values("order_id", "source__name")
        .annotate(
            sales=Count("id", filter=sale),
            captured=Coalesce(Sum("amount", filter=sale), ZERO),
            refunded=Coalesce(Sum("amount", filter=Q(kind=Payment.Kind.REFUND)), ZERO),
        )
        .order_by()
    )
    sums: dict[int, tuple[int, Decimal, Decimal, set[str]]] = {}
    for row in rows:
        sales, captured, refunded, systems = sums.get(row["order_id"], (0, Decimal(0), Decimal(0), set()))
        systems.add(row["source__name"])
        sums[row["order_id"]] = (sales + row["sales"], captured + row["captured"], refunded + row["refunded"], systems)
    return sums


def _money_finding(row: dict, systems: set[str]) -> Finding:
    total, paid, back, currency = row["total"], row["captured"], row["refunded"], row["currency"]
    by = names(systems) or "no system"
    storefront = f"the storefront says {row['financial'].split('/')[0]}" if row["financial"] else ""
    problems = []
    if row["underpaid"]:
        problems.append(f"total {total} {currency} but {storefront}: less was captured")
    elif paid != total:
        problems.append(f"total {total} {currency} but {paid} captured ({storefront or by})")
    if back > paid:
        problems.append(f"{back} refunded ({by}) of {paid} captured")
    if row["cancelled"] and paid > 0 and back == 0:
        problems.append(f"cancelled with {paid} {currency} captured and nothing refunded")
    return Finding(
        detail=f"order {row['number']}: " + "; ".join(problems),
        evidence={
            "total": str(total),
            "captured": None if row["underpaid"] else str(paid),
            "refunded": str(back),
            "currency": currency,
            "storefront_financial_status": (row["financial"] or "").split("/")[0],
            "payment_systems": sorted(systems),
            "cancelled": row["cancelled"],
        },
    )
