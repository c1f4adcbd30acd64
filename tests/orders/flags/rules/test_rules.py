"""Each rule's condition, on the exact facts that open and clear it.

Detection rules, one by one: the boundary of each threshold, the condition that closes each flag; and the
flag engine: a flag opens once per condition, closes once, keeps its history, and two workers never open it twice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from integrations.adapters.easypost import map_tracker
from integrations.adapters.odoo_mapping import map_move
from integrations.adapters.shopify import map_order
from integrations.adapters.shopify_graphql_mapping import map_order_node
from integrations.records import ShipmentRecord
from orders.catalogue.standing import standings
from orders.counter.services import pickup_line_check
from orders.flags.detection import detect
from orders.models import (
    Flag,
    Lifecycle,
    Order,
    Payment,
    Picking,
    PickingPackage,
    Return,
    Shipment,
    StockLevel,
)
from tests.factories import (
    LineFactory,
    PaymentFactory,
    ShipmentFactory,
    StockFactory,
    UserFactory,
)
from tests.orders.vendor_shapes import move, tracker
from tests.vendor_fixtures import load

from .support import (
    NOW,
    SECOND,
    finding,
    in_erp,
    land,
    store_sale,
    two_line_web_order,
    web_order,
)


# -- phantom_order ---------------------------------------------------------------------------
def test_phantom_order_opens_just_after_the_grace_period(systems):
    order = web_order(systems, placed_ago=timedelta(minutes=30))

    assert finding("phantom_order", order) is None  # exactly 30 min: not older than the grace period
    found = finding("phantom_order", order, now=NOW + SECOND)
    assert found.detail.startswith(
        f"web order {order.number} placed 20 Nov 11:30 UTC in shopify; not in odoo or square after"
    )
    assert found.evidence["missing_from"] == ["odoo", "square"]


def test_phantom_order_clears_once_the_erp_has_it(systems):
    order = web_order(systems, placed_ago=timedelta(hours=2))
    assert finding("phantom_order", order) is not None

    in_erp(systems, order)

    assert finding("phantom_order", order) is None


def test_phantom_order_is_not_claimed_before_the_erp_was_ever_read_nor_for_a_cancelled_order(systems):
    order = web_order(systems, placed_ago=timedelta(hours=2))
    for witness in (systems.erp, systems.pos):
        witness.last_success_at = None
        witness.save()
    assert finding("phantom_order", order) is None

    systems.pos.last_success_at = NOW  # absence counts in the systems read: the POS alone
    systems.pos.save()
    assert finding("phantom_order", order).evidence["missing_from"] == ["square"]

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


def test_stock_shortfall_of_a_line_sold_by_measure_compares_its_fraction(systems):
    order = web_order(systems, fulfilment=Order.Fulfilment.PICKUP, store=systems.store)
    LineFactory(
        order=order, source=systems.pos, sku="ROPE-1", quantity=Decimal("2.5"), unit="ft",
        fulfilment_location=systems.store,
    )  # fmt: skip
    stock = StockFactory(source=systems.pos, sku="ROPE-1", location=systems.store, on_hand=3)
    assert finding("stock_shortfall", order) is None  # 3 ft on the reel: enough for 2.5

    stock.on_hand = 2
    stock.save()
    found = finding("stock_shortfall", order)

    assert found.detail == f"order {order.number}: needs 2.5 ft of ROPE-1 at Downtown, square has 2 available"
    assert found.evidence["lines"][0]["needed"] == "2.5" and found.evidence["lines"][0]["unit"] == "ft"


def test_stock_shortfall_compares_a_count_by_measure_with_the_line_it_needs(systems):
    """Square counts rope by the metre as it sells it: 3.0 m on the reel is enough for 2.5 m, 2.0 m is not."""
    order = web_order(systems, fulfilment=Order.Fulfilment.PICKUP, store=systems.store)
    LineFactory(
        order=order, source=systems.pos, sku="ROPE-1", quantity=Decimal("2.5"), unit="m",
        fulfilment_location=systems.store,
    )  # fmt: skip
    stock = StockFactory(source=systems.pos, sku="ROPE-1", location=systems.store, on_hand=Decimal("3.0"))
    assert finding("stock_shortfall", order) is None

    stock.on_hand = Decimal("2.5")
    stock.save()
    assert finding("stock_shortfall", order) is None  # exactly enough

    stock.on_hand = Decimal("2.0")
    stock.save()
    found = finding("stock_shortfall", order)
    assert found.detail == f"order {order.number}: needs 2.5 m of ROPE-1 at Downtown, square has 2 available"
    assert found.evidence["lines"][0]["available"] == {"square": 2}  # whole: an integer, as ever

    stock.on_hand = Decimal("2.499")
    stock.save()
    found = finding("stock_shortfall", order)
    assert found.detail == f"order {order.number}: needs 2.5 m of ROPE-1 at Downtown, square has 2.499 available"
    assert found.evidence["lines"][0]["available"] == {"square": "2.499"}  # a fraction: a string in the JSON


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


def test_a_parcel_the_carrier_never_scanned_is_stuck_once_handed_over_longer_than_48_hours_ago(systems):
    """Odoo validated the delivery; EasyPost's tracker still knows nothing (status unknown, no tracking details)."""
    order = web_order(systems, placed_ago=timedelta(days=6))
    picking = in_erp(systems, order, status=Lifecycle.HANDED_TO_CARRIER, done_at=NOW - timedelta(hours=48))
    PickingPackage.objects.create(picking=picking, tracking_number="1Z0000000000000001")
    land(systems.carrier, map_tracker(tracker("trk_1", "1Z0000000000000001", "unknown", [])))
    assert Shipment.objects.get(source=systems.carrier).order_id == order.pk

    assert finding("stuck_shipment", order) is None  # handed over exactly 48 h ago
    assert finding("stuck_shipment", order, now=NOW + timedelta(days=3)).detail == (
        f"order {order.number}: UPS parcel 1Z0000000000000001 handed over 18 Nov 12:00 UTC (odoo), "
        "never scanned (unknown), no scan for 5 days in easypost"
    )

    scan = [(NOW + timedelta(days=3), "in_transit", "arrived_at_facility", "Arrived at Facility")]
    land(systems.carrier, map_tracker(tracker("trk_1", "1Z0000000000000001", "in_transit", scan)))
    assert finding("stuck_shipment", order, now=NOW + timedelta(days=3)) is None  # the first scan came


def test_a_never_scanned_parcel_handed_over_at_one_time_in_two_systems_reads_the_same_in_any_sync_order(systems):
    """Shopify's fulfilment was created when Odoo validated the picking: one hand-over, reported twice. The open flag
    says the same whichever system was read first: the ERP's picking (the hand-over's own record) is named, and a
    flag opened on the storefront's word is rewritten once the ERP is read."""
    order = web_order(systems, placed_ago=timedelta(days=6))
    handed = NOW - timedelta(days=3)
    ShipmentFactory(order=order, source=systems.shop, tracking_number="1Z0000000000000001", raw_status="confirmed",
                    status=Lifecycle.HANDED_TO_CARRIER, shipped_at=handed, last_event_at=None)  # fmt: skip
    land(systems.carrier, map_tracker(tracker("trk_1", "1Z0000000000000001", "pre_transit", [])))
    detect([order.pk], now=NOW, codes=["stuck_shipment"])
    said = f"order {order.number}: UPS parcel 1Z0000000000000001 handed over 17 Nov 12:00 UTC ({{}}), never scanned (pre_transit), "
    flag = Flag.objects.get(order=order, code="stuck_shipment", closed_at__isnull=True)
    assert flag.detail == said.format("shopify") + "no scan for 3 days in easypost"

    picking = in_erp(systems, order, status=Lifecycle.HANDED_TO_CARRIER, done_at=handed)
    PickingPackage.objects.create(picking=picking, tracking_number="1Z0000000000000001")
    detect([order.pk], now=NOW, codes=["stuck_shipment"])
    flag.refresh_from_db()
    assert (flag.closed_at, flag.detail) == (None, said.format("odoo") + "no scan for 3 days in easypost")
    assert finding("stuck_shipment", order).detail == flag.detail


def test_a_parcel_only_the_storefront_reports_is_not_stuck_for_want_of_scans(systems):
    """No carrier tracker: the storefront's fulfilment has no scan times, which says nothing about scans."""
    order = web_order(systems, placed_ago=timedelta(days=9))
    ShipmentFactory(
        order=order, source=systems.shop, raw_status="in_transit", status=Lifecycle.IN_TRANSIT,
        shipped_at=NOW - timedelta(days=5),
    )  # fmt: skip

    assert finding("stuck_shipment", order) is None


def test_delivery_exception_while_the_carrier_reports_a_failure(systems):
    order = web_order(systems)
    shipment = parcel(systems, order, raw_status="return_to_sender/return")

    assert "easypost reports UPS parcel" in finding("delivery_exception", order).detail

    shipment.raw_status = "in_transit/arrived_at_facility"  # the carrier recovered the parcel
    shipment.save()
    assert finding("delivery_exception", order) is None


def test_a_failed_shopify_fulfilment_request_is_no_delivery_exception(systems):
    """Shopify's own sample: fulfilment 255858046 has ``status: failure`` and ``shipment_status: null``, a request
    that failed before anything reached USPS (the mapper calls the shipment cancelled)."""
    land(systems.shop, map_order(load("shopify", "order_tagged_fulfilled_refunded")["order"]))
    order = Order.objects.get()
    assert list(order.shipments.values_list("raw_status", "status")) == [("failure", Lifecycle.CANCELLED)]

    assert finding("delivery_exception", order) is None


def test_a_failed_shopify_fulfilment_request_over_graphql_is_no_delivery_exception(systems):
    """The same order over GraphQL (``status: FAILURE``, ``displayStatus: FAILURE``)."""
    land(systems.shop, map_order_node(load("shopify", "graphql_orders_page_1001")["data"]["orders"]["nodes"][0]))

    assert finding("delivery_exception", Order.objects.get()) is None


def test_a_carrier_failure_on_a_live_shopify_fulfilment_is_a_delivery_exception(systems):
    """A fulfilment that succeeded (``status: success``) whose carrier reports ``shipment_status: failure``."""
    payload = load("shopify", "order_tagged_fulfilled_refunded")["order"]
    payload["fulfillments"][0].update(status="success", shipment_status="failure")
    land(systems.shop, map_order(payload))
    order = Order.objects.get()

    assert finding("delivery_exception", order).detail == (
        f"order {order.number}: shopify reports USPS parcel {payload['fulfillments'][0]['tracking_number']} as failure"
    )


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


def both_tracked_in_transit(systems, order) -> None:
    """EasyPost tracks 1Z…1 and 1Z…2, both in transit (a tracker names no lines); both land on ``order``."""
    scan = [(NOW - timedelta(hours=5), "in_transit", "arrived_at_facility", "Arrived at Facility")]
    land(
        systems.carrier,
        map_tracker(tracker("trk_1", "1Z0000000000000001", "in_transit", scan)),
        map_tracker(tracker("trk_2", "1Z0000000000000002", "in_transit", scan)),
    )
    assert Shipment.objects.filter(source=systems.carrier, order=order).count() == 2


def test_a_split_shipment_stays_split_once_the_carrier_tracks_its_parcels(systems):
    """Shopify says parcel 1 carries LAMP-1 and parcel 2 SOFA-9; EasyPost tracks both (a tracker names no lines)."""
    land(
        systems.shop,
        two_line_web_order(
            shipments=[
                ShipmentRecord(external_id="f1", carrier="UPS", tracking_number="1Z0000000000000001",
                               raw_status="in_transit", status="in_transit", line_skus=["LAMP-1"]),
                ShipmentRecord(external_id="f2", carrier="UPS", tracking_number="1Z0000000000000002",
                               raw_status="in_transit", status="in_transit", line_skus=["SOFA-9"]),
            ]
        ),
    )  # fmt: skip
    order = Order.objects.get()
    both_tracked_in_transit(systems, order)

    assert finding("duplicate_shipment", order) is None  # each parcel's lines are known from the storefront

    ShipmentFactory(order=order, source=systems.carrier, tracking_number="1Z0000000000000003", line_skus=[])
    found = finding("duplicate_shipment", order)  # a third parcel no system gives lines for may carry either
    assert found.detail == (
        "order #1001 has 3 live parcels for the same lines: UPS 1Z0000000000000001 (in easypost, shopify); "
        "UPS 1Z0000000000000002 (in easypost, shopify); UPS 1Z0000000000000003 (in easypost)"
    )


def test_a_replacement_for_a_parcel_returning_to_sender_is_not_a_duplicate(systems):
    """The first parcel is on its way back to the warehouse; the replacement is the one parcel coming."""
    land(
        systems.shop,
        two_line_web_order(
            shipments=[
                ShipmentRecord(external_id="f1", carrier="UPS", tracking_number="1Z0000000000000001",
                               status="in_transit", line_skus=["LAMP-1", "SOFA-9"]),
                ShipmentRecord(external_id="f2", carrier="UPS", tracking_number="1Z0000000000000002",
                               status="handed_to_carrier", line_skus=["LAMP-1", "SOFA-9"]),
            ]
        ),
    )  # fmt: skip
    order = Order.objects.get()
    first = [
        (NOW - timedelta(days=4), "in_transit", "arrived_at_facility", "Arrived at Facility"),
        (NOW - timedelta(days=2), "return_to_sender", "return", "Returning package to shipper"),
    ]
    second = [(NOW - timedelta(hours=3), "in_transit", "departed_facility", "Departed Facility")]
    land(
        systems.carrier,
        map_tracker(tracker("trk_1", "1Z0000000000000001", "return_to_sender", first, detail="return")),
        map_tracker(tracker("trk_2", "1Z0000000000000002", "in_transit", second)),
    )

    assert finding("duplicate_shipment", order) is None
    # what the agent sees of the first parcel is its return, not a second delivery
    assert finding("delivery_exception", order).detail == (
        "order #1001: easypost reports UPS parcel 1Z0000000000000001 as return_to_sender/return"
    )


def test_the_packages_of_one_erp_picking_are_one_dispatch_not_duplicates(systems):
    """Odoo shipped WH/OUT/00001 in two packages (``carrier_tracking_ref`` "1Z…1,1Z…2"); EasyPost tracks each, and a
    tracker names no lines: before the storefront says which lines each carries, they are still not two dispatches."""
    order = web_order(systems, placed_ago=timedelta(days=2))
    picking = in_erp(systems, order, status=Lifecycle.HANDED_TO_CARRIER, done_at=NOW - timedelta(days=1))
    for number in ("1Z0000000000000001", "1Z0000000000000002"):
        PickingPackage.objects.create(picking=picking, tracking_number=number)
    both_tracked_in_transit(systems, order)

    assert finding("duplicate_shipment", order) is None

    ShipmentFactory(order=order, source=systems.carrier, tracking_number="1Z0000000000000003", line_skus=[])
    found = finding("duplicate_shipment", order)  # a parcel outside the picking may carry what its packages do
    assert found.detail == (
        f"order {order.number} has 3 live parcels for the same lines: UPS 1Z0000000000000001 (in easypost); "
        "UPS 1Z0000000000000002 (in easypost); UPS 1Z0000000000000003 (in easypost)"
    )


def test_a_backorders_parcel_carries_the_lines_the_erp_gives_it_not_the_first_parcels(systems):
    """Odoo validated WH/OUT/00001 with LAMP-1 (parcel 1Z…1) and left SOFA-9 in the backorder WH/OUT/00002, sent later
    (parcel 1Z…2): before the storefront is read, each parcel carries its picking's lines, so they are no duplicates."""
    order = web_order(systems, placed_ago=timedelta(days=3))
    first = in_erp(systems, order, status=Lifecycle.HANDED_TO_CARRIER, done_at=NOW - timedelta(days=2))
    back = in_erp(
        systems, order, name="WH/OUT/00002", status=Lifecycle.HANDED_TO_CARRIER, done_at=NOW - timedelta(days=1)
    )
    Picking.objects.filter(pk=first.pk).update(external_id="101")
    Picking.objects.filter(pk=back.pk).update(external_id="102")
    written = NOW - timedelta(days=1)
    land(
        systems.erp,
        map_move(move(11, 101, first.name, "LAMP-1", 1.0, written=written)),
        map_move(move(12, 102, back.name, "SOFA-9", 1.0, written=written)),
    )
    scan = [(NOW - timedelta(hours=5), "in_transit", "arrived_at_facility", "Arrived at Facility")]
    for n, picking in enumerate((first, back), start=1):
        PickingPackage.objects.create(picking=picking, tracking_number=f"1Z000000000000000{n}")
        land(systems.carrier, map_tracker(tracker(f"trk_{n}", f"1Z000000000000000{n}", "in_transit", scan)))
    assert Shipment.objects.filter(source=systems.carrier, order=order).count() == 2

    assert finding("duplicate_shipment", order) is None

    ShipmentFactory(order=order, source=systems.carrier, tracking_number="1Z0000000000000003", line_skus=[])
    found = finding("duplicate_shipment", order)  # a parcel no system gives lines for may carry either
    assert [p["skus"] for p in found.evidence["parcels"]] == [["LAMP-1"], ["SOFA-9"], []]


def replaced_parcel(systems, *, raw_status: str, status: str) -> Order:
    """A two-line web order whose first parcel (1Z…1, as the storefront reports it: ``raw_status``) was replaced by a
    second one carrying the same lines (1Z…2, in transit)."""
    land(
        systems.shop,
        two_line_web_order(
            shipments=[
                ShipmentRecord(external_id="f1", carrier="UPS", tracking_number="1Z0000000000000001",
                               raw_status=raw_status, status=status, line_skus=["LAMP-1", "SOFA-9"]),
                ShipmentRecord(external_id="f2", carrier="UPS", tracking_number="1Z0000000000000002",
                               raw_status="in_transit", status="in_transit", line_skus=["LAMP-1", "SOFA-9"]),
            ]
        ),
    )  # fmt: skip
    return Order.objects.get()


def test_a_replacement_for_a_parcel_the_storefront_reports_failed_is_not_a_duplicate(systems):
    """Shopify shows a parcel the carrier returns to the sender as ``shipment_status: failure``: before the carrier's
    own tracker is read, the failed parcel is still not a second one on its way."""
    order = replaced_parcel(systems, raw_status="failure", status="in_transit")

    assert finding("duplicate_shipment", order) is None
    assert finding("delivery_exception", order).detail == (
        "order #1001: shopify reports UPS parcel 1Z0000000000000001 as failure"
    )


def test_a_voided_label_s_tracker_is_no_parcel_on_its_way(systems):
    """The first label was voided (the storefront's fulfilment cancelled) and a new one bought: a refunded label's
    tracker stays pre_transit for good, never a stuck parcel nor a second one; scanned on, it is a parcel again."""
    order = replaced_parcel(systems, raw_status="cancelled", status="cancelled")
    label = [(NOW - timedelta(days=4), "pre_transit", "status_update", "Shipping label created, carrier notified")]
    moving = [(NOW - timedelta(hours=3), "in_transit", "departed_facility", "Departed Facility")]
    land(
        systems.carrier,
        map_tracker(tracker("trk_1", "1Z0000000000000001", "pre_transit", label, detail="status_update")),
        map_tracker(tracker("trk_2", "1Z0000000000000002", "in_transit", moving)),
    )
    assert Shipment.objects.filter(source=systems.carrier, order=order).count() == 2

    assert finding("duplicate_shipment", order) is None
    assert finding("stuck_shipment", order) is None
    assert standings([order.pk])[order.pk].status == Lifecycle.IN_TRANSIT

    scanned = [*label, (NOW - timedelta(days=3), "in_transit", "arrived_at_facility", "Arrived at Facility")]
    land(systems.carrier, map_tracker(tracker("trk_1", "1Z0000000000000001", "in_transit", scanned)))
    assert finding("duplicate_shipment", order) is not None  # the carrier moves it: the void did not hold
    assert finding("stuck_shipment", order) is not None


# -- payment_mismatch ------------------------------------------------------------------------


# -- payment_mismatch ------------------------------------------------------------------------


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
