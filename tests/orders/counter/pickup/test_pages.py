"""The board and the order page, and the pushes against the sandbox."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from integrations.demo import demo_sources_ensure
from integrations.models import SyncRun
from integrations.sandbox.formats.odoo_records import picking_state
from integrations.sync import source_sync
from orders.catalogue.lines import order_lines
from orders.counter.selectors import board_orders, pickup_board, pickup_checklist, pickup_orders
from orders.counter.services import IdentityCheck, pickup_handover, pickup_line_check
from orders.models import (
    PICKUP_DONE,
    Flag,
    Handover,
    Lifecycle,
    Order,
    OrderRecord,
    Payment,
    Pickup,
    PickupLine,
    PickupPush,
    Store,
    TimelineEvent,
)
from tests.factories import LineFactory, OrderFactory, PaymentFactory, StockFactory, agent, clerk_of


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


def test_the_order_page_shows_each_systems_count_without_column_padding(client, scene):
    client.force_login(clerk_of(scene.downtown, "dana.downtown"))
    line = scene.web_order.lines.get()
    StockFactory(source=scene.sources["square"], sku=line.sku, location=scene.downtown, on_hand=Decimal("12.5"))

    page = client.get(reverse("pickup_order", args=["downtown", scene.web_order.pk]))

    assert "on hand: odoo 1, square 12.5</span>" in page.content.decode()


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


def test_a_pickup_paid_in_store_asks_the_clerk_for_the_money_until_the_shop_marks_it_paid(client, scene):
    """Shopify's "Pay in store": a sale pending from checkout; marking the order paid adds a sale, the pending one
    stays in its history. The counter asks for the money once, never after it was taken."""
    client.force_login(clerk_of(scene.downtown, "dana.downtown"))
    url = reverse("pickup_order", args=["downtown", scene.web_order.pk])
    checkout = {"order": scene.web_order, "source": scene.sources["shopify"], "gateway": "Pay in store", "manual": True}
    scene.web_order.payments.all().delete()  # the scene's order was paid by card at checkout
    PaymentFactory(**checkout, external_id="t1", amount=129.5, status=Payment.Status.PENDING)

    waiting = client.get(url).content.decode()
    PaymentFactory(**checkout, external_id="t2", amount=129.5, status=Payment.Status.SUCCESS)
    paid = client.get(url).content.decode()

    assert (
        "<strong>To pay before handover: $129.50</strong> (Pay in store). Nothing has been taken for it yet." in waiting
    )
    assert "To pay" not in paid


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
    assert f'value="{lamp.pk}" checked> {int(lamp.quantity)} × {lamp.name}' in html
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
