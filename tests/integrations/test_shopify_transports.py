"""The storefront over both of Shopify's APIs: the same sandbox world synced over REST and over GraphQL
lands the same canonical rows (orders, lines, payments, shipments, returns, customers, locations)."""

from __future__ import annotations

import pytest

from integrations.models import Source, SyncRun
from integrations.services import source_upsert
from integrations.sync import source_sync
from orders.models import CustomerIdentity, OrderLine, OrderRecord, Payment, Return, Shipment

pytestmark = pytest.mark.sandbox

COMPARED = {
    OrderRecord: (
        "external_id", "external_number", "references", "raw_status", "status", "source_updated_at",
        "order__number", "order__channel", "order__fulfilment", "order__status", "order__placed_at",
        "order__promised_by", "order__total", "order__currency", "order__store__code",
    ),
    OrderLine: ("external_id", "order__number", "sku", "name", "quantity", "unit_price", "fulfilment_location__code"),
    Payment: (
        "external_id", "order__number", "order_external_id", "kind", "status", "amount", "currency", "gateway",
        "card_brand", "card_last4", "processed_at",
    ),
    Shipment: (
        "external_id", "order__number", "carrier", "tracking_number", "raw_status", "status", "line_skus",
        "shipped_at", "window_start", "window_end", "delivered_at",
    ),
    Return: ("external_id", "order__number", "status", "line_skus", "amount", "received_at", "refunded_at"),
    CustomerIdentity: ("external_id", "customer_id", "name", "email", "phone", "loyalty_id"),
}  # fmt: skip


def storefront(sandbox, name: str, transport: str) -> Source:
    source, _ = source_upsert(
        name=name,
        adapter="shopify",
        base_url=sandbox.url("shopify"),
        credentials={"access_token": "shpat_sandbox", "transport": transport},
        page_size=250,
    )
    return source


def rows(model, source: Source) -> list[tuple]:
    return sorted(model.objects.filter(source=source).values_list(*COMPARED[model]), key=repr)


@pytest.mark.django_db(transaction=True)
def test_rest_and_graphql_land_the_same_rows(sandbox, fast_http):
    rest, graphql = storefront(sandbox, "shopify-rest", "rest"), storefront(sandbox, "shopify", "graphql")

    for source in (rest, graphql):
        run = source_sync(source_id=source.pk)
        assert run.status == SyncRun.Status.SUCCEEDED, run.summary()
        assert run.dead_lettered == 0

    for model in COMPARED:
        assert rows(model, graphql) == rows(model, rest), model.__name__
    web_orders = sum(1 for o in sandbox.world.orders if o.channel == "web" and o.placed <= sandbox.world.now)
    assert OrderRecord.objects.filter(source=graphql).count() == web_orders
    # every web order carries its charge: the sale, with the card's brand and last four
    sales = Payment.objects.filter(source=graphql, kind="sale")
    assert sales.count() == web_orders
    assert not sales.filter(card_last4="").exists()
