"""Webhooks: the signature over URL and body, and the events that refetch their object."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
import responses
from responses import matchers

from integrations.adapters.base import WebhookSignatureError
from integrations.adapters.square import (
    SquareAdapter,
)
from integrations.records import (
    CustomerRecord,
    StockRecord,
)
from tests.vendor_fixtures import load

from ..helpers import utc
from .support import (
    BASE,
    HOOK_URL,
    TOKEN,
    web_pickup_order,
)


# -- webhooks ---------------------------------------------------------------------------------------
def _sign(key: str, url: str, body: bytes) -> dict:
    digest = hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()
    return {"X-Square-HmacSha256-Signature": base64.b64encode(digest).decode()}


def _event_body(name: str) -> bytes:
    return json.dumps(load("square", name), separators=(",", ":")).encode()


def test_real_vector_verifies_then_its_test_topic_is_refused(adapter, vector):
    with pytest.raises(ValueError, match="unsupported topic 'webhooks.test_notification'"):
        adapter.parse_webhook(
            body=vector["raw_body"].encode(),
            headers=vector["headers"],
            url=vector["notification_url"],
        )


def test_notification_url_credential_wins_over_the_request_url(vector):
    adapter = SquareAdapter(
        base_url=BASE,
        credentials={
            "access_token": TOKEN,
            "webhook_signature_key": vector["signature_key"],
            "notification_url": vector["notification_url"],
        },
    )

    with pytest.raises(ValueError, match="unsupported topic"):  # verified, then refused
        adapter.parse_webhook(body=vector["raw_body"].encode(), headers=vector["headers"], url="http://proxy/x")


@pytest.mark.parametrize("case", ["one_byte", "pretty", "wrong_url", "wrong_key", "no_header"])
def test_vector_negative_cases_fail(vector, case):
    body, headers, url = (
        vector["raw_body"].encode(),
        dict(vector["headers"]),
        vector["notification_url"],
    )
    key = vector["signature_key"]
    if case == "one_byte":
        body = body.replace(b"MLEFBHHSJGVHD", b"MLEFBHHSJGVHE")
    elif case == "pretty":
        body = json.dumps(json.loads(body), indent=2).encode()
    elif case == "wrong_url":
        url = vector["negative_cases"]["wrong_url"]
    elif case == "wrong_key":
        key = vector["negative_cases"]["wrong_key"]
    else:
        headers = {}
    adapter = SquareAdapter(base_url=BASE, credentials={"access_token": TOKEN, "webhook_signature_key": key})

    with pytest.raises(WebhookSignatureError):
        adapter.parse_webhook(body=body, headers=headers, url=url)


def test_webhook_without_a_signature_key_is_refused(vector):
    adapter = SquareAdapter(base_url=BASE, credentials={"access_token": TOKEN})

    with pytest.raises(WebhookSignatureError, match="no webhook_signature_key"):
        adapter.parse_webhook(body=vector["raw_body"].encode(), headers=vector["headers"], url=HOOK_URL)


def test_payment_and_customer_events_carry_their_object(adapter, vector):
    for name, stream, external_id in (
        ("webhook_event_payment_updated", "payments", "hYy9pRFVxpDsO1FB05SunFWUe9JZY"),
        ("webhook_event_customer_updated", "customers", "A0AP25A6SCVTH8JES9BX01GXM4"),
    ):
        body = _event_body(name)
        event = adapter.parse_webhook(body=body, headers=_sign(vector["signature_key"], HOOK_URL, body), url=HOOK_URL)
        assert (event.stream, adapter.external_id(stream, event.payload)) == (stream, external_id)
        assert event.extra["merchant_id"] == json.loads(body)["merchant_id"]

    payment = adapter.map("payments", load("square", "webhook_event_payment_updated")["data"]["object"]["payment"])  # fmt: skip
    customer = adapter.map("customers", load("square", "webhook_event_customer_updated")["data"]["object"]["customer"])  # fmt: skip
    assert (payment.order_external_id, payment.payment.card_brand, payment.payment.amount) == (
        "03O3USaPaAaFnI6kkwB1JxGgBsUZY",
        "MASTERCARD",
        Decimal("1.00"),
    )
    assert customer == CustomerRecord(
        external_id="A0AP25A6SCVTH8JES9BX01GXM4",
        name="Jenkins Smorly",
        emails=["jenkins+smorly@squareup.com"],
        phones=["+13477947111"],
        verified=[],  # creation_source THIRD_PARTY: made by an API call, vouched for by nobody
        updated_at=utc(2022, 11, 9, 21, 38, 30),
    )


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (["not", "an", "object"], "not a JSON object but list"),
        ({"type": "payment.updated"}, "has no event_id"),
        ({"event_id": "e1", "type": ["payment.updated"]}, r"has no type \(topic\)"),
        ({"event_id": "e1", "type": "payment.updated", "data": {}}, "no data.object.payment"),
        ({"event_id": "e1", "type": "order.updated", "data": {"object": {}}}, "names no order id"),
        (
            {"event_id": "e1", "type": "inventory.count.updated", "data": {"object": {"inventory_counts": [{"state": "SOLD"}]}}},
            "no IN_STOCK count",
        ),
    ],
)  # fmt: skip
def test_verified_but_unusable_events_are_refused_naming_the_reason(adapter, vector, event, reason):
    body = json.dumps(event).encode()

    with pytest.raises(ValueError, match=reason):
        adapter.parse_webhook(body=body, headers=_sign(vector["signature_key"], HOOK_URL, body), url=HOOK_URL)


@responses.activate
def test_fulfilment_event_refetches_the_order(adapter, vector):
    body = _event_body("webhook_event_order_fulfillment_updated")
    order = {**web_pickup_order("RESERVED"), "id": "eA3vssLHKJrv9H0IdJCM3gNqfdcZY"}
    responses.post(
        f"{BASE}/v2/orders/batch-retrieve",
        match=[matchers.json_params_matcher({"order_ids": ["eA3vssLHKJrv9H0IdJCM3gNqfdcZY"]})],
        json={"orders": [order]},
    )

    event = adapter.parse_webhook(body=body, headers=_sign(vector["signature_key"], HOOK_URL, body), url=HOOK_URL)

    assert (event.event_id, event.topic, event.stream) == (
        "b3adf364-4937-436e-a833-49c72b4baee8",
        "order.fulfillment.updated",
        "orders",
    )
    assert event.payload == order
    assert adapter.map("orders", event.payload).status == "assigned"


@responses.activate
def test_refund_event_refetches_the_order_it_names(adapter, vector):
    body = _event_body("webhook_event_refund_updated")
    responses.post(
        f"{BASE}/v2/orders/batch-retrieve",
        match=[matchers.json_params_matcher({"order_ids": ["haOyDuHiqtAXMk0d8pDKXpL7Jg4F"]})],
        json={},  # Square answers {} when it finds nothing
    )

    with pytest.raises(ValueError, match="order haOyDuHiqtAXMk0d8pDKXpL7Jg4F named by the refund"):
        adapter.parse_webhook(body=body, headers=_sign(vector["signature_key"], HOOK_URL, body), url=HOOK_URL)


@responses.activate
def test_inventory_event_takes_the_first_in_stock_count_with_its_catalog_sku(adapter, vector):
    body = _event_body("webhook_event_inventory_count_updated")
    responses.get(
        f"{BASE}/v2/catalog/list",
        match=[matchers.query_param_matcher({"types": "ITEM_VARIATION"})],
        json={
            "objects": [
                {
                    "type": "ITEM_VARIATION",
                    "id": "FGQ5JJWT2PYTHF35CKZ2DSKP",
                    "item_variation_data": {"sku": "KIT-001-RED"},
                },
            ]
        },  # fmt: skip
    )

    event = adapter.parse_webhook(body=body, headers=_sign(vector["signature_key"], HOOK_URL, body), url=HOOK_URL)

    assert event.stream == "inventory"
    assert adapter.map("inventory", event.payload) == StockRecord(
        sku="KIT-001-RED",
        location_id="YYQR03DGCTXA4",
        on_hand=10,
        counted_at=utc(2019, 10, 29, 18, 38, 45, 102960),
    )
