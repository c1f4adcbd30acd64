"""Shopify webhooks: HMAC on the raw body, dedupe by event id, the same pipeline as a sync."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from integrations.models import RawRecord, WebhookDelivery
from orders.models import Order, OrderRecord, TimelineEvent

from .conftest import shopify_source_for

pytestmark = pytest.mark.sandbox


@pytest.fixture
def source(db, sandbox, fast_http):
    return shopify_source_for(sandbox)


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST a webhook the way the vendor does, running what the view queues after commit."""

    def send(body: bytes, headers: dict, name: str = "shopify"):
        meta = {
            "HTTP_" + key.upper().replace("-", "_"): value for key, value in headers.items() if key != "Content-Type"
        }
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/webhooks/{name}/", data=body, content_type="application/json", **meta)

    return send


def an_order_id(sandbox) -> str:
    return next(
        o["systems"]["shopify"]["external_id"] for o in sandbox.world.truth()["orders"] if "shopify" in o["systems"]
    )


def test_a_signed_order_webhook_lands_through_the_pipeline(post, source, sandbox):
    order_id = an_order_id(sandbox)
    body, headers = sandbox.shopify_webhook(order_id, topic="orders/create")

    response = post(body, headers)

    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "event_id": headers["X-Shopify-Event-Id"]}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.topic, delivery.processed_at is not None) == ("orders/create", True)
    record = OrderRecord.objects.get(source=source, external_id=order_id)
    assert record.external_number == json.loads(body)["name"]
    assert TimelineEvent.objects.filter(order=record.order, kind="order_placed").count() == 1


def test_a_redelivered_event_is_answered_but_not_processed_twice(post, source, sandbox):
    body, headers = sandbox.shopify_webhook(an_order_id(sandbox))
    post(body, headers)
    events_before = TimelineEvent.objects.count()

    response = post(body, headers)

    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    assert WebhookDelivery.objects.count() == 1
    assert TimelineEvent.objects.count() == events_before
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers: (body + b" ", headers),
        lambda body, headers: (
            body,
            {**headers, "X-Shopify-Hmac-Sha256": base64.b64encode(b"x" * 32).decode()},
        ),
        lambda body, headers: (
            body,
            {k: v for k, v in headers.items() if k != "X-Shopify-Hmac-Sha256"},
        ),
        lambda body, headers: (
            body,
            {
                **headers,
                "X-Shopify-Hmac-Sha256": base64.b64encode(
                    hmac.new(b"wrong-secret", body, hashlib.sha256).digest()
                ).decode(),
            },
        ),
    ],
    ids=["body-changed", "garbage-signature", "no-signature", "wrong-secret"],
)
def test_a_bad_signature_gets_401_and_writes_nothing(post, source, sandbox, tamper):
    body, headers = tamper(*sandbox.shopify_webhook(an_order_id(sandbox)))

    response = post(body, headers)

    assert response.status_code == 401
    assert (WebhookDelivery.objects.count(), RawRecord.objects.count(), Order.objects.count()) == (
        0,
        0,
        0,
    )


def test_an_unknown_source_is_404_and_needs_no_login(client, db):
    response = client.post("/webhooks/nope/", data=b"{}", content_type="application/json")

    assert response.status_code == 404


def test_webhooks_refuse_get(client, source):
    assert client.get("/webhooks/shopify/").status_code == 405
