"""Detection rules, one by one: the boundary of each threshold, the condition that closes each flag; and the: the payloads and helpers its tests share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from integrations.records import LineRecord, UpstreamOrder
from orders.flags.detection import DEFAULT_THRESHOLDS
from orders.flags.rules import RULES
from orders.ingest import ingest
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


# -- vendor-shaped records, landed through ingest as a sync lands them --------------------------
def land(source, *records) -> None:
    ingest(source=source, records=list(records), synced_at=timezone.now())


def two_line_web_order(*, shipments=()) -> UpstreamOrder:
    """The storefront's order #1001: a lamp and a sofa, with the fulfilments given."""
    return UpstreamOrder(
        external_id="5001", number="#1001", status="paid", total=Decimal("80.00"), email="ann@example.com",
        placed_at=NOW - timedelta(days=3), updated_at=NOW - timedelta(days=3), shipments=list(shipments),
        lines=[
            LineRecord(external_id="l1", sku="LAMP-1", quantity=1, unit_price=Decimal("30.00")),
            LineRecord(external_id="l2", sku="SOFA-9", quantity=1, unit_price=Decimal("50.00")),
        ],
    )  # fmt: skip


def zulu(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
