"""Rules on money: a return nobody refunded, payments that disagree with the order."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import BooleanField, Case, Count, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
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
    """
    rows = list(
        orders_in(order_ids)
        .filter(origin_source__kind__in=[Source.Kind.STOREFRONT, Source.Kind.POS])
        .annotate(**_money_annotations())
        .filter(
            ~Q(captured=F("total"))
            | Q(underpaid=True)
            | Q(refunded__gt=F("captured"))
            | (_cancelled() & Q(captured__gt=0, refunded=0))
        )
        .values("id", "number", "total", "currency", "captured", "underpaid", "refunded", "financial", "cancelled")
    )
    systems: dict[int, set[str]] = defaultdict(set)
    for order_id, name in Payment.objects.filter(order_id__in=[r["id"] for r in rows]).values_list(
        "order_id", "source__name"
    ):
        systems[order_id].add(name)
    return {row["id"]: _money_finding(row, systems[row["id"]]) for row in rows}


def _cancelled() -> Q:
    return Q(cancelled_at__isnull=False) | Q(status=Lifecycle.CANCELLED)


def _money_annotations() -> dict:
    """captured / underpaid / refunded / financial / cancelled per order, in SQL (one grouped query)."""
    success = Q(payments__status=Payment.Status.SUCCESS)
    sale = success & Q(payments__kind__in=[Payment.Kind.SALE, Payment.Kind.CAPTURE])
    storefront = OrderRecord.objects.filter(order_id=OuterRef("pk"), source__kind=Source.Kind.STOREFRONT)
    financial = Subquery(storefront.values("raw_status")[:1])
    paid_in_full = Q(pk__in=[])
    for status in STOREFRONT_PAID_IN_FULL:
        paid_in_full |= Q(financial__startswith=f"{status}/")
    return {  # in order: later annotations read earlier ones
        "financial": financial,
        "sales": Count("payments", filter=sale),
        "captured": Case(
            When(Q(sales__gt=0), then=Coalesce(Sum("payments__amount", filter=sale), ZERO)),
            When(paid_in_full, then=F("total")),
            default=ZERO,
        ),
        "underpaid": Case(
            When(Q(sales=0, financial__startswith="partially_paid/"), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        "refunded": Coalesce(Sum("payments__amount", filter=success & Q(payments__kind=Payment.Kind.REFUND)), ZERO),
        "cancelled": Case(When(_cancelled(), then=Value(True)), default=Value(False), output_field=BooleanField()),
    }


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
