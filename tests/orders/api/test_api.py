"""The JSON API: token auth, the stable contract, and every response valid against the OpenAPI document."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from orders.api.auth import token_create, token_digest
from orders.models import AccessLog, ApiToken, Customer, CustomerLink
from tests.factories import agent, clerk_of
from tests.orders import scene as scenes

pytestmark = pytest.mark.django_db

SCHEMA_FILE = Path(settings.BASE_DIR) / "docs" / "openapi.json"


@pytest.fixture
def scene():
    return scenes.build()


@pytest.fixture
def auth():
    return {"Authorization": f"Token {token_create(agent())}"}


@pytest.fixture
def openapi(client, auth):
    return OpenAPI.from_dict(client.get("/api/v1/schema", headers=auth).json())


def valid(openapi, response) -> dict:
    openapi.validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))
    return response.json()


def test_the_schema_is_served_and_the_committed_copy_is_current(client, auth):
    served = client.get("/api/v1/schema", headers=auth)

    assert served.status_code == 200
    assert served.json()["openapi"].startswith("3.")
    assert set(served.json()["paths"]) == {"/api/v1/lookup", "/api/v1/orders/{order_id}"}
    assert json.loads(SCHEMA_FILE.read_text()) == served.json(), "run: python manage.py export_openapi"


@pytest.mark.parametrize("header", [None, "Token nope", "Bearer x", "Token "])
def test_the_schema_needs_a_token_or_a_signed_in_user(client, header):
    refused = client.get("/api/v1/schema", headers={"Authorization": header} if header else {})
    client.force_login(agent())
    signed_in = client.get("/api/v1/schema")

    assert (refused.status_code, refused.json()) == (401, {"detail": "Unauthorized"})
    assert signed_in.status_code == 200


@pytest.mark.parametrize("header", [None, "Token nope", "Bearer x", "Token "])
def test_no_valid_token_no_data(client, scene, header):
    response = client.get("/api/v1/lookup", {"q": "#1001"}, headers={"Authorization": header} if header else {})

    assert response.status_code == 401
    assert AccessLog.objects.count() == 0


def test_a_revoked_token_is_refused(client, scene):
    token = token_create(agent())
    ApiToken.objects.update(revoked_at=timezone.now())

    assert client.get("/api/v1/lookup", {"q": "#1001"}, headers={"Authorization": f"Token {token}"}).status_code == 401


def test_a_session_alone_does_not_open_the_api(client, scene):
    client.force_login(agent())

    assert client.get("/api/v1/lookup", {"q": "#1001"}).status_code == 401


def test_create_api_token_prints_a_token_and_stores_only_its_hash(db):
    agent()
    out = StringIO()

    call_command("create_api_token", "alice.agent", stdout=out)

    token = out.getvalue().strip()
    stored = ApiToken.objects.get()
    assert len(token) == 43
    assert stored.digest == token_digest(token)
    assert stored.prefix == token[:8]
    assert token not in str(ApiToken.objects.values().get())


def test_lookup_by_phone_pops_the_customer_and_their_orders(client, scene, auth, openapi):
    scene.sources["easypost"].last_success_at = None  # the carrier has never finished a sync
    scene.sources["easypost"].save(update_fields=["last_success_at"])
    response = client.get("/api/v1/lookup", {"phone": "(312) 555-0147"}, headers=auth)

    body = valid(openapi, response)
    assert body["customers"] == [
        {
            "id": scene.zoe.pk,
            "name": "Zoë Müller",
            "emails": ["zoe.muller@example.com"],
            "phones": ["+13125550147"],
            "loyalty_id": "LY123456",
            "matched": ["phone · shopify"],
            "maybe_same_as": [],
        }
    ]
    assert [o["number"] for o in body["orders"]] == ["L1kx", "#1001"]
    web = body["orders"][1]
    assert {k: web[k] for k in ("id", "customer_id", "channel", "status", "placed_at", "promised_by")} == {
        "id": scene.web_order.pk,
        "customer_id": scene.zoe.pk,
        "channel": "web",
        "status": "placed",
        "placed_at": "2026-11-03T15:00:00Z",
        "promised_by": None,
    }
    assert set(web["systems"]) == {"shopify", "odoo", "easypost"}  # the carrier knows it through its tracker
    assert {k: web["systems"]["odoo"][k] for k in ("external_id", "number", "status")} == {
        "external_id": "42",
        "number": "S00042",
        "status": "placed",
    }
    tracker = scene.web_order.shipments.get()
    assert {k: web["systems"]["easypost"][k] for k in ("external_id", "number", "status", "stale")} == {
        "external_id": tracker.external_id,
        "number": scenes.TRACKING,
        "status": "handed_to_carrier",
        "stale": True,  # its source never finished a sync
    }
    assert web["flags"] == []
    assert AccessLog.objects.get().action == "api_lookup"


def test_a_screen_pop_names_the_customers_a_suggested_link_may_join_but_lists_only_this_ones_orders(
    client, scene, auth, openapi
):
    # Given a guest customer that an unverified phone only suggests is Zoë, and a link the supervisor rejected
    guest = Customer.objects.create(name="Zoe Muller")
    rejected = Customer.objects.create(name="Zoe M.")
    CustomerLink.objects.create(customer=scene.zoe, other=guest, key="phone:+13125550147")
    CustomerLink.objects.create(
        customer=scene.zoe, other=rejected, key="email:zoe.muller@example.com", decision=CustomerLink.Decision.REJECTED
    )
    clerk_auth = {"Authorization": f"Token {token_create(clerk_of(scene.downtown, 'dana'))}"}

    # When the telephony screen-pop looks the caller up, as an agent and as store staff
    body = valid(openapi, client.get("/api/v1/lookup", {"phone": "(312) 555-0147"}, headers=auth))
    clerks = client.get("/api/v1/lookup", {"phone": "(312) 555-0147"}, headers=clerk_auth).json()

    # Then the agent learns of the open suggestion (not the rejected one) and gets only Zoë's own orders
    assert [(c["id"], c["maybe_same_as"]) for c in body["customers"]] == [(scene.zoe.pk, [guest.pk])]
    assert [o["customer_id"] for o in body["orders"]] == [scene.zoe.pk, scene.zoe.pk]
    assert [(c["id"], c["maybe_same_as"]) for c in clerks["customers"]] == [(scene.zoe.pk, [])]  # not theirs to see


def test_lookup_by_order_number_names_the_match(client, scene, auth, openapi):
    body = valid(openapi, client.get("/api/v1/lookup", {"q": "S00042"}, headers=auth))

    assert body["customers"] == []
    assert [(o["number"], o["matched"]) for o in body["orders"]] == [("#1001", ["ERP order · odoo"])]


def test_an_order_in_full(client, scene, auth, openapi):
    from orders.models import Flag

    Flag.objects.create(order=scene.web_order, code=Flag.Code.STOCK_SHORTFALL, detail="1 of 2 on the shelf")

    with time_machine.travel(datetime(2026, 11, 6, 12, 0, tzinfo=UTC)):  # 51 h after UPS's last scan
        body = valid(openapi, client.get(f"/api/v1/orders/{scene.web_order.pk}", headers=auth))

    assert body["number"] == "#1001"
    assert body["answer"] == {
        "summary": "Paid $129.50 (Visa ••4242). UPS has had no scan for 2 days (last: Wed 4 Nov). "
        "Can't be cancelled (already dispatched); nothing refunded yet.",
        "clauses": [
            {"topic": "charged", "text": "Paid $129.50 (Visa ••4242).", "source": "shopify", "at": None},
            {
                "topic": "where",
                "text": "UPS has had no scan for 2 days (last: Wed 4 Nov).",
                "source": "easypost",
                "at": "2026-11-04T09:00:00Z",
            },
            {
                "topic": "cancel",
                "text": "Can't be cancelled (already dispatched); nothing refunded yet.",
                "source": "shopify",
                "at": None,
            },
        ],
        "next_step": "An item is not on the shelf: offer to wait for it, swap it, or refund that item.",
        "zone": "America/Chicago",
    }
    assert body["lines"] == [
        {
            "sku": "HOM-0203-WHI",
            "name": "Table Lamp - White",
            "quantity": 2,  # an integer, as ever
            "unit": "",
            "unit_price": "10.00",
            "fulfilment_location": "downtown",
            "available": 1,
            "other_channel_price": None,  # no store sale of this lamp that week
        }
    ]
    assert [(p["kind"], p["amount"], p["card_brand"], p["card_last4"]) for p in body["payments"]] == [
        ("sale", "129.50", "visa", "4242")
    ]
    assert [(s["carrier"], s["tracking_number"], [e["message"] for e in s["events"]]) for s in body["shipments"]] == [
        ("UPS", scenes.TRACKING, ["Picked up"])
    ]
    assert body["returns"] == []
    assert [(f["code"], f["detail"]) for f in body["flags"]] == [("stock_shortfall", "1 of 2 on the shelf")]
    assert body["refundable"] == "129.50"
    assert body["timeline"] == []
    assert AccessLog.objects.get().order_id == scene.web_order.pk


def test_a_line_sold_by_measure_is_a_decimal_string_with_its_unit_and_a_whole_one_stays_an_integer(
    client, scene, auth, openapi
):
    """Its quantity and what is available of it: a count by measure may have a fraction too (12.5 ft on the reel)."""
    from tests.factories import LineFactory, StockFactory

    lamp = scene.web_order.lines.get()
    at = {"source": lamp.source, "fulfilment_location": lamp.fulfilment_location}
    LineFactory(order=scene.web_order, sku="ROPE-1", quantity=Decimal("2.500"), unit="ft", **at)
    LineFactory(order=scene.web_order, sku="SAND-1", quantity=Decimal("3.000"), unit="kg", **at)
    pos = {"source": scene.sources["square"], "location": lamp.fulfilment_location}
    StockFactory(sku="ROPE-1", on_hand=Decimal("12.500"), **pos)  # counted by the foot: a fraction
    StockFactory(sku="SAND-1", on_hand=Decimal("7.000"), **pos)

    body = valid(openapi, client.get(f"/api/v1/orders/{scene.web_order.pk}", headers=auth))

    assert [(x["sku"], x["quantity"], x["unit"], x["available"]) for x in body["lines"]] == [
        ("HOM-0203-WHI", 2, "", 1),
        ("ROPE-1", "2.5", "ft", "12.5"),
        ("SAND-1", 3, "kg", 7),  # whole: integers, as ever
    ]


def test_an_unknown_order_is_a_404_valid_against_the_schema(client, scene, auth, openapi):
    response = client.get("/api/v1/orders/999999", headers=auth)

    assert response.status_code == 404
    assert valid(openapi, response) == {"detail": "Not Found"}
