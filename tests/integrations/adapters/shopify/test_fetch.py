"""Fetching: REST paging, the call-limit bucket, and the transport's errors."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import responses
from responses import matchers

from integrations.http import TransportError
from tests.vendor_fixtures import load

from ..helpers import mock_answer
from .support import (
    BASE,
    TOKEN,
    order_fixture,
)


# -- fetching -------------------------------------------------------------------------------
def _order(updated_at: str, order_id: int) -> dict:
    return {**order_fixture(), "id": order_id, "updated_at": updated_at}


TRANSACTIONS_URL = re.compile(rf"{re.escape(BASE)}/orders/\d+/transactions\.json")


def no_transactions() -> None:
    """Every order's ``transactions.json`` answers an empty list."""
    responses.get(TRANSACTIONS_URL, json={"transactions": []})


@responses.activate
def test_each_order_of_a_page_carries_its_transactions(adapter):
    transactions = load("shopify", "transactions")["transactions"]
    responses.get(f"{BASE}/orders.json", json={"orders": [_order("2025-04-02T11:31:21-05:00", 450789469)]})
    responses.get(f"{BASE}/orders/450789469/transactions.json", json={"transactions": transactions})

    page = adapter.fetch("orders", {})
    record = adapter.map("orders", page.items[0])

    assert page.items[0]["transactions"] == transactions
    # The refund is listed by transactions.json and inside refunds[]: one payment per transaction id.
    assert [(p.external_id, p.kind, p.amount, p.card_brand, p.card_last4) for p in record.payments] == [
        ("179259969", "refund", Decimal("209.00"), "", ""),
        ("389404469", "authorization", Decimal("598.94"), "Visa", "4242"),
        ("801038806", "capture", Decimal("250.94"), "", ""),
    ]


@responses.activate
def test_an_order_without_an_id_is_passed_on_without_asking_for_its_transactions(adapter):
    broken = {k: v for k, v in _order("2025-04-02T11:31:21-05:00", 1).items() if k != "id"}
    responses.get(f"{BASE}/orders.json", json={"orders": [broken]})

    page = adapter.fetch("orders", {})

    assert page.items == [broken]
    assert len(responses.calls) == 1


@responses.activate
def test_a_webhook_order_is_completed_with_its_transactions(adapter):
    transactions = load("shopify", "transactions")["transactions"]
    responses.get(f"{BASE}/orders/450789469/transactions.json", json={"transactions": transactions})

    (order,) = adapter.complete("orders", [order_fixture()])

    assert order == {**order_fixture(), "transactions": transactions}
    assert adapter.complete("customers", [{"id": 1}]) == [{"id": 1}]


@responses.activate
def test_orders_walk_two_pages_by_link_header_and_end_on_the_watermark(adapter):
    page_one = [_order("2025-04-02T11:31:21-05:00", 1), _order("2025-04-02T12:00:00-05:00", 2)]
    page_two = [_order("2025-04-03T09:00:00-04:00", 3)]
    responses.get(
        f"{BASE}/orders.json",
        match=[
            matchers.query_param_matcher(
                {
                    "limit": "2",
                    "status": "any",
                    "order": "updated_at asc",
                    "updated_at_min": "2025-04-01T00:00:00+00:00",
                }
            ),
            matchers.header_matcher({"X-Shopify-Access-Token": TOKEN}),
        ],
        json={"orders": page_one},
        headers={"Link": f'<{BASE}/orders.json?limit=2&page_info=eyJuZXh0IjoyfQ>; rel="next"'},
    )
    responses.get(
        f"{BASE}/orders.json",
        match=[matchers.query_param_matcher({"limit": "2", "page_info": "eyJuZXh0IjoyfQ"})],
        json={"orders": page_two},
        headers={"Link": f'<{BASE}/orders.json?limit=2&page_info=eyJwcmV2Ijox>; rel="previous"'},
    )
    no_transactions()

    first = adapter.fetch("orders", {"updated_at_min": "2025-04-01T00:00:00+00:00"})
    second = adapter.fetch("orders", first.cursor)

    assert ([o["id"] for o in first.items], first.has_more) == ([1, 2], True)
    assert first.cursor == {
        "updated_at_min": "2025-04-01T00:00:00+00:00",
        "page_info": "eyJuZXh0IjoyfQ",
        "watermark": "2025-04-02T17:00:00+00:00",
    }
    assert ([o["id"] for o in second.items], second.has_more) == ([3], False)
    assert second.cursor == {"updated_at_min": "2025-04-03T13:00:00+00:00"}
    assert adapter.client.sleep == []


@responses.activate
def test_first_run_sends_no_updated_at_min_and_an_empty_answer_keeps_the_cursor_empty(adapter):
    responses.get(
        f"{BASE}/orders.json",
        match=[matchers.query_param_matcher({"limit": "2", "status": "any", "order": "updated_at asc"})],
        json={"orders": []},
    )

    page = adapter.fetch("orders", {})

    assert (page.items, page.cursor, page.has_more) == ([], {}, False)


@responses.activate
def test_customers_filter_on_the_cursor_and_cap_the_page_size(adapter):
    adapter.page_size = 1000
    customer = load("shopify", "customer")["customer"]
    responses.get(
        f"{BASE}/customers.json",
        match=[
            matchers.query_param_matcher(
                {
                    "limit": "250",
                    "order": "updated_at asc",
                    "updated_at_min": "2025-04-02T16:00:00+00:00",
                }
            )
        ],
        json={"customers": [customer]},
    )

    page = adapter.fetch("customers", {"updated_at_min": "2025-04-02T16:00:00+00:00"})

    assert page.items == [customer]
    assert (page.cursor, page.has_more) == ({"updated_at_min": "2025-04-02T16:25:58+00:00"}, False)


@responses.activate
def test_locations_are_one_page_and_keep_an_empty_cursor(adapter):
    responses.get(
        f"{BASE}/locations.json",
        match=[matchers.query_param_matcher({})],
        json=load("shopify", "locations"),
    )

    page = adapter.fetch("locations", {})

    assert ([item["id"] for item in page.items], page.cursor, page.has_more) == (
        [655441491, 24826418, 844681632, 611870435, 487838322],
        {},
        False,
    )


@pytest.mark.parametrize(
    ("call_limit", "sleeps"),
    [("20/40", []), ("31/40", []), ("32/40", [6.0]), ("40/40", [10.0]), ("junk", [])],
)
@responses.activate
def test_call_limit_throttles_until_the_bucket_is_half_empty(adapter, call_limit, sleeps):
    responses.get(
        f"{BASE}/orders.json",
        json={"orders": []},
        headers={"X-Shopify-Shop-Api-Call-Limit": call_limit},
    )

    adapter.fetch("orders", {})

    assert adapter.client.sleep == sleeps


@responses.activate
def test_refused_token_is_a_permanent_transport_error(adapter):
    responses.get(f"{BASE}/orders.json", status=401, json={"errors": "[API] Invalid API key or access token"})

    with pytest.raises(TransportError) as error:
        adapter.fetch("orders", {})

    assert (error.value.permanent, error.value.status) == (True, 401)
    assert len(responses.calls) == 1


@responses.activate
def test_unavailable_then_ok_is_retried(adapter):
    adapter.client.sleep = lambda seconds: None
    responses.get(f"{BASE}/orders.json", status=503)
    responses.get(f"{BASE}/orders.json", json={"orders": [_order("2025-04-02T11:31:21-05:00", 1)]})
    no_transactions()

    page = adapter.fetch("orders", {})

    assert [o["id"] for o in page.items] == [1]
    assert [call.response.status_code for call in responses.calls] == [503, 200, 200]


@pytest.mark.parametrize(
    ("body", "reason"),
    [({"errors": "Not Found"}, "without a 'orders' list"), ("<html>", "not JSON")],
)
@responses.activate
def test_an_answer_without_the_list_is_a_transient_transport_error(adapter, body, reason):
    mock_answer(f"{BASE}/orders.json", body)

    with pytest.raises(TransportError, match=reason) as error:
        adapter.fetch("orders", {})

    assert error.value.permanent is False


@responses.activate
def test_next_link_without_page_info_is_refused(adapter):
    responses.get(
        f"{BASE}/orders.json",
        json={"orders": []},
        headers={"Link": f'<{BASE}/orders.json?limit=2>; rel="next"'},
    )

    with pytest.raises(TransportError, match="without a page_info") as error:
        adapter.fetch("orders", {})

    assert error.value.permanent is True
