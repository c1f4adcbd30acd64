"""A small retailer for the agent-pane tests: one customer known to four systems, two stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from integrations.models import Source
from orders.models import Customer, Order, Payment, Store
from tests.factories import (
    CustomerFactory,
    IdentityFactory,
    LineFactory,
    OrderFactory,
    OrderKeyFactory,
    OrderRecordFactory,
    PaymentFactory,
    ShipmentFactory,
    SourceFactory,
    StockFactory,
    StoreFactory,
    TrackingEventFactory,
)

POS_ID = "AQUIVbniNO0ShbMbFpOHvX1qmIIB"
TRACKING = "1Z999AA10123456784"


@dataclass
class Scene:
    downtown: Store
    uptown: Store
    zoe: Customer
    web_order: Order  # #1001, shipped from the warehouse, pickup at downtown
    pos_order: Order  # an in-store sale at downtown
    uptown_order: Order  # another customer's order at uptown
    sources: dict[str, Source]


def build() -> Scene:
    sources = {
        "shopify": SourceFactory(name="shopify", kind=Source.Kind.STOREFRONT, adapter="shopify"),
        "square": SourceFactory(name="square", kind=Source.Kind.POS, adapter="square"),
        "odoo": SourceFactory(name="odoo", kind=Source.Kind.ERP, adapter="odoo"),
        "hubspot": SourceFactory(name="hubspot", kind=Source.Kind.CRM, adapter="hubspot"),
        "easypost": SourceFactory(name="easypost", kind=Source.Kind.CARRIER, adapter="easypost"),
    }
    downtown = StoreFactory(code="downtown", name="Downtown", timezone="America/Chicago")
    uptown = StoreFactory(code="uptown", name="Uptown", timezone="America/New_York")
    zoe = CustomerFactory(
        name="Zoë Müller", email="zoe.muller@example.com", phone="+13125550147", loyalty_id="LY123456"
    )
    IdentityFactory(customer=zoe, source=sources["shopify"], external_id="7100000001", phone_e164="+13125550147")
    IdentityFactory(customer=zoe, source=sources["hubspot"], external_id="52181", loyalty_id="LY123456")
    IdentityFactory(customer=zoe, source=sources["square"], external_id="SQCUST1", email_normalised="")

    web = OrderFactory(
        number="#1001",
        customer=zoe,
        store=downtown,
        channel=Order.Channel.WEB,
        fulfilment=Order.Fulfilment.PICKUP,
        placed_at=datetime(2026, 11, 3, 15, 0, tzinfo=UTC),
        total=129.5,
        origin_source=sources["shopify"],
        email="zoe.muller@example.com",
        contact_name="Zoë Müller",
    )
    OrderRecordFactory(order=web, source=sources["shopify"], external_id="5900000000001", external_number="#1001")
    OrderRecordFactory(
        order=web, source=sources["odoo"], external_id="42", external_number="S00042", references=["#1001"]
    )
    OrderKeyFactory(order=web, key="1001")
    line = LineFactory(
        order=web, sku="HOM-0203-WHI", name="Table Lamp - White", quantity=2, fulfilment_location=downtown
    )
    StockFactory(sku=line.sku, location=downtown, on_hand=1, bin="DT/Stock/C-04")
    PaymentFactory(
        order=web, source=sources["shopify"], kind=Payment.Kind.SALE, amount=129.5, card_brand="visa", card_last4="4242"
    )
    shipment = ShipmentFactory(order=web, source=sources["easypost"], tracking_number=TRACKING, carrier="UPS")
    TrackingEventFactory(shipment=shipment, occurred_at=datetime(2026, 11, 4, 9, 0, tzinfo=UTC), message="Picked up")

    pos = OrderFactory(
        number="L1kx",
        customer=zoe,
        store=downtown,
        channel=Order.Channel.STORE,
        fulfilment=Order.Fulfilment.CARRY_OUT,
        placed_at=datetime(2026, 11, 10, 18, 0, tzinfo=UTC),
        origin_source=sources["square"],
    )
    OrderRecordFactory(order=pos, source=sources["square"], external_id=POS_ID, external_number="L1kx")
    PaymentFactory(
        order=pos, source=sources["square"], receipt_number="Fea3", card_brand="mastercard", card_last4="5100"
    )

    other = CustomerFactory(name="Ada Lovelace", email="ada@example.com")
    uptown_order = OrderFactory(
        number="#2002",
        customer=other,
        store=uptown,
        placed_at=datetime(2026, 11, 5, 12, 0, tzinfo=UTC),
        origin_source=sources["shopify"],
    )
    OrderRecordFactory(order=uptown_order, source=sources["shopify"], external_number="#2002")
    OrderKeyFactory(order=uptown_order, key="2002")
    IdentityFactory(customer=other, source=sources["shopify"], external_id="7100000002")
    return Scene(downtown, uptown, zoe, web, pos, uptown_order, sources)
