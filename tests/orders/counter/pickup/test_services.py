"""Preparing, handing over, and two clerks at once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from integrations.http import TransportError
from orders.counter.outbox import push_send, pushes_pending
from orders.counter.services import IdentityCheck, PickupError, pickup_handover, pickup_line_check
from orders.flags.detection import detect
from orders.models import (
    CustomerMessage,
    Flag,
    Handover,
    Order,
    Pickup,
    PickupLine,
    PickupPush,
    TimelineEvent,
)
from orders.tasks import push_pending_pickups
from tests.concurrency import racing
from tests.factories import LineFactory, UserFactory, clerk_of

from .support import (
    NUMBER,
    ZOE,
    _counter_events,
    _scene,
)


# --- preparing ------------------------------------------------------------------------------------
def test_picking_every_line_makes_the_order_ready_tells_the_customer_once_and_queues_one_push(
    scene, pushes, django_capture_on_commit_callbacks
):
    clerk = clerk_of(scene.downtown, "dana.downtown")
    line = scene.web_order.lines.get()
    lamp = LineFactory(order=scene.web_order, source=line.source, sku="HOM-0300-BLK", quantity=1)

    with django_capture_on_commit_callbacks(execute=True):
        pickup_line_check(order=scene.web_order, line=line, state="located", by=clerk)
        pickup_line_check(order=scene.web_order, line=line, state="picked", by=clerk)
        first = Pickup.objects.get(order=scene.web_order)
        pickup_line_check(order=scene.web_order, line=lamp, state="picked", by=clerk)
        pickup_line_check(order=scene.web_order, line=lamp, state="picked", by=clerk)  # a double tap

    pickup = Pickup.objects.get(order=scene.web_order)
    assert (first.stage, pickup.stage, pickup.started_by) == ("preparing", "ready", clerk)
    assert [(m.subject, m.to) for m in mail.outbox] == [("Your order #1001 is ready for pickup", [ZOE])]
    assert "your order #1001 (3 items) is ready for pickup at Downtown" in mail.outbox[0].body
    message = CustomerMessage.objects.get(order=scene.web_order)
    assert (message.about, message.flag, message.status) == ("ready_for_pickup", None, "sent")
    lines = [{"sku": "HOM-0203-WHI", "quantity": 2}, {"sku": "HOM-0300-BLK", "quantity": 1}]
    assert list(
        PickupPush.objects.order_by("target__name").values_list("state", "external_id", "target__name", "lines")
    ) == [
        ("ready", "5900000000001", "shopify", lines),
        ("ready", "SQ1001", "square", lines),
    ]  # Square and Shopify (GraphQL) have a "ready" state; Odoo has none
    assert len(pushes) == 2
    assert Order.objects.get(pk=scene.web_order.pk).status == "ready_for_pickup"
    assert _counter_events(scene.web_order)[:2] == [
        ("dana.downtown marked 2 × HOM-0203-WHI located", "dana.downtown"),
        ("dana.downtown marked 2 × HOM-0203-WHI picked", "dana.downtown"),
    ]
    assert ("Ready for pickup", "dana.downtown") in _counter_events(scene.web_order)


def test_marking_a_line_missing_opens_stock_shortfall_at_once_and_detection_keeps_it_open(scene, pushes):
    clerk = clerk_of(scene.downtown, "dana.downtown")
    line = scene.web_order.lines.get()

    pickup_line_check(order=scene.web_order, line=line, state="missing", by=clerk, missing_quantity=1, reason="broken")
    flag = Flag.objects.get(order=scene.web_order, code="stock_shortfall", closed_at__isnull=True)
    detect(order_ids=[scene.web_order.pk])

    assert "1 of 2 × HOM-0203-WHI not on the shelf at Downtown (marked missing by dana.downtown: broken)" in flag.detail
    still = Flag.objects.get(order=scene.web_order, code="stock_shortfall", closed_at__isnull=True)
    assert still.pk == flag.pk and "1 × HOM-0203-WHI marked missing at the counter" in still.detail
    assert PickupLine.objects.get(line=line).missing_quantity == 1
    assert Pickup.objects.get(order=scene.web_order).stage == "preparing"


def test_a_line_sold_by_measure_is_missing_as_a_whole_and_the_page_says_how_much(client, scene, pushes):
    clerk = clerk_of(scene.downtown, "dana.downtown")
    line = scene.web_order.lines.get()
    rope = LineFactory(
        order=scene.web_order, source=line.source, sku="ROPE-MAN-12", name="Manila rope", quantity=Decimal("2.5"),
        unit="ft",
    )  # fmt: skip

    pickup_line_check(order=scene.web_order, line=rope, state="missing", by=clerk, missing_quantity=1, reason="cut")

    assert PickupLine.objects.get(line=rope).missing_quantity == Decimal("2.5")  # all of the piece, not "1"
    flag = Flag.objects.get(order=scene.web_order, code="stock_shortfall", closed_at__isnull=True)
    assert (
        "all 2.5 ft of ROPE-MAN-12 not on the shelf at Downtown (marked missing by dana.downtown: cut)" in flag.detail
    )
    assert flag.evidence["marked_missing"] == [{"sku": "ROPE-MAN-12", "missing": "2.5", "reason": "cut", "unit": "ft"}]
    detect(order_ids=[scene.web_order.pk])
    still = Flag.objects.get(order=scene.web_order, code="stock_shortfall", closed_at__isnull=True)
    assert still.pk == flag.pk and "2.5 ft of ROPE-MAN-12 marked missing at the counter" in still.detail
    assert _counter_events(scene.web_order) == [
        ("dana.downtown marked 2.5 ft of ROPE-MAN-12 missing (2.5 ft missing: cut)", "dana.downtown")
    ]
    client.force_login(clerk)
    html = client.get(reverse("pickup_order", args=["downtown", scene.web_order.pk])).content.decode()
    assert "<strong>2.5 ft of Manila rope</strong>" in html and "2.500" not in html
    assert "Missing 2.5 ft (cut)" in html
    assert html.count('name="missing_quantity"') == 1  # the counted line's only: the rope goes whole


def test_a_missing_quantity_beyond_the_line_is_refused_and_nothing_is_written(scene, pushes):
    line = scene.web_order.lines.get()
    with pytest.raises(PickupError):
        pickup_line_check(order=scene.web_order, line=line, state="missing", by=None, missing_quantity=3)
    assert (PickupLine.objects.count(), Flag.objects.count()) == (0, 0)


# --- handing over ---------------------------------------------------------------------------------
def _ready(scene, clerk):
    for line in scene.web_order.lines.all():
        pickup_line_check(order=scene.web_order, line=line, state="picked", by=clerk)


@pytest.mark.parametrize(
    "check",
    [
        IdentityCheck(name="Zoë", method="order_number", value="#1001"),  # not the name on the order
        IdentityCheck(name="Zoë Müller", method="order_number", value="#1002"),
        IdentityCheck(name="Zoë Müller", method="email", value=ZOE),  # a contact detail is no proof
        IdentityCheck(name="Zoë Müller", method="phone_last4", value="0147"),
        IdentityCheck(name="Ann Other", method="id_seen", value="yes"),  # the ID shows another name
        IdentityCheck(name="", method="id_seen", value="yes"),
        IdentityCheck(name="Zoë Müller", method="", value=""),
    ],
)
def test_a_handover_without_a_matching_proof_is_refused_and_nothing_is_written(scene, pushes, check):
    clerk = clerk_of(scene.downtown, "dana.downtown")
    _ready(scene, clerk)
    with pytest.raises(PickupError, match="identity not confirmed"):
        pickup_handover(order=scene.web_order, by=clerk, check=check)
    assert Handover.objects.count() == 0
    assert Pickup.objects.get(order=scene.web_order).stage == "ready"


@pytest.mark.parametrize(
    "check",
    [NUMBER, IdentityCheck("zoe muller", "order_number", "S00042"), IdentityCheck("ZOË MÜLLER", "id_seen", "yes")],
)
def test_a_handover_with_name_and_one_proof_collects_the_order_once(scene, pushes, check):
    clerk = clerk_of(scene.downtown, "dana.downtown")
    _ready(scene, clerk)

    first = pickup_handover(order=scene.web_order, by=clerk, check=check)
    again = pickup_handover(order=scene.web_order, by=clerk, check=check)  # a double-click

    assert first.pk == again.pk and Handover.objects.count() == 1
    assert (first.clerk, first.id_check, first.partial, first.refused) == (clerk, check.method, False, False)
    assert Pickup.objects.get(order=scene.web_order).stage == "collected"
    assert Order.objects.get(pk=scene.web_order.pk).status == "collected"
    assert sorted(PickupPush.objects.values_list("target__name", "state", "external_id")) == [
        ("odoo", "collected", "42"),
        ("shopify", "collected", "5900000000001"),
        ("shopify", "ready", "5900000000001"),
        ("square", "collected", "SQ1001"),
        ("square", "ready", "SQ1001"),
    ]  # one per system that takes the state, each once
    assert list(PickupPush.objects.values_list("lines", flat=True)) == [[{"sku": "HOM-0203-WHI", "quantity": 2}]] * 5
    assert _counter_events(scene.web_order)[-1][0].startswith(f"Collected by {check.name}")


def test_partial_collection_and_refusal(scene, pushes):
    clerk = clerk_of(scene.downtown, "dana.downtown")
    line = scene.web_order.lines.get()
    other = LineFactory(order=scene.web_order, source=line.source, sku="HOM-0300-BLK", quantity=1)
    pickup_line_check(order=scene.web_order, line=line, state="picked", by=clerk)

    partial = pickup_handover(order=scene.web_order, by=clerk, check=NUMBER, line_ids=[line.pk])
    assert (partial.partial, partial.lines) == (True, [line.pk])
    assert other.pk not in partial.lines
    collected = PickupPush.objects.filter(state="collected").order_by("target__name")
    assert list(collected.values_list("target__name", "lines")) == [
        (name, [{"sku": "HOM-0203-WHI", "quantity": 2}]) for name in ("odoo", "shopify", "square")
    ]  # the lamp stays behind, in every system

    uptown = clerk_of(scene.uptown, "uma.uptown")
    scene.uptown_order.fulfilment = Order.Fulfilment.PICKUP
    scene.uptown_order.save()
    refused = pickup_handover(order=scene.uptown_order, by=uptown, refusal="wrong colour")
    assert (refused.refused, refused.refusal_reason) == (True, "wrong colour")
    assert Pickup.objects.get(order=scene.uptown_order).stage == "refused"
    with pytest.raises(PickupError, match="already refused"):
        pickup_line_check(
            order=scene.uptown_order, line=LineFactory(order=scene.uptown_order), state="picked", by=uptown
        )


# --- race safety ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_clerks_handing_over_at_once_record_one_handover_and_one_push(pushes):
    scene = _scene()
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    _ready(scene, ann)

    first, second = racing(
        lambda: pickup_handover(order=scene.web_order, by=ann, check=NUMBER).pk,
        lambda: pickup_handover(order=scene.web_order, by=bob, check=NUMBER).pk,
    )

    assert first == second
    assert Handover.objects.filter(order=scene.web_order).count() == 1
    assert sorted(
        PickupPush.objects.filter(order=scene.web_order, state="collected").values_list("target__name", flat=True)
    ) == ["odoo", "shopify", "square"]
    assert TimelineEvent.objects.filter(order=scene.web_order, summary__startswith="Collected").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_clerks_picking_the_last_line_at_once_make_it_ready_once(pushes):
    scene = _scene()
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    line = scene.web_order.lines.get()

    racing(
        lambda: pickup_line_check(order=scene.web_order, line=line, state="picked", by=ann),
        lambda: pickup_line_check(order=scene.web_order, line=line, state="picked", by=bob),
    )

    assert sorted(PickupPush.objects.filter(order=scene.web_order).values_list("target__name", flat=True)) == [
        "shopify",
        "square",
    ]  # one "ready" push per system that takes it
    assert TimelineEvent.objects.filter(order=scene.web_order, summary="Ready for pickup").count() == 1
    assert Pickup.objects.get(order=scene.web_order).ready_notified_at is not None
    assert CustomerMessage.objects.filter(order=scene.web_order, about="ready_for_pickup").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_push_at_once_write_upstream_once(monkeypatch):
    scene = _scene()
    record = scene.web_order.records.get(source__name="square")
    record.source.set_credentials({"access_token": "sq_token"})
    record.source.save()
    push = PickupPush.objects.create(
        order=scene.web_order, target=record.source, external_id=record.external_id, state="ready"
    )
    sent = []
    monkeypatch.setattr(
        "integrations.adapters.square.SquareAdapter.push_pickup",
        lambda self, **kwargs: sent.append(kwargs),
    )

    first, second = racing(lambda: push_send(push.pk).sent_at, lambda: push_send(push.pk).sent_at)

    assert first == second and first is not None  # the second worker waited, then found it sent
    assert sent == [{"external_id": "SQ1001", "state": "ready", "lines": []}]
    assert PickupPush.objects.get(pk=push.pk).attempts == 1


def test_a_push_the_system_refuses_is_kept_with_its_error_and_counted(scene, monkeypatch):
    record = scene.web_order.records.get(source__name="odoo")
    record.source.set_credentials({"api_key": "odoo_key"})
    record.source.save()
    push = PickupPush.objects.create(
        order=scene.web_order, target=record.source, external_id=record.external_id, state="collected"
    )

    def refuse(self, **kwargs):
        raise TransportError("POST /json/2/stock.picking/button_validate: HTTP 503", permanent=False)

    monkeypatch.setattr("integrations.adapters.odoo.OdooAdapter.push_pickup", refuse)

    with pytest.raises(TransportError):  # the sweep tries it again
        push_send(push.pk)

    push.refresh_from_db()
    assert (push.attempts, push.sent_at, push.last_error) == (
        1,
        None,
        "POST /json/2/stock.picking/button_validate: HTTP 503",
    )
    assert pushes_pending() == [push.pk]  # and the sweep will try it again


def test_the_sweep_and_a_supervisors_send_again_queue_only_the_pushes_not_yet_sent(scene, pushes, admin_client):
    square = scene.web_order.records.get(source__name="square")
    sent = PickupPush.objects.create(
        order=scene.web_order, target=square.source, external_id="SQ1001", state="ready", sent_at=timezone.now()
    )
    waiting = PickupPush.objects.create(
        order=scene.web_order, target=square.source, external_id="SQ1001", state="collected"
    )

    assert push_pending_pickups() == 1
    admin_client.post(
        reverse("admin:orders_pickuppush_changelist"),
        {"action": "send_now", "_selected_action": [sent.pk, waiting.pk]},
    )

    assert pushes == [waiting.pk, waiting.pk]
