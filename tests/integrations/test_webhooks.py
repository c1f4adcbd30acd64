"""Shopify webhooks: HMAC on the raw body, dedupe by event id, the same pipeline as a sync."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import datetime, timedelta

import pytest
from django.db import connection, transaction

from integrations.locks import landing_lock, source_lock
from integrations.models import RawRecord, WebhookDelivery
from integrations.sandbox.server import SHOPIFY_WEBHOOK_SECRET
from integrations.services import webhook_process
from orders.models import Order, OrderRecord, TimelineEvent

from .conftest import shopify_source_for

pytestmark = pytest.mark.sandbox


@pytest.fixture
def source(db, sandbox, fast_http):
    return shopify_source_for(sandbox)


def received(client, body: bytes, headers: dict, name: str = "shopify"):
    """POST a webhook the way the vendor does; what the view queues after commit is not run (the workers are busy)."""
    meta = {"HTTP_" + key.upper().replace("-", "_"): value for key, value in headers.items() if key != "Content-Type"}
    return client.post(f"/webhooks/{name}/", data=body, content_type="application/json", **meta)


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST a webhook the way the vendor does, running what the view queues after commit."""

    def send(body: bytes, headers: dict, name: str = "shopify"):
        with django_capture_on_commit_callbacks(execute=True):
            return received(client, body, headers, name)

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


def _signed(payload: dict, headers: dict, stamp: str) -> tuple[bytes, dict]:
    """The payload as Shopify would sign it, under fresh (unsigned) delivery ids."""
    body = json.dumps(payload).encode()
    digest = base64.b64encode(hmac.new(SHOPIFY_WEBHOOK_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return body, {
        **headers,
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Event-Id": f"event-{stamp}",
        "X-Shopify-Webhook-Id": f"webhook-{stamp}",
    }


def test_a_replayed_or_older_body_never_rolls_an_order_back(post, source, sandbox):
    """The attack: a captured, validly signed body re-sent later under fresh headers to undo a cancellation.

    Over REST the body is what lands (GraphQL reads the order again, so a body says nothing there).
    """
    shopify_source_for(sandbox, transport="rest")
    order_id = an_order_id(sandbox)
    body, headers = sandbox.shopify_webhook(order_id)
    first = json.loads(body)
    when = datetime.fromisoformat(first["updated_at"])
    cancelled = {**first, "updated_at": (when + timedelta(hours=1)).isoformat(), "cancelled_at": (when + timedelta(hours=1)).isoformat(), "cancel_reason": "customer"}  # fmt: skip
    older = {**first, "updated_at": (when - timedelta(hours=1)).isoformat(), "note": "an older version"}

    answers = [
        post(*_signed(first, headers, "1")).json()["status"],
        post(*_signed(cancelled, headers, "2")).json()["status"],
        post(*_signed(first, headers, "3")).json()["status"],  # the same body again: recognised by its hash
        post(*_signed(older, headers, "4")).json()["status"],  # a new body, older than what is stored
    ]

    record = OrderRecord.objects.get(source=source, external_id=order_id)
    assert answers == ["accepted", "accepted", "duplicate", "accepted"]
    assert (record.status, record.source_updated_at) == ("cancelled", when + timedelta(hours=1))
    assert record.order.cancelled_at == when + timedelta(hours=1)


def test_a_redelivery_is_recognised_by_its_webhook_id_whatever_its_event_id(post, source, sandbox):
    body, headers = sandbox.shopify_webhook(an_order_id(sandbox))
    post(body, headers)

    changed, fresh = _signed({**json.loads(body), "note": "a different body"}, headers, "x")
    again = post(changed, {**fresh, "X-Shopify-Webhook-Id": headers["X-Shopify-Webhook-Id"]})

    assert again.json() == {"status": "duplicate", "event_id": headers["X-Shopify-Event-Id"]}
    assert WebhookDelivery.objects.count() == 1


def _another_worker(hold) -> tuple[threading.Thread, threading.Event, threading.Event]:
    """Run ``hold(taken, release)`` on another thread's database connection (another worker process's)."""
    taken, release = threading.Event(), threading.Event()

    def run():
        try:
            hold(taken, release)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    assert taken.wait(10)
    return worker, taken, release


def test_a_webhook_lands_at_once_while_a_backfill_of_its_source_runs(post, source, sandbox):
    def backfill(taken, release):
        with source_lock(source.pk) as held:  # the run's lock, held for the whole backfill
            assert held is not None
            taken.set()
            release.wait(30)

    worker, _, release = _another_worker(backfill)
    try:
        order_id = an_order_id(sandbox)
        started = time.monotonic()
        response = post(*sandbox.shopify_webhook(order_id, topic="orders/create"))
        took = time.monotonic() - started
    finally:
        release.set()
        worker.join()

    assert response.status_code == 200
    assert WebhookDelivery.objects.get().processed_at is not None
    assert OrderRecord.objects.filter(source=source, external_id=order_id).count() == 1
    assert took < 5  # it waited for no run (before: up to 60 s, then a retry)


def test_a_webhook_waits_for_the_page_in_flight_of_its_source_and_no_longer(post, source, sandbox):
    committed = {}

    def page_in_flight(taken, release):
        with transaction.atomic():
            landing_lock(source.pk)
            taken.set()
            time.sleep(0.5)
            committed["at"] = time.monotonic()

    worker, _, _ = _another_worker(page_in_flight)
    response = post(*sandbox.shopify_webhook(an_order_id(sandbox), topic="orders/create"))
    landed = time.monotonic()
    worker.join()

    assert response.status_code == 200
    assert WebhookDelivery.objects.get().processed_at is not None
    assert landed >= committed["at"]


def test_events_queued_behind_one_are_landed_with_it_in_one_page(client, source, sandbox):
    # Given three order events received while the workers were busy (queued, not processed yet)
    order_ids = [
        o["systems"]["shopify"]["external_id"] for o in sandbox.world.truth()["orders"] if "shopify" in o["systems"]
    ][:3]
    for order_id in order_ids:
        assert received(client, *sandbox.shopify_webhook(order_id, topic="orders/create")).status_code == 200
    first, second, third = WebhookDelivery.objects.order_by("pk")
    assert not WebhookDelivery.objects.filter(processed_at__isnull=False).exists()

    # When the first one's task runs
    webhook_process(delivery_id=first.pk)

    # Then all three are landed, in the same transaction
    assert OrderRecord.objects.filter(source=source, external_id__in=order_ids).count() == 3
    stamps = set(WebhookDelivery.objects.values_list("processed_at", flat=True))
    assert len(stamps) == 1 and None not in stamps
    # and the others' tasks, run later, find nothing left to do
    events = TimelineEvent.objects.count()
    webhook_process(delivery_id=third.pk)
    assert TimelineEvent.objects.count() == events
    assert set(WebhookDelivery.objects.values_list("processed_at", flat=True)) == stamps


def test_an_event_that_cannot_land_never_holds_back_the_events_queued_behind_it(client, source, sandbox, monkeypatch):
    from integrations.adapters.shopify import ShopifyAdapter

    first_id, second_id = [
        o["systems"]["shopify"]["external_id"] for o in sandbox.world.truth()["orders"] if "shopify" in o["systems"]
    ][:2]
    for order_id in (first_id, second_id):
        received(client, *sandbox.shopify_webhook(order_id, topic="orders/create"))
    bad, good = WebhookDelivery.objects.order_by("pk")
    completing = ShopifyAdapter.complete

    def complete(self, stream, items):  # the first order is gone upstream: completing it fails for good
        if any(str(item.get("id")) == str(first_id) for item in items):
            raise RuntimeError("shopify has no such order any more")
        return completing(self, stream, items)

    monkeypatch.setattr(ShopifyAdapter, "complete", complete)

    webhook_process(delivery_id=good.pk)  # its batch takes the bad one waiting before it, fails, and it lands alone

    assert OrderRecord.objects.filter(source=source, external_id=second_id).count() == 1
    assert not OrderRecord.objects.filter(source=source, external_id=first_id).exists()
    with pytest.raises(RuntimeError, match="no such order"):
        webhook_process(delivery_id=bad.pk)
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.processed_at, good.processed_at is not None) == (None, True)
    assert "shopify has no such order any more" in bad.error
