"""Rules on money: a return nobody refunded, payments that disagree with the order."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import BooleanField, Case, Count, DecimalField, Exists, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from integrations.models import Source

from ...catalogue.money import AWAITING_COLLECTION, PAY_AT_COUNTER, PENDING, REFUNDED, TAKEN, takings
from ...models import Lifecycle, OrderLine, OrderRecord, Payment, Picking, PickingLine, Return
from .common import Finding, age, iso, names, of_orders, orders_in, when

# Shopify financial statuses that mean the whole total was captured (refunds are reported separately).
STOREFRONT_PAID_IN_FULL = ("paid", "partially_refunded", "refunded")
ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=12, decimal_places=2))


def return_not_refunded(order_ids, *, now: datetime, threshold: timedelta | None) -> dict[int, Finding]:
    """S11: the warehouse received a return longer ago than the threshold, and no refund was issued for it.

    Received: the ERP's return receipt is done (or a system reports the return received).
    Refunded, matched across systems by order and by lines or amount — never by which came first (a
    refund issued at drop-off precedes the warehouse's receipt): a return some system reports refunded,
    or refunds on the order (in any system) that cover the returned lines' value at the order's prices.
    """
    cutoff = now - threshold
    refunded_return = Return.objects.filter(order_id=OuterRef("order_id"), status=Return.Status.REFUNDED)
    receipts = list(
        of_orders(Picking.objects, order_ids)
        .filter(kind=Picking.Kind.INCOMING, status=Lifecycle.RETURNED, done_at__lt=cutoff)
        .exclude(Exists(refunded_return))
        .values_list("order_id", "order__number", "source__name", "name", "done_at", "id")
    )
    received = list(
        of_orders(Return.objects, order_ids)
        .filter(status=Return.Status.RECEIVED, received_at__lt=cutoff)
        .exclude(Exists(refunded_return))
        .values_list("order_id", "order__number", "source__name", "external_id", "received_at", "amount")
    )
    owed = _returned_value({r[0] for r in receipts}, {r[5] for r in receipts})
    for order_id, *_, amount in received:
        owed[order_id] = owed.get(order_id, Decimal(0)) + amount
    refunds = dict(
        Payment.objects.filter(REFUNDED, order_id__any=list(owed))
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
        .order_by()
    )
    found: dict[int, Finding] = {}
    for order_id, number, system, name, at, _ in sorted([*receipts, *received], key=lambda r: (r[0], r[4])):
        refunded = refunds.get(order_id, Decimal(0))
        if order_id in found or (refunded > 0 and refunded >= owed.get(order_id, Decimal(0))):
            continue
        found[order_id] = Finding(
            detail=f"order {number}: {system} received return {name} {when(at)}; "
            + (f"refunds of {refunded} cover less than the returned lines' {owed[order_id]}" if refunded else
               f"no refund in any system {age(now - at)} later"),
            evidence={"system": system, "receipt": name, "received_at": iso(at), "refunded": str(refunded)},
        )  # fmt: skip
    return found


def _returned_value(order_ids: set[int], picking_ids: set[int]) -> dict[int, Decimal]:
    """``{order_id: value}`` of the lines on these return receipts, at the price the order charged for each SKU."""
    price = {
        (order_id, sku): unit_price
        for order_id, sku, unit_price in OrderLine.objects.filter(order_id__any=order_ids).values_list(
            "order_id", "sku", "unit_price"
        )
    }
    value: dict[int, Decimal] = {order_id: Decimal(0) for order_id in order_ids}
    for order_id, sku, quantity in PickingLine.objects.filter(picking_id__any=picking_ids).values_list(
        "picking__order_id", "sku", "quantity"
    ):
        value[order_id] += price.get((order_id, sku), Decimal(0)) * quantity
    return value


def payment_mismatch(order_ids, *, now: datetime, threshold: timedelta | None) -> dict[int, Finding]:
    """Money disagrees with the order: captured ≠ total, refunded > captured, or cancelled, captured, not refunded.

    An order cancelled before anything was captured (an authorisation voided, or never paid)
    has no money out of line: its total is not compared with the nothing captured.

    Captured is the sum of the successful sales and captures any system reports (the
    storefront's transactions, the POS's tenders). Only for a storefront order without a
    reported sale or capture does its ``financial_status`` speak: paid / partially_refunded /
    refunded mean the total was captured, partially_paid that less was (the amount is not
    exposed), anything else that nothing was. Only orders placed in a system that takes payment (storefront,
    POS) are compared: an order the ERP alone knows has no payment information.

    Three grouped reads (orders, payment sums per order, the storefront's status) merged
    here: linear in the orders, where one query with correlated subqueries per order was
    not (2 s for 20,000 orders).
    """
    orders = orders_in(order_ids).filter(origin_source__kind__in=[Source.Kind.STOREFRONT, Source.Kind.POS])
    facts = {
        pk: {"id": pk, "number": number, "total": total, "currency": currency, "cancelled": cancelled, "due_at": due}
        for pk, number, total, currency, cancelled, due in orders.annotate(
            cancelled=Case(When(_cancelled(), then=Value(True)), default=Value(False), output_field=BooleanField()),
            due_at_counter=Case(When(AWAITING_COLLECTION, then=Value(True)), default=Value(False)),
        ).values_list("id", "number", "total", "currency", "cancelled", "due_at_counter")
    }
    if not facts:
        return {}
    sums = _payment_sums(order_ids)
    financial = dict(
        of_orders(OrderRecord.objects, order_ids)
        .filter(source__kind=Source.Kind.STOREFRONT)
        .values_list("order_id", "raw_status")
    )
    at_counter = _owed_at_counter(
        {
            pk: row["total"]
            for pk, row in facts.items()
            if row["due_at"] and not row["cancelled"] and sums.get(pk, (0,) * 4)[3]
        }
    )
    found = {}
    for pk, row in facts.items():
        sales, captured, refunded, _, systems = sums.get(pk, (0, Decimal(0), Decimal(0), Decimal(0), set()))
        status = financial.get(pk, "") or ""
        if not sales and status.split("/")[0] in STOREFRONT_PAID_IN_FULL:
            captured = row["total"]
        row = {**row, "captured": captured, "refunded": refunded, "financial": status}
        row["underpaid"] = not sales and status.startswith("partially_paid/")
        wrong = pk not in at_counter and (
            (captured != row["total"] and not (row["cancelled"] and captured == 0))  # cancelled before any capture
            or row["underpaid"]
            or refunded > captured
            or (row["cancelled"] and captured > 0 and refunded == 0)
        )
        if wrong:
            found[pk] = _money_finding(row, systems)
    return found


def _owed_at_counter(totals: dict[int, Decimal]) -> set[int]:
    """Of these pickups awaiting collection (``{order_id: total}``), those the counter asks to be paid: a payment
    through the shop's manual method still pending, read by the one reading of an order's money
    (:func:`~orders.catalogue.money.takings`, as the card and the counter read it). One query."""
    payments: dict[int, list[Payment]] = {pk: [] for pk in totals}
    for payment in Payment.objects.filter(order_id__any=list(totals)).order_by("processed_at", "id"):
        payments[payment.order_id].append(payment)
    return {pk for pk, listed in payments.items() if takings(listed, totals[pk]).at_counter}


def _cancelled() -> Q:
    return Q(cancelled_at__isnull=False) | Q(status=Lifecycle.CANCELLED)


def _payment_sums(order_ids) -> dict[int, tuple[int, Decimal, Decimal, Decimal, set[str]]]:
    """``{order_id: (sales, captured, refunded, pending, systems)}``, one grouped query: the systems are those with
    a successful payment; pending is what payments through the shop's manual method still pending add up to
    (``PAY_AT_COUNTER``; some may since be settled: :func:`_owed_at_counter` reads them one by one)."""
    rows = (
        of_orders(Payment.objects, order_ids)
        .filter(Q(status=Payment.Status.SUCCESS) | PENDING)
        .values("order_id", "source__name")
        .annotate(
            succeeded=Count("id", filter=Q(status=Payment.Status.SUCCESS)),
            sales=Count("id", filter=TAKEN),
            captured=Coalesce(Sum("amount", filter=TAKEN), ZERO),
            refunded=Coalesce(Sum("amount", filter=REFUNDED), ZERO),
            pending=Coalesce(Sum("amount", filter=PAY_AT_COUNTER), ZERO),
        )
        .order_by()
    )
    sums: dict[int, tuple[int, Decimal, Decimal, Decimal, set[str]]] = {}
    for row in rows:
        sales, captured, refunded, pending, systems = sums.get(
            row["order_id"], (0, Decimal(0), Decimal(0), Decimal(0), set())
        )
        if row["succeeded"]:
            systems.add(row["source__name"])
        sums[row["order_id"]] = (
            sales + row["sales"],
            captured + row["captured"],
            refunded + row["refunded"],
            pending + row["pending"],
            systems,
        )
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
