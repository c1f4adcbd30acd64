"""ShopifyAdapter: mapping against Shopify's own sample payloads, fetching at the HTTP seam.

No database: the adapter is pure apart from HTTP, which ``responses`` mocks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from decimal import Decimal

import pytest
import responses
from django.http.request import HttpHeaders
from pydantic import ValidationError
from responses import matchers

from integrations.adapters import adapter_class
from integrations.adapters.base import WebhookSignatureError
from integrations.adapters.shopify import ShopifyAdapter, map_customer, map_location, map_order
from integrations.http import TransportError
from integrations.records import (
    CustomerRecord,
    LineRecord,
    MappingError,
    PaymentRecord,
    ReturnRecord,
    ShipmentRecord,
)
from tests.vendor_fixtures import load

from .helpers import make_adapter, mock_answer, utc

BASE = "https://shop.example.com/admin/api/2025-07"
TOKEN = "shpat_test"


def order_fixture(name: str = "order_tagged_fulfilled_refunded") -> dict:
    return load("shopify", name)["order"]


def ups_fulfilment() -> dict:
    return load("shopify", "fulfillment_update_tracking_ups")["fulfillment"]


def ipod_line(line_id: str, sku: str, name: str) -> LineRecord:
    """A line of the sample order: one iPod Nano at 199.00."""
    return LineRecord(external_id=line_id, sku=sku, name=name, quantity=1, unit_price=Decimal("199.00"))


@pytest.fixture
def vector() -> dict:
    return load("shopify", "webhook_orders_create_hmac_test_vector")


@pytest.fixture
def adapter(vector) -> ShopifyAdapter:
    """The REST transport: this module's fetching tests speak REST (test_shopify_graphql.py speaks GraphQL)."""
    return make_adapter(ShopifyAdapter, BASE, access_token=TOKEN, webhook_secret=vector["secret"], transport="rest")


# -- the adapter's identity ----------------------------------------------------------------
def test_registry_points_at_the_adapter_and_it_declares_its_contract():
    cls = adapter_class("shopify")

    assert cls is ShopifyAdapter
    assert (cls.name, cls.kind) == ("shopify", "storefront")
    assert cls.streams == ("locations", "customers", "orders")
    assert cls.required_credentials == ("access_token",)
    assert cls.optional_credentials == ("webhook_secret", "transport", "backfill")


def test_access_token_is_required_and_sent_as_the_shopify_header():
    with pytest.raises(ValueError, match="access_token"):
        ShopifyAdapter(base_url=BASE, credentials={})

    adapter = ShopifyAdapter(base_url=BASE, credentials={"access_token": TOKEN})

    assert adapter.client.headers["X-Shopify-Access-Token"] == TOKEN
    assert adapter.transport == "graphql"


def test_external_id_is_the_id_as_a_string_or_empty(adapter):
    assert adapter.external_id("orders", order_fixture()) == "450789469"
    assert adapter.external_id("orders", json.loads('{"id": 820982911946154508}')) == "820982911946154508"
    assert adapter.external_id("orders", {"name": "#1001"}) == ""
    assert adapter.external_id("orders", {"id": None}) == ""
    assert adapter.external_id("orders", ["not", "a", "dict"]) == ""


# -- orders: the two real sample orders ----------------------------------------------------
def test_tagged_fulfilled_refunded_order_maps_every_field():
    record = map_order(order_fixture())

    assert record.external_id == "450789469"
    assert record.number == "#1001"
    assert record.references == []
    assert (record.channel, record.fulfilment, record.location_id) == ("web", "ship", "")
    assert record.raw_status == "partially_refunded/unfulfilled"
    # The only fulfilment failed, so nothing is with a carrier; partially refunded still counts as paid.
    assert record.status == "paid"
    assert record.placed_at == utc(2008, 1, 10, 16, 0, 0)
    assert record.updated_at == utc(2025, 4, 2, 16, 31, 21)
    assert record.cancelled_at is None
    assert record.promised_by is None  # its note_attributes are engraving and colour only
    assert (record.currency, record.total) == ("USD", Decimal("598.94"))
    assert (record.email, record.phone) == ("bob.norman@mail.example.com", "+557734881234")
    assert record.customer == CustomerRecord(
        external_id="207119551",
        name="Bob Norman",
        emails=["bob.norman@mail.example.com"],
        phones=["+16136120707"],
        loyalty_id="",
        verified=["email"],  # "verified_email": true
        updated_at=utc(2025, 4, 2, 16, 29, 59),
    )
    assert record.lines == [
        ipod_line("466157049", "IPOD2008GREEN", "IPod Nano - 8gb - green"),
        ipod_line("518995019", "IPOD2008RED", "IPod Nano - 8gb - red"),
        ipod_line("703073504", "IPOD2008BLACK", "IPod Nano - 8gb - black"),
    ]
    assert record.payments == [
        PaymentRecord(
            external_id="179259969",
            kind="refund",
            status="success",
            amount=Decimal("209.00"),
            currency="USD",
            gateway="bogus",
            processed_at=utc(2005, 8, 5, 16, 59, 12),
        )
    ]
    assert record.shipments == [
        ShipmentRecord(
            external_id="255858046",
            carrier="USPS",
            tracking_number="1Z1234512345123456",
            tracking_url="https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=1Z1234512345123456",
            raw_status="failure",
            status="cancelled",
            line_skus=["IPOD2008GREEN"],
            shipped_at=utc(2025, 4, 2, 16, 29, 59),
        )
    ]
    assert record.returns == []  # legacy_restock: refunded, not returned


def test_cancelled_refunded_order():
    record = map_order(order_fixture("order_cancelled_refunded"))

    assert record.status == "cancelled"
    assert record.raw_status == "refunded/unfulfilled/cancelled"
    assert record.cancelled_at == utc(2025, 4, 2, 16, 31, 21)
    assert record.total == Decimal("598.94")
    assert [(p.external_id, p.kind, p.status, p.amount, p.processed_at) for p in record.payments] == [
        ("1068278491", "refund", "success", Decimal("10.00"), utc(2025, 4, 2, 16, 31, 21))
    ]
    assert record.returns == []  # no_restock


def test_refunded_without_cancellation_is_refunded():
    order = order_fixture("order_cancelled_refunded")
    order["cancelled_at"] = None

    record = map_order(order)

    assert (record.status, record.raw_status) == ("refunded", "refunded/unfulfilled")


# -- orders: fulfilments, payments, refunds from the other real samples ----------------------
def test_ups_fulfilment_becomes_a_shipment_handed_to_the_carrier():
    order = order_fixture()
    fulfilment = ups_fulfilment()
    fulfilment["line_items"][0]["id"] = 518995019  # ship the red iPod from the UPS location
    order["fulfillments"] = [fulfilment]

    record = map_order(order)

    assert record.shipments == [
        ShipmentRecord(
            external_id="1069019869",
            carrier="UPS",
            tracking_number="1Z001985YW99744790",
            tracking_url="https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1Z001985YW99744790",
            raw_status="success",
            status="handed_to_carrier",
            line_skus=["draft-151"],
            shipped_at=utc(2025, 4, 2, 16, 38, 15),
        )
    ]
    assert record.status == "handed_to_carrier"
    assert [(line.external_id, line.location_id) for line in record.lines] == [
        ("466157049", ""),
        ("518995019", "24826418"),
        ("703073504", ""),
    ]


def test_delivered_fulfilment_sets_delivered_at_from_its_last_update():
    order = order_fixture()
    fulfilment = ups_fulfilment()
    fulfilment["shipment_status"] = "delivered"
    order["fulfillments"] = [fulfilment]

    record = map_order(order)

    assert (record.shipments[0].status, record.shipments[0].raw_status) == (
        "delivered",
        "delivered",
    )
    assert record.shipments[0].delivered_at == utc(2025, 4, 2, 16, 38, 39)
    assert record.status == "delivered"


def test_order_transactions_map_to_payments_with_card_last4_only():
    order = order_fixture()
    order["transactions"] = load("shopify", "transactions")["transactions"]

    record = map_order(order)

    # The refund is in both order.transactions and refunds[].transactions: listed once.
    assert [(p.external_id, p.kind, p.status, p.amount) for p in record.payments] == [
        ("179259969", "refund", "success", Decimal("209.00")),
        ("389404469", "authorization", "success", Decimal("598.94")),
        ("801038806", "capture", "success", Decimal("250.94")),
    ]
    authorization = record.payments[1]
    assert (authorization.card_brand, authorization.card_last4) == ("Visa", "4242")
    assert authorization.processed_at == utc(2005, 8, 1, 15, 57, 11)
    assert "•" not in record.model_dump_json()


def test_a_full_card_number_never_survives_mapping():
    order = order_fixture()
    order["transactions"] = load("shopify", "transactions")["transactions"]
    order["transactions"][1]["payment_details"]["credit_card_number"] = "4111 1111 1111 4242"

    record = map_order(order)

    assert record.payments[1].card_last4 == "4242"
    assert "4111" not in record.model_dump_json()


@pytest.mark.parametrize(
    ("shopify_status", "status"),
    [("pending", "pending"), ("failure", "failure"), ("error", "failure")],
)
def test_transaction_statuses(shopify_status, status):
    order = order_fixture()
    order["refunds"][0]["transactions"][0]["status"] = shopify_status

    assert map_order(order).payments[0].status == status


def test_refund_resource_without_returned_lines_adds_payments_but_no_return():
    order = order_fixture()
    order["refunds"] = [load("shopify", "refund")["refund"]]

    record = map_order(order)

    assert [(p.external_id, p.kind, p.amount) for p in record.payments] == [("179259969", "refund", Decimal("209.00"))]
    assert record.returns == []


def test_refund_with_restock_type_return_is_a_refunded_return():
    order = order_fixture()
    refund = load("shopify", "refund")["refund"]
    for item in refund["refund_line_items"]:
        item["restock_type"] = "return"
    del refund["refund_line_items"][1]["line_item"]  # found through line_item_id instead
    order["refunds"] = [refund]

    record = map_order(order)

    assert record.returns == [
        ReturnRecord(
            external_id="509562969",
            status="refunded",
            line_skus=["IPOD2008BLACK", "IPOD2008GREEN"],
            amount=Decimal("399.29"),  # 195.66 + 3.98 + 195.67 + 3.98
            received_at=utc(2025, 4, 2, 16, 38, 15),
            refunded_at=utc(2025, 4, 2, 16, 38, 15),
        )
    ]


# -- orders: the retailer conventions (docs/sandbox-conventions.md) --------------------------
def test_pickup_order_names_its_store_and_promise():
    order = order_fixture()
    order["shipping_lines"][0]["code"] = "pickup"
    order["location_id"] = 655441491
    order["fulfillments"] = []
    order["note_attributes"] = [{"name": "promised_by", "value": "2025-04-05T18:00:00Z"}]

    record = map_order(order)

    assert (record.fulfilment, record.location_id) == ("pickup", "655441491")
    assert {line.location_id for line in record.lines} == {"655441491"}
    assert record.promised_by == utc(2025, 4, 5, 18, 0)


def test_collected_pickup_order():
    order = order_fixture()
    order["shipping_lines"][0]["code"] = "pickup"
    order["location_id"] = 655441491
    order["fulfillment_status"] = "fulfilled"
    fulfilment = ups_fulfilment()
    fulfilment.update(tracking_company=None, tracking_number=None, tracking_url=None)
    order["fulfillments"] = [fulfilment]

    record = map_order(order)

    assert record.status == "collected"
    assert record.shipments[0].status == "collected"


def test_scheduled_delivery_carries_its_window_and_promises_its_end():
    order = order_fixture()
    order["shipping_lines"][0]["code"] = "scheduled_delivery"
    order["note_attributes"] = [
        {"name": "delivery_window_start", "value": "2025-04-06T08:00:00Z"},
        {"name": "delivery_window_end", "value": "2025-04-06T12:00:00+00:00"},
    ]
    order["fulfillments"] = [ups_fulfilment()]

    record = map_order(order)

    assert record.fulfilment == "delivery"
    assert (record.shipments[0].window_start, record.shipments[0].window_end) == (
        utc(2025, 4, 6, 8),
        utc(2025, 4, 6, 12),
    )
    assert record.promised_by == utc(2025, 4, 6, 12)


def test_pos_order_is_a_store_order_at_its_location():
    order = order_fixture()
    order["source_name"] = "pos"
    order["location_id"] = 487838322

    record = map_order(order)

    assert (record.channel, record.location_id) == ("store", "487838322")


def test_ids_beyond_2_to_the_53_keep_every_digit():
    order = json.loads(json.dumps(order_fixture()).replace("450789469", "820982911946154508"))

    assert map_order(order).external_id == "820982911946154508"


def test_line_without_sku_gets_a_stable_shopify_sku():
    order = order_fixture()
    order["line_items"][0]["sku"] = ""
    order["line_items"][1]["sku"] = None
    order["line_items"][1]["variant_id"] = None

    lines = map_order(order).lines

    assert [line.sku for line in lines[:2]] == [
        "shopify-variant-39072856",
        "shopify-line-518995019",
    ]


@pytest.mark.parametrize(
    ("changes", "shipment_status", "status"),
    [
        ({"financial_status": "pending"}, None, "placed"),
        ({"financial_status": "authorized"}, None, "placed"),
        ({"financial_status": "paid"}, None, "paid"),
        ({"financial_status": "paid"}, "label_printed", "packed"),
        ({"financial_status": "paid"}, "ready_for_pickup", "ready_for_pickup"),
        ({"financial_status": "paid"}, "confirmed", "handed_to_carrier"),
        ({"financial_status": "paid"}, "in_transit", "in_transit"),
        ({"financial_status": "paid"}, "attempted_delivery", "in_transit"),
        ({"financial_status": "paid"}, "out_for_delivery", "out_for_delivery"),
        ({"financial_status": "paid"}, "delivered", "delivered"),
        ({"financial_status": "refunded"}, "delivered", "refunded"),
        ({"cancelled_at": "2025-04-03T10:00:00-04:00"}, "in_transit", "cancelled"),
    ],
)
def test_status_normalisation_table(changes, shipment_status, status):
    order = order_fixture()
    order.update(changes)
    if shipment_status:
        fulfilment = ups_fulfilment()
        fulfilment["shipment_status"] = shipment_status
        order["fulfillments"] = [fulfilment]

    assert map_order(order).status == status


# -- orders: bad input raises with the field's name --------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("line_items", "IPOD2008GREEN", r"order\.line_items must be a list, got str"),
        ("id", None, r"order\.id is missing"),
        (
            "created_at",
            "not-a-date",
            r"order\.created_at is not an ISO-8601 date-time: 'not-a-date'",
        ),
        ("created_at", "2008-01-10T11:00:00", r"order\.created_at has no UTC offset"),
        ("created_at", None, r"order\.created_at is missing"),
        ("total_price", "abc", r"order\.total_price is not an amount: 'abc'"),
        ("total_price", ["598.94"], r"order\.total_price must be a decimal string, got list"),
        ("customer", "Bob", r"order\.customer must be a JSON object, got str"),
        ("note_attributes", {"promised_by": "x"}, r"order\.note_attributes must be a list"),
        ("currency", None, r"order\.currency is missing"),
    ],
)
def test_malformed_order_raises_naming_the_field(field, value, reason):
    order = order_fixture()
    if value is None:
        del order[field]
    else:
        order[field] = value

    with pytest.raises(MappingError, match=reason):
        map_order(order)


@pytest.mark.parametrize(
    ("where", "key", "value", "reason"),
    [
        (
            "line_items",
            "price",
            {"amount": "199.00"},
            r"order\.line_items\[0\]\.price must be a decimal string, got dict",
        ),
        ("line_items", "quantity", "1", r"order\.line_items\[0\]\.quantity must be an integer"),
        (
            "fulfillments",
            "created_at",
            "yesterday",
            r"order\.fulfillments\[0\]\.created_at is not an ISO-8601",
        ),
        (
            "refunds",
            "transactions",
            [{"id": 1, "kind": "change", "status": "success", "amount": "5.00"}],
            r"kind 'change' is not one of",
        ),
    ],
)
def test_malformed_nested_part_raises_naming_its_path(where, key, value, reason):
    order = order_fixture()
    order[where][0][key] = value

    with pytest.raises(MappingError, match=reason):
        map_order(order)


def test_order_that_is_not_an_object_raises():
    with pytest.raises(MappingError, match="order must be a JSON object, got list"):
        map_order([order_fixture()])


def test_value_the_record_refuses_raises_validation_error():
    order = order_fixture()
    order["line_items"][0]["price"] = "-199.00"

    with pytest.raises(ValidationError, match="unit_price"):
        map_order(order)


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


# -- fetching -------------------------------------------------------------------------------
def _order(updated_at: str, order_id: int) -> dict:
    return {**order_fixture(), "id": order_id, "updated_at": updated_at}


TRANSACTIONS_URL = re.compile(rf"{re.escape(BASE)}/orders/\d+/transactions\.json")


def no_transactions() -> None:
    """Every order's ``transactions.json`` answers an empty list."""
    responses.get(TRANSACTIONS_URL, json={"transactions": []})


@responses.activate
def test_each_order_of_a_page_carries_its_transactions(adapter):
    transactions = load("shopify", "transactions")["transactions"]
    responses.get(f"{BASE}/orders.json", json={"orders": [_order("2025-04-02T11:31:21-05:00", 450789469)]})
    responses.get(f"{BASE}/orders/450789469/transactions.json", json={"transactions": transactions})

    page = adapter.fetch("orders", {})
    record = adapter.map("orders", page.items[0])

    assert page.items[0]["transactions"] == transactions
    # The refund is listed by transactions.json and inside refunds[]: one payment per transaction id.
    assert [(p.external_id, p.kind, p.amount, p.card_brand, p.card_last4) for p in record.payments] == [
        ("179259969", "refund", Decimal("209.00"), "", ""),
        ("389404469", "authorization", Decimal("598.94"), "Visa", "4242"),
        ("801038806", "capture", Decimal("250.94"), "", ""),
    ]


@responses.activate
def test_an_order_without_an_id_is_passed_on_without_asking_for_its_transactions(adapter):
    broken = {k: v for k, v in _order("2025-04-02T11:31:21-05:00", 1).items() if k != "id"}
    responses.get(f"{BASE}/orders.json", json={"orders": [broken]})

    page = adapter.fetch("orders", {})

    assert page.items == [broken]
    assert len(responses.calls) == 1


@responses.activate
def test_a_webhook_order_is_completed_with_its_transactions(adapter):
    transactions = load("shopify", "transactions")["transactions"]
    responses.get(f"{BASE}/orders/450789469/transactions.json", json={"transactions": transactions})

    (order,) = adapter.complete("orders", [order_fixture()])

    assert order == {**order_fixture(), "transactions": transactions}
    assert adapter.complete("customers", [{"id": 1}]) == [{"id": 1}]


@responses.activate
def test_orders_walk_two_pages_by_link_header_and_end_on_the_watermark(adapter):
    page_one = [_order("2025-04-02T11:31:21-05:00", 1), _order("2025-04-02T12:00:00-05:00", 2)]
    page_two = [_order("2025-04-03T09:00:00-04:00", 3)]
    responses.get(
        f"{BASE}/orders.json",
        match=[
            matchers.query_param_matcher(
                {
                    "limit": "2",
                    "status": "any",
                    "order": "updated_at asc",
                    "updated_at_min": "2025-04-01T00:00:00+00:00",
                }
            ),
            matchers.header_matcher({"X-Shopify-Access-Token": TOKEN}),
        ],
        json={"orders": page_one},
        headers={"Link": f'<{BASE}/orders.json?limit=2&page_info=eyJuZXh0IjoyfQ>; rel="next"'},
    )
    responses.get(
        f"{BASE}/orders.json",
        match=[matchers.query_param_matcher({"limit": "2", "page_info": "eyJuZXh0IjoyfQ"})],
        json={"orders": page_two},
        headers={"Link": f'<{BASE}/orders.json?limit=2&page_info=eyJwcmV2Ijox>; rel="previous"'},
    )
    no_transactions()

    first = adapter.fetch("orders", {"updated_at_min": "2025-04-01T00:00:00+00:00"})
    second = adapter.fetch("orders", first.cursor)

    assert ([o["id"] for o in first.items], first.has_more) == ([1, 2], True)
    assert first.cursor == {
        "updated_at_min": "2025-04-01T00:00:00+00:00",
        "page_info": "eyJuZXh0IjoyfQ",
        "watermark": "2025-04-02T17:00:00+00:00",
    }
    assert ([o["id"] for o in second.items], second.has_more) == ([3], False)
    assert second.cursor == {"updated_at_min": "2025-04-03T13:00:00+00:00"}
    assert adapter.client.sleep == []


@responses.activate
def test_first_run_sends_no_updated_at_min_and_an_empty_answer_keeps_the_cursor_empty(adapter):
    responses.get(
        f"{BASE}/orders.json",
        match=[matchers.query_param_matcher({"limit": "2", "status": "any", "order": "updated_at asc"})],
        json={"orders": []},
    )

    page = adapter.fetch("orders", {})

    assert (page.items, page.cursor, page.has_more) == ([], {}, False)


@responses.activate
def test_customers_filter_on_the_cursor_and_cap_the_page_size(adapter):
    adapter.page_size = 1000
    customer = load("shopify", "customer")["customer"]
    responses.get(
        f"{BASE}/customers.json",
        match=[
            matchers.query_param_matcher(
                {
                    "limit": "250",
                    "order": "updated_at asc",
                    "updated_at_min": "2025-04-02T16:00:00+00:00",
                }
            )
        ],
        json={"customers": [customer]},
    )

    page = adapter.fetch("customers", {"updated_at_min": "2025-04-02T16:00:00+00:00"})

    assert page.items == [customer]
    assert (page.cursor, page.has_more) == ({"updated_at_min": "2025-04-02T16:25:58+00:00"}, False)


@responses.activate
def test_locations_are_one_page_and_keep_an_empty_cursor(adapter):
    responses.get(
        f"{BASE}/locations.json",
        match=[matchers.query_param_matcher({})],
        json=load("shopify", "locations"),
    )

    page = adapter.fetch("locations", {})

    assert ([item["id"] for item in page.items], page.cursor, page.has_more) == (
        [655441491, 24826418, 844681632, 611870435, 487838322],
        {},
        False,
    )


@pytest.mark.parametrize(
    ("call_limit", "sleeps"),
    [("20/40", []), ("31/40", []), ("32/40", [6.0]), ("40/40", [10.0]), ("junk", [])],
)
@responses.activate
def test_call_limit_throttles_until_the_bucket_is_half_empty(adapter, call_limit, sleeps):
    responses.get(
        f"{BASE}/orders.json",
        json={"orders": []},
        headers={"X-Shopify-Shop-Api-Call-Limit": call_limit},
    )

    adapter.fetch("orders", {})

    assert adapter.client.sleep == sleeps


@responses.activate
def test_refused_token_is_a_permanent_transport_error(adapter):
    responses.get(f"{BASE}/orders.json", status=401, json={"errors": "[API] Invalid API key or access token"})

    with pytest.raises(TransportError) as error:
        adapter.fetch("orders", {})

    assert (error.value.permanent, error.value.status) == (True, 401)
    assert len(responses.calls) == 1


@responses.activate
def test_unavailable_then_ok_is_retried(adapter):
    adapter.client.sleep = lambda seconds: None
    responses.get(f"{BASE}/orders.json", status=503)
    responses.get(f"{BASE}/orders.json", json={"orders": [_order("2025-04-02T11:31:21-05:00", 1)]})
    no_transactions()

    page = adapter.fetch("orders", {})

    assert [o["id"] for o in page.items] == [1]
    assert [call.response.status_code for call in responses.calls] == [503, 200, 200]


@pytest.mark.parametrize(
    ("body", "reason"),
    [({"errors": "Not Found"}, "without a 'orders' list"), ("<html>", "not JSON")],
)
@responses.activate
def test_an_answer_without_the_list_is_a_transient_transport_error(adapter, body, reason):
    mock_answer(f"{BASE}/orders.json", body)

    with pytest.raises(TransportError, match=reason) as error:
        adapter.fetch("orders", {})

    assert error.value.permanent is False


@responses.activate
def test_next_link_without_page_info_is_refused(adapter):
    responses.get(
        f"{BASE}/orders.json",
        json={"orders": []},
        headers={"Link": f'<{BASE}/orders.json?limit=2>; rel="next"'},
    )

    with pytest.raises(TransportError, match="without a page_info") as error:
        adapter.fetch("orders", {})

    assert error.value.permanent is True
