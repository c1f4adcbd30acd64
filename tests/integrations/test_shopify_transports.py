"""The storefront over both of Shopify's APIs: the same sandbox world synced over REST, over paged GraphQL and
through a GraphQL bulk operation lands the same canonical rows (orders, lines, payments, shipments, returns,
customers); a bulk backfill killed mid-file resumes without loss or duplicates."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from integrations.adapters import adapter_for
from integrations.adapters.shopify_graphql import LIST_SIZES, ORDER_QUERY, GraphQLTransport
from integrations.adapters.shopify_orders import AGAIN, MORE
from integrations.models import RawRecord, Source, SyncRun
from integrations.sandbox.formats.shopify_records import money
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
    # Not the customer: two storefront sources of one shop are two systems, and an unverified account's
    # e-mail alone links nothing (orders/ingest/customers.py); whether each transport read the flag is compared.
    CustomerIdentity: ("external_id", "name", "email", "phone", "loyalty_id", "email_verified", "phone_verified"),
}  # fmt: skip


def storefront(sandbox, name: str, page_size: int = 250, **credentials: str) -> Source:
    source, _ = source_upsert(
        name=name,
        adapter="shopify",
        base_url=sandbox.url("shopify"),
        credentials={"access_token": "shpat_sandbox", **credentials},
        page_size=page_size,
    )
    return source


def rows(model, source: Source) -> list[tuple]:
    return sorted(model.objects.filter(source=source).values_list(*COMPARED[model]), key=repr)


def web_orders(sandbox) -> int:
    return sum(1 for o in sandbox.world.orders if o.channel == "web" and o.placed <= sandbox.world.now)


@pytest.mark.django_db(transaction=True)
def test_rest_paged_graphql_and_bulk_land_the_same_rows(sandbox, fast_http):
    rest = storefront(sandbox, "shopify-rest", transport="rest")
    paged = storefront(sandbox, "shopify-paged", backfill="paged")
    graphql = storefront(sandbox, "shopify")  # the default: GraphQL, its first sync through a bulk operation

    for source in (rest, paged, graphql):
        run = source_sync(source_id=source.pk)
        assert run.status == SyncRun.Status.SUCCEEDED, run.summary()
        assert run.dead_lettered == 0

    for model in COMPARED:
        assert rows(model, graphql) == rows(model, rest), model.__name__
        assert rows(model, paged) == rows(model, rest), model.__name__
    graphql.refresh_from_db()
    assert graphql.cursor["orders"] == {"updated_at_min": "2026-11-20T12:00:00Z"}  # the bulk operation's start
    assert OrderRecord.objects.filter(source=graphql).count() == web_orders(sandbox)
    # every web order carries its charge: the sale, with the card's brand and last four
    sales = Payment.objects.filter(source=graphql, kind="sale")
    assert sales.count() == web_orders(sandbox)
    assert not sales.filter(card_last4="").exists()
    # an account's e-mail is trusted only once verified: one in eight of the world's accounts never was
    accounts = [p for p in sandbox.world.people if p.shopify_id is not None and p.shopify_created <= sandbox.world.now]
    unverified = {str(p.shopify_id) for p in accounts if not p.shopify_verified}
    assert 0 < len(unverified) < len(accounts)
    for source in (rest, graphql):
        flags = dict(CustomerIdentity.objects.filter(source=source).values_list("external_id", "email_verified"))
        assert {ext for ext, verified in flags.items() if not verified} == unverified


@pytest.mark.django_db(transaction=True)
def test_the_varied_shapes_land_alike_over_rest_paged_graphql_and_bulk_and_lines_are_the_world_s(varied, fast_http):
    """The varied world's storefront (order edits that took a line off, kept at ``current_quantity`` 0, voided
    labels, partly fulfilled orders…) over the three ways of reading it: the same rows, and every order's lines,
    cancelled fulfilments and partial fulfilment are those the world says it has."""
    rest = storefront(varied, "shopify-rest", transport="rest")
    paged = storefront(varied, "shopify-paged", backfill="paged")
    bulk = storefront(varied, "shopify")
    for source in (rest, paged, bulk):
        run = source_sync(source_id=source.pk)
        assert run.status == SyncRun.Status.SUCCEEDED, run.summary()
        assert run.dead_lettered == 0, run.summary()
    for model in COMPARED:
        assert rows(model, bulk) == rows(model, rest), model.__name__
        assert rows(model, paged) == rows(model, rest), model.__name__

    world = varied.world
    web = [o for o in world.orders if o.channel == "web" and o.placed <= world.now]
    assert sum(1 for o in web if o.removed) >= 2
    expected = sorted((o.number, p.sku, q) for o in web for p, q, _ in o.lines)
    for source in (rest, paged, bulk):
        landed = OrderLine.objects.filter(source=source).values_list("order__number", "sku", "quantity")
        assert sorted(landed) == expected, source.name
    # a voided label's fulfilment lands cancelled beside the live parcel; an order with lines in a backorder not yet
    # sent (for good: partial_fulfilment) is partial
    voided = {(o.number, o.voided.code) for o in web if o.voided}
    partial = {o.number for o in web if o.back_lines and (o.back_done is None or o.back_done > world.now)}
    assert len(voided) >= 3 and sum("partial_fulfilment" in o.vary for o in web) >= 3
    for source in (rest, paged, bulk):
        cancelled = Shipment.objects.filter(source=source, status="cancelled")
        assert set(cancelled.values_list("order__number", "tracking_number")) == voided, source.name
        records = OrderRecord.objects.filter(source=source, raw_status__endswith="/partial")
        assert set(records.values_list("order__number", flat=True)) == partial, source.name
    # shopped in another currency: every amount landed in the shop's, what the world charged
    abroad = [o for o in web if o.presentment]
    assert len(abroad) >= 5
    charged = {(o.number, Decimal(o.captured) / 100) for o in abroad}
    for source in (rest, bulk):
        taken = Payment.objects.filter(
            source=source, kind__in=["sale", "capture"], order__number__in=[n for n, _ in charged]
        )
        assert set(taken.values_list("order__number", "amount")) == charged, source.name
        assert set(taken.values_list("currency", flat=True)) == {"USD"}
    # a wholesale order (more lines, parcels, refunds and transactions than a query at usual sizes holds; a parcel
    # and a refund with more lines than their first page) lands whole, read over GraphQL by paging on
    truth = {o["number"]: o for o in world.truth()["orders"]}
    big = [o for o in web if "wholesale" in o.vary]
    assert len(big) == 1
    for source in (rest, paged, bulk):
        for o in big:
            expected = truth[o.number]
            lines = OrderLine.objects.filter(source=source, order__number=o.number)
            assert (lines.count(), sum(lines.values_list("quantity", flat=True))) == (
                expected["lines"],
                expected["units"],
            ), source.name
            shipped = Shipment.objects.filter(source=source, order__number=o.number)
            assert sorted(shipped.values_list("tracking_number", flat=True)) == sorted(p.code for p in o.shipments)
            assert shipped.count() == len(expected["parcels"]), source.name
            payments = Payment.objects.filter(source=source, order__number=o.number)
            refunds = payments.filter(kind="refund")
            assert (payments.count(), refunds.count()) == (1 + expected["refunds"], expected["refunds"]), source.name
            assert sum(refunds.values_list("amount", flat=True)) == Decimal(expected["refunded_cents"]) / 100


def test_rest_transactions_are_in_the_customer_s_currency_unless_asked_in_the_shop_s(varied):
    o = next(o for o in varied.world.orders if o.presentment and o.placed <= varied.world.now and not o.edited)
    url = f"{varied.url('shopify')}/orders/{o.shopify_id}/transactions.json"
    headers = {"X-Shopify-Access-Token": "shpat_sandbox"}

    shown = requests.get(url, headers=headers, timeout=10).json()["transactions"][0]
    shop = requests.get(url, params={"in_shop_currency": "true"}, headers=headers, timeout=10).json()["transactions"][0]

    assert (shown["currency"], shown["amount"]) == ("CAD", money(o.presented(o.captured)))
    assert (shop["currency"], shop["amount"]) == ("USD", money(o.captured))


@pytest.mark.django_db
def test_a_wholesale_order_is_read_whole_over_graphql_in_follow_up_queries_each_within_1000_points(varied, monkeypatch):
    """The varied world's wholesale order over real HTTP: ``order(id:)`` at usual sizes, then each list that came back
    full read again (AGAIN), and each connection with a next page paged on through its owner's root field (MORE)."""
    world = varied.world
    truth = {o["number"]: o for o in world.truth()["orders"]}
    big = [o for o in world.orders if "wholesale" in o.vary and o.placed <= world.now]
    assert len(big) == 1
    sent: list[tuple[str, int]] = []
    post = GraphQLTransport._post

    def recording(self, document, variables):
        body = post(self, document, variables)
        sent.append((document, body["extensions"]["cost"]["requestedQueryCost"]))
        return body

    monkeypatch.setattr(GraphQLTransport, "_post", recording)
    adapter = adapter_for(storefront(varied, "shopify-paged", backfill="paged"))
    for o in big:
        expected = truth[o.number]
        node = adapter.graphql.order(str(o.shopify_id))

        lines = node["lineItems"]["nodes"]
        assert [line["id"] for line in lines] == [f"gid://shopify/LineItem/{i}" for i in o.line_ids]
        assert (len(lines), sum(line["quantity"] for line in lines)) == (expected["lines"], expected["units"])
        assert expected["lines"] >= 60
        fulfilments = node["fulfillments"]
        assert len(fulfilments) == len(expected["parcels"]) > LIST_SIZES["fulfillments"]
        carried = [[n["lineItem"]["id"] for n in f["fulfillmentLineItems"]["nodes"]] for f in fulfilments]
        assert carried == [[f"gid://shopify/LineItem/{o.line_ids[n]}" for n in p.lines] for p in o.shipments]
        refunds = node["refunds"]
        assert len(refunds) == expected["refunds"] > LIST_SIZES["refunds"]
        returned = [[n["lineItem"]["id"] for n in r["refundLineItems"]["nodes"]] for r in refunds]
        assert returned == [[f"gid://shopify/LineItem/{o.line_ids[n]}" for n, _ in r[2]] for r in o.refunds]
        assert [len(r["transactions"]["nodes"]) for r in refunds] == [1] * expected["refunds"]
        transactions = node["transactions"]
        assert [t["kind"] for t in transactions] == ["SALE"] + ["REFUND"] * expected["refunds"]
        assert len(transactions) > LIST_SIZES["transactions"]
        assert "pageInfo" not in node["lineItems"] and all(
            "pageInfo" not in f["fulfillmentLineItems"] for f in fulfilments
        )

        # the order at usual sizes, each full list again, one more page of lines, of each parcel (five lines a page)
        # and of each refund of more than two lines
        documents = [document for document, _ in sent]
        assert documents == [
            ORDER_QUERY,
            *(document for document, _ in AGAIN.values()),
            MORE["order", "lineItems"],
            *[MORE["fulfillment", "fulfillmentLineItems"]] * sum(len(p.lines) > 5 for p in o.shipments),
            *[MORE["refund", "refundLineItems"]] * sum(len(r[2]) > 2 for r in o.refunds),
        ]
        assert sum(len(p.lines) > 5 for p in o.shipments) == len(o.shipments)
        assert max(cost for _, cost in sent) <= 1000
        sent.clear()


def killed_mid_file(sandbox) -> tuple[Source, Source]:
    """``(rest, bulk)``: the storefront synced over REST, and over GraphQL killed two pages into the bulk file."""
    rest = storefront(sandbox, "shopify-rest", transport="rest")
    assert source_sync(source_id=rest.pk).status == SyncRun.Status.SUCCEEDED
    bulk = storefront(sandbox, "shopify", page_size=100)
    world = sandbox.world
    customers = sum(1 for p in world.people if p.shopify_id is not None and p.shopify_created <= world.now)
    pages = 1 + -(-customers // 100) + 2 + 2  # locations, customers, start + wait, 2 pages of the file
    killed = source_sync(source_id=bulk.pk, max_pages=pages)
    assert killed.status == SyncRun.Status.SUCCEEDED
    bulk.refresh_from_db()
    return rest, bulk


@pytest.mark.django_db(transaction=True)
def test_a_bulk_backfill_killed_mid_file_resumes_without_loss_or_duplicates(sandbox, fast_http):
    rest, bulk = killed_mid_file(sandbox)
    world = sandbox.world
    assert set(bulk.cursor["orders"]) == {"bulk", "since", "url", "offset"}
    assert bulk.cursor["orders"]["offset"] > 0
    assert OrderRecord.objects.filter(source=bulk).count() == 200
    operation = world.shopify_bulk["number"]

    resumed = source_sync(source_id=bulk.pk)

    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.summary()
    assert world.shopify_bulk["number"] == operation  # the same file, read on from the committed offset
    for model in COMPARED:
        assert rows(model, bulk) == rows(model, rest), model.__name__
    assert RawRecord.objects.filter(source=bulk, stream="orders").count() == web_orders(sandbox)


@pytest.mark.django_db(transaction=True)
def test_a_bulk_file_gone_before_it_is_read_to_the_end_starts_the_operation_again(sandbox, fast_http):
    """A run resumed after the file's signed URL expired (a week on Shopify) must not fail on it forever."""
    rest, bulk = killed_mid_file(sandbox)
    world = sandbox.world
    assert bulk.cursor["orders"]["offset"] > 0
    operation = world.shopify_bulk["number"]
    world.shopify_bulk_files.clear()  # the URL expired

    resumed = source_sync(source_id=bulk.pk)

    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.summary()
    assert world.shopify_bulk["number"] == operation + 1  # a new operation, its file read from the start
    for model in COMPARED:
        assert rows(model, bulk) == rows(model, rest), model.__name__
    bulk.refresh_from_db()
    assert set(bulk.cursor["orders"]) == {"updated_at_min"}


@pytest.mark.django_db(transaction=True)
def test_a_first_sync_refused_while_another_bulk_operation_runs_queues_and_starts_once_that_is_done(sandbox, fast_http):
    # Given another client's operation writing its file (Shopify runs one bulk query per shop and app)
    rest = storefront(sandbox, "shopify-rest", transport="rest")
    assert source_sync(source_id=rest.pk).status == SyncRun.Status.SUCCEEDED
    world = sandbox.world
    theirs = {"number": (world.shopify_bulk or {}).get("number", 0) + 1, "polls": 0, "file": None, "failed": False}
    world.shopify_bulk = {**theirs, "created": world.now}
    bulk = storefront(sandbox, "shopify", page_size=100)
    customers = sum(1 for p in world.people if p.shopify_id is not None and p.shopify_created <= world.now)

    # When the storefront's first sync asks for its own
    waiting = source_sync(source_id=bulk.pk, max_pages=1 + -(-customers // 100) + 1)

    # Then it was refused, not failed: the cursor says it is queued, and no operation of its own was started
    assert waiting.status == SyncRun.Status.SUCCEEDED, waiting.summary()
    bulk.refresh_from_db()
    assert bulk.cursor["orders"] == {"queued": True}
    assert world.shopify_bulk["number"] == theirs["number"]

    # And once theirs is done, the next run starts ours and lands every order
    world.shopify_bulk["file"] = b""
    resumed = source_sync(source_id=bulk.pk)
    assert resumed.status == SyncRun.Status.SUCCEEDED, resumed.summary()
    assert world.shopify_bulk["number"] == theirs["number"] + 1
    for model in COMPARED:
        assert rows(model, bulk) == rows(model, rest), model.__name__
