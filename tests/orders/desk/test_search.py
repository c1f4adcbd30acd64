"""Universal search: every identifier kind, typos and accents, card digits, store scoping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orders.desk import search
from orders.models import Customer, CustomerName, Order
from orders.timezones import store_local, viewer_zone_use
from tests.factories import CustomerFactory, OrderFactory, PaymentFactory, agent, clerk_of
from tests.orders import scene as scenes

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    return scenes.build()


def found(user, text):
    results = search.search(user, text)
    return [
        (hit.kind, hit.order.number if hit.order else hit.customer.name, [str(m) for m in hit.matches])
        for hit in results.hits
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#1001", [("order", "#1001", ["web order number · shopify"])]),
        ("1001", [("order", "#1001", ["web order number · shopify"])]),
        (" # 1001 ", [("order", "#1001", ["web order number · shopify"])]),
        ("S00042", [("order", "#1001", ["ERP order · odoo"])]),
        ("s00042", [("order", "#1001", ["ERP order · odoo"])]),
        (scenes.POS_ID, [("order", "L1kx", ["POS order id · square"])]),
        ("Fea3", [("order", "L1kx", ["receipt number · square"])]),
        (scenes.TRACKING, [("order", "#1001", ["tracking number · easypost"])]),
        ("1Z999 AA1 0123456784", [("order", "#1001", ["tracking number · easypost"])]),
        ("LY123456", [("customer", "Zoë Müller", ["loyalty id · hubspot"])]),
        ("Zoe.Muller@Example.com", [("customer", "Zoë Müller", ["e-mail · hubspot", "e-mail · shopify"])]),
        ("(312) 555-0147", [("customer", "Zoë Müller", ["phone · shopify"])]),
        ("+1 312 555 0147", [("customer", "Zoë Müller", ["phone · shopify"])]),
        ("zoe muller", [("customer", "Zoë Müller", ["name"])]),
        ("Zoë Müller", [("customer", "Zoë Müller", ["name"])]),
        ("Zoe Mueler", [("customer", "Zoë Müller", ["name is like"])]),
        ("muller", [("customer", "Zoë Müller", ["name is like"])]),
        ("4242 Zoe Muller", [("order", "#1001", ["card ending 4242 + name · shopify"])]),
        ("4242 2026-11-03", [("order", "#1001", ["card ending 4242 on 2026-11-03 · shopify"])]),
        ("4242 11/03/2026", [("order", "#1001", ["card ending 4242 on 2026-11-03 · shopify"])]),
        ("zoe.mu@", []),
        (
            "zoe.muller@ex",
            [("customer", "Zoë Müller", ["e-mail starts with · hubspot", "e-mail starts with · shopify"])],
        ),
    ],
)
def test_every_identifier_kind_finds_its_customer_or_order_and_says_what_matched(scene, text, expected):
    assert found(agent(), text) == expected


def test_card_and_date_search_reads_the_date_the_screen_shows_in_the_stores_zone_not_utc(scene):
    # Given a sale at the Chicago store at 20:30 on 9 Nov, local time: 02:30 on 10 Nov in UTC
    evening = OrderFactory(
        number="L9evening", channel=Order.Channel.STORE, store=scene.downtown, customer=scene.zoe,
        placed_at=datetime(2026, 11, 10, 2, 30, tzinfo=UTC),
    )  # fmt: skip
    PaymentFactory(order=evening, source=scene.sources["square"], card_brand="visa", card_last4="7001")

    # Then the agent finds it by the day the receipt and the pane show, and not by the UTC day
    assert store_local(evening.placed_at, scene.downtown) == "2026-11-09 20:30 CST"
    assert found(agent(), "7001 2026-11-09") == [("order", "L9evening", ["card ending 7001 on 2026-11-09 · square"])]
    assert found(agent(), "7001 11/09/2026") == [("order", "L9evening", ["card ending 7001 on 2026-11-09 · square"])]
    assert found(agent(), "7001 2026-11-10") == []
    with viewer_zone_use("Europe/Paris"):  # an agent reading Paris time saw 10 Nov 03:30 on the screen
        assert found(agent(), "7001 2026-11-10") == [
            ("order", "L9evening", ["card ending 7001 on 2026-11-10 · square"])
        ]
        assert found(agent(), "7001 2026-11-09") == []


def test_card_digits_alone_are_read_as_a_number_not_a_card(scene):
    results = search.search(agent(), "4242")

    assert results.hits == []
    assert results.reading.card_last4 == ""
    assert results.reading.kinds == ["an order, tracking, receipt or loyalty number"]


def test_a_wrong_card_name_finds_nothing(scene):
    assert found(agent(), "4242 Ada Lovelace") == []


def test_nothing_matches_and_the_reading_says_what_was_tried(scene):
    results = search.search(agent(), "qqqzzz")

    assert results.hits == []
    assert results.reading.kinds == ["an order, tracking, receipt or loyalty number", "a name"]


def test_one_exact_hit_is_the_one_to_open_and_fuzzy_ones_are_not(scene):
    assert search.search(agent(), "S00042").sole_exact.order == scene.web_order
    assert search.search(agent(), "Zoe Mueler").sole_exact is None
    assert search.search(agent(), "").sole_exact is None


def test_a_name_however_written_is_searchable_at_once_and_an_old_name_finds_nobody(scene):
    # Given customers written each way the app writes them: created, saved, updated in bulk, bulk-created
    Customer.objects.filter(pk=scene.zoe.pk).update(name="Zoë Okonkwo")
    ada = CustomerFactory(name="Ada Lovelace")
    ada.name = "Ada Byron"
    ada.save()
    Customer.objects.bulk_create([Customer(name="Grace Hopper")])
    Customer.objects.bulk_update([Customer(pk=ada.pk, name="Ada King")], ["name"])

    # When and then: each is found under its current name, and nobody under a name they no longer carry
    assert found(agent(), "zoe okonkwo") == [("customer", "Zoë Okonkwo", ["name"])]
    assert found(agent(), "Ada King") == [("customer", "Ada King", ["name"])]
    assert found(agent(), "grace hoper") == [("customer", "Grace Hopper", ["name is like"])]
    assert found(agent(), "Zoe Mueler") == []
    assert set(CustomerName.objects.values_list("folded", flat=True)) >= {"zoe okonkwo", "ada king", "grace hopper"}


def test_a_customer_with_two_orders_found_by_phone_is_one_customer_hit(scene):
    results = search.search(agent(), "3125550147")

    assert [(h.kind, h.customer.pk, h.customer.order_count) for h in results.hits] == [("customer", scene.zoe.pk, 2)]
    assert results.customer_ids == [scene.zoe.pk]


def test_store_staff_find_only_their_own_stores_orders_and_customers(scene):
    uptown_clerk = clerk_of(scene.uptown, "uma.uptown")
    downtown_clerk = clerk_of(scene.downtown, "dan.downtown")

    assert found(uptown_clerk, scenes.POS_ID) == []
    assert found(uptown_clerk, "zoe muller") == []
    assert found(uptown_clerk, "LY123456") == []
    assert found(uptown_clerk, "#2002") == [("order", "#2002", ["web order number · shopify"])]
    assert found(downtown_clerk, scenes.POS_ID) == [("order", "L1kx", ["POS order id · square"])]
    assert found(downtown_clerk, "zoe muller") == [("customer", "Zoë Müller", ["name"])]
    assert found(downtown_clerk, "ada lovelace") == []


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("ann@example.com", ["an e-mail"]),
        ("S00042", ["an order, tracking, receipt or loyalty number"]),
        ("(312) 555-0147", ["an order, tracking, receipt or loyalty number", "a phone number"]),
        ("4242 Ann Lee", ["card digits with a name"]),
        ("+1 312 555 0147", ["a phone number"]),  # four digits at the end, but no name: a phone, not a card
        ("Ann Lee", ["a name"]),
    ],
)
def test_the_text_is_read_as_every_kind_it_could_be(text, kinds):
    assert search.read(text).kinds == kinds


def test_the_embedded_demos_name_search_forgives_typos_and_accents_too(db):
    """SQLite has no pg_trgm: the demo compares folded words in Python (search._name_matches_in_python)."""
    from orders.desk.search import _name_matches_in_python
    from tests.factories import CustomerFactory, agent

    zoe = CustomerFactory(name="Zoë Müller")
    CustomerFactory(name="Diego Novak")
    CustomerFactory(name="Zack Miller")

    found = [name for _, name, _ in _name_matches_in_python(agent(), "zoe muler", limit=20)]
    assert found == ["Zoë Müller"]
    assert [name for _, name, _ in _name_matches_in_python(agent(), "Diego Noavk", limit=20)] == ["Diego Novak"]
    assert _name_matches_in_python(agent(), "müll", limit=20)[0][0] == zoe.pk  # the start of a name
    assert _name_matches_in_python(agent(), "Ann Lee", limit=20) == []
