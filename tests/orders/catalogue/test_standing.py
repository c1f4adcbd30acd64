"""Where an order stands: one function, one documented precedence (orders/catalogue/standing.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine
from django.utils import timezone

from integrations.adapters.easypost import map_tracker
from integrations.adapters.odoo_mapping import map_picking
from integrations.adapters.shopify import map_order
from integrations.records import LineRecord, UpstreamOrder
from orders.catalogue.standing import Evidence, Parcel, cannot_cancel, evidence_read, standing_of, standings
from orders.desk.selectors import order_pane
from orders.flags.detection import DEFAULT_THRESHOLDS
from orders.flags.rules import RULES
from orders.ingest import ingest
from orders.models import Lifecycle, Order, Picking, Shipment
from tests.orders.vendor_shapes import picking, shopify_order, shopify_paid_order, tracker
from tests.vendor_fixtures import load

T = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def parcel(raw_status="in_transit/arrived_at_facility", status=Lifecycle.IN_TRANSIT, number="1Z1", **facts) -> Parcel:
    values = {"estimated": None, "window_end": None, "delivered_at": None, **facts}
    return Parcel(
        "easypost", number, status, raw_status, values["estimated"], values["window_end"], values["delivered_at"]
    )


def test_a_return_to_sender_after_in_transit_is_not_in_transit():
    # The carrier's lifecycle for a returned parcel is still "in transit"; its latest scan says otherwise.
    e = Evidence(
        promised_by=T,
        stages=[Lifecycle.PAID, Lifecycle.HANDED_TO_CARRIER, Lifecycle.IN_TRANSIT],
        parcels=[parcel("return_to_sender/return", estimated=T - timedelta(days=4))],
    )
    standing = standing_of(e)
    assert (standing.status, standing.label, standing.projected) == (Lifecycle.RETURNING, "Returning to sender", None)
    assert standing.problem.tracking_number == "1Z1"


def test_a_failure_is_a_delivery_problem_but_another_moving_parcel_keeps_the_order_in_transit():
    failed = parcel("failure/delivery_failed", number="1Z1")
    assert standing_of(Evidence(stages=[Lifecycle.IN_TRANSIT], parcels=[failed])).status == Lifecycle.DELIVERY_PROBLEM
    moving = parcel(number="1Z2", estimated=T)
    both = standing_of(Evidence(stages=[Lifecycle.IN_TRANSIT], parcels=[failed, moving]))
    assert (both.status, str(both.projected), both.projected.at) == (
        Lifecycle.IN_TRANSIT,
        "easypost estimates parcel 1Z2",
        T,
    )


def test_delivered_beats_everything_but_a_later_return():
    delivered = parcel("delivered/arrived_at_destination", Lifecycle.DELIVERED, delivered_at=T)
    old_failure = parcel("failure/delivery_failed", number="1Z0")
    standing = standing_of(Evidence(stages=[Lifecycle.IN_TRANSIT], parcels=[old_failure, delivered]))
    assert (standing.status, standing.projected.kind, standing.projected.at) == (Lifecycle.DELIVERED, "delivered", T)
    returned = standing_of(Evidence(stages=[Lifecycle.DELIVERED, Lifecycle.RETURNED], parcels=[delivered]))
    assert returned.status == Lifecycle.RETURNED


def test_the_origin_cancelling_beats_everything():
    e = Evidence(origin_cancelled=True, stages=[Lifecycle.IN_ERP], parcels=[parcel()])
    assert (standing_of(e).status, standing_of(e).projected) == (Lifecycle.CANCELLED, None)


def test_the_projection_is_the_erps_schedule_only_when_later_than_the_promise():
    later = Evidence(
        promised_by=T, stages=[Lifecycle.IN_ERP], open_pickings=[("odoo", "WH/OUT/7", T + timedelta(days=2))]
    )
    assert str(standing_of(later).projected) == "odoo schedules WH/OUT/7"
    sooner = Evidence(
        promised_by=T, stages=[Lifecycle.IN_ERP], open_pickings=[("odoo", "WH/OUT/7", T - timedelta(days=1))]
    )
    assert (standing_of(sooner).projected.kind, standing_of(sooner).projected.at) == ("promised", T)
    assert standing_of(Evidence(stages=[Lifecycle.PLACED])).projected is None


def test_a_parcel_on_its_way_does_not_hide_a_backorder_scheduled_later():
    moving = parcel(estimated=T + timedelta(days=1))
    e = Evidence(
        promised_by=T + timedelta(days=5),
        stages=[Lifecycle.HANDED_TO_CARRIER, Lifecycle.IN_ERP, Lifecycle.IN_TRANSIT],
        parcels=[moving],
        open_pickings=[("odoo", "WH/OUT/8", T + timedelta(days=10))],
        unsent=[("odoo", "WH/OUT/8")],
    )
    standing = standing_of(e)
    assert (standing.status, str(standing.projected), standing.projected.at) == (
        Lifecycle.IN_TRANSIT,
        "odoo schedules WH/OUT/8",
        T + timedelta(days=10),
    )


def test_a_delivered_parcel_is_not_the_order_delivered_while_the_rest_is_still_to_go_out():
    delivered = parcel("delivered", Lifecycle.DELIVERED, delivered_at=T)
    for unsent in ([("odoo", "WH/OUT/8")], [("shopify", "")]):
        e = Evidence(promised_by=T, stages=[Lifecycle.DELIVERED], parcels=[delivered], unsent=unsent)
        standing = standing_of(e)
        assert (standing.status, standing.projected.kind, standing.part_delivered) == (
            Lifecycle.HANDED_TO_CARRIER,
            "promised",
            delivered,
        )
    # The counter's handover of a pickup is the customer's word that they have it.
    collected = standing_of(Evidence(stages=[Lifecycle.COLLECTED], unsent=[("odoo", "WH/OUT/8")]))
    assert collected.status == Lifecycle.COLLECTED


def _parcels_of_the_erp(*parcels):
    """The evidence of an order whose outgoing picking WH/OUT/7 named parcel 1Z1 and its backorder WH/OUT/8 parcel 1Z2."""
    return standing_of(
        evidence_read(
            origin=1, promised_by=T, pickup_stage=None, records=[],
            pickings=[("odoo", "WH/OUT/7", "outgoing", Lifecycle.HANDED_TO_CARRIER, T),
                      ("odoo", "WH/OUT/8", "outgoing", Lifecycle.HANDED_TO_CARRIER, T)],
            packages=["1Z1", "1Z2"],
            shipments=[(n, "easypost", "carrier", p.tracking_number, p.status, p.raw_status, p.estimated, None,
                        p.delivered_at) for n, p in enumerate(parcels)],
        )
    )  # fmt: skip


def test_a_backorders_parcel_still_on_its_way_keeps_the_order_from_delivered():
    first = parcel("delivered/arrived_at_destination", Lifecycle.DELIVERED, number="1Z1", delivered_at=T)
    second = parcel(number="1Z2", estimated=T + timedelta(days=1))
    standing = _parcels_of_the_erp(first, second)
    assert (standing.status, standing.on_the_way, standing.part_delivered, standing.projected.at) == (
        Lifecycle.IN_TRANSIT,
        ("1Z2",),
        first,
        T + timedelta(days=1),
    )
    both = _parcels_of_the_erp(first, parcel("delivered", Lifecycle.DELIVERED, number="1Z2", delivered_at=T + HOUR))
    assert (both.status, both.projected.at) == (Lifecycle.DELIVERED, T + HOUR)  # arrived whole with its last parcel
    # a package going back to the sender is not on its way: delivery_exception says it
    returning = _parcels_of_the_erp(first, parcel("return_to_sender/return", number="1Z2"))
    assert (returning.status, returning.on_the_way) == (Lifecycle.DELIVERED, ())


# -- what the staff see, from vendor-shaped payloads through the real mappers and ingest ---------------
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PLACED = NOW - timedelta(days=3)


def land(source, *records):
    return ingest(source=source, records=list(records), synced_at=timezone.now())


def finding(code, order, *, now=NOW):
    return RULES[code]([order.pk], now=now, threshold=DEFAULT_THRESHOLDS.get(code)).get(order.pk)


def clause(pane, topic) -> str:
    return next(c.text for c in pane["answer"].clauses if c.topic == topic)


def _backorder_scene(shop, erp, carrier, *, promised_by, first_parcel) -> Order:
    """Odoo sent what was in stock (WH/OUT/00007, its parcel tracked by EasyPost) and opened a backorder for the
    rest (WH/OUT/00008, same sale order, rescheduled ten days out)."""
    lines = [
        LineRecord(external_id="l1", sku="LAMP-1", quantity=1, unit_price=Decimal("30.00")),
        LineRecord(external_id="l2", sku="SOFA-9", quantity=1, unit_price=Decimal("50.00")),
    ]
    land(
        shop,
        UpstreamOrder(external_id="5001", number="#1001", status="paid", total=Decimal("80.00"), placed_at=PLACED,
                      updated_at=PLACED, promised_by=promised_by, lines=lines),
    )  # fmt: skip
    land(
        erp,
        UpstreamOrder(external_id="42", number="S00042", references=["#1001"], status="in_erp",
                      total=Decimal("80.00"), placed_at=PLACED, updated_at=PLACED, promised_by=promised_by),
    )  # fmt: skip
    land(
        erp,
        map_picking(picking(7, "WH/OUT/00007", "done", tracking="1Z0000000000000001", scheduled=PLACED,
                            written=PLACED, done=PLACED + timedelta(days=1))),
        map_picking(picking(8, "WH/OUT/00008", "confirmed", scheduled=NOW + timedelta(days=10), written=PLACED,
                            backorder=[7, "WH/OUT/00007"])),
    )  # fmt: skip
    land(carrier, map_tracker(first_parcel))
    order = Order.objects.get()
    assert (Picking.objects.filter(order=order).count(), Shipment.objects.filter(order=order).count()) == (2, 1)
    return order


def test_an_open_backorder_scheduled_after_the_promise_puts_the_promise_at_risk(shop, erp, carrier):
    scans = [(NOW - timedelta(hours=6), "in_transit", "arrived_at_facility", "Arrived at Facility")]
    order = _backorder_scene(
        shop, erp, carrier, promised_by=NOW + timedelta(days=5),
        first_parcel=tracker("trk_1", "1Z0000000000000001", "in_transit", scans, est=NOW + timedelta(days=1)),
    )  # fmt: skip

    projected = standings([order.pk])[order.pk].projected
    # The order is complete only when the backorder arrives, after the promise.
    assert (projected.at, projected.kind, projected.subject) == (NOW + timedelta(days=10), "schedules", "WH/OUT/00008")
    assert finding("promise_at_risk", order).detail == (
        "order #1001 promised by 25 Nov 12:00 UTC; odoo schedules WH/OUT/00008 for 30 Nov 12:00 UTC"
    )
    with time_machine.travel(NOW, tick=False):
        pane = order_pane(order)
    assert clause(pane, "when") == "Expected Mon 30 Nov (new warehouse date, after the promised Wed 25 Nov)."


def test_first_parcel_delivered_with_a_backorder_still_in_the_warehouse_is_not_delivered(shop, erp, carrier):
    scans = [
        (NOW - timedelta(days=2), "in_transit", "arrived_at_facility", "Arrived at Facility"),
        (NOW - timedelta(days=1), "delivered", "arrived_at_destination", "Delivered"),
    ]
    order = _backorder_scene(
        shop, erp, carrier, promised_by=NOW - timedelta(hours=1),
        first_parcel=tracker("trk_1", "1Z0000000000000001", "delivered", scans),
    )  # fmt: skip

    standing = standings([order.pk])[order.pk]
    order.refresh_from_db()
    # Half the order is still in the warehouse: neither delivered nor on time, complete when the backorder is.
    assert (order.status, standing.status) == (Lifecycle.HANDED_TO_CARRIER, Lifecycle.HANDED_TO_CARRIER)
    assert (standing.projected.at, standing.projected.subject) == (NOW + timedelta(days=10), "WH/OUT/00008")
    assert finding("promise_missed", order).detail == (
        "order #1001 promised by 20 Nov 11:00 UTC; not delivered 60 min later (now handed to carrier)"
    )
    with time_machine.travel(NOW, tick=False):
        pane = order_pane(order)
    assert (clause(pane, "where"), clause(pane, "when"), pane["arrived"]) == (
        "Part delivered on Thu 19 Nov (UPS); the rest has not left the warehouse yet (odoo WH/OUT/00008).",
        "Was due Fri 20 Nov — 60 minutes late.",
        False,
    )


def test_one_package_delivered_while_another_of_the_same_picking_is_on_its_way_is_not_delivered(shop, erp, carrier):
    """Odoo validated WH/OUT/00007 in two packages (``carrier_tracking_ref`` "1Z…1,1Z…2", as its carrier connectors
    write it); EasyPost delivered the first, the second is still in transit after the promise. The order is complete
    only when every package is: neither delivered nor on time."""
    lines = [
        LineRecord(external_id="l1", sku="LAMP-1", quantity=1, unit_price=Decimal("30.00")),
        LineRecord(external_id="l2", sku="SOFA-9", quantity=1, unit_price=Decimal("50.00")),
    ]
    promised = NOW - timedelta(hours=1)
    land(
        shop,
        UpstreamOrder(external_id="5001", number="#1001", status="paid", total=Decimal("80.00"), placed_at=PLACED,
                      updated_at=PLACED, promised_by=promised, lines=lines),
    )  # fmt: skip
    land(
        erp,
        UpstreamOrder(external_id="42", number="S00042", references=["#1001"], status="in_erp",
                      total=Decimal("80.00"), placed_at=PLACED, updated_at=PLACED, promised_by=promised),
        map_picking(picking(7, "WH/OUT/00007", "done", tracking="1Z0000000000000001,1Z0000000000000002",
                            scheduled=PLACED, written=PLACED, done=PLACED + timedelta(hours=6))),
    )  # fmt: skip
    delivered = [
        (NOW - timedelta(days=2), "in_transit", "arrived_at_facility", "Arrived at Facility"),
        (NOW - timedelta(days=1), "delivered", "arrived_at_destination", "Delivered"),
    ]
    moving = [
        (NOW - timedelta(days=3), "in_transit", "arrived_at_facility", "Arrived at Facility"),
        (NOW - timedelta(hours=5), "in_transit", "departed_facility", "Departed Facility"),
    ]
    land(
        carrier,
        map_tracker(tracker("trk_1", "1Z0000000000000001", "delivered", delivered)),
        map_tracker(tracker("trk_2", "1Z0000000000000002", "in_transit", moving, est=NOW + timedelta(days=1))),
    )
    order = Order.objects.get()
    assert Shipment.objects.filter(order=order, source=carrier).count() == 2

    standing = standings([order.pk])[order.pk]
    order.refresh_from_db()
    assert (order.status, standing.status, standing.on_the_way) == (
        Lifecycle.IN_TRANSIT,
        Lifecycle.IN_TRANSIT,
        ("1Z0000000000000002",),
    )
    assert (standing.projected.at, standing.projected.subject) == (NOW + timedelta(days=1), "1Z0000000000000002")
    assert finding("promise_missed", order).detail == (
        "order #1001 promised by 20 Nov 11:00 UTC; not delivered 60 min later (now in transit)"
    )
    assert finding("duplicate_shipment", order) is None
    with time_machine.travel(NOW, tick=False):
        pane = order_pane(order)
    assert clause(pane, "where") == "Part delivered on Thu 19 Nov (UPS); the rest is on its way (1Z0000000000000002)."

    moving.append((NOW, "delivered", "arrived_at_destination", "Delivered"))
    land(carrier, map_tracker(tracker("trk_2", "1Z0000000000000002", "delivered", moving)))
    standing = standings([order.pk])[order.pk]
    # arrived whole when its last package did
    assert (standing.status, standing.on_the_way, standing.projected.at) == (Lifecycle.DELIVERED, (), NOW)


def test_partly_delivered_order_still_misses_its_promise(shop):
    """Two lines, Shopify ``fulfillment_status: partial``: the red iPod's parcel was delivered, the green one was
    never fulfilled. The promise (``note_attributes`` ``promised_by``) passed a day ago: half the order is late."""
    now = datetime(2025, 4, 3, 12, 0, tzinfo=UTC)
    payload = shopify_paid_order(fulfillment_status="partial")
    green = next(item for item in shopify_order()["line_items"] if item["sku"] == "IPOD2008GREEN")
    green.update({"current_quantity": 1, "fulfillable_quantity": 1})
    payload["line_items"].append(green)
    payload["total_price"] = "398.00"
    payload["transactions"][0]["amount"] = "398.00"
    payload["note_attributes"] = [{"name": "promised_by", "value": "2025-04-02T17:00:00Z"}]
    fulfilment = load("shopify", "fulfillment_update_tracking_ups")["fulfillment"]
    fulfilment.update(
        {"line_items": [{"id": 518995019, "sku": "IPOD2008RED"}], "shipment_status": "delivered",
         "created_at": "2025-03-31T10:00:00-05:00", "updated_at": "2025-04-01T15:00:00-05:00"}
    )  # fmt: skip
    payload["fulfillments"] = [fulfilment]
    land(shop, map_order(payload))
    order = Order.objects.get()

    assert standings([order.pk])[order.pk].status == Lifecycle.HANDED_TO_CARRIER
    assert finding("promise_missed", order, now=now).detail == (
        f"order {order.number} promised by 02 Apr 17:00 UTC; not delivered 19 h later (now handed to carrier)"
    )
    with time_machine.travel(now, tick=False):
        pane = order_pane(order)
    assert (clause(pane, "where"), clause(pane, "when")) == (
        "Part delivered on Tue 1 Apr (UPS); the rest has not been sent yet (shopify lists it unfulfilled).",
        "Was due Wed 2 Apr — 19 hours late.",
    )


def test_a_refund_no_system_says_came_before_dispatch_is_a_return():
    """Square ranks a refund above its own fulfilment: a shipped and refunded order is ``refunded`` with raw
    ``COMPLETED/COMPLETED`` and no parcel row. Only a system saying nothing was fulfilled makes it a refund
    before dispatch; this one is a return of what was sent, and cannot be cancelled."""
    evidence = evidence_read(
        origin=1, promised_by=None, pickup_stage=None,
        records=[(1, "square", Lifecycle.REFUNDED, "COMPLETED/COMPLETED")], pickings=[], shipments=[],
    )  # fmt: skip
    standing = standing_of(evidence)

    assert (standing.status, standing.dispatched) == (Lifecycle.REFUNDED, True)
    assert cannot_cancel(Order(fulfilment=Order.Fulfilment.SHIP), standing) == "already delivered and being returned"


def test_refund_before_dispatch_is_not_a_return(shop):
    """Shopify's ``order_cancelled_refunded`` sample without ``cancelled_at``: refunded, unfulfilled, no line
    restocked as a return. Nothing was delivered or sent back: no return, and it can still be cancelled."""
    payload = shopify_order("order_cancelled_refunded")
    payload["cancelled_at"] = None
    land(shop, map_order(payload))
    order = Order.objects.get()
    pane = order_pane(order)

    assert (pane["standing"].status, pane["standing"].dispatched, pane["cannot_cancel"]) == (
        Lifecycle.REFUNDED,
        False,
        "",
    )
    assert clause(pane, "where") == "Refunded before anything was sent."
    assert (
        clause(pane, "cancel")
        == "Can still be cancelled: nothing has left the warehouse; $10.00 refunded on Wed 2 Apr."
    )
