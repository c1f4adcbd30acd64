"""Shopify's calculated query cost, worked out from the document (integrations/sandbox/formats/shopify_cost.py).

The rules are Shopify's ("GraphQL Admin API rate limits", cost calculation): scalars and enums
0, objects 1, a connection 2 plus its size times one of its objects, the dearest of an
interface's or union's possible selections, a mutation 10; a request above 1,000 is refused.
"""

from __future__ import annotations

import pytest
import requests

from integrations.adapters.shopify_graphql import CUSTOMERS_QUERY, LOCATIONS_QUERY
from integrations.sandbox.formats.shopify_cost import QueryCost

NESTED = """query Orders($first: Int!) { orders(first: $first) {
  pageInfo { hasNextPage endCursor }
  nodes { id name totalPriceSet { shopMoney { amount } } lineItems(first: 5) { nodes { sku variant { id } } } }
} }"""


@pytest.mark.parametrize(
    ("document", "variables", "requested"),
    [
        ("{ shop { id name } }", {}, 1),  # one object, scalars free
        ("{ products(first: 5) { edges { node { title } } } }", {}, 2 + 5),
        ("{ products(last: 3) { nodes { title } } }", {}, 2 + 3),
        # orders 2 + 10 × (order 1 + totalPriceSet 1 + shopMoney 1 + lineItems (2 + 5 × (line 1 + variant 1)))
        (NESTED, {"first": 10}, 2 + 10 * (3 + 2 + 5 * 2)),
        ("""{ order(id: "gid://shopify/Order/1") { transactions(first: 4) { id amountSet { shopMoney { amount } }
           paymentDetails { ... on CardPaymentDetails { company } ... on ShopPayInstallmentsPaymentDetails {
           paymentMethodName } } } } }""", {}, 1 + 2 + 4 * (1 + 2 + 1)),  # a sized list; a union counts once
        ("query N($ids: [ID!]!) { nodes(ids: $ids) { ... on Order { id customer { id } } } }", {"ids": ["a"] * 3}, 6),
        ("mutation { fulfillmentCreate(fulfillment: {}) { fulfillment { id } userErrors { message } } }", {}, 10),
    ],
)  # fmt: skip
def test_requested_cost_follows_shopifys_rules(document, variables, requested):
    assert QueryCost(document, variables).requested() == requested


def test_actual_cost_counts_what_came_back_and_nothing_for_a_null():
    data = {
        "orders": {
            "pageInfo": {"hasNextPage": False},
            "nodes": [
                {"id": "1", "totalPriceSet": {"shopMoney": {}}, "lineItems": {"nodes": [{"variant": {"id": "v"}}]}},
                {"id": "2", "totalPriceSet": None, "lineItems": {"nodes": []}},
            ],
        }
    }
    # orders 2 + order 1 (1 + totalPriceSet 2 + lineItems 2 + one line with its variant 2) + order 2 (1 + lineItems 2)
    assert QueryCost(NESTED, {"first": 50}).actual(data) == 2 + (1 + 2 + 2 + 2) + (1 + 2)


def test_the_adapters_customer_and_location_pages_fit_shopifys_limit():
    assert QueryCost(CUSTOMERS_QUERY, {"first": 250}).requested() == 2 + 250 * 3  # customer, e-mail, phone
    assert QueryCost(LOCATIONS_QUERY, {}).requested() == 2 + 250 * 2  # location, address


@pytest.mark.sandbox
def test_under_shopifys_rules_the_sandbox_refuses_a_query_above_1000_and_charges_what_came_back(server):
    http = requests.Session()
    graphql = server.url("shopify") + "/graphql.json"
    headers = {"X-Shopify-Access-Token": "shpat_sandbox"}
    control = http.post(server.base_url + "/_sandbox/graphql-cost", json={"rules": "shopify"}).json()
    try:
        refused = http.post(graphql, json={"query": NESTED, "variables": {"first": 80}}, headers=headers).json()
        page = http.post(graphql, json={"query": CUSTOMERS_QUERY, "variables": {"first": 250}}, headers=headers).json()
    finally:
        http.post(server.base_url + "/_sandbox/graphql-cost", json={"rules": "shopify"})  # the default

    assert control["rules"] == "shopify"
    assert refused["errors"] == [
        {
            "message": "Query cost is 1202, which exceeds the single query max cost limit (1000).",
            "extensions": {"code": "MAX_COST_EXCEEDED"},
        }
    ]
    customers = page["data"]["customers"]["nodes"]
    assert page["extensions"]["cost"]["requestedQueryCost"] == 752
    assert page["extensions"]["cost"]["actualQueryCost"] == QueryCost(CUSTOMERS_QUERY).actual(page["data"])
    assert page["extensions"]["cost"]["actualQueryCost"] == 2 + sum(
        1 + (c["defaultEmailAddress"] is not None) + (c["defaultPhoneNumber"] is not None) for c in customers
    )
