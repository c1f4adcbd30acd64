"""Orders: the real samples, fulfilments, payments and refunds, the retailer's conventions, bad input.

ShopifyAdapter: mapping against Shopify's own sample payloads, fetching at the HTTP seam.

No database: the adapter is pure apart from HTTP, which ``responses`` mocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from pydantic import ValidationError

from integrations.adapters import adapter_class
from integrations.adapters.shopify import ShopifyAdapter, map_order
from integrations.adapters.shopify_graphql_mapping import map_order_node
from integrations.adapters.shopify_mapping import map_location
from integrations.records import (
    CustomerRecord,
    MappingError,
    PaymentRecord,
    ReturnRecord,
    ShipmentRecord,
)
from orders.desk.selectors import order_pane
from orders.flags.rules.money import payment_mismatch
from orders.ingest import ingest
from orders.models import Order
from tests.factories import SourceFactory
from tests.orders.vendor_shapes import shopify_paid_order
from tests.vendor_fixtures import load

from ..helpers import utc
from .support import (
    BASE,
    TOKEN,
    ipod_line,
    order_fixture,
    ups_fulfilment,
)


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
            [{"id": 1, "kind": "suggested_refund", "status": "success", "amount": "5.00"}],
            r"kind 'suggested_refund' is not one of",
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


# -- what the staff member sees of real-vendor-shaped Shopify orders, landed ----------------------------
# (payloads start from Shopify's own reference examples in tests/fixtures/vendor/shopify/)


NOW = datetime(2025, 4, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def shop(db):
    return SourceFactory(name="shopify", kind="storefront", adapter="shopify")


def rest_order(name: str = "order_tagged_fulfilled_refunded") -> dict:
    return load("shopify", name)["order"]


def graphql_order() -> dict:
    return load("shopify", "graphql_orders_page_1001")["data"]["orders"]["nodes"][0]


def land(source, *records) -> None:
    ingest(source=source, records=list(records), synced_at=timezone.now())


def landed_order(source, payload: dict) -> Order:
    record = map_order(payload)
    land(source, record)
    return Order.objects.get(records__source=source, records__external_id=record.external_id)


# -- a Shopify POS till sale ------------------------------------------------------------------
def test_pos_till_sale_is_bought_in_store_not_handed_to_a_carrier(shop):
    """A Shopify POS sale: ``source_name: pos``, the till's ``location_id``, no shipping lines, fulfilled at
    once by a fulfilment with no tracking (what POS writes when the customer walks out with the goods)."""
    land(shop, map_location({"id": 487838322, "name": "Downtown"}))
    payload = shopify_paid_order(
        source_name="pos",
        location_id=487838322,
        shipping_lines=[],
        fulfillment_status="fulfilled",
        fulfillments=[
            {
                "id": 7001,
                "status": "success",
                "shipment_status": None,
                "tracking_company": None,
                "tracking_number": None,
                "tracking_url": None,
                "location_id": 487838322,
                "created_at": "2025-04-02T11:00:05-05:00",
                "updated_at": "2025-04-02T11:00:05-05:00",
                "line_items": [{"id": 518995019, "sku": "IPOD2008RED"}],
            }
        ],
    )
    order = landed_order(shop, payload)
    pane = order_pane(order)

    assert order.channel == "store"
    assert order.fulfilment == "carry_out"  # was: "ship"
    assert pane["standing"].status == "collected"  # was: "handed_to_carrier"
    assert pane["cannot_cancel"] == "bought at the till"  # was: "already dispatched"


# -- multi-currency: REST transaction amounts are in the presentment currency --------------------
def test_rest_presentment_currency_payment_is_not_a_mismatch(shop):
    """A shop in USD selling in CAD: ``total_price`` is shop money (USD), the order's transaction is in the
    presentment currency (``amount`` 270.00, ``currency`` CAD), as REST transactions are since multi-currency.
    The customer paid the order in full: no payment_mismatch, and the pane says what was paid in the shop's money.
    """
    payload = shopify_paid_order(presentment_currency="CAD")
    payload["total_price_set"] = {
        "shop_money": {"amount": "199.00", "currency_code": "USD"},
        "presentment_money": {"amount": "270.00", "currency_code": "CAD"},
    }
    payload["transactions"][0].update({"amount": "270.00", "currency": "CAD"})
    order = landed_order(shop, payload)

    assert payment_mismatch([order.pk], now=NOW, threshold=None) == {}  # was: 270.00 captured of 199.00
    charged = order_pane(order)["answer"].clauses[0]
    assert charged.text.startswith("Paid $199.00")  # was: "Paid $270.00 ..., of an order total of $199.00."


def test_rest_presentment_currency_payment_short_of_the_total_is_still_a_mismatch(shop):
    """The same order in CAD, 250.00 CAD taken of 270.00: 184.26 USD captured of 199.00 is money out of line."""
    payload = shopify_paid_order(presentment_currency="CAD")
    payload["total_price_set"] = {
        "shop_money": {"amount": "199.00", "currency_code": "USD"},
        "presentment_money": {"amount": "270.00", "currency_code": "CAD"},
    }
    payload["transactions"][0].update({"amount": "250.00", "currency": "CAD"})
    order = landed_order(shop, payload)

    assert list(payment_mismatch([order.pk], now=NOW, threshold=None)) == [order.pk]


# -- a voided authorisation -------------------------------------------------------------------
def test_voided_authorisation_is_not_reported_as_held(shop):
    """Cancelled before capture: the authorisation was voided (``financial_status: voided``, a ``void``
    transaction on the authorisation). Nothing is held and nothing was charged; no money is out of line."""
    payload = shopify_paid_order(
        financial_status="voided",
        cancelled_at="2025-04-02T12:00:00-05:00",
        cancel_reason="customer",
        transactions=[
            {"id": 9101, "kind": "authorization", "status": "success", "amount": "199.00", "currency": "USD",
             "gateway": "bogus", "processed_at": "2025-04-02T11:00:00-05:00"},
            {"id": 9102, "kind": "void", "status": "success", "amount": "199.00", "currency": "USD",
             "gateway": "bogus", "parent_id": 9101, "processed_at": "2025-04-02T12:00:00-05:00"},
        ],
    )  # fmt: skip
    order = landed_order(shop, payload)

    charged = order_pane(order)["answer"].clauses[0]
    assert charged.text == "$199.00 authorisation voided (bogus); nothing was charged."  # was: "… authorised …"
    assert payment_mismatch([order.pk], now=NOW, threshold=None) == {}  # was: total 199.00 but 0 captured


# -- a POS cash sale with change given ----------------------------------------------------------
def test_pos_cash_sale_with_change_is_landed_and_balanced(shop):
    """GraphQL ``OrderTransactionKind`` documents ``CHANGE``: "the money returned to the customer when they've
    paid too much during a cash transaction". A POS cash sale of 598.94 paid with 600.00 gets a SALE of 600.00
    and a CHANGE of 1.06. The order must land (not become a dead letter) and its money must balance."""
    node = graphql_order()
    node.update(
        {
            "sourceName": "pos",
            "displayFinancialStatus": "PAID",
            "displayFulfillmentStatus": "FULFILLED",
            "fulfillments": [],
            "refunds": [],
            "shippingLines": {"nodes": []},
            "transactions": [
                {"id": "gid://shopify/OrderTransaction/9201", "kind": "SALE", "status": "SUCCESS", "gateway": "cash",
                 "processedAt": "2025-04-02T16:00:00Z", "createdAt": "2025-04-02T16:00:00Z",
                 "amountSet": {"shopMoney": {"amount": "600.00", "currencyCode": "USD"}}, "paymentDetails": None},
                {"id": "gid://shopify/OrderTransaction/9202", "kind": "CHANGE", "status": "SUCCESS", "gateway": "cash",
                 "processedAt": "2025-04-02T16:00:01Z", "createdAt": "2025-04-02T16:00:01Z",
                 "amountSet": {"shopMoney": {"amount": "1.06", "currencyCode": "USD"}}, "paymentDetails": None},
            ],
        }
    )  # fmt: skip
    record = map_order_node(node)  # was: MappingError "order.transactions[1].kind 'change' is not one of ..."
    land(shop, record)
    order = Order.objects.get()

    assert [(p.kind, p.amount) for p in record.payments] == [("sale", Decimal("598.94"))]  # 600.00 less 1.06 change

    assert payment_mismatch([order.pk], now=NOW, threshold=None) == {}


@pytest.mark.parametrize(
    ("manual", "expected"),
    [(True, True), (False, False), (None, False)],  # None: an API version before 2025-01
)
def test_a_transaction_through_the_shops_manual_payment_method_is_marked_manual(manual, expected):
    """``manualPaymentGateway`` (GraphQL) / ``manual_payment_gateway`` (REST): the shop's "Pay in store"."""
    node = graphql_order()
    node["transactions"] = [
        {"id": "gid://shopify/OrderTransaction/9301", "kind": "SALE", "status": "PENDING", "gateway": "Pay in store",
         "manualPaymentGateway": manual, "processedAt": "2025-04-02T16:00:00Z", "createdAt": "2025-04-02T16:00:00Z",
         "amountSet": {"shopMoney": {"amount": "598.94", "currencyCode": "USD"}}, "paymentDetails": None},
    ]  # fmt: skip
    rest = order_fixture()
    sale = load("shopify", "transactions")["transactions"][1]
    rest["transactions"] = [{**sale, "manual_payment_gateway": manual}]

    assert [p.manual for p in map_order_node(node).payments if p.external_id == "9301"] == [expected]
    assert [p.manual for p in map_order(rest).payments if p.external_id == str(sale["id"])] == [expected]
    assert not any(p.manual for p in map_order(rest).payments if p.external_id != str(sale["id"]))


def test_a_manual_payment_flag_that_is_not_a_boolean_is_a_mapping_error():
    rest = order_fixture()
    rest["transactions"] = [{**load("shopify", "transactions")["transactions"][1], "manual_payment_gateway": "yes"}]

    with pytest.raises(MappingError, match=r"manual_payment_gateway must be true or false, got str"):
        map_order(rest)


# -- the pane's words keep their capitals -------------------------------------------------------
def test_not_yet_scanned_parcel_keeps_carrier_and_day_capitalised(shop):
    """The sample's UPS fulfilment (``status: success``, ``shipment_status: null``), not scanned yet."""
    payload = shopify_paid_order(fulfillment_status="fulfilled")
    fulfilment = load("shopify", "fulfillment_update_tracking_ups")["fulfillment"]
    fulfilment["line_items"] = [{"id": 518995019, "sku": "IPOD2008RED"}]
    fulfilment["created_at"] = "2025-04-02T11:29:59-05:00"
    payload["fulfillments"] = [fulfilment]
    order = landed_order(shop, payload)

    where = next(c for c in order_pane(order)["answer"].clauses if c.topic == "where")
    # was: "Left the warehouse on wed 2 apr; ups has not scanned it yet."
    assert where.text == "Left the warehouse on Wed 2 Apr; UPS has not scanned it yet."


# -- an order edit that removed a line ------------------------------------------------------------
def edited_order(**changes) -> dict:
    """The paid sample order after an edit took the green iPod off: Shopify keeps the line, ``current_quantity``
    0 and ``fulfillable_quantity`` 0 (``orderEditSetQuantity`` to zero), and no refund names it."""
    payload = shopify_paid_order(**changes)
    green = next(item for item in order_fixture()["line_items"] if item["sku"] == "IPOD2008GREEN")
    green.update({"current_quantity": 0, "fulfillable_quantity": 0})
    payload["line_items"].append(green)
    return payload


def test_a_line_an_edit_removed_is_no_line_of_the_order():
    record = map_order(edited_order())

    assert [(line.sku, line.quantity) for line in record.lines] == [("IPOD2008RED", 1)]  # was: GREEN 1 too


def test_an_edit_counts_apart_from_refunds_bought_then_returned_stays_bought():
    """Three ordered, one taken off by an edit, one returned and refunded: two were bought (one came back);
    ``current_quantity`` (1) falls for both the edit and the refund."""
    payload = shopify_paid_order()
    red = payload["line_items"][0]
    red.update({"quantity": 3, "current_quantity": 1, "fulfillable_quantity": 0})
    payload["refunds"] = [
        {"id": 8001, "created_at": "2025-04-05T11:00:00-05:00", "transactions": [],
         "refund_line_items": [{"id": 8002, "line_item_id": red["id"], "quantity": 1, "restock_type": "return",
                                "subtotal": 199.0, "total_tax": 0.0, "line_item": {"id": red["id"], "sku": "IPOD2008RED"}}]}
    ]  # fmt: skip

    record = map_order(payload)

    assert [(line.sku, line.quantity) for line in record.lines] == [("IPOD2008RED", 2)]  # was: 3
    assert [r.line_skus for r in record.returns] == [["IPOD2008RED"]]


def test_a_refunded_line_keeps_its_quantity_and_a_cancelled_order_its_lines():
    refunded = map_order(order_fixture())  # GREEN and BLACK refunded: current_quantity 0
    cancelled = shopify_paid_order(cancelled_at="2025-04-02T12:00:00-05:00", financial_status="voided")
    cancelled["line_items"][0].update({"current_quantity": 0, "fulfillable_quantity": 0})  # no refund names it

    assert [line.quantity for line in refunded.lines] == [1, 1, 1]
    assert [(line.sku, line.quantity) for line in map_order(cancelled).lines] == [("IPOD2008RED", 1)]


def test_graphql_current_quantity_takes_the_removed_line_off_too():
    node = graphql_order()
    node.update({"refunds": [], "fulfillments": []})
    for item in node["lineItems"]["nodes"]:
        item["currentQuantity"] = 0 if item["sku"] == "IPOD2008GREEN" else item["quantity"]

    record = map_order_node(node)

    assert [line.sku for line in record.lines] == ["IPOD2008RED", "IPOD2008BLACK"]  # was: GREEN too


def test_a_line_removed_after_it_landed_leaves_the_order(shop):
    """Landed before the edit, then again after it: the line leaves the order's lines (the checklist, the
    shelf's need), it is not left behind with its old quantity."""
    from orders.catalogue.lines import order_lines

    before = edited_order()
    before["line_items"][1].update({"current_quantity": 1, "fulfillable_quantity": 1})
    order = landed_order(shop, before)
    assert sorted(line.sku for line in order_lines(order)) == ["IPOD2008GREEN", "IPOD2008RED"]

    landed_order(shop, edited_order(updated_at="2025-04-02T12:00:00-05:00"))

    assert [(line.sku, line.quantity) for line in order_lines(order)] == [("IPOD2008RED", 1)]
