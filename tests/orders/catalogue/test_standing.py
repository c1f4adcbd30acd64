"""Where an order stands: one function, one documented precedence (orders/catalogue/standing.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orders.catalogue.standing import Evidence, Parcel, standing_of
from orders.models import Lifecycle

T = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


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
