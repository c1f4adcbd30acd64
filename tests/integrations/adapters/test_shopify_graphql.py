"""ShopifyAdapter over the GraphQL Admin API: mapping of GraphQL nodes, paging, cost throttling, errors, the counter.

No database: HTTP is mocked at the seam with ``responses``. The order node is Shopify's
REST sample order #1001 restated in GraphQL's shapes (tests/fixtures/vendor/README.md).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import responses

from integrations.adapters.base import CollectedLine
from integrations.adapters.shopify import ShopifyAdapter, map_order
from integrations.adapters.shopify_graphql import (
    FULFILLMENT_CREATE,
    NODES_QUERY,
    ORDERS_QUERY,
    PREPARED_FOR_PICKUP,
)
from integrations.adapters.shopify_graphql_mapping import legacy_id, map_order_node
from integrations.http import TransportError
from integrations.records import MappingError
from tests.vendor_fixtures import load

from .helpers import make_adapter, utc

BASE = "https://shop.example.com/admin/api/2025-07"
GRAPHQL = f"{BASE}/graphql.json"
TOKEN = "shpat_test"


def page_fixture() -> dict:
    return load("shopify", "graphql_orders_page_1001")


def node_fixture() -> dict:
    return page_fixture()["data"]["orders"]["nodes"][0]


def rest_fixture() -> dict:
    order = load("shopify", "order_tagged_fulfilled_refunded")["order"]
    return {**order, "transactions": load("shopify", "transactions")["transactions"]}


def cost(available: float, requested: float = 50, restore: float = 100.0) -> dict:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": restore},
        }
    }


def answer(data: dict, *, available: float = 1990, requested: float = 50) -> dict:
    return {"data": data, "extensions": cost(available, requested)}


def sent() -> list[dict]:
    return [json.loads(call.request.body) for call in responses.calls]


@pytest.fixture
def adapter() -> ShopifyAdapter:
    """Paged: these tests read pages; the bulk backfill of a first sync has its own tests."""
    return make_adapter(ShopifyAdapter, BASE, access_token=TOKEN, backfill="paged")


# -- mapping ----------------------------------------------------------------------------------
def test_the_graphql_order_maps_to_exactly_the_record_of_the_rest_order():
    record = map_order_node(node_fixture())

    assert record == map_order(rest_fixture())
    assert record.external_id == "450789469"
    assert [(p.external_id, p.kind, p.amount, p.card_brand, p.card_last4) for p in record.payments] == [
        ("179259969", "refund", Decimal("209.00"), "", ""),  # in transactions and in the refund: once
        ("389404469", "authorization", Decimal("598.94"), "Visa", "4242"),
        ("801038806", "capture", Decimal("250.94"), "", ""),
    ]
    assert record.payments[1].processed_at == utc(2005, 8, 1, 15, 57, 11)
    assert "•" not in record.model_dump_json()


def test_the_adapter_maps_each_payload_by_its_shape(adapter):
    assert adapter.map("orders", node_fixture()) == adapter.map("orders", rest_fixture())
    assert adapter.external_id("orders", node_fixture()) == "450789469"
    assert adapter.external_id("orders", {"id": "gid://shopify/Order/"}) == ""
    customer = adapter.map("customers", node_fixture()["customer"])
    assert (customer.external_id, customer.name, customer.emails) == (
        "207119551",
        "Bob Norman",
        ["bob.norman@mail.example.com"],
    )


def test_a_pickup_order_is_at_the_store_of_its_pick_up_fulfillment_order():
    node = node_fixture()
    node["shippingLines"] = {"nodes": [{"code": "pickup", "title": "Pick up in store"}]}
    node["fulfillmentOrders"] = {
        "nodes": [
            {
                "id": "gid://shopify/FulfillmentOrder/1",
                "status": "OPEN",
                "deliveryMethod": {"methodType": "PICK_UP"},
                "assignedLocation": {"location": {"id": "gid://shopify/Location/655441491"}},
            }
        ]
    }

    record = map_order_node(node)

    assert (record.fulfilment, record.location_id) == ("pickup", "655441491")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda n: n.update(id="450789469x"), r"order\.id is not a Shopify global id"),
        (lambda n: n.update(lineItems="corrupted"), r"order\.lineItems must be a JSON object, got str"),
        (lambda n: n["lineItems"]["nodes"][0].pop("originalUnitPriceSet"), r"lineItems\.nodes\[0\]\.originalUnit"),
        (lambda n: n["transactions"][0].update(kind="SUGGESTED_REFUND"), r"order\.transactions\[0\]\.kind"),
        (lambda n: n["refunds"][0]["refundLineItems"]["nodes"][0].pop("lineItem"), r"refundLineItems.*lineItem"),
    ],
)
def test_a_malformed_node_raises_naming_its_graphql_path(change, reason):
    node = node_fixture()
    change(node)

    with pytest.raises(MappingError, match=reason):
        map_order_node(node)


def test_legacy_ids():
    assert legacy_id("gid://shopify/Order/820982911946154508", "id") == "820982911946154508"
    assert legacy_id(42, "id") == "42"
    with pytest.raises(MappingError, match="id is missing"):
        legacy_id(None, "id")


def test_an_unknown_transport_is_refused():
    with pytest.raises(ValueError, match="transport must be one of graphql, rest"):
        ShopifyAdapter(base_url=BASE, credentials={"access_token": TOKEN, "transport": "soap"})


# -- paging -----------------------------------------------------------------------------------
def listed(*nodes: dict, after: str | None = None) -> dict:
    """A page of ORDERS_QUERY: each order's id and updatedAt."""
    page_info = {"hasNextPage": after is not None, "endCursor": after}
    return answer({"orders": {"pageInfo": page_info, "nodes": [{k: n[k] for k in ("id", "updatedAt")} for n in nodes]}})


@responses.activate
def test_orders_page_by_end_cursor_and_end_on_the_watermark(adapter):
    responses.post(GRAPHQL, json=listed(node_fixture(), after="CURSOR1"))
    responses.post(GRAPHQL, json=answer({"nodes": [node_fixture()]}))
    responses.post(GRAPHQL, json=listed(node_fixture()))
    responses.post(GRAPHQL, json=answer({"nodes": [node_fixture()]}))

    first = adapter.fetch("orders", {"updated_at_min": "2025-04-01T00:00:00+00:00"})
    second = adapter.fetch("orders", first.cursor)

    assert first.has_more and first.items == [node_fixture()]
    assert first.cursor == {
        "updated_at_min": "2025-04-01T00:00:00+00:00",
        "after": "CURSOR1",
        "watermark": "2025-04-02T16:31:21+00:00",
    }
    assert (second.has_more, second.cursor) == (False, {"updated_at_min": "2025-04-02T16:31:21+00:00"})
    one, read, two, _ = sent()
    assert one == {
        "query": ORDERS_QUERY,
        "variables": {"first": 2, "query": "updated_at:>='2025-04-01T00:00:00+00:00'"},
    }
    assert read == {"query": NODES_QUERY, "variables": {"ids": ["gid://shopify/Order/450789469"]}}
    assert two["variables"] == {"first": 2, "after": "CURSOR1", "query": "updated_at:>='2025-04-01T00:00:00+00:00'"}
    assert responses.calls[0].request.headers["X-Shopify-Access-Token"] == TOKEN
    assert adapter.client.sleep == []


@responses.activate
def test_a_first_run_asks_without_a_search_and_locations_are_one_page(adapter):
    responses.post(GRAPHQL, json=answer({"customers": {"pageInfo": {"hasNextPage": False}, "nodes": []}}))
    location = {"id": "gid://shopify/Location/1", "name": "Downtown", "address": {"address1": "1 Main St"}}
    responses.post(GRAPHQL, json=answer({"locations": {"nodes": [location]}}))

    customers = adapter.fetch("customers", {})
    locations = adapter.fetch("locations", {})

    assert (customers.items, customers.cursor, customers.has_more) == ([], {}, False)
    assert sent()[0]["variables"] == {"first": 2}
    assert adapter.map("locations", locations.items[0]).model_dump(include={"external_id", "code", "address"}) == {
        "external_id": "1",
        "code": "downtown",
        "address": "1 Main St",
    }


# -- cost throttling and errors ---------------------------------------------------------------
@responses.activate
def test_the_next_query_waits_until_the_bucket_holds_what_it_cost_last_time(adapter):
    empty = {"orders": {"pageInfo": {"hasNextPage": False}, "nodes": []}}
    responses.post(GRAPHQL, json=answer(empty, available=100, requested=602))
    responses.post(GRAPHQL, json=answer(empty, available=1398, requested=602))

    adapter.fetch("orders", {})
    adapter.fetch("orders", {})

    assert adapter.client.sleep == [pytest.approx(5.02)]  # (602 - 100) points at 100 a second


@responses.activate
def test_a_throttled_answer_is_waited_out_and_asked_again(adapter):
    throttled = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": cost(available=40, requested=602),
    }
    responses.post(GRAPHQL, json=throttled)
    responses.post(GRAPHQL, json=answer({"orders": {"pageInfo": {"hasNextPage": False}, "nodes": []}}))

    page = adapter.fetch("orders", {})

    assert page.items == []
    assert adapter.client.sleep == [pytest.approx(5.62)]
    assert len(responses.calls) == 2


@responses.activate
def test_http_429_is_retried_after_retry_after(adapter):
    responses.post(GRAPHQL, status=429, headers={"Retry-After": "2"}, json={"errors": "Throttled"})
    responses.post(GRAPHQL, json=answer({"orders": {"pageInfo": {"hasNextPage": False}, "nodes": []}}))

    adapter.fetch("orders", {})

    assert adapter.client.sleep == [2.0]


@pytest.mark.parametrize(
    ("errors", "message", "permanent"),
    [
        (
            [{"message": "Field 'ordrs' doesn't exist on type 'QueryRoot'"}],
            "Shopify GraphQL error: Field 'ordrs' doesn't exist",
            True,
        ),
        (
            [{"message": "Access denied for orders field.", "extensions": {"code": "ACCESS_DENIED"}}],
            "ACCESS_DENIED: Access denied for orders field",
            True,
        ),
        ([{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}], "Internal error", False),
    ],
)
@responses.activate
def test_an_errors_array_is_a_source_error_naming_shopifys_message(adapter, errors, message, permanent):
    responses.post(GRAPHQL, json={"errors": errors})

    with pytest.raises(TransportError, match=message) as error:
        adapter.fetch("orders", {})

    assert error.value.permanent is permanent


@responses.activate
def test_an_answer_without_the_connection_is_a_transient_error(adapter):
    responses.post(GRAPHQL, json=answer({"orders": None}))

    with pytest.raises(TransportError, match="no 'orders' connection") as error:
        adapter.fetch("orders", {})

    assert error.value.permanent is False


# -- the store counter --------------------------------------------------------------------------
def pickup_order(remaining: tuple[int, int] = (2, 1), status: str = "OPEN") -> dict:
    items = [
        {
            "id": "gid://shopify/FulfillmentOrderLineItem/11",
            "remainingQuantity": remaining[0],
            "lineItem": {"sku": "A"},
        },
        {
            "id": "gid://shopify/FulfillmentOrderLineItem/12",
            "remainingQuantity": remaining[1],
            "lineItem": {"sku": "B"},
        },
    ]
    fo = {
        "id": "gid://shopify/FulfillmentOrder/9",
        "status": status,
        "deliveryMethod": {"methodType": "PICK_UP"},
        "lineItems": {"nodes": items},
    }
    return answer({"order": {"id": "gid://shopify/Order/5", "fulfillmentOrders": {"nodes": [fo]}}})


@responses.activate
def test_ready_marks_the_open_pick_up_fulfillment_order_prepared(adapter):
    responses.post(GRAPHQL, json=pickup_order())
    responses.post(GRAPHQL, json=answer({"fulfillmentOrderLineItemsPreparedForPickup": {"userErrors": []}}))

    adapter.push_pickup(external_id="5", state="ready", lines=[])

    lookup, mutation = sent()
    assert lookup["variables"] == {"id": "gid://shopify/Order/5"}
    assert mutation == {
        "query": PREPARED_FOR_PICKUP,
        "variables": {
            "input": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/9"}]}
        },
    }


@responses.activate
def test_collected_fulfils_the_lines_taken_and_a_repeat_finds_nothing_left(adapter):
    responses.post(GRAPHQL, json=pickup_order())
    created = {"fulfillment": {"id": "gid://shopify/Fulfillment/7", "status": "SUCCESS"}, "userErrors": []}
    responses.post(GRAPHQL, json=answer({"fulfillmentCreate": created}))
    responses.post(GRAPHQL, json=pickup_order(remaining=(0, 1), status="IN_PROGRESS"))

    lines = [CollectedLine(sku="A", quantity=2)]
    first = adapter.push_pickup(external_id="5", state="collected", lines=lines)
    again = adapter.push_pickup(external_id="5", state="collected", lines=lines)

    assert (first, again) == ({"id": "gid://shopify/Fulfillment/7", "status": "SUCCESS"}, None)
    mutation = sent()[1]
    assert mutation["query"] == FULFILLMENT_CREATE
    assert mutation["variables"] == {
        "fulfillment": {
            "notifyCustomer": False,
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/9",
                    "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/11", "quantity": 2}],
                }
            ],
        }
    }


@responses.activate
def test_user_errors_are_a_push_error_naming_field_and_message(adapter):
    responses.post(GRAPHQL, json=pickup_order())
    refused = {"userErrors": [{"field": ["input", "lineItemsByFulfillmentOrder"], "message": "is not a pickup"}]}
    responses.post(GRAPHQL, json=answer({"fulfillmentOrderLineItemsPreparedForPickup": refused}))

    with pytest.raises(TransportError, match=r"refused .*: input\.lineItemsByFulfillmentOrder: is not a pickup") as e:
        adapter.push_pickup(external_id="5", state="ready", lines=[])

    assert e.value.permanent is True


@responses.activate
def test_a_push_for_an_order_shopify_does_not_have_is_refused(adapter):
    responses.post(GRAPHQL, json=answer({"order": None}))

    with pytest.raises(ValueError, match="shopify has no order 5"):
        adapter.push_pickup(external_id="5", state="collected", lines=[CollectedLine(sku="A", quantity=1)])
    with pytest.raises(ValueError, match="takes no pickup state 'refused'"):
        adapter.push_pickup(external_id="5", state="refused", lines=[])


# -- webhooks -----------------------------------------------------------------------------------
@responses.activate
def test_a_webhook_order_is_read_again_over_graphql(adapter):
    responses.post(GRAPHQL, json=answer({"order": node_fixture()}))

    (order,) = adapter.complete("orders", [load("shopify", "order_tagged_fulfilled_refunded")["order"]])

    assert order == node_fixture()
    assert sent()[0]["variables"] == {"id": "gid://shopify/Order/450789469"}


# -- bulk backfill --------------------------------------------------------------------------------
FILE_URL = "https://storage.googleapis.com/shopify-tiers-assets-prod-us-east1/bulk-op.jsonl?X-Goog-Signature=abc"


def bulk_lines(node: dict) -> list[dict]:
    """Shopify's bulk JSONL of one order node as BULK_ORDERS selects it: the order-level connections' nodes as
    lines after it, naming their parent; fulfilments and refunds as their ids only (their line items are
    connections inside a list, which a bulk query cannot hold); no line items under the fulfillment orders."""
    own, children = {}, []
    for key, value in node.items():
        if key == "fulfillmentOrders":
            children += [
                {k: v for k, v in fo.items() if k != "lineItems"} | {"__parentId": node["id"]} for fo in value["nodes"]
            ]
        elif isinstance(value, dict) and "nodes" in value:
            children += [{**child, "__parentId": node["id"]} for child in value["nodes"]]
        elif key in ("fulfillments", "refunds"):
            own[key] = [{"id": item["id"]} for item in value]
        else:
            own[key] = value
    return [own, *children]


def with_ids(node: dict) -> dict:
    """The fixture's node with an id on each shipping line (bulk lines are told by their id's type)."""
    for n, line in enumerate(node["shippingLines"]["nodes"]):
        line["id"] = f"gid://shopify/ShippingLine/{n + 1}"
    return node


@pytest.fixture
def bulk_adapter() -> ShopifyAdapter:
    return make_adapter(ShopifyAdapter, BASE, access_token=TOKEN)


@responses.activate
def test_a_first_sync_runs_a_bulk_operation_and_reads_its_file_page_by_page(bulk_adapter):
    first, second = with_ids(node_fixture()), {**with_ids(node_fixture()), "id": "gid://shopify/Order/2"}
    body = b"".join(json.dumps(line).encode() + b"\n" for line in [*bulk_lines(first), *bulk_lines(second)])
    operation = {"id": "gid://shopify/BulkOperation/1", "status": "CREATED", "createdAt": "2026-11-20T12:00:00Z"}
    responses.post(GRAPHQL, json=answer({"bulkOperationRunQuery": {"bulkOperation": operation, "userErrors": []}}))
    running = {**operation, "status": "RUNNING", "url": None}
    responses.post(GRAPHQL, json=answer({"currentBulkOperation": running}))
    responses.post(
        GRAPHQL, json=answer({"currentBulkOperation": {**operation, "status": "COMPLETED", "url": FILE_URL}})
    )
    responses.get(FILE_URL, body=body, status=206)
    responses.post(GRAPHQL, json=answer({"nodes": [first]}))  # the page's order with fulfilments, read whole
    split = len(b"".join(json.dumps(line).encode() + b"\n" for line in bulk_lines(first)))
    responses.get(FILE_URL, body=body[split:], status=206)
    responses.post(GRAPHQL, json=answer({"nodes": [second]}))

    bulk_adapter.page_size = 1
    started = bulk_adapter.fetch("orders", {})
    ready = bulk_adapter.fetch("orders", started.cursor)
    page_one = bulk_adapter.fetch("orders", ready.cursor)
    page_two = bulk_adapter.fetch("orders", page_one.cursor)

    assert (started.items, started.cursor) == (
        [],
        {"bulk": operation["id"], "since": "2026-11-20T12:00:00Z"},
    )
    assert bulk_adapter.client.sleep == [1.0]  # polled again a second after RUNNING
    assert ready.cursor == {"bulk": operation["id"], "since": "2026-11-20T12:00:00Z", "url": FILE_URL}
    assert page_one.has_more and page_one.cursor["offset"] == split
    assert bulk_adapter.map("orders", page_one.items[0]) == map_order_node(with_ids(node_fixture()))
    assert bulk_adapter.map("orders", page_one.items[0]) == map_order(rest_fixture())
    assert ([bulk_adapter.external_id("orders", o) for o in page_two.items], page_two.has_more) == (["2"], False)
    nodes_asked = [
        json.loads(c.request.body)["variables"] for c in responses.calls if b"OrderNodes" in (c.request.body or b"")
    ]
    assert nodes_asked == [{"ids": ["gid://shopify/Order/450789469"]}, {"ids": ["gid://shopify/Order/2"]}]
    assert page_two.cursor == {"updated_at_min": "2026-11-20T12:00:00Z"}
    downloads = [call.request for call in responses.calls if call.request.method == "GET"]
    assert [r.headers["Range"] for r in downloads] == ["bytes=0-", f"bytes={split}-"]
    assert all("X-Shopify-Access-Token" not in r.headers for r in downloads)  # the token stays with Shopify


def failing_operation() -> tuple[dict, dict]:
    """``(failed, again)``: Shopify reports the operation FAILED, and a start answers with a new one."""
    failed = {"id": "gid://shopify/BulkOperation/1", "status": "FAILED", "errorCode": "INTERNAL_SERVER_ERROR"}
    responses.post(GRAPHQL, json=answer({"currentBulkOperation": failed}))
    again = {"id": "gid://shopify/BulkOperation/2", "status": "CREATED", "createdAt": "2026-11-20T12:05:00Z"}
    responses.post(GRAPHQL, json=answer({"bulkOperationRunQuery": {"bulkOperation": again, "userErrors": []}}))
    return failed, again


@responses.activate
def test_a_failed_bulk_operation_is_started_again_and_a_line_without_its_parent_is_a_dead_letter(bulk_adapter):
    failed, again = failing_operation()
    orphan = {"id": "gid://shopify/LineItem/9", "__parentId": "gid://shopify/Order/404"}
    own = bulk_lines(with_ids(node_fixture()))[0]  # the order's own line, without its children
    responses.get(FILE_URL, body=json.dumps(own) + "\n" + json.dumps(orphan), status=206)

    restarted = bulk_adapter.fetch("orders", {"bulk": failed["id"], "since": "2026-11-20T12:00:00Z"})
    page = bulk_adapter.fetch("orders", {"bulk": again["id"], "since": "x", "url": FILE_URL, "offset": 0})

    assert restarted.cursor == {"bulk": again["id"], "since": "2026-11-20T12:05:00Z"}
    with pytest.raises(MappingError, match=r"bulk lines it cannot hold: gid://shopify/LineItem/9"):
        bulk_adapter.map("orders", page.items[0])


@responses.activate
def test_a_bulk_order_shopify_no_longer_returns_whole_is_a_dead_letter_saying_so(bulk_adapter):
    # Given a file order with fulfilments that nodes(ids:) answers with null (deleted since the file was written)
    own = bulk_lines(with_ids(node_fixture()))[0]
    responses.get(FILE_URL, body=json.dumps(own) + "\n", status=206)
    responses.post(GRAPHQL, json=answer({"nodes": [None]}))

    page = bulk_adapter.fetch("orders", {"bulk": "gid://shopify/BulkOperation/1", "since": "x", "url": FILE_URL})

    # Then it is not landed without its shipments' and refunds' lines: the mapping refuses it, saying why
    with pytest.raises(MappingError, match="fulfilment and refund lines could not be read"):
        bulk_adapter.map("orders", page.items[0])


def test_the_bulk_orders_query_is_one_shopify_accepts():
    """Shopify's bulk restrictions (bulkOperationRunQuery): at most five connections, nested at most two levels
    deep, no connection inside a list field; the sandbox holds a bulk query to the same rules."""
    from integrations.adapters.shopify_bulk import BULK_ORDERS
    from integrations.sandbox.formats.shopify_graphql import bulk_refusal, selection

    assert bulk_refusal(selection(BULK_ORDERS)) == ""
    too_deep = (
        "{ orders { edges { node { id fulfillmentOrders { edges { node { lineItems { nodes { id } } } } } } } } }"
    )
    in_a_list = "{ orders { edges { node { id refunds { refundLineItems { edges { node { id } } } } } } } }"
    assert bulk_refusal(selection(too_deep)) == "the connection lineItems is nested 3 levels deep"
    assert bulk_refusal(selection(in_a_list)) == "the connection refundLineItems is inside the list field refunds"


@responses.activate
def test_a_run_gives_up_after_three_starts_and_the_next_run_starts_afresh(bulk_adapter):
    # Given an operation that keeps failing (or is no longer the current one when polled)
    failed, again = failing_operation()
    cursor = {"bulk": failed["id"], "since": "2026-11-20T12:00:00Z"}

    # When one run has started it three times, the run fails, saying why
    for _ in range(3):
        assert bulk_adapter.fetch("orders", cursor).cursor == {"bulk": again["id"], "since": "2026-11-20T12:05:00Z"}
    with pytest.raises(TransportError, match="did not complete in 3 attempts"):
        bulk_adapter.fetch("orders", cursor)

    # Then the next run (a new adapter) starts it again from the cursor that run left: it is never stuck on it
    next_run = make_adapter(ShopifyAdapter, BASE, access_token=TOKEN)
    assert next_run.fetch("orders", cursor).cursor == {"bulk": again["id"], "since": "2026-11-20T12:05:00Z"}
    starts = [c for c in responses.calls if b"bulkOperationRunQuery" in c.request.body]
    assert len(starts) == 4


# -- Shopify's cost limit: every query fits, and what did not fit is read after -------------------
def adapter_documents() -> dict[str, str]:
    """Every GraphQL document of the adapter's modules (constants and the values of dicts of them), by operation."""
    from graphql import parse  # noqa: PLC0415

    from integrations.adapters import shopify_bulk, shopify_graphql, shopify_orders  # noqa: PLC0415

    found = {}
    for module in (shopify_graphql, shopify_orders, shopify_bulk):
        for value in vars(module).values():
            for candidate in value.values() if isinstance(value, dict) else [value]:
                candidate = candidate[0] if isinstance(candidate, tuple) else candidate
                if isinstance(candidate, str) and candidate.lstrip().startswith(("query", "mutation")):
                    (operation, *_) = parse(candidate).definitions
                    assert found.setdefault(operation.name.value, candidate) == candidate  # one document a name
    return found


def test_every_query_the_adapter_sends_requests_at_most_shopifys_1000_points():
    """Shopify refuses a query requesting more than 1,000 (MAX_COST_EXCEEDED): each document, with the largest
    variables the adapter sends (a page of 250, a nodes(ids:) read of ORDERS_PER_QUERY orders), fits."""
    from integrations.adapters.shopify_graphql import ORDERS_PER_QUERY  # noqa: PLC0415
    from integrations.sandbox.formats.shopify_cost import QueryCost  # noqa: PLC0415

    variables = {"first": 250, "ids": [f"gid://shopify/Order/{n}" for n in range(ORDERS_PER_QUERY)], "id": "x"}
    costs = {name: QueryCost(document, variables).requested() for name, document in adapter_documents().items()}

    assert costs == {
        "Orders": 252,  # ids and times: the orders are read whole after
        "Customers": 752,
        "Locations": 502,
        "Order": 237,  # the webhook's re-read: one order at the sizes that hold a usual one
        "OrderNodes": 948,  # four of them
        "OrderLineItems": 963,  # what did not fit, paged on or read again
        "OrderShippingLines": 253,
        "OrderFulfillmentOrders": 963,
        "FulfillmentLineItems": 753,
        "RefundLineItems": 983,
        "RefundTransactions": 963,
        "OrderFulfillments": 993,
        "OrderRefunds": 975,
        "OrderTransactions": 963,
        "PickupFulfillmentOrders": 923,  # the counter's read and its follow-ups
        "PickupMoreFulfillmentOrders": 923,
        "PickupLineItems": 503,
        "PreparedForPickup": 10,
        "FulfillmentCreate": 10,
        "BulkOrders": 10,
        "CurrentBulkOperation": 1,
    }


def order_answer(node: dict) -> dict:
    return answer({"order": node})


@responses.activate
def test_a_connection_cut_short_is_paged_on_through_its_owner_and_the_order_is_whole(adapter):
    from integrations.adapters.shopify_graphql import ORDER_QUERY  # noqa: PLC0415
    from integrations.adapters.shopify_orders import MORE  # noqa: PLC0415

    whole = node_fixture()
    first = node_fixture()
    items, refund_items = whole["lineItems"]["nodes"], whole["refunds"][0]["refundLineItems"]["nodes"]
    first["lineItems"] = {"pageInfo": {"hasNextPage": True, "endCursor": "L1"}, "nodes": items[:1]}
    first["refunds"][0]["refundLineItems"] = {
        "pageInfo": {"hasNextPage": True, "endCursor": "R1"},
        "nodes": refund_items[:1],
    }
    responses.post(GRAPHQL, json=order_answer(first))
    more = {"hasNextPage": True, "endCursor": "L2"}
    responses.post(GRAPHQL, json=order_answer({"lineItems": {"pageInfo": more, "nodes": items[1:2]}}))
    done = {"hasNextPage": False, "endCursor": "L3"}
    responses.post(GRAPHQL, json=order_answer({"lineItems": {"pageInfo": done, "nodes": items[2:]}}))
    refund = {"refundLineItems": {"pageInfo": {"hasNextPage": False, "endCursor": "R2"}, "nodes": refund_items[1:]}}
    responses.post(GRAPHQL, json=answer({"refund": refund}))

    order = adapter.graphql.order("450789469")

    assert order == whole  # every line, no pageInfo left: the node one unlimited query would have answered
    ident, refund_id = "gid://shopify/Order/450789469", whole["refunds"][0]["id"]
    assert sent() == [
        {"query": ORDER_QUERY, "variables": {"id": ident}},
        {"query": MORE["order", "lineItems"], "variables": {"id": ident, "after": "L1"}},
        {"query": MORE["order", "lineItems"], "variables": {"id": ident, "after": "L2"}},
        {"query": MORE["refund", "refundLineItems"], "variables": {"id": refund_id, "after": "R1"}},
    ]
    assert adapter.map("orders", order) == map_order(rest_fixture())


@responses.activate
def test_a_list_that_comes_back_full_is_read_again_at_the_largest_size_that_fits(adapter):
    from integrations.adapters.shopify_orders import AGAIN  # noqa: PLC0415

    node = node_fixture()
    transactions = [{**node["transactions"][n % 3], "id": f"gid://shopify/OrderTransaction/{n}"} for n in range(7)]
    responses.post(GRAPHQL, json=answer({"nodes": [{**node, "transactions": transactions[:5]}]}))  # as many as asked
    responses.post(GRAPHQL, json=order_answer({"transactions": transactions}))

    (order,) = adapter.graphql.orders.read(["gid://shopify/Order/450789469"])

    assert order == {**node, "transactions": transactions}
    assert sent()[1] == {"query": AGAIN["transactions"][0], "variables": {"id": "gid://shopify/Order/450789469"}}
    assert "transactions(first: 240)" in AGAIN["transactions"][0]


@responses.activate
def test_a_list_still_full_at_the_largest_size_that_fits_is_a_permanent_error_never_an_order_landed_short(adapter):
    node = node_fixture()
    fulfillments = [{**node["fulfillments"][0], "id": f"gid://shopify/Fulfillment/{n}"} for n in range(45)]
    responses.post(GRAPHQL, json=answer({"nodes": [{**node, "fulfillments": fulfillments[:3]}]}))
    responses.post(GRAPHQL, json=order_answer({"fulfillments": fulfillments}))

    with pytest.raises(TransportError, match="order gid://shopify/Order/450789469 has 45 fulfillments or more") as e:
        adapter.graphql.orders.read(["gid://shopify/Order/450789469"])

    assert e.value.permanent is True


@responses.activate
def test_the_counter_reads_every_line_item_of_a_fulfillment_order_before_fulfilling(adapter):
    from integrations.adapters.shopify_orders import PICKUP_MORE  # noqa: PLC0415

    page = pickup_order()
    fo = page["data"]["order"]["fulfillmentOrders"]["nodes"][0]
    rest = fo["lineItems"]["nodes"][1:]
    fo["lineItems"] = {"pageInfo": {"hasNextPage": True, "endCursor": "F1"}, "nodes": fo["lineItems"]["nodes"][:1]}
    responses.post(GRAPHQL, json=page)
    tail = {"lineItems": {"pageInfo": {"hasNextPage": False, "endCursor": "F2"}, "nodes": rest}}
    responses.post(GRAPHQL, json=answer({"fulfillmentOrder": tail}))
    created = {"fulfillment": {"id": "gid://shopify/Fulfillment/7", "status": "SUCCESS"}, "userErrors": []}
    responses.post(GRAPHQL, json=answer({"fulfillmentCreate": created}))

    adapter.push_pickup(external_id="5", state="collected", lines=[CollectedLine(sku="B", quantity=1)])

    _, paged, mutation = sent()
    assert paged == {
        "query": PICKUP_MORE["fulfillmentOrder", "lineItems"],
        "variables": {"id": "gid://shopify/FulfillmentOrder/9", "after": "F1"},
    }
    assert mutation["variables"]["fulfillment"]["lineItemsByFulfillmentOrder"] == [
        {
            "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/9",
            "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/12", "quantity": 1}],
        }
    ]
