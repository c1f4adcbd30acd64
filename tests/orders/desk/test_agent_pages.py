"""The agent's pages: search by POST, one exact hit opens, the customer and order screen, notes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.api.auth import token_create
from orders.catalogue.merges import customer_merge
from orders.models import AccessLog, Flag, Interaction, Note, Order, TimelineEvent
from orders.timezones import store_local
from tests.factories import LineFactory, OrderFactory, StockFactory, TrackingEventFactory, agent
from tests.orders import scene as scenes

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    return scenes.build()


@pytest.fixture
def agent_client(client):
    client.force_login(agent())
    return client


def test_the_search_page_has_one_focused_box_that_posts(agent_client):
    response = agent_client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="q" name="q" type="search"' in html
    assert "autofocus" in html
    assert 'hx-post="/"' in html
    assert 'hx-trigger="input changed delay:250ms from:#q, search from:#q"' in html
    assert 'hx-sync="this:replace"' in html
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_typing_swaps_in_the_results_with_what_matched(agent_client, scene):
    response = agent_client.post("/", {"q": "S00042", "go": "0"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'data-q="S00042"' in html
    assert "Order #1001" in html
    assert "ERP order · odoo" in html
    assert f'data-url="/customers/{scene.zoe.pk}/orders/{scene.web_order.pk}/"' in html
    assert 'aria-current="true"' in html  # the one exact hit, opened by Enter


def test_enter_on_one_exact_hit_opens_its_screen(agent_client, scene):
    with_js = agent_client.post("/", {"q": "Fea3", "go": "1"}, headers={"HX-Request": "true"})
    without_js = agent_client.post("/", {"q": "Fea3", "go": "1"})

    target = f"/customers/{scene.zoe.pk}/orders/{scene.pos_order.pk}/"
    assert with_js.status_code == 200
    assert with_js["HX-Redirect"] == target
    assert without_js.status_code == 302
    assert without_js["Location"] == target


def test_several_hits_are_listed_not_opened(agent_client, scene):
    response = agent_client.post("/", {"q": "Zoe Mueler", "go": "1"})

    assert response.status_code == 200
    assert "name is like" in response.content.decode()


def test_no_match_says_what_was_tried(agent_client, scene):
    response = agent_client.post("/", {"q": "nobody-like-this", "go": "0"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "Nothing matches “nobody-like-this”" in html
    assert "Searched it as an order, tracking, receipt or loyalty number, a name." in html


def test_a_search_is_audited_without_its_terms(agent_client, scene):
    agent_client.post("/", {"q": "zoe.muller@example.com", "go": "0"}, headers={"HX-Request": "true"})

    entry = AccessLog.objects.get()
    assert (entry.username, entry.action, entry.customer_ids, entry.order_id) == (
        "alice.agent",
        "search",
        [scene.zoe.pk],
        None,
    )
    assert "zoe" not in str(AccessLog.objects.values().get())


def test_the_customer_screen_shows_a_count_by_measure_as_counted(agent_client, scene):
    """The POS counts rope by the foot: 2.25 ft on the reel is short of 2.5 ft, shown without column padding."""
    LineFactory(
        order=scene.web_order, sku="ROPE-1", quantity=Decimal("2.5"), unit="ft", fulfilment_location=scene.downtown
    )
    StockFactory(source=scene.sources["square"], sku="ROPE-1", location=scene.downtown, on_hand=Decimal("2.25"))
    StockFactory(source=scene.sources["odoo"], sku="ROPE-1", location=scene.downtown, on_hand=3)

    html = agent_client.get(reverse("customer_order", args=[scene.zoe.pk, scene.web_order.pk])).content.decode()

    assert 'class="num short" title="odoo 3 · square 2.25">2.25<' in html


def test_the_customer_screen_answers_the_callers_questions(agent_client, scene):
    line = scene.web_order.lines.get()
    StockFactory(source=scene.sources["square"], sku=line.sku, location=scene.downtown, on_hand=3)  # the POS's count
    response = agent_client.get(reverse("customer_order", args=[scene.zoe.pk, scene.web_order.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    assert "Zoë Müller" in html
    assert "zoe.muller@example.com" in html and "+13125550147" in html and "LY123456" in html
    assert 'title="hubspot id 52181' in html  # every identity with its system
    assert html.index(f'id="order-row-{scene.pos_order.pk}"') < html.index(f'id="order-row-{scene.web_order.pk}"')
    assert "2026-11-03 09:00 CST" in html  # placed, in the pickup store's time zone
    assert "S00042" in html and "not known here" in html  # presence strip: odoo knows it, square does not
    assert 'class="num short" title="odoo 1 · square 3">1<' in html  # 2 wanted; the systems' lowest count, not the sum
    assert "visa ••4242" in html
    assert scenes.TRACKING in html and "<li>2026-11-04 03:00 CST · in_transit · Picked up</li>" in html
    assert "<strong>No</strong>, already dispatched" in html  # UPS has the parcel: the evidence, not the stored status
    assert "Refundable</span> $129.50" in html
    assert AccessLog.objects.get().action == "order"


@pytest.mark.parametrize(
    ("raw_status", "shown"),
    [
        ("return_to_sender/return", "Returning to sender"),
        ("failure/undeliverable", "Delivery problem"),
        ("in_transit/arrived_at_facility", "In transit"),
    ],
)
def test_the_carrier_strip_and_the_parcel_say_what_the_answer_says(agent_client, scene, raw_status, shown):
    # A carrier in trouble is stored "in transit" (the lifecycle has no exception); every part of the screen reads
    # the trouble from the one rule the order's standing reads (standing.carrier_problem).
    scene.web_order.shipments.update(status="in_transit", raw_status=raw_status)

    html = agent_client.get(reverse("customer_order", args=[scene.zoe.pk, scene.web_order.pk])).content.decode()

    assert f"<span>{scenes.TRACKING}</span><span>{shown}</span>" in html  # the presence strip's carrier
    assert f"{scenes.TRACKING}\n      · {shown}" in html  # the parcel (no tracking link in this scene)


def test_choosing_an_order_swaps_only_the_pane(agent_client, scene):
    url = reverse("customer_order", args=[scene.zoe.pk, scene.pos_order.pk])

    response = agent_client.get(url, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="order-pane"')
    assert "Order L1kx" in html
    assert "Zoë Müller</h1>" not in html
    assert response["Vary"] == "HX-Request, Cookie"


def test_the_pane_lists_what_the_caller_may_ask_about_and_folds_the_back_office_flags(agent_client, scene):
    # Given an order with a parcel stuck (the caller hears of it), nobody preparing it (back office),
    # and a missed promise that has since closed
    order = scene.web_order
    stuck = Flag.objects.create(order=order, code=Flag.Code.STUCK_SHIPMENT, detail="no scan for 6 days")
    Flag.objects.create(order=order, code=Flag.Code.UNASSIGNED, detail="no picking")
    Flag.objects.create(
        order=order, code=Flag.Code.PROMISE_MISSED, detail="due 20 Nov", closed_at=datetime(2026, 11, 21, tzinfo=UTC)
    )

    # When the agent opens the order
    html = agent_client.get(reverse("customer_order", args=[scene.zoe.pk, order.pk])).content.decode()

    # Then only the open caller-facing flag is in the open list, with its message; the rest fold under a count
    caller = html.split('aria-label="What the customer may ask about">', 1)[1].split("</ul>", 1)[0]
    folded = html.split('<details class="back-office flags-back-office">', 1)[1].split("</details>", 1)[0]
    assert caller.count("<li") == 1
    assert 'title="stuck_shipment">Parcel stuck</span> no scan for 6 days' in caller
    assert f"/worklist/flags/{stuck.pk}/message/review/" in caller
    assert '<summary>Back office and closed flags: <strong class="warn">1 open</strong> · 1 closed</summary>' in folded
    assert folded.count("<li") == 2
    assert 'title="unassigned">Nobody preparing it</span> no picking' in folded
    assert 'title="promise_missed">Late</span> due 20 Nov <span class="muted">(closed 2026-11-21)</span>' in folded


def test_a_link_from_before_the_order_moved_to_another_customer_leads_to_its_screen(agent_client, scene):
    # Given a link to Zoë's order, and the order since correlated to Ada (or Zoë merged away)
    stale = reverse("customer_order", args=[scene.zoe.pk, scene.web_order.pk])
    ada = scene.uptown_order.customer
    Order.objects.filter(pk=scene.web_order.pk).update(customer=ada)

    # When the agent opens it, with and without htmx
    page = agent_client.get(stale)
    swap = agent_client.get(stale, headers={"HX-Request": "true"})
    gone = agent_client.get(reverse("customer_order", args=[999_999, scene.web_order.pk]))

    # Then both lead to the order's screen (the order URL redirects to its customer), not to a 404
    assert (page.status_code, page["Location"]) == (302, f"/orders/{scene.web_order.pk}/")
    assert (swap.status_code, swap["HX-Redirect"]) == (200, f"/orders/{scene.web_order.pk}/")
    assert (gone.status_code, gone["Location"]) == (302, f"/orders/{scene.web_order.pk}/")
    assert agent_client.get(page["Location"])["Location"] == f"/customers/{ada.pk}/orders/{scene.web_order.pk}/"
    assert agent_client.get(reverse("customer", args=[999_999])).status_code == 404


def test_a_link_to_a_customer_merged_away_leads_to_the_survivor(agent_client, scene):
    ada = scene.uptown_order.customer
    customer_merge(survivor_id=scene.zoe.pk, merged_ids=[ada.pk], key="manual")

    page = agent_client.get(reverse("customer", args=[ada.pk]))
    swap = agent_client.get(reverse("customer", args=[ada.pk]), headers={"HX-Request": "true"})

    assert (page.status_code, page["Location"]) == (302, f"/customers/{scene.zoe.pk}/")
    assert swap["HX-Redirect"] == f"/customers/{scene.zoe.pk}/"


def test_a_history_restore_gets_the_whole_page(agent_client, scene):
    url = reverse("customer_order", args=[scene.zoe.pk, scene.pos_order.pk])

    response = agent_client.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})

    assert "<html" in response.content.decode()


def test_the_order_links_work_with_and_without_javascript(agent_client, scene):
    html = agent_client.get(reverse("customer", args=[scene.zoe.pk])).content.decode()

    url = f"/customers/{scene.zoe.pk}/orders/{scene.web_order.pk}/"
    assert f'<a href="{url}" hx-get="{url}" hx-target="#order-pane" hx-push-url="true"' in html


def test_the_orders_table_marks_the_order_shown_and_badges_each_open_flag(agent_client, scene):
    Flag.objects.create(order=scene.web_order, code=Flag.Code.STUCK_SHIPMENT, detail="no scan for 6 days")
    Flag.objects.create(order=scene.web_order, code=Flag.Code.UNASSIGNED, detail="no picking")
    Flag.objects.create(
        order=scene.pos_order, code=Flag.Code.PROMISE_MISSED, detail="due", closed_at=datetime(2026, 11, 21, tzinfo=UTC)
    )

    html = agent_client.get(reverse("customer_order", args=[scene.zoe.pk, scene.web_order.pk])).content.decode()

    web = f"/customers/{scene.zoe.pk}/orders/{scene.web_order.pk}/"
    row = html[html.index(f'<tr class="selected odd" id="order-row-{scene.web_order.pk}">') :]
    assert row[: row.index("</tr>")] == (
        f'<tr class="selected odd" id="order-row-{scene.web_order.pk}"><td ><a href="{web}" hx-get="{web}"'
        f' hx-target="#order-pane" hx-push-url="true" hx-swap="outerHTML">{scene.web_order.number}</a></td>'
        f"<td >{store_local(scene.web_order.placed_at, scene.web_order.store)}</td><td >Web</td>"
        f'<td >{scene.web_order.store.name}</td><td ><span class="status status-{scene.web_order.status}">'
        f'{scene.web_order.get_status_display()}</span></td><td class="num">{scene.web_order.total:,.2f} USD</td>'
        '<td ><span class="badge flag" title="no picking (unassigned)">Nobody preparing it</span>'
        ' <span class="badge flag" title="no scan for 6 days (stuck_shipment)">Parcel stuck</span></td>'
    )  # newest flag first
    assert f'<tr class="even" id="order-row-{scene.pos_order.pk}">' in html  # newest first; a closed flag is not shown
    assert html.count('class="badge flag"') == 2 + 2 + 2  # the table's, the header's open flags, the pane's


def test_the_screen_costs_the_same_queries_however_big_the_history(agent_client, scene):
    url = reverse("customer_order", args=[scene.zoe.pk, scene.web_order.pk])
    agent_client.get(url)  # the first request after login writes the session; measure steady state
    with CaptureQueriesContext(connection) as small:
        agent_client.get(url)

    for _ in range(30):
        OrderFactory(customer=scene.zoe, store=scene.downtown)
    LineFactory.create_batch(20, order=scene.web_order)
    shipment = scene.web_order.shipments.get()
    TrackingEventFactory.create_batch(40, shipment=shipment)
    TimelineEvent.objects.bulk_create(
        TimelineEvent(
            key=f"t{i}", order=scene.web_order, kind="note", occurred_at=scene.web_order.placed_at, summary="x"
        )
        for i in range(200)
    )
    with CaptureQueriesContext(connection) as big:
        response = agent_client.get(url)

    assert response.status_code == 200
    assert len(big.captured_queries) == len(small.captured_queries)


# What the customer screen and the order pane cost, exactly: a query added by a change (a lookup per
# order or per line, the same rows read twice) fails here. The screen (30): session, user, role; the
# customer and the order shown; the pane (the systems, the order's records, shipments and their scans,
# pickings, the pickup's stage, payments, returns, lines, stock and reservations, channel prices (the order's
# day, then the week before for what the day did not sell: this scene's does not), flags,
# timeline); the access-log row; the header (identities, open flags, notes, verification, paid-more hint,
# suggested links); the table (count, rows: their open flags are the header's); the user's stores in the
# top bar. The pane alone (21) skips the header, the table and the top bar.
CUSTOMER_SCREEN_QUERIES = 30
ORDER_PANE_QUERIES = 21


@pytest.mark.parametrize("more_orders", [0, 30])
def test_the_customer_screen_costs_an_exact_number_of_queries_whatever_the_orders(
    agent_client, scene, more_orders, django_assert_num_queries
):
    for _ in range(more_orders):
        OrderFactory(customer=scene.zoe, store=scene.downtown)
    screen = reverse("customer_order", args=[scene.zoe.pk, scene.web_order.pk])
    agent_client.get(screen)  # the first request after login writes the session; measure steady state

    with django_assert_num_queries(CUSTOMER_SCREEN_QUERIES):
        page = agent_client.get(screen)
    with django_assert_num_queries(ORDER_PANE_QUERIES):
        pane = agent_client.get(screen, headers={"HX-Request": "true"})

    assert (page.status_code, pane.status_code) == (200, 200)
    assert "<html" not in pane.content.decode()


def test_a_note_on_an_order_lands_in_its_timeline_without_a_reload(agent_client, scene):
    url = reverse("note_add", args=[scene.zoe.pk])

    response = agent_client.post(
        url, {"body": "Promised a call back", "order": scene.web_order.pk}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    note = Note.objects.get()
    assert (note.customer, note.order, note.author.username, note.body) == (
        scene.zoe,
        scene.web_order,
        "alice.agent",
        "Promised a call back",
    )
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="notes"')
    assert '<div id="timeline" class="timeline" hx-swap-oob="true">' in html
    assert html.count("Promised a call back") == 2  # in the notes list and in the timeline
    # the notes list says when as the timeline does: in the order's store's time, with its zone
    assert f"alice.agent · {store_local(note.created_at, scene.downtown)} · #1001</span>" in html
    assert store_local(note.created_at, scene.downtown).endswith((" CST", " CDT"))
    event = TimelineEvent.objects.get(kind="note")
    assert (event.order, event.actor.username) == (scene.web_order, "alice.agent")


def test_a_card_number_in_a_note_is_refused_next_to_the_field(agent_client, scene):
    url = reverse("note_add", args=[scene.zoe.pk])

    response = agent_client.post(url, {"body": "card 4111 1111 1111 1111 exp 12/29"}, headers={"HX-Request": "true"})

    assert response.status_code == 422
    assert 'id="note-error">This looks like a card number.' in response.content.decode()
    assert Note.objects.count() == 0


def test_without_javascript_a_bad_note_shows_the_page_with_the_error(agent_client, scene):
    response = agent_client.post(reverse("note_add", args=[scene.zoe.pk]), {"body": "  "})

    assert response.status_code == 400
    assert (
        'id="note-error">This field is required.' in response.content.decode()
        or "Write something first." in response.content.decode()
    )
    assert Note.objects.count() == 0


def test_a_note_cannot_be_put_on_another_customers_order(agent_client, scene):
    response = agent_client.post(
        reverse("note_add", args=[scene.zoe.pk]),
        {"body": "hello", "order": scene.uptown_order.pk},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 404
    assert Note.objects.count() == 0


def test_verified_identity_is_logged_so_the_next_agent_does_not_ask(agent_client, scene):
    url = reverse("identity_verified", args=[scene.zoe.pk])

    response = agent_client.post(url, {"method": "order number + zip"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "Identity verified 0" in response.content.decode()
    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.author.username, interaction.method) == (
        scene.zoe,
        "alice.agent",
        "order number + zip",
    )
    page = agent_client.get(reverse("customer", args=[scene.zoe.pk])).content.decode()
    assert "No need to ask again." in page
    assert (
        TimelineEvent.objects.get(kind="identity_verified").summary
        == "Identity verified on a call (order number + zip)"
    )


def test_the_caller_lookup_opens_the_one_customer(agent_client, scene):
    response = agent_client.get("/lookup", {"phone": "312-555-0147"})

    assert response.status_code == 302
    assert response["Location"] == f"/customers/{scene.zoe.pk}/"
    assert AccessLog.objects.get().action == "caller"


def test_the_caller_lookup_lists_candidates_when_several_share_a_phone(agent_client, scene):
    from tests.factories import CustomerFactory, IdentityFactory

    twin = CustomerFactory(name="Zack Müller")
    IdentityFactory(customer=twin, source=scene.sources["square"], external_id="SQ2", phone_e164="+13125550147")

    response = agent_client.get("/lookup", {"phone": "(312) 555-0147"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Zoë Müller" in html and "Zack Müller" in html


def test_an_order_id_redirects_to_its_customers_screen(agent_client, scene):
    response = agent_client.get(reverse("order", args=[scene.web_order.pk]))

    assert response.status_code == 302
    assert response["Location"] == f"/customers/{scene.zoe.pk}/orders/{scene.web_order.pk}/"


def test_pages_carry_a_csp_without_inline_script(agent_client):
    response = agent_client.get("/")

    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "<script>" not in response.content.decode()


def test_many_namesakes_ask_for_a_second_identifier(agent_client, scene):
    from tests.factories import CustomerFactory

    CustomerFactory.create_batch(22, name="Zoe Muller")

    many = agent_client.post("/", {"q": "Zoe Muller", "go": "0"}, headers={"HX-Request": "true"}).content.decode()
    one = agent_client.post("/", {"q": "LY123456", "go": "0"}, headers={"HX-Request": "true"}).content.decode()

    assert many.count('<li id="hit-') == 20
    assert 'id="more-hits">These are the first 20 matches.' in many
    assert "more-hits" not in one


def _sold_online_the_same_day(
    agent_client, scene, day, sku: str, web_price: Decimal, unit: str = ""
) -> tuple[str, dict]:
    """Another customer bought ``sku`` online three hours before ``day`` at ``web_price`` (per ``unit``); the next
    day the agent opens Zoë's in-store sale and the API is asked for it: (its page, the API's order)."""
    other_web = OrderFactory(channel=Order.Channel.WEB, placed_at=day - timedelta(hours=3), store=scene.downtown)
    LineFactory(order=other_web, source=scene.sources["shopify"], sku=sku, unit_price=web_price, unit=unit)
    with time_machine.travel(day + timedelta(days=1)):
        response = agent_client.get(reverse("customer_order", args=[scene.zoe.pk, scene.pos_order.pk]))
        token = token_create(get_user(agent_client))
        body = agent_client.get(
            f"/api/v1/orders/{scene.pos_order.pk}", headers={"Authorization": f"Token {token}"}
        ).json()
    return response.content.decode(), body


def test_s13_the_price_in_the_other_channel_that_day(agent_client, scene):
    # Given Zoë bought the lamp in store at 12.00 on a day the web sold it at 10.00 (the shop's day, Chicago)
    day = datetime(2026, 11, 10, 18, 0, tzinfo=UTC)
    sku = "HOM-0203-WHI"
    pos_line = LineFactory(order=scene.pos_order, source=scene.sources["square"], sku=sku, unit_price=Decimal("12.00"))

    # When the agent opens the in-store sale, and the API is asked for it
    html, body = _sold_online_the_same_day(agent_client, scene, day, sku, Decimal("10.00"))

    # Then the line shows the web price and the difference, and the header says she paid more in store
    assert '<span title="shopify, the same day">$10.00</span> <span class="warn">(+$2.00)</span>' in html
    assert "Paid more in store than online in the last 30 days" in html
    line = next(line for line in body["lines"] if line["sku"] == sku)
    assert line["other_channel_price"] == {
        "price": "10.00", "channel": "web", "source": "shopify", "seen_at": "2026-11-10T15:00:00Z",
        "same_day": True, "difference": "2.00",
    }  # fmt: skip
    assert pos_line.unit_price == Decimal("12.00")


def test_s13_a_price_per_foot_is_not_compared_with_a_price_per_item(agent_client, scene):
    # Given Zoë bought 2.5 ft of rope in store at 4.00/ft on a day the web sold the same SKU as an item at 3.00
    day = datetime(2026, 11, 10, 18, 0, tzinfo=UTC)
    sku = "ROPE-12"
    LineFactory(
        order=scene.pos_order, source=scene.sources["square"], sku=sku, unit_price=Decimal("4.00"),
        quantity=Decimal("2.5"), unit="ft",
    )  # fmt: skip

    html, body = _sold_online_the_same_day(agent_client, scene, day, sku, Decimal("3.00"))

    # Then neither the line, the header nor the API calls it dearer in store
    assert "$3.00" not in html and "Paid more in store than online" not in html
    assert next(line for line in body["lines"] if line["sku"] == sku)["other_channel_price"] is None


def test_s13_without_a_sale_that_day_the_latest_of_the_week_before_and_never_older(agent_client, scene):
    # Given Zoë bought the lamp in store at 12.00; the web sold it per item 4 days before (9.00) and 6 days before
    # (11.00), and 9 days before (5.00, outside the week); on the day itself only by the foot (2.00/ft)
    day = datetime(2026, 11, 10, 18, 0, tzinfo=UTC)
    sku = "HOM-0203-WHI"
    LineFactory(order=scene.pos_order, source=scene.sources["square"], sku=sku, unit_price=Decimal("12.00"))
    for days_before, price in ((4, "9.00"), (6, "11.00"), (9, "5.00")):
        web = OrderFactory(channel=Order.Channel.WEB, placed_at=day - timedelta(days=days_before), store=scene.downtown)
        LineFactory(order=web, source=scene.sources["shopify"], sku=sku, unit_price=Decimal(price))

    html, body = _sold_online_the_same_day(agent_client, scene, day, sku, Decimal("2.00"), unit="ft")
    line = next(line for line in body["lines"] if line["sku"] == sku)

    # Then the pane and the API give the web's latest per-item price of the week before, not the same day's per foot
    assert line["other_channel_price"] == {
        "price": "9.00", "channel": "web", "source": "shopify", "seen_at": "2026-11-06T18:00:00Z",
        "same_day": False, "difference": "3.00",
    }  # fmt: skip
    assert '<span title="shopify, ' in html and "$9.00</span>" in html
    assert "Paid more in store than online in the last 30 days" in html  # the header's hint reads the same price
