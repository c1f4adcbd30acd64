"""Every URL that shows a customer's name, e-mail or phone writes an access-log row (who, what, when)."""

from __future__ import annotations

import pytest
from django.contrib.admin import site
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from integrations.models import DeadLetter, RawRecord
from orders.counter.services import pickup_line_check
from orders.desk.services import note_write
from orders.models import AccessLog, Flag, Lifecycle, Order
from tests.factories import agent, clerk_of, supervisor
from tests.orders import scene as scenes

pytestmark = pytest.mark.django_db

NAME, EMAIL, PHONE = "Zoë Müller", "zoe.muller@example.com", "+13125550147"


def _scene(monkeypatch):
    monkeypatch.setattr("orders.counter.outbox._push_dispatch", lambda push_id: None)
    scene = scenes.build()
    web = scene.web_order
    web.shipments.update(order=scene.pos_order)
    Order.objects.filter(pk=web.pk).update(status=Lifecycle.PAID, promised_by=timezone.now())
    web.refresh_from_db()
    pickup_line_check(order=web, line=web.lines.get(), state="picked", by=clerk_of(scene.downtown, "dana.downtown"))
    Flag.objects.create(order=web, code=Flag.Code.PROMISE_MISSED, detail="promised yesterday")
    note_write(customer=scene.zoe, order=web, author=agent(), body="asked about the lamp")
    payload = {"id": 5900000000001, "email": EMAIL, "customer": {"first_name": "Zoë", "last_name": "Müller"}}
    raw = RawRecord.objects.create(
        source=scene.sources["shopify"],
        stream="orders",
        external_id="5900000000001",
        content_hash="h1",
        payload=payload,
    )
    DeadLetter.objects.create(
        source=scene.sources["shopify"], raw_record=raw, stream="orders", reason="x", payload=payload
    )
    return scene


def _staff_urls(scene) -> list[tuple[str, str, dict]]:
    zoe, web = scene.zoe.pk, scene.web_order.pk
    return [
        ("get", reverse("customer", args=[zoe]), {}),
        ("get", reverse("customer_order", args=[zoe, web]), {"HX-Request": "true"}),
        ("get", reverse("worklist"), {}),
        ("get", reverse("pickup_board", args=["downtown"]), {}),
        ("get", reverse("pickup_order", args=["downtown", web]), {}),
        ("get", reverse("health"), {}),
        ("get", reverse("home"), {}),
    ]


def _admin_urls() -> list[str]:
    """Every admin list and every object's change page, of every registered model."""
    urls = []
    for model in site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{info}_changelist"))
        for pk in model._default_manager.values_list("pk", flat=True)[:3]:
            try:
                urls.append(reverse(f"{info}_change", args=[pk]))
            except NoReverseMatch:
                continue
    return urls


def _shows_personal_data(body: str) -> bool:
    return any(value in body for value in (NAME, EMAIL, PHONE, "(312) 555-0147"))


def test_every_page_that_shows_a_name_email_or_phone_writes_an_access_log_row(client, monkeypatch):
    scene = _scene(monkeypatch)
    client.force_login(supervisor())
    urls = [(method, url, headers) for method, url, headers in _staff_urls(scene)]
    urls += [("get", url, {}) for url in _admin_urls()]

    unlogged, shown = [], 0
    for method, url, headers in urls:
        before = AccessLog.objects.count()
        response = getattr(client, method)(url, headers=headers)
        assert response.status_code in (200, 302, 403), url  # 302/403: an admin page supervisors may not open
        if _shows_personal_data(response.content.decode()):
            shown += 1
            rows = list(AccessLog.objects.order_by("pk")[before:].values_list("username", flat=True))
            if rows != ["sam.supervisor"]:
                unlogged.append((url, rows))

    assert [url for url, _ in unlogged] == []
    assert shown >= 12  # the walk did reach the pages with personal data


@pytest.mark.parametrize(
    ("name", "action"),
    [("board", "pickup_board"), ("pickup", "pickup_order"), ("worklist", "worklist"), ("admin", "admin")],
)
def test_the_row_says_who_which_page_and_whose_data_never_the_data(client, monkeypatch, name, action):
    scene = _scene(monkeypatch)
    client.force_login(supervisor())
    web = scene.web_order.pk
    url = {
        "board": reverse("pickup_board", args=["downtown"]),
        "pickup": reverse("pickup_order", args=["downtown", web]),
        "worklist": reverse("worklist"),
        "admin": reverse("admin:orders_customer_change", args=[scene.zoe.pk]),
    }[name]

    client.get(url)

    row = AccessLog.objects.get()
    assert (row.username, row.action, row.customer_ids, row.page) == ("sam.supervisor", action, [scene.zoe.pk], url)


def test_a_polling_board_writes_one_row_while_it_shows_the_same_customers(client, monkeypatch):
    _scene(monkeypatch)
    client.force_login(supervisor())
    url = reverse("pickup_board", args=["downtown"])

    for _ in range(3):
        client.get(url, headers={"HX-Request": "true"})

    assert AccessLog.objects.count() == 1
