"""Detection rules, one by one: the boundary of each threshold, the condition that closes each flag; and the: the payloads and helpers its tests share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

from orders.flags.detection import DEFAULT_THRESHOLDS
from orders.flags.rules import RULES
from orders.models import (
    Flag,
    Lifecycle,
    Order,
    Payment,
    Picking,
)
from tests.factories import (
    OrderFactory,
    OrderRecordFactory,
    PaymentFactory,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


SECOND = timedelta(seconds=1)


ids = count(1)


def web_order(systems, *, placed_ago=timedelta(hours=1), total="50.00", financial="paid", **fields) -> Order:
    """A web order the storefront took (and, by its financial status, was paid in full)."""
    order = OrderFactory(
        channel="web", origin_source=systems.shop, total=Decimal(total), placed_at=NOW - placed_ago, **fields
    )
    OrderRecordFactory(order=order, source=systems.shop, raw_status=f"{financial}/unfulfilled")
    return order


def in_erp(systems, order, **picking) -> Picking:
    OrderRecordFactory(order=order, source=systems.erp, external_id=f"so-{next(ids)}", external_number="S00001")
    fields = {"kind": Picking.Kind.OUTGOING, "status": Lifecycle.IN_ERP, "name": "WH/OUT/00001", **picking}
    return Picking.objects.create(source=systems.erp, external_id=f"pk-{next(ids)}", order=order, **fields)


def finding(code, order, *, now=NOW, threshold=None):
    """What the rule ``code`` alone concludes about ``order`` at ``now`` (None: no flag)."""
    return RULES[code]([order.pk], now=now, threshold=threshold or DEFAULT_THRESHOLDS.get(code)).get(order.pk)


def open_flags(order) -> list[str]:
    return sorted(Flag.objects.filter(order=order, closed_at__isnull=True).values_list("code", flat=True))


def store_sale(systems, *, total="50.00", paid="50.00") -> Order:
    order = OrderFactory(channel="store", origin_source=systems.pos, total=Decimal(total), placed_at=NOW)
    OrderRecordFactory(order=order, source=systems.pos)
    PaymentFactory(order=order, source=systems.pos, kind=Payment.Kind.SALE, amount=Decimal(paid))
    return order
