"""The sandbox's GraphQL answers nested connections and sized lists a page at a time, as Shopify does: ``first``/``after``
(or ``last``/``before``) with a ``pageInfo``, opaque stable cursors, lists cut to ``first``; and serves an order's
fulfilment, refund and fulfillment order by their own ids (``fulfillment(id:)``, ``refund(id:)``,
``fulfillmentOrder(id:)``), null for an id it does not have."""

from __future__ import annotations

import pytest

from integrations.sandbox.formats.shopify_cost import QueryCost
from integrations.sandbox.formats.shopify_records import FULFILLMENT_ORDER_BASE

pytestmark = pytest.mark.sandbox

LINES = """query Lines($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  order(id: $id) {
    id
    lineItems(first: $first, after: $after, last: $last, before: $before) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id sku } }
    }
  }
}"""
LISTS = """query Lists($id: ID!) {
  order(id: $id) { id transactions(first: 1) { id kind } fulfillments(first: 0) { id } refunds(first: 5) { id } }
}"""
FULFILLMENT = """query Fulfillment($id: ID!, $after: String) {
  fulfillment(id: $id) { id fulfillmentLineItems(first: 1, after: $after) { pageInfo { hasNextPage endCursor }
    nodes { quantity lineItem { id } } } }
}"""
REFUND = """query Refund($id: ID!, $after: String) {
  refund(id: $id) { id refundLineItems(first: 1, after: $after) { pageInfo { hasNextPage endCursor }
    nodes { quantity lineItem { id } } } transactions(first: 1) { nodes { id kind } } }
}"""
FULFILLMENT_ORDER = """query FulfillmentOrder($id: ID!, $after: String) {
  fulfillmentOrder(id: $id) { id lineItems(first: 2, after: $after) { pageInfo { hasNextPage endCursor }
    nodes { id totalQuantity } } }
}"""


@pytest.fixture(scope="module")
def ask(shopify_graphql):
    return shopify_graphql


@pytest.fixture(scope="module")
def returned(server):
    """A shipped web order of three lines or more, one parcel carrying them all, refunded for several lines."""
    world = server.world
    return next(
        o
        for o in world.orders
        if o.channel == "web"
        and len(o.lines) >= 3
        and len(o.shipments) == 1
        and o.shipments[0].lines is None
        and o.shipments[0].created <= world.now
        and len(o.refunds) == 1
        and len(o.refunds[0][2]) >= 2
        and o.refunds[0][0] <= world.now
        and o.edited is None
    )


def line_gids(o) -> list[str]:
    return [f"gid://shopify/LineItem/{ident}" for ident in o.line_ids[: len(o.lines)]]


def test_a_nested_connection_is_served_first_after_with_its_page_info_and_stable_cursors(ask, returned):
    ident = f"gid://shopify/Order/{returned.shopify_id}"
    first = ask(LINES, id=ident, first=2)
    again = ask(LINES, id=ident, first=2)
    page = first["data"]["order"]["lineItems"]
    assert [e["node"]["id"] for e in page["edges"]] == line_gids(returned)[:2]
    assert [e["node"]["sku"] for e in page["edges"]] == [p.sku for p, _, _ in returned.lines[:2]]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
    assert page["pageInfo"]["endCursor"] == page["edges"][1]["cursor"]
    assert again["data"]["order"]["lineItems"] == page  # cursors are stable
    assert set(page) == {"pageInfo", "edges"}  # what LINES selects: no nodes beside its edges

    rest = ask(LINES, id=ident, first=250, after=page["pageInfo"]["endCursor"])["data"]["order"]["lineItems"]
    assert [e["node"]["id"] for e in rest["edges"]] == line_gids(returned)[2:]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert rest["pageInfo"]["hasPreviousPage"] is True
    assert rest["pageInfo"]["endCursor"] == rest["edges"][-1]["cursor"]

    last = ask(LINES, id=ident, last=1, before=page["pageInfo"]["endCursor"])["data"]["order"]["lineItems"]
    assert [e["node"]["id"] for e in last["edges"]] == line_gids(returned)[:1]
    assert last["pageInfo"]["hasNextPage"] is True and last["pageInfo"]["hasPreviousPage"] is False
    assert last["pageInfo"]["startCursor"] == page["pageInfo"]["startCursor"]

    # the bucket is charged what came back: the order 1, the connection 2 + 1 for each of the 2 line items
    cost = first["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1 + 2 + 2 * 1
    assert cost["actualQueryCost"] == 1 + 2 + 2 * 1 == QueryCost(LINES, {"id": ident, "first": 2}).actual(first["data"])
    tail = ask(LINES, id=ident, first=250, after=page["pageInfo"]["endCursor"])["extensions"]["cost"]
    assert (tail["requestedQueryCost"], tail["actualQueryCost"]) == (1 + 2 + 250, 1 + 2 + len(returned.lines) - 2)


def test_a_cursor_that_is_not_the_connection_s_is_refused(ask, returned):
    answer = ask(LINES, id=f"gid://shopify/Order/{returned.shopify_id}", first=2, after="bm90LW91cnM")
    assert answer["errors"] == [{"message": "Invalid cursor for current pagination sort: bm90LW91cnM"}]
    assert "data" not in answer


def test_sized_lists_hold_at_most_first_items(ask, returned):
    order = ask(LISTS, id=f"gid://shopify/Order/{returned.shopify_id}")["data"]["order"]
    assert order["transactions"] == [{**order["transactions"][0], "kind": "SALE"}]
    assert order["transactions"][0]["id"] == f"gid://shopify/OrderTransaction/{returned.txn_ids[0]}"
    assert order["fulfillments"] == []
    assert [r["id"] for r in order["refunds"]] == [f"gid://shopify/Refund/{returned.refund_ids[0][0]}"]
    assert "pageInfo" not in order["transactions"][0]


def test_an_order_s_fulfilment_refund_and_fulfillment_order_are_served_by_their_own_ids_a_page_at_a_time(ask, returned):
    lines = line_gids(returned)
    parcel = f"gid://shopify/Fulfillment/{returned.shipments[0].fulfillment_id}"
    one = ask(FULFILLMENT, id=parcel)["data"]["fulfillment"]
    assert one["id"] == parcel
    assert [n["lineItem"]["id"] for n in one["fulfillmentLineItems"]["nodes"]] == lines[:1]
    assert one["fulfillmentLineItems"]["pageInfo"]["hasNextPage"] is True
    after = one["fulfillmentLineItems"]["pageInfo"]["endCursor"]
    two = ask(FULFILLMENT, id=parcel, after=after)["data"]["fulfillment"]["fulfillmentLineItems"]
    assert [n["lineItem"]["id"] for n in two["nodes"]] == lines[1:2]
    assert [n["quantity"] for n in two["nodes"]] == [returned.lines[1][1]]

    refund_id, transaction_id = returned.refund_ids[0]
    refunded = [f"gid://shopify/LineItem/{returned.line_ids[n]}" for n, _ in returned.refunds[0][2]]
    refund = ask(REFUND, id=f"gid://shopify/Refund/{refund_id}")["data"]["refund"]
    assert [n["lineItem"]["id"] for n in refund["refundLineItems"]["nodes"]] == refunded[:1]
    assert refund["refundLineItems"]["pageInfo"]["hasNextPage"] is True
    assert refund["transactions"]["nodes"] == [
        {**refund["transactions"]["nodes"][0], "id": f"gid://shopify/OrderTransaction/{transaction_id}"}
    ]
    after = refund["refundLineItems"]["pageInfo"]["endCursor"]
    rest = ask(REFUND, id=f"gid://shopify/Refund/{refund_id}", after=after)["data"]["refund"]["refundLineItems"]
    assert [n["lineItem"]["id"] for n in rest["nodes"]] == refunded[1:2]

    fo = f"gid://shopify/FulfillmentOrder/{FULFILLMENT_ORDER_BASE + returned.idx}"
    page = ask(FULFILLMENT_ORDER, id=fo)["data"]["fulfillmentOrder"]["lineItems"]
    rest = ask(FULFILLMENT_ORDER, id=fo, after=page["pageInfo"]["endCursor"])["data"]["fulfillmentOrder"]["lineItems"]
    items = [
        f"gid://shopify/FulfillmentOrderLineItem/{ident + 1}" for ident in returned.line_ids[: len(returned.lines)]
    ]
    assert [n["id"] for n in page["nodes"]] == items[:2] and page["pageInfo"]["hasNextPage"] is True
    assert [n["id"] for n in rest["nodes"]] == items[2:4]
    assert rest["pageInfo"]["hasNextPage"] is (len(items) > 4)

    # an id the shop does not have, or of another kind, is null, as Shopify answers it
    for document, field, ident in (
        (FULFILLMENT, "fulfillment", "gid://shopify/Fulfillment/1"),
        (REFUND, "refund", f"gid://shopify/Fulfillment/{refund_id}"),
        (FULFILLMENT_ORDER, "fulfillmentOrder", f"gid://shopify/FulfillmentOrder/{FULFILLMENT_ORDER_BASE - 1}"),
    ):
        answer = ask(document, id=ident)
        assert answer["data"] == {field: None}, field
        assert answer["extensions"]["cost"]["actualQueryCost"] == 0


@pytest.mark.parametrize(
    ("document", "variables", "message"),
    [
        ("query Q($id: ID!) { order(id: $id) { lineItems { nodes { id } } } }", {},
         "you must provide one of first or last"),
        (LINES, {"last": 1}, "using last without before is not supported"),
        (LINES, {"first": 251}, "first/last must be between 0 and 250, not 251"),
        (LINES, {"first": -1}, "first/last must be between 0 and 250, not -1"),
    ],
)  # fmt: skip
def test_what_shopify_refuses_of_a_nested_connection_is_refused(ask, returned, document, variables, message):
    """A connection asked whole, ``last`` without ``before``, a page over 250: an adapter query that forgot its sizes
    fails here as it would against a shop, instead of reading everything."""
    answer = ask(document, id=f"gid://shopify/Order/{returned.shopify_id}", **variables)

    assert [e["message"] for e in answer["errors"]] == [message]
    assert "data" not in answer or answer["data"] is None
