"""Detection rules, one by one: the boundary of each threshold, the condition that closes each flag; and the
flag engine: a flag opens once per condition, closes once, keeps its history, and two workers never open it twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from types import SimpleNamespace

import pytest
import time_machine

from integrations.sync import PAGE_HOOKS, RUN_HOOKS
from orders.counter.services import pickup_line_check
from orders.flags.detection import DEFAULT_THRESHOLDS, detect, detect_after_run
from orders.flags.rules import RULES
from orders.flags.store import flag_close, flag_open, flags_close, flags_open
from orders.ingest import IngestResult
from orders.models import (
    DetectionRule,
    Flag,
    Lifecycle,
    Order,
    Payment,
    Picking,
    Return,
    StockLevel,
    TimelineEvent,
)
from orders.tasks import detect_after_page_queued, detect_flags
from tests.concurrency import racing
from tests.factories import (
    LineFactory,
    OrderFactory,
    OrderRecordFactory,
    PaymentFactory,
    ShipmentFactory,
    SourceFactory,
    StockFactory,
    StoreFactory,
    UserFactory,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
ids = count(1)


@pytest.fixture
def systems(db):
    """The five systems; the ERP has finished a sync (so its silence about an order means something)."""
    return SimpleNamespace(
        shop=SourceFactory(name="shopify", kind="storefront", adapter="shopify"),
        pos=SourceFactory(name="square", kind="pos", adapter="square"),
        erp=SourceFactory(name="odoo", kind="erp", adapter="odoo", last_success_at=NOW - timedelta(days=1)),
        carrier=SourceFactory(name="easypost", kind="carrier", adapter="easypost"),
        store=StoreFactory(code="downtown", name="Downtown"),
    )


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


# -- phantom_order ---------------------------------------------------------------------------
def test_phantom_order_opens_just_after_the_grace_period(systems):
    order = web_order(systems, placed_ago=timedelta(minutes=30))

    assert finding("phantom_order", order) is None  # exactly 30 min: not older than the grace period
    found = finding("phantom_order", order, now=NOW + SECOND)
    assert found.detail.startswith(f"web order {order.number} placed 20 Nov 11:30 UTC in shopify; not in odoo after")
    assert found.evidence["missing_from"] == ["odoo"]


def test_phantom_order_clears_once_the_erp_has_it(systems):
    order = web_order(systems, placed_ago=timedelta(hours=2))
    assert finding("phantom_order", order) is not None

    in_erp(systems, order)

    assert finding("phantom_order", order) is None


def test_phantom_order_is_not_claimed_before_the_erp_was_ever_read_nor_for_a_cancelled_order(systems):
    order = web_order(systems, placed_ago=timedelta(hours=2))
    systems.erp.last_success_at = None
    systems.erp.save()
    assert finding("phantom_order", order) is None

    systems.erp.last_success_at = NOW
    systems.erp.save()
    Order.objects.filter(pk=order.pk).update(status=Lifecycle.CANCELLED, cancelled_at=NOW)
    assert finding("phantom_order", order) is None


# -- unassigned ------------------------------------------------------------------------------
def test_unassigned_opens_just_after_the_threshold_and_clears_when_someone_is_assigned(systems):
    order = web_order(systems, placed_ago=timedelta(hours=2))
    picking = in_erp(systems, order)

    assert finding("unassigned", order) is None
    found = finding("unassigned", order, now=NOW + SECOND)
    assert "odoo picking WH/OUT/00001 has nobody assigned after 2 h" in found.detail

    Picking.objects.filter(pk=picking.pk).update(assigned_to="Ann Baker", status=Lifecycle.ASSIGNED)
    assert finding("unassigned", order, now=NOW + SECOND) is None


def test_unassigned_clears_when_a_clerk_starts_the_pickup_at_the_counter(systems):
    order = web_order(systems, placed_ago=timedelta(hours=5), fulfilment=Order.Fulfilment.PICKUP, store=systems.store)
    line = LineFactory(order=order, source=systems.shop, sku="LAMP-1", quantity=1)
    in_erp(systems, order)
    assert finding("unassigned", order) is not None

    pickup_line_check(order=order, line=line, state="located", by=UserFactory(username="dana"))

    assert finding("unassigned", order) is None


def test_unassigned_clears_when_the_picking_is_done(systems):
    order = web_order(systems, placed_ago=timedelta(hours=5))
    picking = in_erp(systems, order)
    assert finding("unassigned", order) is not None

    Picking.objects.filter(pk=picking.pk).update(status=Lifecycle.HANDED_TO_CARRIER, raw_status="done")

    assert finding("unassigned", order) is None


# -- stock_shortfall -------------------------------------------------------------------------
def pickup(systems, *, quantity=2, **fields) -> Order:
    order = web_order(systems, fulfilment=Order.Fulfilment.PICKUP, store=systems.store, **fields)
    LineFactory(order=order, source=systems.shop, sku="LAMP-1", quantity=quantity, fulfilment_location=systems.store)
    return order


def test_stock_shortfall_when_the_pickup_store_has_fewer_than_the_line_needs(systems):
    order = pickup(systems, quantity=2)
    stock = StockFactory(source=systems.erp, sku="LAMP-1", location=systems.store, on_hand=2)
    assert finding("stock_shortfall", order) is None  # exactly enough

    stock.on_hand = 1
    stock.save()
    found = finding("stock_shortfall", order)
    assert found.detail == f"order {order.number}: needs 2 × LAMP-1 at Downtown, odoo has 1 available"

    Order.objects.filter(pk=order.pk).update(status=Lifecycle.COLLECTED)
    assert finding("stock_shortfall", order) is None


def test_stock_shortfall_adds_up_one_systems_counts_on_several_bins(systems):
    order = pickup(systems, quantity=3)
    StockFactory(source=systems.erp, sku="LAMP-1", location=systems.store, on_hand=2, bin="DT/Stock/A-01")
    StockFactory(source=systems.erp, sku="LAMP-1", location=systems.store, on_hand=1, bin="DT/Stock/B-02")
    assert finding("stock_shortfall", order) is None  # 2 + 1 on two shelves: enough

    StockLevel.objects.filter(bin="DT/Stock/B-02").update(on_hand=0)
    assert "needs 3 × LAMP-1 at Downtown, odoo has 2 available" in finding("stock_shortfall", order).detail


def test_stock_shortfall_counts_other_orders_reservations_but_not_this_orders_own(systems):
    order = pickup(systems, quantity=2)
    picking = in_erp(systems, order, location=systems.store, raw_status="confirmed")
    StockFactory(source=systems.erp, sku="LAMP-1", location=systems.store, on_hand=3, reserved=2)
    assert finding("stock_shortfall", order).evidence["lines"][0]["available"] == {"odoo": 1}

    Picking.objects.filter(pk=picking.pk).update(raw_status="assigned")  # Odoo reserved the 2 units for this order

    assert finding("stock_shortfall", order) is None


def test_stock_shortfall_names_each_system_that_counts_and_ignores_uncounted_skus(systems):
    order = pickup(systems, quantity=1)
    assert finding("stock_shortfall", order) is None  # nobody counts LAMP-1 at Downtown: unknown, not zero

    StockFactory(source=systems.erp, sku="LAMP-1", location=systems.store, on_hand=4)
    StockFactory(source=systems.pos, sku="LAMP-1", location=systems.store, on_hand=0)

    assert finding("stock_shortfall", order).detail.endswith("odoo has 4 available, square has 0 available")


# -- stuck_shipment / delivery_exception -----------------------------------------------------
def parcel(systems, order, **fields):
    defaults = {"raw_status": "in_transit/departed_facility", "status": Lifecycle.IN_TRANSIT, "last_event_at": NOW}
    return ShipmentFactory(order=order, source=systems.carrier, **{**defaults, **fields})


def test_stuck_shipment_opens_just_after_48_hours_without_a_scan_and_clears_on_the_next_scan(systems):
    order = web_order(systems, placed_ago=timedelta(days=4))
    shipment = parcel(systems, order, last_event_at=NOW - timedelta(hours=48))

    assert finding("stuck_shipment", order) is None
    found = finding("stuck_shipment", order, now=NOW + SECOND)
    assert f"UPS parcel {shipment.tracking_number} last scanned 18 Nov 12:00 UTC" in found.detail

    shipment.last_event_at = NOW
    shipment.save()
    assert finding("stuck_shipment", order, now=NOW + SECOND) is None


def test_a_delivered_or_failed_parcel_is_not_stuck(systems):
    order = web_order(systems, placed_ago=timedelta(days=9))
    shipment = parcel(systems, order, last_event_at=NOW - timedelta(days=5), raw_status="failure/damaged")
    assert finding("stuck_shipment", order) is None
    shipment.raw_status, shipment.status = "delivered/arrived_at_destination", Lifecycle.DELIVERED
    shipment.save()
    assert finding("stuck_shipment", order) is None


def test_delivery_exception_while_the_carrier_reports_a_failure(systems):
    order = web_order(systems)
    shipment = parcel(systems, order, raw_status="return_to_sender/return")

    assert "easypost reports UPS parcel" in finding("delivery_exception", order).detail

    shipment.raw_status = "in_transit/arrived_at_facility"  # the carrier recovered the parcel
    shipment.save()
    assert finding("delivery_exception", order) is None


# -- promise_at_risk / promise_missed --------------------------------------------------------
def test_promise_at_risk_when_the_erp_schedules_after_the_promise(systems):
    order = web_order(systems, promised_by=NOW + timedelta(days=1))
    picking = in_erp(systems, order, scheduled_at=NOW + timedelta(days=1))
    assert finding("promise_at_risk", order) is None  # scheduled exactly on the promise

    Picking.objects.filter(pk=picking.pk).update(scheduled_at=NOW + timedelta(days=1) + SECOND)
    found = finding("promise_at_risk", order)
    assert found.detail == (
        f"order {order.number} promised by 21 Nov 12:00 UTC; odoo schedules WH/OUT/00001 for 21 Nov 12:00 UTC"
    )

    Picking.objects.filter(pk=picking.pk).update(status=Lifecycle.HANDED_TO_CARRIER)  # dispatched after all
    assert finding("promise_at_risk", order) is None


def test_promise_at_risk_when_the_carrier_estimates_after_the_promise(systems):
    order = web_order(systems, promised_by=NOW + timedelta(days=1))
    parcel(systems, order, estimated_delivery=NOW + timedelta(days=2))

    assert "easypost estimates parcel" in finding("promise_at_risk", order).detail


def test_at_risk_turns_into_missed_once_the_promise_passes(systems):
    order = web_order(systems, promised_by=NOW)
    in_erp(systems, order, scheduled_at=NOW + timedelta(days=1))

    assert finding("promise_at_risk", order) is not None
    assert finding("promise_missed", order) is None  # the promise is now, not yet passed
    assert finding("promise_at_risk", order, now=NOW + SECOND) is None
    assert finding("promise_missed", order, now=NOW + SECOND).detail.startswith(
        f"order {order.number} promised by 20 Nov 12:00 UTC; not delivered"
    )


def test_promise_missed_clears_when_delivered_or_for_a_pickup_when_ready(systems):
    shipped = web_order(systems, promised_by=NOW - SECOND)
    assert finding("promise_missed", shipped) is not None
    parcel(systems, shipped, status=Lifecycle.DELIVERED, raw_status="delivered")
    assert finding("promise_missed", shipped) is None

    collected = pickup(systems, promised_by=NOW - SECOND)
    assert finding("promise_missed", collected) is not None
    Order.objects.filter(pk=collected.pk).update(status=Lifecycle.READY_FOR_PICKUP)
    assert finding("promise_missed", collected) is None


# -- return_not_refunded ---------------------------------------------------------------------
def returned(systems, order, done_at) -> Picking:
    return in_erp(
        systems, order, kind=Picking.Kind.INCOMING, status=Lifecycle.RETURNED, name="WH/IN/00001", done_at=done_at
    )


def test_return_not_refunded_opens_just_after_seven_days(systems):
    order = web_order(systems, placed_ago=timedelta(days=20))
    returned(systems, order, done_at=NOW - timedelta(days=7))

    assert finding("return_not_refunded", order) is None
    found = finding("return_not_refunded", order, now=NOW + SECOND)
    assert found.detail == (
        f"order {order.number}: odoo received return WH/IN/00001 13 Nov 12:00 UTC; no refund in any system 7 days later"
    )


def test_return_not_refunded_clears_with_a_refund_in_any_system(systems):
    order = web_order(systems, placed_ago=timedelta(days=20))
    returned(systems, order, done_at=NOW - timedelta(days=8))
    assert finding("return_not_refunded", order) is not None

    PaymentFactory(order=order, source=systems.pos, kind=Payment.Kind.REFUND, amount=10, processed_at=NOW)
    assert finding("return_not_refunded", order) is None

    Payment.objects.filter(order=order).delete()
    Return.objects.create(order=order, source=systems.shop, external_id="r1", status=Return.Status.REFUNDED)
    assert finding("return_not_refunded", order) is None


# -- duplicate_shipment ----------------------------------------------------------------------
def test_one_parcel_reported_by_two_systems_is_not_a_duplicate_but_a_second_parcel_is(systems):
    order = web_order(systems)
    first = parcel(systems, order, line_skus=[])
    ShipmentFactory(order=order, source=systems.shop, tracking_number=first.tracking_number, line_skus=["LAMP-1"])
    assert finding("duplicate_shipment", order) is None

    second = ShipmentFactory(order=order, source=systems.shop, line_skus=["LAMP-1"])
    found = finding("duplicate_shipment", order)
    assert found.detail.startswith(f"order {order.number} has 2 live parcels for the same lines")

    second.status = Lifecycle.CANCELLED  # the label was voided
    second.save()
    assert finding("duplicate_shipment", order) is None


def test_parcels_with_different_lines_are_a_split_shipment_not_a_duplicate(systems):
    order = web_order(systems)
    ShipmentFactory(order=order, source=systems.shop, line_skus=["LAMP-1"])
    ShipmentFactory(order=order, source=systems.shop, line_skus=["SOFA-9"])

    assert finding("duplicate_shipment", order) is None


# -- payment_mismatch ------------------------------------------------------------------------
def store_sale(systems, *, total="50.00", paid="50.00") -> Order:
    order = OrderFactory(channel="store", origin_source=systems.pos, total=Decimal(total), placed_at=NOW)
    OrderRecordFactory(order=order, source=systems.pos)
    PaymentFactory(order=order, source=systems.pos, kind=Payment.Kind.SALE, amount=Decimal(paid))
    return order


def test_payment_mismatch_when_the_tenders_do_not_make_the_total(systems):
    assert finding("payment_mismatch", store_sale(systems)) is None
    short = store_sale(systems, paid="49.99")
    assert (
        finding("payment_mismatch", short).detail
        == f"order {short.number}: total 50.00 USD but 49.99 captured (square)"
    )


def test_payment_mismatch_when_refunded_more_than_captured(systems):
    order = store_sale(systems)
    PaymentFactory(order=order, source=systems.pos, kind=Payment.Kind.REFUND, amount=Decimal("50.00"))
    assert finding("payment_mismatch", order) is None  # a full refund is fine

    PaymentFactory(order=order, source=systems.pos, kind=Payment.Kind.REFUND, amount=Decimal("0.01"))
    assert "50.01 refunded (square) of 50.00 captured" in finding("payment_mismatch", order).detail


def test_payment_mismatch_when_cancelled_with_money_kept_and_cleared_by_the_refund(systems):
    order = store_sale(systems)
    Order.objects.filter(pk=order.pk).update(status=Lifecycle.CANCELLED, cancelled_at=NOW)
    assert "cancelled with 50.00 USD captured and nothing refunded" in finding("payment_mismatch", order).detail

    PaymentFactory(order=order, source=systems.pos, kind=Payment.Kind.REFUND, amount=Decimal("50.00"))
    assert finding("payment_mismatch", order) is None


def test_a_storefront_order_reads_its_capture_from_the_financial_status(systems):
    assert finding("payment_mismatch", web_order(systems, financial="paid")) is None
    underpaid = web_order(systems, financial="partially_paid")
    assert finding("payment_mismatch", underpaid).detail == (
        f"order {underpaid.number}: total 50.00 USD but the storefront says partially_paid: less was captured"
    )


# -- the flag engine -------------------------------------------------------------------------
def test_a_flag_opens_once_closes_once_and_keeps_its_history(systems):
    order = web_order(systems, placed_ago=timedelta(hours=1))

    first = detect(order_ids=[order.pk], now=NOW)
    again = detect(order_ids=[order.pk], now=NOW + timedelta(minutes=5))
    assert (first.opened, again.opened, again.still_open) == (1, 0, 1)
    assert open_flags(order) == ["phantom_order"]

    in_erp(systems, order, assigned_to="Ann", status=Lifecycle.ASSIGNED)
    cleared = detect(order_ids=[order.pk], now=NOW + timedelta(minutes=10))
    assert (cleared.opened, cleared.closed) == (0, 1)
    assert detect(order_ids=[order.pk], now=NOW + timedelta(minutes=15)).closed == 0

    flag = Flag.objects.get(order=order)
    assert flag.closed_at == NOW + timedelta(minutes=10)
    kinds = list(TimelineEvent.objects.filter(order=order).order_by("occurred_at").values_list("kind", "summary"))
    assert kinds == [
        (TimelineEvent.Kind.FLAG_OPENED, f"Phantom order: {flag.detail}"),
        (TimelineEvent.Kind.FLAG_CLOSED, "Phantom order closed: the condition cleared"),
    ]


def test_a_condition_that_returns_opens_a_new_flag_beside_the_closed_one(systems):
    order = store_sale(systems, paid="40.00")
    detect(order_ids=[order.pk], now=NOW)
    Payment.objects.filter(order=order).update(amount=Decimal("50.00"))
    detect(order_ids=[order.pk], now=NOW + timedelta(minutes=1))
    Payment.objects.filter(order=order).update(amount=Decimal("45.00"))

    assert detect(order_ids=[order.pk], now=NOW + timedelta(minutes=2)).opened == 1
    assert Flag.objects.filter(order=order).count() == 2
    assert open_flags(order) == ["payment_mismatch"]


def test_new_facts_refresh_the_open_flag_without_reopening_it(systems):
    order = store_sale(systems, paid="40.00")
    detect(order_ids=[order.pk], now=NOW)
    Payment.objects.filter(order=order).update(amount=Decimal("45.00"))

    result = detect(order_ids=[order.pk], now=NOW + timedelta(minutes=1))

    assert (result.opened, result.updated, result.still_open) == (0, 1, 1)
    assert Flag.objects.get(order=order).evidence["captured"] == "45.00"
    assert TimelineEvent.objects.filter(order=order, kind=TimelineEvent.Kind.FLAG_OPENED).count() == 1


def test_the_supervisors_threshold_and_switch_are_obeyed(systems):
    order = web_order(systems, placed_ago=timedelta(minutes=20))
    assert detect(order_ids=[order.pk], now=NOW).opened == 0

    DetectionRule.objects.filter(code="phantom_order").update(threshold=timedelta(minutes=15))
    assert detect(order_ids=[order.pk], now=NOW).opened == 1

    DetectionRule.objects.filter(code="phantom_order").update(enabled=False)
    assert detect(order_ids=[order.pk], now=NOW).closed == 1
    assert open_flags(order) == []


def test_the_migration_seeds_every_rule_with_the_documented_defaults(db):
    stored = dict(DetectionRule.objects.values_list("code", "threshold"))
    assert set(stored) == set(RULES)
    assert {code: t for code, t in stored.items() if t} == DEFAULT_THRESHOLDS


def test_detection_scoped_to_some_orders_leaves_the_others_flags_alone(systems):
    mine, other = store_sale(systems, paid="1.00"), store_sale(systems, paid="2.00")
    detect(now=NOW)
    Payment.objects.update(amount=Decimal("50.00"))

    assert detect(order_ids=[mine.pk], now=NOW).closed == 1
    assert open_flags(other) == ["payment_mismatch"]


def test_a_person_can_raise_and_resolve_a_flag_through_the_same_api(systems):
    order = web_order(systems)
    flag = flag_open(order_id=order.pk, code="stock_shortfall", detail="line 1 missing at the counter", now=NOW)
    assert flag_open(order_id=order.pk, code="stock_shortfall", detail="again", now=NOW).pk == flag.pk

    assert flag_close(flag=flag, reason="found in the back room", now=NOW) is True
    assert flag_close(flag=flag, reason="twice", now=NOW) is False
    assert list(TimelineEvent.objects.filter(order=order).values_list("summary", flat=True)) == [
        "Stock shortfall: line 1 missing at the counter",
        "Stock shortfall closed: found in the back room",
    ]


# -- when it runs ----------------------------------------------------------------------------
def test_the_page_hook_runs_the_rules_on_the_touched_orders_at_the_wall_clock(systems):
    order = web_order(systems, placed_ago=timedelta(minutes=10))
    assert detect_after_page_queued in PAGE_HOOKS

    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        detect_after_page_queued(systems.shop, IngestResult(order_ids={order.pk}))  # the tests' Celery is eager
        assert open_flags(order) == []
    with time_machine.travel(NOW + timedelta(minutes=20, seconds=1), tick=False):
        detect_after_page_queued(systems.shop, IngestResult(order_ids={order.pk}))
        assert open_flags(order) == ["phantom_order"]


def test_the_run_hook_runs_the_rules_once_over_every_order_a_sync_run_touched(systems):
    first = web_order(systems, placed_ago=timedelta(minutes=10))
    second = web_order(systems, placed_ago=timedelta(minutes=10))
    assert detect_after_run in RUN_HOOKS

    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        detect_after_run(systems.shop, {first.pk})
        assert (open_flags(first), open_flags(second)) == (["phantom_order"], [])
        detect_after_run(systems.shop, {first.pk, second.pk})
    assert (open_flags(first), open_flags(second)) == (["phantom_order"], ["phantom_order"])


def test_the_beat_task_opens_what_only_time_brings(systems):
    order = web_order(systems, placed_ago=timedelta(minutes=10))

    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        assert detect_flags()["opened"] == 1
        assert detect_flags() == {"opened": 0, "closed": 0, "still_open": 1, "updated": 0}
    assert open_flags(order) == ["phantom_order"]


# -- two workers at once ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_opening_the_same_flag_open_it_once():
    systems_ = SimpleNamespace(shop=SourceFactory(name="shopify", kind="storefront", adapter="shopify"))
    order = OrderFactory(origin_source=systems_.shop)
    row = {"order_id": order.pk, "code": "phantom_order", "detail": "not in the ERP", "evidence": {}}

    first, second = racing(lambda: flags_open([row], now=NOW), lambda: flags_open([row], now=NOW + SECOND))

    assert (len(first), second) == (1, [])
    assert Flag.objects.filter(order=order, closed_at__isnull=True).count() == 1
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.FLAG_OPENED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_closing_the_same_flag_close_it_once():
    order = OrderFactory()
    flag = Flag.objects.create(order=order, code="phantom_order", opened_at=NOW)

    first, second = racing(
        lambda: flags_close([flag.pk], now=NOW, reason="cleared"),
        lambda: flags_close([flag.pk], now=NOW + SECOND, reason="cleared"),
    )

    assert (first, second) == (1, 0)
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.FLAG_CLOSED).count() == 1
