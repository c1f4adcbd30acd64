"""SquareAdapter: mapping against Square's own example payloads, fetching at the HTTP seam.

No database: the adapter is pure apart from HTTP, which ``responses`` mocks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from decimal import Decimal

import pytest
import responses
from pydantic import ValidationError
from responses import matchers

from integrations.adapters.base import WebhookSignatureError
from integrations.adapters.square import (
    SquareAdapter,
    map_customer,
    map_location,
    map_order,
    map_payment,
    map_stock,
)
from integrations.adapters.square_mapping import parse_time
from integrations.http import TransportError
from integrations.records import (
    CustomerRecord,
    LineRecord,
    LocationRecord,
    MappingError,
    OrderPaymentRecord,
    PaymentRecord,
    StockRecord,
)
from tests.vendor_fixtures import load

from .helpers import make_adapter, utc

BASE = "https://connect.squareup.com"
TOKEN = "sq_test"
HOOK_URL = "https://omnidesk.example/hooks/square"


def order_fixture(name: str = "order_pay_completed_with_tenders") -> dict:
    return load("square", name)["order"]


def visa_sale(payment_id: str, receipt: str, amount: str, processed_at: datetime) -> PaymentRecord:
    """A captured sale in USD on Square's test VISA card (…1111), as in Square's examples."""
    return PaymentRecord(
        external_id=payment_id,
        kind="sale",
        status="success",
        amount=Decimal(amount),
        currency="USD",
        gateway="card",
        card_brand="VISA",
        card_last4="1111",
        receipt_number=receipt,
        processed_at=processed_at,
    )


def till_line(uid: str, sku: str, name: str, quantity: int, price: str) -> LineRecord:
    """A line of the till sale example, sold at its location P3CCK6HSNDAS7."""
    return LineRecord(
        external_id=uid, sku=sku, name=name, quantity=quantity, unit_price=Decimal(price), location_id="P3CCK6HSNDAS7"
    )


def location_payload(name: str = "Downtown", location_id: str = "L8XDOWNTOWN01") -> dict:
    """A Location as ``GET /v2/locations`` lists it (the spec's example has no location list)."""
    return {
        "id": location_id,
        "name": name,
        "address": {
            "address_line_1": "120 Broadway",
            "locality": "New York",
            "administrative_district_level_1": "NY",
            "postal_code": "10271",
            "country": "US",
        },
        "timezone": "America/New_York",
        "status": "ACTIVE",
        "type": "PHYSICAL",
    }


def pickup(state: str, **details) -> dict:
    recipient = {
        "display_name": "Jenkins Smorly",
        "email_address": "jenkins+smorly@squareup.com",
        "phone_number": "+1-347-794-7111",
    }
    return {
        "uid": "VWJ1N9leLqjSDLvF2hvYjD",
        "type": "PICKUP",
        "state": state,
        "pickup_details": {"recipient": recipient, **details},
    }


def web_pickup_order(state: str = "PROPOSED", order_state: str = "OPEN", **details) -> dict:
    """A web order mirrored to the POS for pickup: a reference, a pickup, no tender."""
    order = order_fixture()
    del order["tenders"], order["closed_at"]
    order.update(state=order_state, reference_id="#1001")
    order["fulfillments"] = [pickup(state, pickup_at="2019-08-08T16:00:00Z", **details)]
    return order


@pytest.fixture
def vector() -> dict:
    return load("square", "webhook_signature_test_vector")


@pytest.fixture
def adapter(vector) -> SquareAdapter:
    return make_adapter(SquareAdapter, BASE, access_token=TOKEN, webhook_signature_key=vector["signature_key"])


# -- identity ---------------------------------------------------------------------------------
def test_adapter_declares_its_contract_and_sends_bearer_and_version():
    assert (SquareAdapter.name, SquareAdapter.kind) == ("square", "pos")
    assert SquareAdapter.streams == ("locations", "customers", "orders", "payments", "inventory")
    assert SquareAdapter.required_credentials == ("access_token",)
    assert SquareAdapter.optional_credentials == ("webhook_signature_key", "notification_url")
    with pytest.raises(ValueError, match="access_token"):
        SquareAdapter(base_url=BASE, credentials={})

    headers = SquareAdapter(base_url=BASE, credentials={"access_token": TOKEN}).client.headers

    assert headers["Authorization"] == "Bearer sq_test"
    assert headers["Square-Version"] == "2025-08-20"
    assert headers["Content-Type"] == "application/json"


def test_external_ids(adapter):
    count = load("square", "inventory_counts_batch_retrieve_response")["counts"][0]

    assert adapter.external_id("orders", order_fixture()) == "lgwOlEityYPJtcuvKTVKT1pA986YY"
    assert adapter.external_id("inventory", count) == "W62UWFY35CWMYGVWK6TWJDNI:59TNP9SA8VGDA"
    assert adapter.external_id("inventory", {"location_id": "59TNP9SA8VGDA"}) == ""
    assert adapter.external_id("payments", {"id": ""}) == ""
    assert adapter.external_id("orders", ["not", "a", "dict"]) == ""


# -- orders -------------------------------------------------------------------------------------
def test_completed_till_sale_with_two_card_tenders_maps_every_field():
    record = map_order(order_fixture())

    assert record.external_id == "lgwOlEityYPJtcuvKTVKT1pA986YY"
    assert record.number == "EnZd"  # receipt number: first four characters of the payment id
    assert record.references == []
    assert (record.channel, record.fulfilment, record.location_id) == (
        "store",
        "carry_out",
        "P3CCK6HSNDAS7",
    )
    assert (record.raw_status, record.status) == ("COMPLETED", "collected")
    assert record.placed_at == utc(2019, 8, 6, 2, 47, 35, 693000)
    assert record.updated_at == utc(2019, 8, 6, 2, 47, 37, 140000)
    assert (record.cancelled_at, record.promised_by) == (None, None)
    assert (record.currency, record.total) == ("USD", Decimal("20.00"))
    assert (record.email, record.phone, record.customer) == ("", "", None)
    assert record.lines == [
        till_line("QW6kofLHJK7JEKMjlSVP5C", "square-line-QW6kofLHJK7JEKMjlSVP5C", "Item 1", 1, "5.00"),
        till_line("zhw8MNfRGdFQMI2WE1UBJD", "square-line-zhw8MNfRGdFQMI2WE1UBJD", "Item 2", 2, "7.50"),
    ]
    assert record.payments == [
        visa_sale("EnZdNAlWCmfh6Mt5FMNST1o7taB", "EnZd", "10.00", utc(2019, 8, 6, 2, 47, 36, 293000)),
        visa_sale("0LRiVlbXVwe8ozu4KbZxd12mvaB", "0LRi", "10.00", utc(2019, 8, 6, 2, 47, 36, 809000)),
    ]
    assert "sq-1-n_BL15KP87" not in record.model_dump_json()  # no card fingerprint


def test_open_order_from_the_create_example():
    record = map_order(order_fixture("order_create_response"))

    assert record.external_id == "CAISENgvlJ6jLWAzERDzjyHVybY"
    assert (record.number, record.references) == ("my-order-001", ["my-order-001"])
    assert (record.channel, record.fulfilment) == ("store", "carry_out")
    assert (record.raw_status, record.status) == ("OPEN", "placed")
    assert (record.currency, record.total) == ("USD", Decimal("61.76"))
    assert [(x.sku, x.name, x.quantity, x.unit_price) for x in record.lines] == [
        ("square-line-8uSwfzvUImn3IRrvciqlXC", "New York Strip Steak", 1, Decimal("15.99")),
        ("BEMYCSMIJL46OCDV4KYIKXIB", "New York Steak - Larger", 2, Decimal("22.00")),
    ]
    assert record.payments == []


def test_web_order_mirrored_for_pickup_links_by_reference_and_names_the_recipient():
    record = map_order(web_pickup_order("RESERVED"))

    assert (record.number, record.references, record.channel) == ("#1001", ["#1001"], "web")
    assert (record.fulfilment, record.raw_status, record.status) == (
        "pickup",
        "OPEN/RESERVED",
        "assigned",
    )
    assert record.promised_by == utc(2019, 8, 8, 16)
    assert (record.email, record.phone) == ("jenkins+smorly@squareup.com", "+1-347-794-7111")
    assert record.customer is None


@pytest.mark.parametrize(
    ("order_state", "fulfilment_state", "tendered", "status"),
    [
        ("OPEN", "PROPOSED", False, "placed"),
        ("OPEN", "PROPOSED", True, "paid"),
        ("OPEN", "RESERVED", False, "assigned"),
        ("OPEN", "PREPARED", False, "ready_for_pickup"),
        ("COMPLETED", "COMPLETED", False, "collected"),
        ("OPEN", "CANCELED", False, "cancelled"),
        ("OPEN", "FAILED", False, "cancelled"),
        ("CANCELED", "PREPARED", False, "cancelled"),
        ("COMPLETED", None, True, "collected"),
        ("OPEN", None, True, "paid"),
        ("OPEN", None, False, "placed"),
        ("DRAFT", None, False, "placed"),
    ],
)
def test_status_normalisation_table(order_state, fulfilment_state, tendered, status):
    order = web_pickup_order(fulfilment_state or "PROPOSED", order_state)
    if fulfilment_state is None:
        del order["fulfillments"]
    if tendered:
        order["tenders"] = order_fixture()["tenders"]

    assert map_order(order).status == status


def test_cancelled_pickup_takes_its_cancel_time_else_the_order_update():
    cancelled = map_order(web_pickup_order("CANCELED", canceled_at="2019-08-07T09:00:00.5Z"))
    order = web_pickup_order("PROPOSED", "CANCELED")

    assert cancelled.cancelled_at == utc(2019, 8, 7, 9, 0, 0, 500000)
    assert map_order(order).cancelled_at == utc(2019, 8, 6, 2, 47, 37, 140000)


@pytest.mark.parametrize(
    ("kind", "state", "status"),
    [
        ("SHIPMENT", "PREPARED", "packed"),
        ("SHIPMENT", "COMPLETED", "handed_to_carrier"),
        ("DELIVERY", "COMPLETED", "delivered"),
    ],
)
def test_shipment_and_delivery_fulfilments(kind, state, status):
    order = order_fixture()
    order["fulfillments"] = [{"uid": "f1", "type": kind, "state": state}]

    record = map_order(order)

    assert (record.fulfilment, record.status) == (
        {"SHIPMENT": "ship", "DELIVERY": "delivery"}[kind],
        status,
    )


@pytest.mark.parametrize(
    ("card_status", "kind", "status"),
    [
        ("AUTHORIZED", "authorization", "success"),
        ("VOIDED", "authorization", "failure"),
        ("FAILED", "sale", "failure"),
    ],
)
def test_tender_card_statuses(card_status, kind, status):
    order = order_fixture()
    order["tenders"][0]["card_details"]["status"] = card_status

    payment = map_order(order).payments[0]

    assert (payment.kind, payment.status) == (kind, status)


def test_cash_tender_is_a_sale_and_no_sale_is_skipped():
    order = order_fixture()
    cash, no_sale = order["tenders"]
    del cash["card_details"]
    cash.update(type="CASH", payment_id=None, id="CASHTENDER1")
    no_sale.update(type="NO_SALE", amount_money={"amount": 0, "currency": "USD"})

    record = map_order(order)

    assert [(p.external_id, p.kind, p.gateway, p.receipt_number) for p in record.payments] == [
        ("CASHTENDER1", "sale", "cash", "")
    ]
    assert record.number == ""  # no payment id to read a receipt number from, no reference


def test_full_refund_makes_a_till_sale_refunded():
    order = order_fixture()
    order["refunds"] = [
        {
            "id": "R1",
            "tender_id": "EnZdNAlWCmfh6Mt5FMNST1o7taB",
            "created_at": "2019-08-07T10:00:00Z",
            "amount_money": {"amount": 2000, "currency": "USD"},
            "status": "APPROVED",
        }
    ]

    record = map_order(order)

    assert record.status == "refunded"
    assert record.payments[-1] == PaymentRecord(
        external_id="R1",
        kind="refund",
        status="success",
        amount=Decimal("20.00"),
        currency="USD",
        processed_at=utc(2019, 8, 7, 10),
    )
    order["refunds"][0]["status"] = "PENDING"
    assert map_order(order).status == "collected"


@pytest.mark.parametrize(
    ("currency", "amount", "expected"),
    [("USD", 1599, "15.99"), ("EUR", 5, "0.05"), ("GBP", 100, "1.00"), ("JPY", 1599, "1599")],
)
def test_money_is_minor_units_by_currency_exponent(currency, amount, expected):
    order = order_fixture()
    order["total_money"] = {"amount": amount, "currency": currency}

    record = map_order(order)

    assert (record.total, record.currency) == (Decimal(expected), currency)


def test_line_sku_prefers_metadata_then_the_catalog_sku_then_the_variation():
    order = order_fixture()
    first, second = order["line_items"]
    first.update(catalog_object_id="VARIATION1", metadata={"sku": "KIT-001-RED"})
    second.update(catalog_object_id="VARIATION2", omnidesk_sku="HOM-002-BLU")
    third = {**second, "uid": "u3", "catalog_object_id": "VARIATION3", "variation_name": "Regular"}
    del third["omnidesk_sku"]
    order["line_items"].append(third)

    lines = map_order(order).lines

    assert [(x.sku, x.name) for x in lines] == [
        ("KIT-001-RED", "Item 1"),
        ("HOM-002-BLU", "Item 2"),
        ("VARIATION3", "Item 2"),  # Square's default variation name is not repeated
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"state": "SHIPPED"}, r"order\.state 'SHIPPED' is not one of"),
        ({"id": None}, r"order\.id is missing"),
        ({"created_at": None}, r"order\.created_at is missing"),
        ({"created_at": "2019-08-06 02:47"}, r"order\.created_at has no UTC offset"),
        ({"updated_at": "yesterday"}, r"order\.updated_at is not an RFC 3339 date-time"),
        ({"total_money": None}, r"order\.total_money is missing"),
        ({"total_money": {"amount": "20.00", "currency": "USD"}}, r"total_money\.amount must be"),
        ({"total_money": {"amount": 2000.0, "currency": "USD"}}, r"total_money\.amount must be"),
        ({"total_money": {"amount": 2000, "currency": "usd"}}, r"currency is not an ISO 4217"),
        ({"line_items": "Item 1"}, r"order\.line_items must be a list, got str"),
        ({"fulfillments": [{"type": "PICKUP"}]}, r"fulfillments\[0\]\.state '' is not one of"),
    ],
)
def test_malformed_order_raises_naming_the_field(change, reason):
    order = order_fixture()
    order.update(change)

    with pytest.raises(MappingError, match=reason):
        map_order(order)


@pytest.mark.parametrize(
    ("where", "key", "value", "reason"),
    [
        (
            "line_items",
            "quantity",
            "1.5",
            r"order\.line_items\[0\]\.quantity '1\.5' is not a whole",
        ),
        ("line_items", "quantity", 1, r"order\.line_items\[0\]\.quantity must be a decimal string"),
        ("line_items", "quantity", "one", r"order\.line_items\[0\]\.quantity is not a quantity"),
        ("line_items", "base_price_money", None, r"line_items\[0\]\.base_price_money is missing"),
        ("tenders", "amount_money", {"amount": 1000}, r"tenders\[0\]\.amount_money\.currency"),
    ],
)
def test_malformed_nested_part_raises_naming_its_path(where, key, value, reason):
    order = order_fixture()
    order[where][0][key] = value

    with pytest.raises(MappingError, match=reason):
        map_order(order)


def test_unknown_card_status_raises_and_negative_money_is_refused():
    order = order_fixture()
    order["tenders"][0]["card_details"]["status"] = "PENDING"
    with pytest.raises(MappingError, match=r"card_details\.status 'PENDING' is not one of"):
        map_order(order)

    order = order_fixture()
    order["line_items"][0]["base_price_money"]["amount"] = -500
    with pytest.raises(ValidationError, match="unit_price"):
        map_order(order)


def test_the_search_entries_form_is_not_an_order():
    entry = load("square", "orders_search_response")["order_entries"][0]

    with pytest.raises(MappingError, match=r"order\.state '' is not one of"):
        map_order(entry)


# -- payments, customers, stock, locations ---------------------------------------------------------
def test_payment_fixture_maps_to_an_order_payment():
    record = map_payment(load("square", "payment_get_response")["payment"])

    assert record == OrderPaymentRecord(
        external_id="bP9mAsEMYPUGjjGNaNO5ZDVyLhSZY",
        order_external_id="d7eKah653Z579f3gVtjlxpSlmUcZY",
        payment=visa_sale("bP9mAsEMYPUGjjGNaNO5ZDVyLhSZY", "bP9m", "5.55", utc(2021, 10, 13, 19, 34, 33, 524000)),
        updated_at=utc(2021, 10, 13, 19, 34, 34, 339000),
    )
    assert "411111" not in record.model_dump_json()  # the card's BIN is not kept


@pytest.mark.parametrize(
    ("status", "kind", "result"),
    [
        ("APPROVED", "authorization", "success"),
        ("PENDING", "sale", "pending"),
        ("CANCELED", "authorization", "failure"),
        ("FAILED", "sale", "failure"),
    ],
)
def test_payment_statuses(status, kind, result):
    payment = load("square", "payment_get_response")["payment"]
    payment["status"] = status

    assert (map_payment(payment).payment.kind, map_payment(payment).payment.status) == (
        kind,
        result,
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"order_id": None}, r"payment\.order_id is missing"),
        ({"status": "REFUNDED"}, r"payment\.status 'REFUNDED' is not one of"),
        ({"total_money": None, "amount_money": None}, r"payment\.amount_money is missing"),
    ],
)
def test_malformed_payment_raises(change, reason):
    payment = load("square", "payment_get_response")["payment"]
    payment.update(change)

    with pytest.raises(MappingError, match=reason):
        map_payment(payment)


def test_customers_keep_square_phone_formats_and_reference_as_loyalty_id():
    searched = [map_customer(c) for c in load("square", "customers_search_response")["customers"]]
    retrieved = map_customer(load("square", "customer_retrieve_response")["customer"])

    assert searched == [
        CustomerRecord(
            external_id="JDKYHBWT1D4F8MFH63DBMEN8Y4",
            name="James Bond",
            emails=["james.bond@example.com"],
            phones=["+1-212-555-4250"],
            loyalty_id="YOUR_REFERENCE_ID_2",
            verified=["email", "phone"],  # a POS customer record vouches for both
            updated_at=utc(2020, 4, 20, 10, 2, 43, 83000),
        ),
        CustomerRecord(
            external_id="A9641GZW2H7Z56YYSD41Q12HDW",
            name="Amelia Earhart",
            emails=["amelia.earhart@example.com"],
            phones=["+1-212-555-9238"],
            loyalty_id="YOUR_REFERENCE_ID_1",
            verified=["email", "phone"],  # a POS customer record vouches for both
            updated_at=utc(2018, 3, 8, 18, 25, 21, 342000),
        ),
    ]
    assert (retrieved.emails, retrieved.phones, retrieved.loyalty_id) == (
        ["Amelia.Earhart@example.com"],
        ["+1-212-555-4240"],
        "YOUR_REFERENCE_ID",
    )
    with pytest.raises(MappingError, match=r"customer\.email_address must be a string"):
        map_customer({"id": "C1", "email_address": ["a@b.c"]})


def test_inventory_count_fixtures_map_to_stock():
    count = load("square", "inventory_counts_batch_retrieve_response")["counts"][0]
    change = load("square", "inventory_changes_batch_retrieve_response")["changes"][0]

    assert map_stock(count) == StockRecord(
        sku="W62UWFY35CWMYGVWK6TWJDNI",
        location_id="59TNP9SA8VGDA",
        on_hand=79,
        counted_at=utc(2016, 11, 16, 22, 28, 1, 223000),
    )
    assert map_stock({**count, "omnidesk_sku": "KIT-001-RED"}).sku == "KIT-001-RED"
    # A physical count (the changes endpoint, not a stream) has the same key and string quantity.
    assert map_stock(change["physical_count"]) == StockRecord(
        sku="W62UWFY35CWMYGVWK6TWJDNI", location_id="C6W5YS5QM06F5", on_hand=86
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"quantity": "7.5"}, r"count\.quantity '7\.5' is not a whole number"),
        ({"state": "SOLD"}, r"count\.state 'SOLD' is not IN_STOCK"),
        ({"catalog_object_id": None}, r"count\.catalog_object_id is missing"),
    ],
)
def test_malformed_count_raises(change, reason):
    count = load("square", "inventory_counts_batch_retrieve_response")["counts"][0]
    count.update(change)

    with pytest.raises(MappingError, match=reason):
        map_stock(count)


def test_oversold_count_stays_negative():
    count = load("square", "inventory_counts_batch_retrieve_response")["counts"][0]

    assert map_stock({**count, "quantity": "-2"}).on_hand == -2


def test_locations_slug_their_name_and_spot_the_warehouse():
    assert map_location(location_payload()) == LocationRecord(
        external_id="L8XDOWNTOWN01",
        name="Downtown",
        code="downtown",
        kind="store",
        timezone="America/New_York",
        address="120 Broadway, New York, NY, 10271",
    )
    warehouse = map_location(location_payload("Central WAREHOUSE"))
    assert (warehouse.code, warehouse.kind) == ("central-warehouse", "warehouse")
    assert map_location(location_payload("A" * 40)).code == "a" * 32
    with pytest.raises(MappingError, match=r"location\.name '東京' yields no store code"):
        map_location(location_payload("東京"))


def test_rfc3339_with_nanoseconds_parses_to_utc_microseconds():
    event = load("square", "webhook_event_inventory_count_updated")

    assert parse_time(event["created_at"], "created_at") == utc(2019, 10, 29, 18, 38, 45, 455006)
    assert parse_time("2020-04-16T19:16:30.789-04:00", "t") == utc(2020, 4, 16, 23, 16, 30, 789000)


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
        verified=["email", "phone"],
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


# -- fetching ------------------------------------------------------------------------------------------
def _paged(order_id: str, updated_at: str) -> dict:
    return {**order_fixture(), "id": order_id, "updated_at": updated_at}


@responses.activate
def test_orders_search_all_locations_and_walk_pages_to_the_watermark(adapter):
    page_cursor = load("square", "orders_search_response")["cursor"]
    responses.get(
        f"{BASE}/v2/locations",
        match=[matchers.header_matcher({"Authorization": "Bearer sq_test"})],
        json={"locations": [location_payload("Riverside", "L2"), location_payload("Downtown", "L1")]},
    )
    query = {
        "filter": {
            "state_filter": {"states": ["OPEN", "COMPLETED", "CANCELED"]},
            "date_time_filter": {"updated_at": {"start_at": "2019-08-01T00:00:00+00:00"}},
        },
        "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
    }
    first_body = {"location_ids": ["L1", "L2"], "limit": 2, "query": query}
    responses.post(
        f"{BASE}/v2/orders/search",
        match=[matchers.json_params_matcher(first_body)],
        json={
            "orders": [
                _paged("A", "2019-08-06T02:47:37.140Z"),
                _paged("B", "2019-08-06T03:00:00Z"),
            ],
            "cursor": page_cursor,
        },
    )
    responses.post(
        f"{BASE}/v2/orders/search",
        match=[matchers.json_params_matcher({**first_body, "cursor": page_cursor})],
        json={"orders": [_paged("C", "2019-08-07T09:15:00.000000001Z")]},
    )

    first = adapter.fetch("orders", {"start_at": "2019-08-01T00:00:00+00:00"})
    second = adapter.fetch("orders", first.cursor)

    assert ([o["id"] for o in first.items], first.has_more) == (["A", "B"], True)
    assert first.cursor == {
        "start_at": "2019-08-01T00:00:00+00:00",
        "cursor": "123",
        "watermark": "2019-08-06T03:00:00+00:00",
    }
    assert ([o["id"] for o in second.items], second.has_more) == (["C"], False)
    assert second.cursor == {"start_at": "2019-08-07T09:15:00+00:00"}
    assert len(responses.calls) == 3  # the locations were fetched once


@responses.activate
def test_more_than_ten_locations_are_searched_in_groups(adapter):
    adapter.page_size = 1000
    ids = [f"L{n:02d}" for n in range(12)]
    responses.get(
        f"{BASE}/v2/locations",
        json={"locations": [location_payload(f"Store {i}", i) for i in ids]},
    )
    base_query = {
        "filter": {"state_filter": {"states": ["OPEN", "COMPLETED", "CANCELED"]}},
        "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
    }
    for group, order in ((ids[:10], _paged("A", "2019-08-06T02:00:00Z")), (ids[10:], None)):
        responses.post(
            f"{BASE}/v2/orders/search",
            match=[
                matchers.json_params_matcher({"location_ids": group, "limit": 500, "query": base_query})
            ],  # fmt: skip
            json={"orders": [order]} if order else {},
        )

    first = adapter.fetch("orders", {})
    second = adapter.fetch("orders", first.cursor)

    assert (len(first.items), first.has_more, first.cursor) == (
        1,
        True,
        {"watermark": "2019-08-06T02:00:00+00:00", "batch": 1},
    )
    assert (second.items, second.has_more, second.cursor) == (
        [],
        False,
        {"start_at": "2019-08-06T02:00:00+00:00"},
    )


@responses.activate
def test_customers_search_by_creation_with_the_bound_held_back_a_minute(adapter):
    answer = load("square", "customers_search_response")
    body = {
        "limit": 2,
        "query": {
            "sort": {"field": "CREATED_AT", "order": "ASC"},
            "filter": {"updated_at": {"start_at": "2018-01-01T11:59:00+00:00"}},
        },
    }
    responses.post(f"{BASE}/v2/customers/search", match=[matchers.json_params_matcher(body)], json=answer)  # fmt: skip
    responses.post(
        f"{BASE}/v2/customers/search",
        match=[matchers.json_params_matcher({**body, "cursor": "9dpS093Uy12AzeE"})],
        json={},
    )

    first = adapter.fetch("customers", {"start_at": "2018-01-01T12:00:00+00:00"})
    second = adapter.fetch("customers", first.cursor)

    assert first.cursor == {
        "start_at": "2018-01-01T12:00:00+00:00",
        "cursor": "9dpS093Uy12AzeE",
        "watermark": "2020-04-20T10:02:43.083000+00:00",
    }
    assert (second.items, second.cursor, second.has_more) == (
        [],
        {"start_at": "2020-04-20T10:02:43.083000+00:00"},
        False,
    )


@responses.activate
def test_payments_list_by_update_time(adapter):
    payment = load("square", "payment_get_response")["payment"]
    responses.get(
        f"{BASE}/v2/payments",
        match=[matchers.query_param_matcher({"sort_field": "UPDATED_AT", "sort_order": "ASC", "limit": "2"})],
        json={"payments": [payment]},
    )

    page = adapter.fetch("payments", {})

    assert (page.items, page.has_more) == ([payment], False)
    assert page.cursor == {"start_at": "2021-10-13T19:34:34.339000+00:00"}
    responses.get(
        f"{BASE}/v2/payments",
        match=[
            matchers.query_param_matcher(
                {
                    "sort_field": "UPDATED_AT",
                    "sort_order": "ASC",
                    "limit": "2",
                    "updated_at_begin_time": page.cursor["start_at"],
                    "cursor": "next",
                }
            )
        ],
        json={},
    )
    assert adapter.fetch("payments", {**page.cursor, "cursor": "next"}).cursor == page.cursor


@responses.activate
def test_inventory_counts_get_their_skus_from_the_catalog_read_once(adapter):
    adapter.page_size = 5000
    counts = load("square", "inventory_counts_batch_retrieve_response")
    responses.post(
        f"{BASE}/v2/inventory/counts/batch-retrieve",
        match=[
            matchers.json_params_matcher(
                {
                    "states": ["IN_STOCK"],
                    "limit": 1000,
                    "updated_after": "2016-11-16T22:28:01.222000+00:00",
                }
            )
        ],
        json=counts,
    )
    responses.get(
        f"{BASE}/v2/catalog/list",
        match=[matchers.query_param_matcher({"types": "ITEM_VARIATION"})],
        json={
            "objects": [{"type": "ITEM_VARIATION", "id": "OTHER", "item_variation_data": {"sku": "X"}}],
            "cursor": "c2",
        },  # fmt: skip
    )
    responses.get(
        f"{BASE}/v2/catalog/list",
        match=[matchers.query_param_matcher({"types": "ITEM_VARIATION", "cursor": "c2"})],
        json={
            "objects": [
                {
                    "type": "ITEM_VARIATION",
                    "id": "W62UWFY35CWMYGVWK6TWJDNI",
                    "item_variation_data": {"sku": " KIT-001-RED "},
                }
            ]
        },  # fmt: skip
    )

    cursor = {"start_at": "2016-11-16T22:28:01.223000+00:00"}
    page = adapter.fetch("inventory", cursor)
    again = adapter.fetch("inventory", cursor)

    assert page.items == [{**counts["counts"][0], "omnidesk_sku": "KIT-001-RED"}]
    assert adapter.map("inventory", page.items[0]).sku == "KIT-001-RED"
    assert (page.cursor, page.has_more) == (cursor, False)
    assert again.items == page.items
    assert [c.request.url.split("?")[0].rsplit("/", 1)[-1] for c in responses.calls] == [
        "batch-retrieve", "list", "list", "batch-retrieve",
    ]  # fmt: skip


@responses.activate
def test_order_lines_with_a_metadata_sku_need_no_catalog(adapter):
    order = _paged("A", "2019-08-06T02:47:37.140Z")
    for line in order["line_items"]:
        line.update(catalog_object_id="V1", metadata={"sku": "KIT-001-RED"})
    responses.get(f"{BASE}/v2/locations", json={"locations": [location_payload()]})
    responses.post(f"{BASE}/v2/orders/search", json={"orders": [order]})

    page = adapter.fetch("orders", {})

    assert page.items == [order]
    assert len(responses.calls) == 2


@responses.activate
def test_locations_are_one_page_and_square_answers_empty_as_an_empty_object(adapter):
    responses.get(f"{BASE}/v2/locations", json={})

    page = adapter.fetch("locations", {})

    assert (page.items, page.cursor, page.has_more) == ([], {}, False)
    assert adapter.fetch("orders", {"start_at": "2019-08-01T00:00:00+00:00"}).cursor == {
        "start_at": "2019-08-01T00:00:00+00:00"
    }  # no location: nothing to search


def test_unknown_stream_is_refused(adapter):
    with pytest.raises(ValueError, match="no stream 'catalog'"):
        adapter.fetch("catalog", {})
    with pytest.raises(MappingError, match="does not map stream 'catalog'"):
        adapter.map("catalog", {})


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"errors": [{"code": "INTERNAL_SERVER_ERROR"}]}, "answered errors"),
        ({"payments": {"id": "x"}}, "not a list"),
        (["not", "an", "object"], "not a JSON object"),
    ],
)
@responses.activate
def test_an_unusable_answer_is_a_transient_transport_error(adapter, body, reason):
    responses.get(f"{BASE}/v2/payments", json=body)

    with pytest.raises(TransportError, match=reason) as error:
        adapter.fetch("payments", {})

    assert error.value.permanent is False


@responses.activate
def test_refused_token_is_permanent(adapter):
    responses.get(
        f"{BASE}/v2/payments",
        status=401,
        json={"errors": [{"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED"}]},
    )

    with pytest.raises(TransportError) as error:
        adapter.fetch("payments", {})

    assert (error.value.permanent, error.value.status, len(responses.calls)) == (True, 401, 1)
