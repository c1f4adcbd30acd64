"""SquareAdapter: mapping against Square's own example payloads, fetching at the HTTP seam: the payloads and helpers its tests share."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from integrations.records import (
    LineRecord,
    PaymentRecord,
)
from tests.vendor_fixtures import load

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


def return_order(source_order_id: str, refund_status: str = "COMPLETED", **change) -> dict:
    """A Square return order (docs ``orders-api/order-returns-exchanges``): COMPLETED, total 0, naming the sale
    it returns in ``returns[].source_order_id``, with the $5.00 refund of the sale's first line on it."""
    order = {
        "id": "RETURN_ORDER_1",
        "location_id": "P3CCK6HSNDAS7",
        "created_at": "2019-08-07T10:00:00.000Z",
        "updated_at": "2019-08-07T10:05:00.000Z",
        "closed_at": "2019-08-07T10:05:00.000Z",
        "state": "COMPLETED",
        "version": 1,
        "total_money": {"amount": 0, "currency": "USD"},
        "returns": [
            {
                "uid": "ret-1",
                "source_order_id": source_order_id,
                "return_line_items": [
                    {
                        "uid": "rli-1",
                        "source_line_item_uid": "QW6kofLHJK7JEKMjlSVP5C",
                        "name": "Item 1",
                        "quantity": "1",
                        "item_type": "ITEM",
                        "base_price_money": {"amount": 500, "currency": "USD"},
                        "total_money": {"amount": 500, "currency": "USD"},
                    }
                ],
            }
        ],
        "return_amounts": {"total_money": {"amount": 500, "currency": "USD"}},
        "refunds": [
            {
                "id": "EnZdNAlWCmfh6Mt5FMNST1o7taB_refund1",
                "location_id": "P3CCK6HSNDAS7",
                "transaction_id": source_order_id,
                "tender_id": "EnZdNAlWCmfh6Mt5FMNST1o7taB",
                "created_at": "2019-08-07T10:05:00.000Z",
                "reason": "Returned item",
                "amount_money": {"amount": 500, "currency": "USD"},
                "status": refund_status,
            }
        ],
    }
    order.update(change)
    return order
