"""Login on every page; the roles exist as groups."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from orders import roles
from tests.factories import agent


def test_every_page_needs_a_login(client, db):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_the_login_page_is_open_and_has_a_csrf_token(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content


def test_a_wrong_password_is_shown_next_to_the_form(client, db):
    agent()

    response = client.post("/accounts/login/", {"username": "alice.agent", "password": "nope"})

    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_sync_health_has_its_own_page(client, db):
    client.force_login(agent())

    response = client.get("/health/")

    assert response.status_code == 200
    assert b"Sync health" in response.content
    assert b"No sources yet" in response.content


@pytest.mark.parametrize("role", roles.ROLES)
def test_roles_are_groups_with_permissions(db, role):
    group = Group.objects.get(name=role)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert ("view_order" in codenames) is (role != roles.STORE_STAFF)  # store staff never use the admin
    assert ("change_source" in codenames) is (role == roles.SUPERVISOR)


def test_event_times_read_in_the_store_time_zone(db):
    from datetime import UTC, datetime

    from orders.models import Store
    from orders.timezones import store_local

    moment = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)

    assert store_local(moment, Store(code="ny", timezone="America/New_York")) == "2026-11-03 09:00 EST"
    assert store_local(moment, Store(code="x", timezone="Not/AZone")) == "2026-11-03 14:00 UTC"
    assert store_local(moment, None) == "2026-11-03 14:00 UTC"
    assert store_local(None, None) == "—"


def test_the_supervisor_order_page_shows_events_in_store_time(client, db):
    from datetime import UTC, datetime

    from orders.models import Order, Store, TimelineEvent
    from tests.factories import supervisor

    store = Store.objects.create(code="downtown", name="Downtown", timezone="America/New_York")
    order = Order.objects.create(number="#1001", store=store)
    TimelineEvent.objects.create(
        key="k1", order=order, kind="note", occurred_at=datetime(2026, 11, 3, 14, 0, tzinfo=UTC), summary="Called"
    )
    client.force_login(supervisor())

    response = client.get(f"/admin/orders/order/{order.pk}/change/")

    assert response.status_code == 200
    assert b"2026-11-03 09:00 EST" in response.content
