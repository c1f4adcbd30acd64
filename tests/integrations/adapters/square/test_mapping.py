"""Mapping: orders, payments, customers, stock and locations from the real payloads.

SquareAdapter: mapping against Square's own example payloads, fetching at the HTTP seam.

No database: the adapter is pure apart from HTTP, which ``responses`` mocks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from integrations.adapters.square import (
    SquareAdapter,
    map_customer,
    map_location,
    map_order,
    map_payment,
    map_stock,
)
from integrations.adapters.square_mapping import parse_time
from integrations.records import (
    CustomerRecord,
    LocationRecord,
    MappingError,
    OrderPaymentRecord,
    OrderReturnRecord,
    PaymentRecord,
    ReturnRecord,
    StockRecord,
)
from tests.vendor_fixtures import load

from ..helpers import utc
from .support import (
    BASE,
    TOKEN,
    location_payload,
    order_fixture,
    return_order,
    till_line,
    visa_sale,
    web_pickup_order,
)


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


def ach_tender(status: str) -> dict:
    """A BANK_ACCOUNT (ACH) tender for the till sale's $20.00: ``bank_account_details.status`` is its state."""
    return {
        "id": "ACHPAY0001",
        "payment_id": "ACHPAY0001",
        "location_id": "P3CCK6HSNDAS7",
        "created_at": "2019-08-06T02:47:36.293Z",
        "amount_money": {"amount": 2000, "currency": "USD"},
        "type": "BANK_ACCOUNT",
        "bank_account_details": {"status": status},
    }


@pytest.mark.parametrize(
    ("ach_status", "payment", "order_status"),
    [
        ("PENDING", ("sale", "pending"), "placed"),
        ("FAILED", ("sale", "failure"), "placed"),
        ("COMPLETED", ("sale", "success"), "paid"),
    ],
)
def test_a_bank_account_tender_is_paid_only_once_completed(ach_status, payment, order_status):
    """An ACH payment takes days: PENDING or FAILED is no money arrived, and an open order is not paid."""
    order = order_fixture()
    order["state"] = "OPEN"
    order["tenders"] = [ach_tender(ach_status)]

    record = map_order(order)

    assert [(p.external_id, p.kind, p.status, p.amount, p.gateway) for p in record.payments] == [
        ("ACHPAY0001", *payment, Decimal("20.00"), "bank_account")
    ]
    assert record.status == order_status


@pytest.mark.parametrize("details", ["square_account_details", "buy_now_pay_later_details"])
@pytest.mark.parametrize(
    ("details_status", "payment", "order_status"),
    [
        ("AUTHORIZED", ("authorization", "success"), "placed"),
        ("VOIDED", ("authorization", "failure"), "placed"),
        ("FAILED", ("sale", "failure"), "placed"),
        ("CAPTURED", ("sale", "success"), "paid"),
    ],
)
def test_square_account_and_pay_later_tenders_read_their_status_as_a_card(
    details, details_status, payment, order_status
):
    order = order_fixture()
    order["state"] = "OPEN"
    tender = ach_tender("COMPLETED")
    del tender["bank_account_details"]
    tender.update(type=details.removesuffix("_details").upper(), **{details: {"status": details_status}})
    order["tenders"] = [tender]

    record = map_order(order)

    assert [(p.kind, p.status) for p in record.payments] == [payment]
    assert record.status == order_status


def test_a_tender_whose_state_is_missing_or_unknown_raises():
    """Counting it paid would be a guess: the order is dead-lettered with the reason instead."""
    order = order_fixture()
    order["tenders"] = [ach_tender("PENDING")]
    del order["tenders"][0]["bank_account_details"]
    with pytest.raises(MappingError, match=r"tenders\[0\]\.bank_account_details is missing: a BANK_ACCOUNT"):
        map_order(order)

    order["tenders"] = [ach_tender("CAPTURED")]
    with pytest.raises(MappingError, match=r"bank_account_details\.status 'CAPTURED' is not one of"):
        map_order(order)

    order["tenders"] = [{**ach_tender("COMPLETED"), "card_details": {"status": "CAPTURED"}}]
    with pytest.raises(MappingError, match=r"tenders\[0\] has card_details and bank_account_details"):
        map_order(order)


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
    ("refund_status", "refund", "returned"), [("COMPLETED", "success", "refunded"), ("PENDING", "pending", "received")]
)
def test_a_return_order_is_the_refund_and_return_of_the_sale_it_names(refund_status, refund, returned):
    """Square puts an itemized or custom refund on a new order, total 0: it is not a purchase of its own."""
    record = map_order(return_order("lgwOlEityYPJtcuvKTVKT1pA986YY", refund_status))

    assert record == OrderReturnRecord(
        external_id="RETURN_ORDER_1",
        order_external_id="lgwOlEityYPJtcuvKTVKT1pA986YY",
        refunds=[
            PaymentRecord(
                external_id="EnZdNAlWCmfh6Mt5FMNST1o7taB_refund1",
                kind="refund",
                status=refund,
                amount=Decimal("5.00"),
                currency="USD",
                processed_at=utc(2019, 8, 7, 10, 5),
            )
        ],
        returns=[
            ReturnRecord(
                external_id="ret-1",
                status=returned,
                line_skus=["square-line-QW6kofLHJK7JEKMjlSVP5C"],  # the sold line's SKU, by its uid
                amount=Decimal("5.00"),
                requested_at=utc(2019, 8, 7, 10),
                received_at=utc(2019, 8, 7, 10),
                refunded_at=utc(2019, 8, 7, 10, 5) if refund == "success" else None,
            )
        ],
        updated_at=utc(2019, 8, 7, 10, 5),
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"line_items": order_fixture()["line_items"][:1]}, r"an exchange is not mapped"),
        ({"returns": [{"uid": "ret-1", "return_line_items": []}]}, r"source_order_id is missing: an unlinked"),
        (
            {"returns": [{"uid": "r1", "source_order_id": "A"}, {"uid": "r2", "source_order_id": "B"}]},
            r"returns goods from 2 orders",
        ),
        ({"refunds": [{"id": "R1", "status": "DONE"}]}, r"refunds\[0\]\.amount_money is missing"),
    ],
    ids=["exchange", "unlinked", "two-sources", "malformed-refund"],
)
def test_a_return_order_that_cannot_be_put_on_one_sale_raises(change, reason):
    with pytest.raises(MappingError, match=reason):
        map_order(return_order("lgwOlEityYPJtcuvKTVKT1pA986YY", **change))


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


# -- a line sold by measure (rope by the foot, nails by the kg) ---------------------------------
@pytest.mark.parametrize(
    ("quantity", "quantity_unit", "expected"),
    [
        ("2.5", {"measurement_unit": {"length_unit": "IMPERIAL_FOOT"}, "precision": 1}, (Decimal("2.5"), "ft")),
        ("2.500", {"measurement_unit": {"length_unit": "METRIC_METER"}, "precision": 3}, (Decimal("2.5"), "m")),
        ("0.75", {"measurement_unit": {"weight_unit": "METRIC_KILOGRAM"}, "precision": 2}, (Decimal("0.75"), "kg")),
        ("3", {"measurement_unit": {"weight_unit": "IMPERIAL_POUND"}, "precision": 0}, (Decimal(3), "lb")),
        ("1.5", {"measurement_unit": {"volume_unit": "METRIC_LITER"}, "precision": 1}, (Decimal("1.5"), "l")),
        (
            "12.25",
            {"measurement_unit": {"area_unit": "IMPERIAL_SQUARE_FOOT"}, "precision": 2},
            (Decimal("12.25"), "sq ft"),
        ),
        (
            "4.5",
            {"measurement_unit": {"custom_unit": {"name": "Bundle", "abbreviation": "bdl"}, "type": "TYPE_CUSTOM"}},
            (Decimal("4.5"), "bdl"),
        ),
        ("2", {"measurement_unit": {"custom_unit": {"name": "Sack"}}, "precision": 0}, (Decimal(2), "Sack")),
        ("1", {"measurement_unit": {"generic_unit": "UNIT"}, "precision": 0}, (Decimal(1), "")),
        ("1", None, (Decimal(1), "")),
        ("2.000", None, (Decimal(2), "")),
    ],
)
def test_measured_line_keeps_its_fraction_and_unit(quantity, quantity_unit, expected):
    order = order_fixture()
    order["line_items"][0]["quantity"] = quantity
    if quantity_unit is not None:
        order["line_items"][0]["quantity_unit"] = quantity_unit

    line = map_order(order).lines[0]

    assert (line.quantity, line.unit) == expected
    assert str(line.quantity) == str(expected[0])  # normalised: "2.500" is 2.5, "2.000" is 2, never "2.000"


def test_a_till_sale_of_rope_by_the_foot_maps_whole_with_its_other_lines():
    """The order that used to be dead-lettered whole: one measured line among counted ones."""
    order = order_fixture()
    order["line_items"][0].update(
        quantity="2.5",
        quantity_unit={"measurement_unit": {"length_unit": "IMPERIAL_FOOT"}, "precision": 1},
        name="Manila rope",
    )

    record = map_order(order)

    assert [(x.name, x.quantity, x.unit) for x in record.lines] == [
        ("Manila rope", Decimal("2.5"), "ft"),
        ("Item 2", Decimal(2), ""),
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
            "1.2345",
            r"order\.line_items\[0\]\.quantity '1\.2345' has more than three decimal places",
        ),
        ("line_items", "quantity", "-1", r"order\.line_items\[0\]\.quantity is not a quantity: '-1'"),
        (
            "line_items",
            "quantity_unit",
            {"measurement_unit": {"length_unit": "IMPERIAL_FURLONG"}, "precision": 1},
            r"line_items\[0\]\.quantity_unit\.measurement_unit\.length_unit 'IMPERIAL_FURLONG' is not one of",
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
            verified=["email", "phone"],  # creation_source DIRECTORY: made in the POS with the customer there
            updated_at=utc(2020, 4, 20, 10, 2, 43, 83000),
        ),
        CustomerRecord(
            external_id="A9641GZW2H7Z56YYSD41Q12HDW",
            name="Amelia Earhart",
            emails=["amelia.earhart@example.com"],
            phones=["+1-212-555-9238"],
            loyalty_id="YOUR_REFERENCE_ID_1",
            verified=[],  # creation_source THIRD_PARTY: an app's API call typed them; nobody vouches
            updated_at=utc(2018, 3, 8, 18, 25, 21, 342000),
        ),
    ]
    assert (retrieved.emails, retrieved.phones, retrieved.loyalty_id) == (
        ["Amelia.Earhart@example.com"],
        ["+1-212-555-4240"],
        "YOUR_REFERENCE_ID",
    )
    assert retrieved.verified == []  # THIRD_PARTY as well
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
    ("quantity", "on_hand"),
    [
        ("12.5", Decimal("12.5")),  # 12.5 m of rope on the reel
        ("12.50000", Decimal("12.5")),  # Square's five places, trailing zeros dropped
        ("0.25", Decimal("0.25")),
        ("-1.5", Decimal("-1.5")),  # oversold by measure
        ("12.00000", 12),  # whole: an integer, as every count was
        ("2.34567", Decimal("2.345")),  # past the third place: cut towards fewer units
    ],
)
def test_a_count_by_measure_keeps_its_fraction(quantity, on_hand):
    count = load("square", "inventory_counts_batch_retrieve_response")["counts"][0]

    mapped = map_stock({**count, "quantity": quantity})

    assert (mapped.on_hand, type(mapped.on_hand)) == (on_hand, type(on_hand))
    assert str(mapped.on_hand) == str(on_hand)


def test_a_whole_count_hashes_as_before():
    """A whole count is still the integer it was: its record, and so its content hash, do not change."""
    count = load("square", "inventory_counts_batch_retrieve_response")["counts"][0]

    assert '"on_hand":79,' in map_stock(count).model_dump_json()
    assert '"on_hand":"12.5",' in map_stock({**count, "quantity": "12.5"}).model_dump_json()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"quantity": "twelve"}, r"count\.quantity is not a quantity: 'twelve'"),
        ({"quantity": "NaN"}, r"count\.quantity is not a quantity: 'NaN'"),
        ({"quantity": "Infinity"}, r"count\.quantity is not a quantity: 'Infinity'"),
        ({"quantity": ""}, r"count\.quantity is not a quantity: ''"),
        ({"quantity": 12.5}, r"count\.quantity must be a decimal string, got 12\.5"),
        ({"quantity": "1000000000"}, r"count\.quantity '1000000000' is out of range"),
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
