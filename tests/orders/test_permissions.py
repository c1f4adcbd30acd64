"""Who sees what: store staff of one store get 404 for another store's data on every URL, and nothing is written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.api.auth import token_create
from orders.models import AccessLog, Flag, Interaction, Note, TimelineEvent
from tests.factories import OrderFactory, OrderKeyFactory, agent, clerk_of, supervisor
from tests.orders import scene as scenes

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    return scenes.build()


def _writes() -> tuple[int, int, int, int]:
    return AccessLog.objects.count(), Note.objects.count(), Interaction.objects.count(), TimelineEvent.objects.count()


def other_stores_urls(scene) -> list[tuple[str, str, dict]]:
    """Every page, partial and write that names the downtown customer or order."""
    zoe, web = scene.zoe.pk, scene.web_order.pk
    return [
        ("get", reverse("customer", args=[zoe]), {}),
        ("get", reverse("customer_order", args=[zoe, web]), {}),
        ("get", reverse("customer_order", args=[zoe, web]), {"HX-Request": "true"}),
        ("get", reverse("customer_order", args=[scene.uptown_order.customer_id, web]), {}),
        ("get", reverse("order", args=[web]), {}),
        ("post", reverse("note_add", args=[zoe]), {}),
        ("post", reverse("note_add", args=[zoe]), {"HX-Request": "true"}),
        ("post", reverse("identity_verified", args=[zoe]), {}),
        ("post", reverse("identity_verified", args=[zoe]), {"HX-Request": "true"}),
    ]


def test_store_staff_get_404_for_another_stores_pages_and_nothing_is_written(client, scene):
    client.force_login(clerk_of(scene.uptown, "uma.uptown"))
    before = _writes()

    answers = {}
    for method, url, headers in other_stores_urls(scene):
        data = {"body": "sneaky note", "method": "guess", "order": scene.web_order.pk} if method == "post" else {}
        answers[(method, url, bool(headers))] = getattr(client, method)(url, data, headers=headers).status_code

    assert set(answers.values()) == {404}, answers
    assert _writes() == before


def test_store_staff_get_404_from_the_api_for_another_stores_order_and_nothing_is_written(client, scene):
    token = token_create(clerk_of(scene.uptown, "uma.uptown"))
    auth = {"Authorization": f"Token {token}"}
    before = _writes()

    order = client.get(f"/api/v1/orders/{scene.web_order.pk}", headers=auth)

    assert order.status_code == 404
    assert order.json() == {"detail": "Not Found"}
    assert _writes() == before


def test_store_staff_api_lookup_shows_nothing_of_another_store(client, scene):
    token = token_create(clerk_of(scene.uptown, "uma.uptown"))

    response = client.get("/api/v1/lookup", {"q": "S00042"}, headers={"Authorization": f"Token {token}"})

    assert response.status_code == 200
    assert (response.json()["customers"], response.json()["orders"]) == ([], [])


def test_store_staff_see_their_own_stores_pages(client, scene):
    client.force_login(clerk_of(scene.downtown, "dan.downtown"))

    statuses = [
        client.get(reverse("customer_order", args=[scene.zoe.pk, scene.web_order.pk])).status_code,
        client.get(reverse("customer", args=[scene.zoe.pk])).status_code,
        client.get(reverse("customer", args=[scene.uptown_order.customer_id])).status_code,
    ]

    assert statuses == [200, 200, 404]


@pytest.mark.parametrize("persona", [agent, supervisor])
def test_agents_and_supervisors_see_every_store(client, scene, persona):
    client.force_login(persona())

    statuses = [
        client.get(reverse("customer_order", args=[scene.zoe.pk, scene.web_order.pk])).status_code,
        client.get(reverse("customer_order", args=[scene.uptown_order.customer_id, scene.uptown_order.pk])).status_code,
    ]

    assert statuses == [200, 200]


def test_a_user_without_a_role_sees_no_customer(client, scene):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))

    assert client.get(reverse("customer", args=[scene.zoe.pk])).status_code == 404
    assert client.post("/", {"q": "S00042"}).content.decode().count("Order #1001") == 0


def test_the_access_log_is_read_only_in_the_admin(client, scene):
    client.force_login(agent())
    client.get(reverse("customer", args=[scene.zoe.pk]))
    entry = AccessLog.objects.get()
    client.force_login(supervisor())

    listing = client.get("/admin/orders/accesslog/")
    change = client.post(f"/admin/orders/accesslog/{entry.pk}/change/", {"username": "someone-else"})
    delete = client.post(f"/admin/orders/accesslog/{entry.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200
    assert "alice.agent" in listing.content.decode()
    assert change.status_code == 403
    assert delete.status_code == 403
    assert AccessLog.objects.get().username == "alice.agent"


def test_store_staff_see_no_number_flag_or_note_of_their_customers_order_at_another_store(client, scene):
    """Zoë also bought at Uptown: a Downtown clerk sees her, but nothing of that order, on any URL."""
    elsewhere = OrderFactory(
        number="#3003", customer=scene.zoe, store=scene.uptown, origin_source=scene.sources["shopify"]
    )
    OrderKeyFactory(order=elsewhere, key="3003")
    Flag.objects.create(order=elsewhere, code=Flag.Code.PHANTOM_ORDER, detail="uptown-flag-evidence")
    Note.objects.create(customer=scene.zoe, order=elsewhere, body="uptown-note-body")
    clerk = clerk_of(scene.downtown, "dan.downtown")
    client.force_login(clerk)
    token = token_create(clerk)
    api = {"Authorization": f"Token {token}"}
    zoe, web, hx = scene.zoe.pk, scene.web_order.pk, {"HX-Request": "true"}

    bodies = {
        "customer": client.get(reverse("customer", args=[zoe])),
        "customer_order": client.get(reverse("customer_order", args=[zoe, web])),
        "customer_order_hx": client.get(reverse("customer_order", args=[zoe, web]), headers=hx),
        "note_add": client.post(reverse("note_add", args=[zoe]), {"body": "called back", "order": web}, headers=hx),
        "verified": client.post(reverse("identity_verified", args=[zoe]), {"method": "dob"}, headers=hx),
        "search_name": client.post("/", {"q": "zoe muller"}),
        "search_number": client.post("/", {"q": "3003"}),
        "lookup": client.get(reverse("caller_lookup"), {"phone": "+13125550147"}, follow=True),
        "worklist": client.get(reverse("worklist")),
        "board": client.get(reverse("pickup_board", args=["downtown"])),
        "pickup_order": client.get(reverse("pickup_order", args=["downtown", web])),
        "health": client.get(reverse("health")),
        "api_lookup": client.get("/api/v1/lookup", {"q": "zoe muller"}, headers=api),
        "api_order": client.get(f"/api/v1/orders/{web}", headers=api),
    }

    statuses = {name: response.status_code for name, response in bodies.items()}
    assert set(statuses.values()) == {200}, statuses
    leaks = {
        name: [
            secret for secret in ("#3003", "uptown-flag-evidence", "uptown-note-body") if secret in r.content.decode()
        ]
        for name, r in bodies.items()
    }
    assert leaks == {name: [] for name in bodies}
