"""Customers, locations and the HMAC-signed webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from django.http.request import HttpHeaders

from integrations.adapters.base import WebhookSignatureError
from integrations.adapters.shopify import ShopifyAdapter, map_customer, map_location
from integrations.records import (
    CustomerRecord,
    MappingError,
)
from tests.vendor_fixtures import load

from ..helpers import utc
from .support import (
    BASE,
    TOKEN,
    order_fixture,
)


# -- customers and locations ----------------------------------------------------------------
def test_customer_fixture(adapter):
    record = adapter.map("customers", load("shopify", "customer")["customer"])

    assert record == CustomerRecord(
        external_id="207119551",
        name="Bob Norman",
        emails=["bob.norman@mail.example.com"],
        phones=["+16136120707"],
        loyalty_id="",  # tags "Léon, Noël" carry no loyalty tag
        verified=["email"],  # "verified_email": true
        updated_at=utc(2025, 4, 2, 16, 25, 58),
    )


def test_customer_loyalty_id_comes_from_its_loyalty_tag():
    customer = load("shopify", "customer")["customer"]
    customer["tags"] = "Léon, loyalty:LY-00042, Noël"

    assert map_customer(customer).loyalty_id == "LY-00042"


def test_customer_without_id_raises():
    customer = load("shopify", "customer")["customer"]
    del customer["id"]

    with pytest.raises(MappingError, match=r"customer\.id is missing"):
        map_customer(customer)


def test_locations_fixture(adapter):
    records = [adapter.map("locations", item) for item in load("shopify", "locations")["locations"]]

    assert [(r.external_id, r.name, r.code, r.kind, r.address) for r in records] == [
        (
            "655441491",
            "50 Rideau Street",
            "50-rideau-street",
            "store",
            "50 Rideau Street, Ottawa, K1N 9J7",
        ),
        ("24826418", "Apple Api Shipwire", "apple-api-shipwire", "store", ""),
        ("844681632", "Apple Cupertino", "apple-cupertino", "store", ""),
        ("611870435", "Apple Shipwire", "apple-shipwire", "store", ""),
        ("487838322", "Fifth Avenue AppleStore", "fifth-avenue-applestore", "store", ""),
    ]


def test_warehouse_location_and_long_names():
    location = load("shopify", "locations")["locations"][0]

    warehouse = map_location({**location, "name": "Central Warehouse"})
    flagship = map_location({**location, "name": "The Very Long Name Of A Flagship Store"})

    assert (warehouse.code, warehouse.kind) == ("central-warehouse", "warehouse")
    assert (flagship.code, flagship.kind) == ("the-very-long-name-of-a-flagship", "store")
    with pytest.raises(MappingError, match=r"location\.name '東京' yields no store code"):
        map_location({**location, "name": "東京"})


def test_inventory_levels_are_not_a_stream_the_adapter_maps(adapter):
    level = load("shopify", "inventory_levels")["inventory_levels"][0]

    assert "inventory_levels" not in ShopifyAdapter.streams
    with pytest.raises(MappingError, match="does not map stream 'inventory_levels'"):
        adapter.map("inventory_levels", level)
    with pytest.raises(ValueError, match="no stream 'inventory_levels'"):
        adapter.fetch("inventory_levels", {})


# -- webhooks -------------------------------------------------------------------------------
def test_webhook_vector_verifies_and_yields_the_order(adapter, vector):
    event = adapter.parse_webhook(
        body=vector["raw_body"].encode(),
        headers=vector["headers"],
        url="https://omnidesk.example/hooks/shopify",
    )

    assert (event.event_id, event.topic, event.stream) == (
        "7b8c9d0a-1234-5678-90ab-cdef12345678",
        "orders/create",
        "orders",
    )
    assert event.payload == order_fixture()
    assert event.extra == {
        "shop_domain": "jsmith.myshopify.com",
        "api_version": "2025-07",
        "webhook_id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "triggered_at": "2025-04-02T16:29:59.000Z",
    }
    assert adapter.map(event.stream, event.payload).number == "#1001"


def test_webhook_accepts_django_request_headers_and_unprefixed_names(adapter, vector):
    django_headers = HttpHeaders(
        {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in vector["headers"].items()}
    )
    unprefixed = {name.lower().replace("x-shopify-", "shopify-"): value for name, value in vector["headers"].items()}

    for headers in (django_headers, unprefixed):
        event = adapter.parse_webhook(body=vector["raw_body"].encode(), headers=headers, url="")
        assert event.event_id == "7b8c9d0a-1234-5678-90ab-cdef12345678"


def test_webhook_event_id_falls_back_to_the_webhook_id(adapter, vector):
    headers = {k: v for k, v in vector["headers"].items() if k != "X-Shopify-Event-Id"}

    event = adapter.parse_webhook(body=vector["raw_body"].encode(), headers=headers, url="")

    assert event.event_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


def test_webhook_with_one_byte_changed_fails(adapter, vector):
    body = vector["raw_body"].encode().replace(b'"#1001"', b'"#1002"')

    with pytest.raises(WebhookSignatureError, match="does not match"):
        adapter.parse_webhook(body=body, headers=vector["headers"], url="")


def test_webhook_without_signature_header_fails(adapter, vector):
    headers = {k: v for k, v in vector["headers"].items() if k != "X-Shopify-Hmac-Sha256"}

    with pytest.raises(WebhookSignatureError, match="missing X-Shopify-Hmac-Sha256"):
        adapter.parse_webhook(body=vector["raw_body"].encode(), headers=headers, url="")


def test_webhook_with_another_secret_or_none_fails(vector):
    for credentials in (
        {"access_token": TOKEN, "webhook_secret": "other"},
        {"access_token": TOKEN},
    ):
        adapter = ShopifyAdapter(base_url=BASE, credentials=credentials)
        with pytest.raises(WebhookSignatureError):
            adapter.parse_webhook(body=vector["raw_body"].encode(), headers=vector["headers"], url="")


def test_webhook_with_unsupported_topic_is_refused_after_verification(adapter, vector):
    headers = {**vector["headers"], "X-Shopify-Topic": "products/update"}

    with pytest.raises(ValueError, match="unsupported topic 'products/update'"):
        adapter.parse_webhook(body=vector["raw_body"].encode(), headers=headers, url="")


def test_customer_webhook_topic_maps_to_customers(adapter, vector):
    body = json.dumps(load("shopify", "customer")["customer"]).encode()
    headers = {
        **vector["headers"],
        "X-Shopify-Topic": "customers/update",
        "X-Shopify-Hmac-Sha256": _sign(vector["secret"], body),
    }

    event = adapter.parse_webhook(body=body, headers=headers, url="")

    assert (event.stream, adapter.map(event.stream, event.payload).external_id) == (
        "customers",
        "207119551",
    )


def _sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
