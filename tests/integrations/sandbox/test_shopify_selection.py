"""The sandbox's Shopify GraphQL answers hold exactly what the document selects, as Shopify's do: the fields named
(no others), under their aliases, ``__typename`` only when asked, fragments applied by type; each occurrence of a
field paged by its own arguments; a bulk operation's file lines the same, each with only its node's selected fields."""

from __future__ import annotations

import json
import time

import pytest
import requests

pytestmark = pytest.mark.sandbox

HEADERS = {"X-Shopify-Access-Token": "shpat_sandbox"}


@pytest.fixture(scope="module")
def ask(shopify_graphql):
    """The ``data`` of a document's answer, which must hold no errors."""

    def post(document: str, **variables) -> dict:
        answer = shopify_graphql(document, **variables)
        assert "errors" not in answer, answer
        return answer["data"]

    return post


@pytest.fixture(scope="module")
def carded(server):
    """A web order of two lines or more paid by card, as it stands at the clock."""
    world = server.world
    return next(
        o
        for o in world.orders
        if o.channel == "web"
        and len(o.lines) >= 2
        and o.card[1]
        and not o.pay_in_store
        and o.placed <= world.now
        and o.edited is None
    )


def order_gid(o) -> str:
    return f"gid://shopify/Order/{o.shopify_id}"


def line_gids(o) -> list[str]:
    return [f"gid://shopify/LineItem/{ident}" for ident in o.line_ids[: len(o.lines)]]


def test_an_object_holds_only_the_fields_selected(ask, carded):
    answer = ask(
        "query($id: ID!) { order(id: $id) { id totalPriceSet { shopMoney { currencyCode } } } }", id=order_gid(carded)
    )
    customers = ask("query($first: Int!) { customers(first: $first) { nodes { id } } }", first=3)["customers"]

    assert answer == {"order": {"id": order_gid(carded), "totalPriceSet": {"shopMoney": {"currencyCode": "USD"}}}}
    assert [set(node) for node in customers["nodes"]] == [{"id"}] * 3
    assert set(customers) == {"nodes"}  # no pageInfo when not asked


def test_aliases_name_the_answers_and_each_occurrence_is_paged_by_its_own_arguments(ask, carded):
    name = ask("query($id: ID!) { order(id: $id) { name } }", id=order_gid(carded))["order"]["name"]
    document = """query($id: ID!) { mine: order(id: $id) {
      number: name
      name
      one: lineItems(first: 1) { pageInfo { more: hasNextPage } nodes { ident: id } }
      two: lineItems(first: 2) { nodes { id } }
    } }"""

    answer = ask(document, id=order_gid(carded))

    first, second = line_gids(carded)[:2]
    assert answer == {
        "mine": {
            "number": name,
            "name": name,
            "one": {"pageInfo": {"more": True}, "nodes": [{"ident": first}]},
            "two": {"nodes": [{"id": first}, {"id": second}]},
        }
    }


def test_each_root_field_is_answered_with_its_own_arguments(ask, server, carded):
    other = next(o for o in server.world.orders if o.channel == "web" and o.placed <= server.world.now and o != carded)
    document = f"""query($id: ID!) {{
      mine: order(id: $id) {{ id }}
      theirs: order(id: "{order_gid(other)}") {{ id }}
      none: order(id: "gid://shopify/Order/1") {{ id }}
    }}"""

    answer = ask(document, id=order_gid(carded))

    assert answer == {"mine": {"id": order_gid(carded)}, "theirs": {"id": order_gid(other)}, "none": None}


def test_typename_is_answered_only_where_asked(ask, carded):
    document = """query($id: ID!) { __typename order(id: $id) {
      __typename
      lineItems(first: 1) { __typename edges { __typename node { __typename id } } }
      totalPriceSet { shopMoney { __typename amount } }
    } }"""

    answer = ask(document, id=order_gid(carded))

    amount = answer["order"]["totalPriceSet"]["shopMoney"]["amount"]
    assert answer == {
        "__typename": "QueryRoot",
        "order": {
            "__typename": "Order",
            "lineItems": {
                "__typename": "LineItemConnection",
                "edges": [
                    {"__typename": "LineItemEdge", "node": {"__typename": "LineItem", "id": line_gids(carded)[0]}}
                ],
            },
            "totalPriceSet": {"shopMoney": {"__typename": "MoneyV2", "amount": amount}},
        },
    }


def test_fragments_apply_by_their_type_condition(ask, carded):
    document = """query($ids: [ID!]!) { nodes(ids: $ids) {
      ... on Order { id transactions(first: 5) { paymentDetails {
        ... on CardPaymentDetails { company }
        ... on ShopPayInstallmentsPaymentDetails { paymentMethodName }
      } } }
      ... on Customer { firstName }
      ...Named
    } }
    fragment Named on Order { name }
    fragment Unused on Customer { email }"""
    unknown = "gid://shopify/Order/1"

    answer = ask(document, ids=[order_gid(carded), unknown])

    order, missing = answer["nodes"]
    cards = [t["paymentDetails"] for t in order["transactions"] if t["paymentDetails"] is not None]
    assert missing is None
    assert list(order) == ["id", "transactions", "name"]
    assert cards and all(card == {"company": carded.card[1]} for card in cards)


def test_a_field_the_sandbox_does_not_render_is_left_out_as_before(ask, carded):
    answer = ask("query($id: ID!) { order(id: $id) { id poNumber } }", id=order_gid(carded))

    assert answer == {"order": {"id": order_gid(carded)}}


def test_a_bulk_file_line_holds_only_its_node_s_selected_fields(server, carded):
    from integrations.adapters.shopify_bulk import CURRENT, RUN_QUERY

    query = """{ orders { edges { node {
      id number: name __typename
      lineItems { edges { node { id quantity } } }
      transactions { kind }
    } } } }"""
    http = requests.Session()
    graphql = server.url("shopify") + "/graphql.json"
    started = http.post(graphql, json={"query": RUN_QUERY, "variables": {"query": query}}, headers=HEADERS).json()
    assert started["data"]["bulkOperationRunQuery"]["userErrors"] == []
    deadline = time.monotonic() + 30
    while True:
        done = http.post(graphql, json={"query": CURRENT}, headers=HEADERS).json()["data"]["currentBulkOperation"]
        if done["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    lines = [json.loads(raw) for raw in http.get(done["url"]).content.splitlines()]
    http.close()

    own = [line for line in lines if "__parentId" not in line]
    children = [line for line in lines if "__parentId" in line]
    assert done["status"] == "COMPLETED"
    assert {tuple(line) for line in own} == {("id", "number", "__typename", "transactions")}
    assert {line["__typename"] for line in own} == {"Order"}
    assert {tuple(t) for line in own for t in line["transactions"]} == {("kind",)}
    assert {tuple(line) for line in children} == {("__parentId", "id", "quantity")}
    mine = next(line for line in own if line["id"] == order_gid(carded))
    assert [c["id"] for c in children if c["__parentId"] == mine["id"]] == line_gids(carded)
