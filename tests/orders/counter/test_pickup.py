"""The store counter: preparing, handing over and pushing a pickup, race-safe, scoped to the clerk's stores."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from integrations.demo import demo_sources_ensure
from integrations.http import TransportError
from integrations.models import Source, SyncRun
from integrations.sandbox.formats.odoo_records import picking_state
from integrations.sync import source_sync
from orders.catalogue.lines import order_lines
from orders.counter.outbox import push_send, pushes_pending
from orders.counter.selectors import board_orders, pickup_board, pickup_checklist, pickup_orders
from orders.counter.services import IdentityCheck, PickupError, pickup_handover, pickup_line_check
from orders.flags.detection import detect
from orders.models import (
    PICKUP_DONE,
    CustomerMessage,
    Flag,
    Handover,
    Lifecycle,
    Order,
    OrderRecord,
    Pickup,
    PickupLine,
    PickupPush,
    Store,
    TimelineEvent,
)
from orders.tasks import push_pending_pickups
from tests.concurrency import racing
from tests.factories import LineFactory, OrderFactory, OrderRecordFactory, SourceFactory, UserFactory, agent, clerk_of
from tests.orders import scene as scenes

NUMBER = IdentityCheck(name="Zoë Müller", method="order_number", value="#1001")
ZOE = "zoe.muller@example.com"


@pytest.fixture
def pushes(monkeypatch):
    """Pushes queued after commit, recorded instead of sent (the sandbox test sends them for real)."""
    queued = []
    monkeypatch.setattr("orders.counter.outbox._push_dispatch", queued.append)
    return queued


def _scene():
    scene = scenes.build()
    square = SourceFactory(name="square", kind=Source.Kind.POS, adapter="square")
    OrderRecordFactory(order=scene.web_order, source=square, external_id="SQ1001", external_number="#1001")
    scene.web_order.shipments.all().delete()  # the agent scene's parcel: this order waits at the counter
    scene.web_order.promised_by = timezone.now() - timedelta(hours=1)
    scene.web_order.status = Lifecycle.PAID
    scene.web_order.save()
    return scene


@pytest.fixture
def scene(db):
    return _scene()


def _counter_events(order) -> list[tuple[str, str | None]]:
    rows = TimelineEvent.objects.filter(order=order, kind=TimelineEvent.Kind.PICKUP).order_by("id")
    return [(e.summary, e.actor.username if e.actor else None) for e in rows]


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


# --- pages ----------------------------------------------------------------------------------------
def test_the_board_shows_the_stores_pickup_orders_and_polls_its_partial(client, scene, pushes):
    client.force_login(clerk_of(scene.downtown, "dana.downtown"))
    url = reverse("pickup_board", args=["downtown"])

    page = client.get(url)
    partial = client.get(url, headers={"HX-Request": "true"})

    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html and "Pickups at Downtown" in html
    assert 'hx-trigger="every 30s"' in html and "updated " in html
    assert """hx-headers='{"X-OmniDesk-Poll": "1"}'""" in html  # its refreshes are not a person's activity
    assert 'data-order="#1001"' in html and "S00042" in html and "overdue 1 h" in html
    assert 'data-order="#2002"' not in html  # uptown's
    assert 'href="/stores/downtown/pickups/"' in html  # the nav link of store staff
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert 'id="board"' in partial.content.decode()


def test_the_order_page_checks_a_line_by_htmx_and_hands_over_without_javascript(client, scene, pushes):
    client.force_login(clerk_of(scene.downtown, "dana.downtown"))
    line = scene.web_order.lines.get()
    args = ["downtown", scene.web_order.pk]

    page = client.get(reverse("pickup_order", args=args))
    checked = client.post(
        reverse("pickup_line", args=[*args, line.pk]), {"state": "picked"}, headers={"HX-Request": "true"}
    )
    wrong = client.post(
        reverse("pickup_handover", args=args), {"name": "Zoë Müller", "id_check": "order_number", "id_value": "1"}
    )
    handed = client.post(
        reverse("pickup_handover", args=args),
        {"name": "Zoë Müller", "id_check": "order_number", "id_value": "#1001", "action": "collect"},
    )

    assert page.status_code == 200 and "on hand: odoo 1" in page.content.decode()
    assert '<span class="bin">bin DT/Stock/C-04</span>' in page.content.decode()
    assert checked.status_code == 200 and "<html" not in checked.content.decode()
    assert "Picked" in checked.content.decode() and 'class="status stage-ready"' in checked.content.decode()
    assert wrong.status_code == 422 and "identity not confirmed" in wrong.content.decode()
    assert handed.status_code == 302 and Handover.objects.get().collected_by == "Zoë Müller"


def test_a_clerk_lands_on_their_stores_board(client, scene):
    client.force_login(clerk_of(scene.downtown, "dana.downtown"))

    response = client.get("/")

    assert (response.status_code, response["Location"]) == (302, "/stores/downtown/pickups/")
    assert client.post("/", {"q": "zoe"}).status_code == 200  # the top bar's search still answers


def test_a_refused_handover_keeps_what_was_typed_with_the_error_next_to_its_field(client, scene, pushes):
    client.force_login(clerk_of(scene.downtown, "dana.downtown"))
    line = scene.web_order.lines.get()
    args = ["downtown", scene.web_order.pk]
    client.post(reverse("pickup_line", args=[*args, line.pk]), {"state": "picked"})

    wrong = client.post(
        reverse("pickup_handover", args=args),
        {"name": "Zoe Mueller", "id_check": "order_number", "id_value": "#1009", "action": "collect"},
        headers={"HX-Request": "true"},
    )
    refusal = client.post(reverse("pickup_handover", args=args), {"name": "Zoe", "action": "refuse", "refusal": " "})

    html = wrong.content.decode()
    assert wrong.status_code == 422
    assert 'name="name" autocomplete="off" value="Zoe Mueller"' in html
    assert 'value="order_number" checked' in html and 'name="id_value" autocomplete="off" value="#1009"' in html
    assert '<p class="error" id="error-proof" role="alert">identity not confirmed' in html
    assert 'role="alert">identity not confirmed' not in html.split('<fieldset aria-describedby="error-proof">')[0]
    assert refusal.status_code == 422
    assert '<p class="error" id="error-refusal" role="alert">a refusal needs a reason</p>' in refusal.content.decode()
    assert Handover.objects.count() == 0


def test_with_a_line_missing_the_handover_ticks_only_the_other_lines(client, scene, pushes):
    clerk = clerk_of(scene.downtown, "dana.downtown")
    client.force_login(clerk)
    lamp = scene.web_order.lines.get()
    shade = LineFactory(order=scene.web_order, name="Lamp Shade", sku="HOM-0300-SHD", source=lamp.source)
    args = ["downtown", scene.web_order.pk]
    client.post(reverse("pickup_line", args=[*args, lamp.pk]), {"state": "picked"})
    client.post(reverse("pickup_line", args=[*args, shade.pk]), {"state": "missing", "missing_quantity": 1})

    html = client.get(reverse("pickup_order", args=args)).content.decode()

    assert "a line is missing: only the ticked ones" in html
    assert f'value="{lamp.pk}" checked> {lamp.quantity} × {lamp.name}' in html
    assert (
        f'value="{shade.pk}"> 1 × Lamp Shade <span class="sku">HOM-0300-SHD</span> <span class="warn">missing</span>'
        in html
    )
    assert "Hand over the ticked lines" in html


def _writes() -> tuple[int, ...]:
    models = (Pickup, PickupLine, Handover, PickupPush, Flag, TimelineEvent)
    return tuple(model.objects.count() for model in models)


def test_a_clerk_of_another_store_gets_404_on_every_counter_url_and_nothing_is_written(client, scene, pushes):
    client.force_login(clerk_of(scene.uptown, "uma.uptown"))
    line = scene.web_order.lines.get()
    args = ["downtown", scene.web_order.pk]
    urls = [
        ("get", reverse("pickup_board", args=["downtown"]), {}),
        ("get", reverse("pickup_board", args=["downtown"]), {"HX-Request": "true"}),
        ("get", reverse("pickup_order", args=args), {}),
        ("get", reverse("pickup_order", args=args), {"HX-Request": "true"}),
        ("get", reverse("pickup_order", args=["uptown", scene.web_order.pk]), {}),  # their store, not their order
        ("post", reverse("pickup_line", args=[*args, line.pk]), {}),
        ("post", reverse("pickup_line", args=["uptown", scene.web_order.pk, line.pk]), {}),
        ("post", reverse("pickup_handover", args=args), {}),
        ("post", reverse("pickup_handover", args=["uptown", scene.web_order.pk]), {"HX-Request": "true"}),
    ]
    data = {"state": "missing", "missing_quantity": 1, "name": "x", "id_check": "id_seen", "refusal": "x"}
    before = _writes()

    answers = {
        (m, u, bool(h)): getattr(client, m)(u, data if m == "post" else {}, headers=h).status_code for m, u, h in urls
    }

    assert set(answers.values()) == {404}, answers
    assert _writes() == before


def test_the_board_reads_open_pickups_and_todays_collected_not_the_stores_history(scene, django_assert_num_queries):
    now = timezone.now()
    store, orders = scene.downtown, pickup_orders(scene.downtown, Order.objects.all())

    def pickup(status, stage=None, closed=None):
        order = OrderFactory(store=store, fulfilment="pickup", status=status, promised_by=now)
        if stage:
            Pickup.objects.create(order=order, stage=stage, closed_at=closed)
        return order.pk

    open_upstream = pickup(Lifecycle.ASSIGNED)
    collected_today = pickup(Lifecycle.COLLECTED, Pickup.Stage.COLLECTED, now)
    collected_before = pickup(Lifecycle.COLLECTED, Pickup.Stage.COLLECTED, now - timedelta(days=1))
    cancelled = pickup(Lifecycle.CANCELLED)
    delivered_but_ready_here = pickup(Lifecycle.DELIVERED, Pickup.Stage.READY)
    refused = pickup(Lifecycle.CANCELLED, Pickup.Stage.REFUSED, now - timedelta(days=3))

    shown = set(board_orders(store=store, orders=orders, now=now).values_list("pk", flat=True))
    with django_assert_num_queries(8):
        board = pickup_board(store=store, orders=orders, now=now)

    assert shown == {scene.web_order.pk, open_upstream, collected_today, delivered_but_ready_here, refused}
    assert {collected_before, cancelled}.isdisjoint(shown)
    assert {c.order.pk: column for column, cards in board.columns.items() for c in cards} == {
        scene.web_order.pk: "new", open_upstream: "preparing", collected_today: "collected",
        delivered_but_ready_here: "ready", refused: "problems",
    }  # fmt: skip


def test_the_board_splits_problems_and_folds_long_columns(client, scene):
    now = timezone.now()
    store = scene.downtown
    waiting = [OrderFactory(store=store, fulfilment="pickup", status=Lifecycle.ASSIGNED, promised_by=now + timedelta(
        hours=h + 2)) for h in range(10)]  # fmt: skip
    shelf = OrderFactory(store=store, fulfilment="pickup", status=Lifecycle.PAID, promised_by=now + timedelta(hours=5))
    Flag.objects.create(order=shelf, code=Flag.Code.STOCK_SHORTFALL, detail="lamp: 0 on hand")
    money = OrderFactory(store=store, fulfilment="pickup", status=Lifecycle.PAID, promised_by=now + timedelta(hours=5))
    Flag.objects.create(order=money, code=Flag.Code.PAYMENT_MISMATCH, detail="captured 0")
    client.force_login(clerk_of(store, "dana.downtown"))

    html = client.get(reverse("pickup_board", args=["downtown"])).content.decode()

    preparing = html.split('aria-label="Preparing"')[1].split("</section>")[0]
    shown, folded = preparing.split('<details class="more">')
    assert [w.number for w in waiting[:8]] == re.findall(r'data-order="([^"]+)"', shown)
    assert "<summary>2 more</summary>" in folded
    assert [w.number for w in waiting[8:]] == re.findall(r'data-order="([^"]+)"', folded)
    problems = html.split('aria-label="Problems"')[1].split("</section>")[0]
    here, back = problems.split('<details class="back-office">')
    assert f'data-order="{shelf.number}"' in here and f'data-order="{money.number}"' not in here
    assert "<summary>Back office: 1</summary>" in back and f'data-order="{money.number}"' in back


def test_the_boards_reads_can_use_their_indexes(scene):
    """With sequential scans priced out, the planner reaches both through an index (here the tables are tiny)."""
    sql = {
        "orders": pickup_orders(scene.downtown, Order.objects.all()).exclude(status__in=PICKUP_DONE),
        "pickups": Pickup.objects.filter(stage=Pickup.Stage.COLLECTED, closed_at__gte=timezone.now()),
    }
    plans = {}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for name, query in sql.items():
            text, params = query.values("pk").query.sql_with_params()
            cursor.execute(f"EXPLAIN {text}", params)
            plans[name] = " ".join(row[0] for row in cursor.fetchall())
    assert "order_open_pickup" in plans["orders"]
    assert "pickup_stage_closed" in plans["pickups"]


def test_an_agent_opens_any_stores_board(client, scene):
    client.force_login(agent())
    assert client.get(reverse("pickup_board", args=["uptown"])).status_code == 200
    assert client.get(reverse("pickup_board", args=["downtown"])).status_code == 200


# --- against the sandbox --------------------------------------------------------------------------
@pytest.mark.sandbox
def test_every_ground_truth_pickup_is_on_its_stores_board_and_the_handover_reaches_every_system(
    db, sandbox, fast_http, client, django_capture_on_commit_callbacks
):
    sources = demo_sources_ensure(sandbox.base_url)
    for source in sources:
        run = source_sync(source_id=source.pk)
        assert run.status == SyncRun.Status.SUCCEEDED, run.summary()
    truth = sandbox.world.truth()
    ours = {
        (system, external_id): order_id
        for system, external_id, order_id in OrderRecord.objects.values_list("source__name", "external_id", "order_id")
    }
    expected: dict[str, set[int]] = {}
    for order in truth["orders"]:
        if order["fulfilment"] == "pickup":
            ids = {ours.get((system, ids["external_id"])) for system, ids in order["systems"].items()}
            assert len(ids) == 1 and None not in ids, order["number"]
            expected.setdefault(order["store"], set()).update(ids)
    assert expected

    done = set(Order.objects.filter(status__in=PICKUP_DONE).values_list("pk", flat=True))
    for store in Store.objects.filter(code__in=list(expected)):
        board = pickup_board(store=store, orders=pickup_orders(store, Order.objects.all()))
        shown = [c.order.pk for cards in board.columns.values() for c in cards]
        assert set(shown) == expected[store.code] - done, store.code  # nobody at the counter yet: done is gone
        assert len(shown) == len(set(shown))  # each order once

    # A web order waiting at the counter, known to the storefront, the POS and the ERP: prepared, handed over,
    # and every system told, through the real adapters over HTTP.
    waiting = (
        Order.objects.filter(fulfilment="pickup", channel="web", placed_at__isnull=False)
        .exclude(status__in=["collected", "cancelled"])
        .filter(records__source__name="odoo")
        .filter(records__source__name="square")
        .exclude(flags__code="stock_shortfall")
        .order_by("placed_at")
    )
    order = next(o for o in waiting if sandbox.world.orders and _erp_picking_open(sandbox, o))
    clerk = clerk_of(order.store, "counter.clerk")
    shelves = {  # where the ERP keeps each SKU at this store (Odoo quants on bin sub-locations)
        s.product.sku: f"{s.store.odoo_code}/Stock/{s.bin.name}"
        for s in sandbox.world.stocks
        if s.store.code == order.store.code
    }
    checklist = pickup_checklist(order=order, store=order.store)
    assert [row.bins for row in checklist["rows"]] == [[shelves[row.line.sku]] for row in checklist["rows"]]
    with django_capture_on_commit_callbacks(execute=True):  # the push tasks run eagerly after commit
        for line in order_lines(order):
            pickup_line_check(order=order, line=line, state="picked", by=clerk)
        pickup_handover(order=order, by=clerk, check=IdentityCheck(order.contact_name, "id_seen", "yes"))

    pushes = list(PickupPush.objects.filter(order=order).order_by("target__name", "state"))
    assert [(p.target.name, p.state, p.attempts, p.sent_at is not None, p.last_error) for p in pushes] == [
        ("odoo", "collected", 1, True, ""),
        ("shopify", "collected", 1, True, ""),
        ("shopify", "ready", 1, True, ""),
        ("square", "collected", 1, True, ""),
        ("square", "ready", 1, True, ""),
    ]
    records = dict(order.records.values_list("source__name", "external_id"))
    world = sandbox.world
    assert world.fulfillment_states[records["square"]] == "COMPLETED"
    assert int(records["shopify"]) in world.shopify_prepared  # told "ready for pickup" over GraphQL
    assert sum(world.shopify_fulfilled[int(records["shopify"])]["quantities"].values()) == sum(
        line.quantity for line in order_lines(order)
    )
    picking = next(pk for pk in world.pickings if pk.order.so_id == int(records["odoo"]) and pk.kind != "ret")
    assert world.picking_states[picking.id][0] == "done"

    for source in sources:  # the systems now say so themselves, and OmniDesk reads it back
        assert source_sync(source_id=source.pk).status == SyncRun.Status.SUCCEEDED
    order.refresh_from_db()
    assert order.status == "collected"
    assert list(order.pickings.filter(kind="outgoing").values_list("raw_status", flat=True)) == ["done"]
    assert dict(order.records.values_list("source__name", "raw_status")) == {
        "shopify": "paid/fulfilled",
        "square": "OPEN/COMPLETED",
        "odoo": "sale",
    }


def _erp_picking_open(sandbox, order) -> bool:
    so_id = int(order.records.get(source__name="odoo").external_id)
    world = sandbox.world
    return any(
        pk.order.so_id == so_id and pk.kind != "ret" and picking_state(pk, world.now, world) == "assigned"
        for pk in world.pickings
    )


@pytest.fixture
def fast_http(settings):
    settings.OMNIDESK_HTTP_TIMEOUT, settings.OMNIDESK_HTTP_BACKOFF, settings.OMNIDESK_HTTP_RETRIES = 2.0, 0.01, 3
    settings.OMNIDESK_HTTP_MAX_RETRY_AFTER = 0.2
