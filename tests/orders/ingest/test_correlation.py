"""One order across systems, whichever is synced first (orders/ingest/correlate.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.adapters.odoo_mapping import map_move, map_picking
from integrations.adapters.square_mapping import map_order
from integrations.records import PickingRecord, ShipmentRecord, TrackerRecord, UpstreamOrder
from orders.desk.answer import order_answer
from orders.desk.selectors import order_pane
from orders.flags.rules.money import payment_mismatch
from orders.ingest import ingest, orphans_settle
from orders.models import (
    CustomerIdentity,
    Order,
    OrderKey,
    OrderRecord,
    Payment,
    Picking,
    PickingLine,
    Return,
    Shipment,
    TimelineEvent,
)
from tests.factories import SourceFactory
from tests.integrations.adapters.odoo.support import PICKING
from tests.integrations.adapters.square.support import order_fixture, return_order
from tests.orders.vendor_shapes import move, picking

PLACED = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def web(number="#1001", **extra) -> UpstreamOrder:
    return UpstreamOrder(
        external_id="5001",
        number=number,
        status="paid",
        total=Decimal("80.00"),
        email="ann@example.com",
        placed_at=PLACED,
        updated_at=PLACED,
        **extra,
    )


def sale_order(external_id="42", number="S00042", refs=("#1001",), **extra) -> UpstreamOrder:
    return UpstreamOrder(
        external_id=external_id,
        number=number,
        references=list(refs),
        status="in_erp",
        total=Decimal("80.00"),
        placed_at=PLACED,
        updated_at=PLACED,
        **extra,
    )


def land(source, *records):
    return ingest(source=source, records=list(records), synced_at=timezone.now())


@pytest.mark.parametrize("erp_first", [False, True], ids=["storefront-first", "erp-first"])
def test_the_erp_record_lands_on_the_web_order_whichever_comes_first(shop, erp, erp_first):
    if erp_first:
        land(erp, sale_order())
        land(shop, web())
    else:
        land(shop, web())
        land(erp, sale_order())

    order = Order.objects.get()
    assert sorted(order.records.values_list("source__name", "external_number")) == [
        ("odoo", "S00042"),
        ("shopify", "#1001"),
    ]
    # the storefront is the origin: its number, channel and e-mail win
    assert (order.number, order.origin_source_id, order.email) == ("#1001", shop.pk, "ann@example.com")
    assert order.status == "in_erp"  # the furthest stage any system reports
    assert list(OrderKey.objects.values_list("key", flat=True)) == ["1001"]


def test_a_record_naming_two_orders_merges_them(shop, erp):
    land(shop, web())
    land(shop, UpstreamOrder(external_id="5002", number="#1002", status="paid", placed_at=PLACED, updated_at=PLACED))
    assert Order.objects.count() == 2

    land(erp, sale_order(refs=("#1001", "#1002")))

    order = Order.objects.get()
    assert sorted(order.records.values_list("external_number", flat=True)) == ["#1001", "#1002", "S00042"]
    assert TimelineEvent.objects.filter(order__isnull=True).count() == 0


def test_two_new_records_of_one_page_sharing_a_key_make_one_order(erp):
    land(erp, sale_order(), sale_order(external_id="43", number="S00043"))

    assert Order.objects.count() == 1
    assert Order.objects.get().records.count() == 2


def test_numbers_are_compared_without_hash_case_or_spaces(shop, erp):
    land(shop, web(number="#A-1001"))
    land(erp, sale_order(refs=(" a-1001",)))

    assert Order.objects.count() == 1


def test_a_pos_receipt_is_not_a_key(shop, db):
    pos = SourceFactory(name="square", kind="pos", adapter="square")
    land(shop, web(number="#1001"))
    land(
        pos,
        UpstreamOrder(
            external_id="sq1", number="1001", channel="store", status="collected", placed_at=PLACED, updated_at=PLACED
        ),
    )

    assert Order.objects.count() == 2


def test_a_picking_before_its_sale_order_is_linked_when_the_order_lands(shop, erp):
    land(
        erp,
        PickingRecord(
            external_id="7",
            name="WH/OUT/00007",
            order_reference="S00042",
            status="assigned",
            assigned_to="Maria",
            updated_at=PLACED,
        ),
    )
    picking = Picking.objects.get()
    assert picking.order_id is None

    land(shop, web())
    land(erp, sale_order())

    picking.refresh_from_db()
    order = Order.objects.get()
    assert picking.order_id == order.pk
    assert order.status == "assigned"
    assert order.events.filter(subject=f"picking:{erp.pk}:7").count() == 1


def test_moves_that_land_before_their_picking_are_attached_when_the_picking_lands(erp):
    """Odoo created the picking and its moves between the pickings stream and the moves stream of one run."""
    land(erp, sale_order())
    land(erp, map_move(move(501, 9, "WH/OUT/00009", "LAMP-1", 2.0, written=PLACED)))  # the moves stream first
    assert PickingLine.objects.get().picking_id is None
    land(erp, map_picking(picking(9, "WH/OUT/00009", "assigned", scheduled=PLACED, written=PLACED)))  # next run

    picking_row = Picking.objects.get(external_id="9")
    assert picking_row.order_id == Order.objects.get().pk
    assert list(picking_row.lines.values_list("sku", "quantity")) == [("LAMP-1", Decimal("2.000"))]


def test_a_move_odoo_rewrites_to_a_backorder_leaves_its_first_picking_and_waits_for_the_backorder(erp):
    """A run read WH/OUT/00009 with both moves. Odoo then validated it with LAMP-1 only: ``_create_backorder``
    wrote SOFA-9's move's ``picking_id`` to the new WH/OUT/00010, created after that run's pickings stream."""
    land(erp, sale_order())
    land(erp, map_picking(picking(9, "WH/OUT/00009", "assigned", scheduled=PLACED, written=PLACED)))
    land(
        erp,
        map_move(move(501, 9, "WH/OUT/00009", "LAMP-1", 1.0, written=PLACED)),
        map_move(move(502, 9, "WH/OUT/00009", "SOFA-9", 1.0, written=PLACED)),
    )
    later = PLACED + timedelta(hours=5)
    land(erp, map_move(move(502, 10, "WH/OUT/00010", "SOFA-9", 1.0, written=later)))  # the backorder not read yet

    first = Picking.objects.get(external_id="9")
    assert list(first.lines.values_list("sku", flat=True)) == ["LAMP-1"]
    assert PickingLine.objects.get(external_id="502").picking_id is None

    land(
        erp,
        map_picking(picking(9, "WH/OUT/00009", "done", scheduled=PLACED, written=later, done=later)),
        map_picking(picking(10, "WH/OUT/00010", "confirmed", scheduled=later + timedelta(days=2), written=later,
                            backorder=[9, "WH/OUT/00009"])),
    )  # fmt: skip
    backorder = Picking.objects.get(external_id="10")
    assert (backorder.order_id, list(backorder.lines.values_list("sku", flat=True))) == (first.order_id, ["SOFA-9"])


def test_the_runs_last_pass_attaches_a_move_whose_picking_landed_meanwhile(erp):
    """A page's own pass can miss a move another transaction was writing; the run's last pass picks it up."""
    land(erp, sale_order())
    land(erp, map_picking(picking(9, "WH/OUT/00009", "assigned", scheduled=PLACED, written=PLACED)))
    land(erp, map_move(move(501, 9, "WH/OUT/00009", "LAMP-1", 2.0, written=PLACED)))
    PickingLine.objects.update(picking=None)  # as if the picking's page had not seen it

    assert orphans_settle() == {Order.objects.get().pk}
    assert list(Picking.objects.get().lines.values_list("sku", "quantity")) == [("LAMP-1", Decimal("2.000"))]


def test_a_tracker_finds_its_order_by_tracking_number_in_either_order(shop, carrier):
    tracker = TrackerRecord(
        external_id="trk_1",
        updated_at=PLACED,
        shipment=ShipmentRecord(external_id="trk_1", carrier="USPS", tracking_number="9400111", status="in_transit"),
    )
    land(carrier, tracker)
    assert Shipment.objects.get(source=carrier).order_id is None

    land(
        shop,
        web(
            shipments=[
                ShipmentRecord(external_id="f1", carrier="USPS", tracking_number="9400111", status="handed_to_carrier")
            ]
        ),
    )

    order = Order.objects.get()
    assert set(Shipment.objects.values_list("source__name", "order_id")) == {
        ("shopify", order.pk),
        ("easypost", order.pk),
    }
    assert order.status == "in_transit"


@pytest.mark.parametrize("carrier_first", [False, True], ids=["picking-first", "carrier-first"])
def test_each_package_of_a_multi_package_picking_finds_its_carrier_tracker(erp, carrier, carrier_first):
    """Odoo writes every package's number in ``carrier_tracking_ref``, comma-joined; each is a parcel of its own."""
    picking = map_picking({**PICKING, "state": "done", "carrier_tracking_ref": "794608181111,794608182222"})
    trackers = [
        TrackerRecord(
            external_id=f"trk_{n}",
            updated_at=PLACED,
            shipment=ShipmentRecord(
                external_id=f"trk_{n}", carrier="FedEx", tracking_number=number, status="in_transit"
            ),
        )
        for n, number in enumerate(picking.tracking_numbers, 1)
    ]
    land(erp, sale_order())
    if carrier_first:
        land(carrier, *trackers)
        land(erp, picking)
    else:
        land(erp, picking)
        land(carrier, *trackers)

    order = Order.objects.get()
    assert sorted(Shipment.objects.values_list("tracking_number", "order_id")) == [
        ("794608181111", order.pk),
        ("794608182222", order.pk),
    ]
    assert order.status == "in_transit"


def test_the_timeline_sorts_by_when_things_happened_not_when_they_arrived(shop, carrier):
    from integrations.records import TrackingEventRecord
    from orders.timeline.selectors import order_timeline

    shipped = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    scans = [
        TrackingEventRecord(
            occurred_at=datetime(2026, 11, 3, h, 0, tzinfo=UTC), status="in_transit", message=f"scan {h}"
        )
        for h in (14, 8)
    ]
    land(
        carrier,
        TrackerRecord(
            external_id="trk_1",
            updated_at=PLACED,
            shipment=ShipmentRecord(external_id="trk_1", tracking_number="9400111", status="in_transit", events=scans),
        ),
    )
    placed = web(
        shipments=[ShipmentRecord(external_id="f1", carrier="USPS", tracking_number="9400111", shipped_at=shipped)]
    )
    land(shop, placed)
    events_before = TimelineEvent.objects.count()
    land(shop, placed)  # the same data again: no new events
    assert TimelineEvent.objects.count() == events_before

    order = Order.objects.get()
    timeline = order_timeline(order_id=order.pk)

    assert [(e.kind, e.source.name) for e in timeline] == [
        ("order_placed", "shopify"),
        ("status_changed", "shopify"),
        ("shipment_created", "shopify"),
        ("tracking_scan", "easypost"),
        ("tracking_scan", "easypost"),
    ]
    assert [e.summary for e in timeline[-2:]] == ["scan 8", "scan 14"]
    assert [e.occurred_at for e in timeline] == sorted(e.occurred_at for e in timeline)


def test_an_earlier_look_at_a_parcel_landing_late_does_not_take_it_back_a_step(carrier):
    from integrations.records import TrackingEventRecord

    def look(*hours: int, status: str) -> TrackerRecord:
        scans = [TrackingEventRecord(occurred_at=datetime(2026, 11, 3, h, 0, tzinfo=UTC), status=status) for h in hours]
        return TrackerRecord(
            external_id="trk_1",
            updated_at=PLACED,
            shipment=ShipmentRecord(external_id="trk_1", tracking_number="9400111", status=status, events=scans),
        )

    land(carrier, look(8, 14, status="out_for_delivery"))  # a webhook brought the 14:00 scan
    land(carrier, look(8, status="in_transit"))  # then a backfill page fetched before it lands

    shipment = Shipment.objects.get()
    assert (shipment.status, shipment.last_event_at) == ("out_for_delivery", datetime(2026, 11, 3, 14, tzinfo=UTC))
    land(carrier, look(8, 14, 17, status="delivered"))  # a newer look still lands
    assert Shipment.objects.get().status == "delivered"


def test_an_earlier_look_at_a_customer_landing_late_does_not_put_their_old_address_back(shop):
    from integrations.records import CustomerRecord

    def look(hour: int, email: str) -> CustomerRecord:
        return CustomerRecord(
            external_id="c1", name="Ann Lee", emails=[email], updated_at=datetime(2026, 11, 3, hour, 0, tzinfo=UTC)
        )

    land(shop, look(9, "ann@old.example"))
    land(shop, look(14, "ann@new.example"))  # a customers/update webhook
    late = land(shop, look(9, "ann@old.example"))  # a backfill page fetched before it lands

    identity = CustomerIdentity.objects.get()
    assert (identity.email, identity.source_updated_at) == ("ann@new.example", datetime(2026, 11, 3, 14, tzinfo=UTC))
    assert (late.created, late.updated, late.unchanged) == (0, 0, 1)
    land(shop, look(17, "ann@newest.example"))  # a newer look still lands
    assert CustomerIdentity.objects.get().email == "ann@newest.example"


# -- a Square return order: the refund and return of the sale it names --------------------------
@pytest.fixture
def pos(db):
    return SourceFactory(name="square", kind="pos", adapter="square")


def refunds_of(order) -> list[tuple[str, Decimal]]:
    return list(Payment.objects.filter(order=order, kind="refund").values_list("status", "amount"))


@pytest.mark.parametrize("return_first", [False, True], ids=["sale-first", "return-first"])
def test_a_square_refund_made_through_a_return_order_shows_on_the_original_order(pos, return_first):
    """The $20.00 till sale (two captured card tenders), then $5.00 back for Item 1 on a return order."""
    sale, returned = order_fixture(), return_order(order_fixture()["id"])
    for payload in [returned, sale] if return_first else [sale, returned]:
        land(pos, map_order(payload))

    original = OrderRecord.objects.get(source=pos, external_id=sale["id"]).order
    card = order_answer(order_pane(original), now=timezone.now())
    assert "$5.00 refunded" in card.summary  # what the agent answers to "was I refunded?"
    assert refunds_of(original) == [("success", Decimal("5.00"))]
    assert Order.objects.count() == 1  # the return is not a second, $0 "bought in store" purchase
    assert original.status == "collected"  # $5 of $20 back: not a refunded order
    # Landed before the sale, the return waits for it and is linked when it lands (the return order never changes again).
    assert list(Return.objects.filter(order=original).values_list("status", "amount", "line_skus")) == [
        ("refunded", Decimal("5.00"), ["square-line-QW6kofLHJK7JEKMjlSVP5C"])
    ]
    assert TimelineEvent.objects.filter(kind="return", order=original).count() == 1


def test_a_return_order_landed_before_its_sale_waits_for_that_sale(pos):
    """Kept with the sale's id, linked by the page that brings that sale (an index probe on it), by no other."""
    sale = order_fixture()
    land(pos, map_order(return_order(sale["id"])))
    waiting = Return.objects.get()
    assert (waiting.order_id, waiting.order_external_id) == (None, sale["id"])

    other = order_fixture()
    other["id"] = "ANOTHER_SALE"
    land(pos, map_order(other))
    assert Return.objects.get().order_id is None  # not its sale: still waiting

    land(pos, map_order(sale))
    original = OrderRecord.objects.get(source=pos, external_id=sale["id"]).order
    assert list(Return.objects.values_list("order_id", "status")) == [(original.pk, "refunded")]


def test_the_sale_synced_again_keeps_the_refund_its_return_order_made(pos):
    """The sale's own record does not list the refund: its next sync must not take it for one it dropped."""
    sale = order_fixture()
    land(pos, map_order(sale))
    land(pos, map_order(return_order(sale["id"])))
    sale["updated_at"], sale["version"] = "2019-08-07T10:06:00.000Z", 5

    land(pos, map_order(sale))

    original = Order.objects.get()
    assert refunds_of(original) == [("success", Decimal("5.00"))]
    assert Payment.objects.filter(order=original, kind="sale", status="success").count() == 2
    assert Return.objects.filter(order=original).count() == 1


def test_a_pending_refund_on_a_return_order_is_not_refunded_yet(pos):
    sale = order_fixture()
    land(pos, map_order(sale))
    land(pos, map_order(return_order(sale["id"], "PENDING")))

    original = Order.objects.get()
    assert "nothing refunded yet" in order_answer(order_pane(original), now=timezone.now()).summary
    assert refunds_of(original) == [("pending", Decimal("5.00"))]
    assert list(Return.objects.values_list("status", flat=True)) == ["received"]


def test_a_square_return_order_raises_no_payment_mismatch(pos):
    sale = order_fixture()
    land(pos, map_order(sale))
    land(pos, map_order(return_order(sale["id"])))

    found = payment_mismatch(None, now=timezone.now(), threshold=timedelta(hours=1))

    assert found == {}
