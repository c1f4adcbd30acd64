"""Fetching: searches, paging to the watermark, and the transport's errors."""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from integrations.http import TransportError
from integrations.records import (
    MappingError,
)
from tests.vendor_fixtures import load

from .support import (
    BASE,
    location_payload,
    order_fixture,
    return_order,
)


# -- fetching ------------------------------------------------------------------------------------------
def _paged(order_id: str, updated_at: str) -> dict:
    return {**order_fixture(), "id": order_id, "updated_at": updated_at}


@responses.activate
def test_orders_search_all_locations_and_walk_pages_to_the_watermark(adapter):
    page_cursor = load("square", "orders_search_response")["cursor"]
    responses.get(
        f"{BASE}/v2/locations",
        match=[matchers.header_matcher({"Authorization": "Bearer sq_test"})],
        json={"locations": [location_payload("Riverside", "L2"), location_payload("Downtown", "L1")]},
    )
    query = {
        "filter": {
            "state_filter": {"states": ["OPEN", "COMPLETED", "CANCELED"]},
            "date_time_filter": {"updated_at": {"start_at": "2019-08-01T00:00:00+00:00"}},
        },
        "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
    }
    first_body = {"location_ids": ["L1", "L2"], "limit": 2, "query": query}
    responses.post(
        f"{BASE}/v2/orders/search",
        match=[matchers.json_params_matcher(first_body)],
        json={
            "orders": [
                _paged("A", "2019-08-06T02:47:37.140Z"),
                _paged("B", "2019-08-06T03:00:00Z"),
            ],
            "cursor": page_cursor,
        },
    )
    responses.post(
        f"{BASE}/v2/orders/search",
        match=[matchers.json_params_matcher({**first_body, "cursor": page_cursor})],
        json={"orders": [_paged("C", "2019-08-07T09:15:00.000000001Z")]},
    )

    first = adapter.fetch("orders", {"start_at": "2019-08-01T00:00:00+00:00"})
    second = adapter.fetch("orders", first.cursor)

    assert ([o["id"] for o in first.items], first.has_more) == (["A", "B"], True)
    assert first.cursor == {
        "start_at": "2019-08-01T00:00:00+00:00",
        "cursor": "123",
        "watermark": "2019-08-06T03:00:00+00:00",
    }
    assert ([o["id"] for o in second.items], second.has_more) == (["C"], False)
    assert second.cursor == {"start_at": "2019-08-07T09:15:00+00:00"}
    assert len(responses.calls) == 3  # the locations were fetched once


@responses.activate
def test_more_than_ten_locations_are_searched_in_groups(adapter):
    adapter.page_size = 1000
    ids = [f"L{n:02d}" for n in range(12)]
    responses.get(
        f"{BASE}/v2/locations",
        json={"locations": [location_payload(f"Store {i}", i) for i in ids]},
    )
    base_query = {
        "filter": {"state_filter": {"states": ["OPEN", "COMPLETED", "CANCELED"]}},
        "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
    }
    for group, order in ((ids[:10], _paged("A", "2019-08-06T02:00:00Z")), (ids[10:], None)):
        responses.post(
            f"{BASE}/v2/orders/search",
            match=[
                matchers.json_params_matcher({"location_ids": group, "limit": 500, "query": base_query})
            ],  # fmt: skip
            json={"orders": [order]} if order else {},
        )

    first = adapter.fetch("orders", {})
    second = adapter.fetch("orders", first.cursor)

    assert (len(first.items), first.has_more, first.cursor) == (
        1,
        True,
        {"watermark": "2019-08-06T02:00:00+00:00", "batch": 1},
    )
    assert (second.items, second.has_more, second.cursor) == (
        [],
        False,
        {"start_at": "2019-08-06T02:00:00+00:00"},
    )


@responses.activate
def test_customers_search_by_creation_with_the_bound_held_back_a_minute(adapter):
    answer = load("square", "customers_search_response")
    body = {
        "limit": 2,
        "query": {
            "sort": {"field": "CREATED_AT", "order": "ASC"},
            "filter": {"updated_at": {"start_at": "2018-01-01T11:59:00+00:00"}},
        },
    }
    responses.post(f"{BASE}/v2/customers/search", match=[matchers.json_params_matcher(body)], json=answer)  # fmt: skip
    responses.post(
        f"{BASE}/v2/customers/search",
        match=[matchers.json_params_matcher({**body, "cursor": "9dpS093Uy12AzeE"})],
        json={},
    )

    first = adapter.fetch("customers", {"start_at": "2018-01-01T12:00:00+00:00"})
    second = adapter.fetch("customers", first.cursor)

    assert first.cursor == {
        "start_at": "2018-01-01T12:00:00+00:00",
        "cursor": "9dpS093Uy12AzeE",
        "watermark": "2020-04-20T10:02:43.083000+00:00",
    }
    assert (second.items, second.cursor, second.has_more) == (
        [],
        {"start_at": "2020-04-20T10:02:43.083000+00:00"},
        False,
    )


@responses.activate
def test_payments_list_by_update_time(adapter):
    payment = load("square", "payment_get_response")["payment"]
    responses.get(
        f"{BASE}/v2/payments",
        match=[matchers.query_param_matcher({"sort_field": "UPDATED_AT", "sort_order": "ASC", "limit": "2"})],
        json={"payments": [payment]},
    )

    page = adapter.fetch("payments", {})

    assert (page.items, page.has_more) == ([payment], False)
    assert page.cursor == {"start_at": "2021-10-13T19:34:34.339000+00:00"}
    responses.get(
        f"{BASE}/v2/payments",
        match=[
            matchers.query_param_matcher(
                {
                    "sort_field": "UPDATED_AT",
                    "sort_order": "ASC",
                    "limit": "2",
                    "updated_at_begin_time": page.cursor["start_at"],
                    "cursor": "next",
                }
            )
        ],
        json={},
    )
    assert adapter.fetch("payments", {**page.cursor, "cursor": "next"}).cursor == page.cursor


@responses.activate
def test_inventory_counts_get_their_skus_from_the_catalog_read_once(adapter):
    adapter.page_size = 5000
    counts = load("square", "inventory_counts_batch_retrieve_response")
    responses.post(
        f"{BASE}/v2/inventory/counts/batch-retrieve",
        match=[
            matchers.json_params_matcher(
                {
                    "states": ["IN_STOCK"],
                    "limit": 1000,
                    "updated_after": "2016-11-16T22:28:01.222000+00:00",
                }
            )
        ],
        json=counts,
    )
    responses.get(
        f"{BASE}/v2/catalog/list",
        match=[matchers.query_param_matcher({"types": "ITEM_VARIATION"})],
        json={
            "objects": [{"type": "ITEM_VARIATION", "id": "OTHER", "item_variation_data": {"sku": "X"}}],
            "cursor": "c2",
        },  # fmt: skip
    )
    responses.get(
        f"{BASE}/v2/catalog/list",
        match=[matchers.query_param_matcher({"types": "ITEM_VARIATION", "cursor": "c2"})],
        json={
            "objects": [
                {
                    "type": "ITEM_VARIATION",
                    "id": "W62UWFY35CWMYGVWK6TWJDNI",
                    "item_variation_data": {"sku": " KIT-001-RED "},
                }
            ]
        },  # fmt: skip
    )

    cursor = {"start_at": "2016-11-16T22:28:01.223000+00:00"}
    page = adapter.fetch("inventory", cursor)
    again = adapter.fetch("inventory", cursor)

    assert page.items == [{**counts["counts"][0], "omnidesk_sku": "KIT-001-RED"}]
    assert adapter.map("inventory", page.items[0]).sku == "KIT-001-RED"
    assert (page.cursor, page.has_more) == (cursor, False)
    assert again.items == page.items
    assert [c.request.url.split("?")[0].rsplit("/", 1)[-1] for c in responses.calls] == [
        "batch-retrieve", "list", "list", "batch-retrieve",
    ]  # fmt: skip


@responses.activate
def test_order_lines_with_a_metadata_sku_need_no_catalog(adapter):
    order = _paged("A", "2019-08-06T02:47:37.140Z")
    for line in order["line_items"]:
        line.update(catalog_object_id="V1", metadata={"sku": "KIT-001-RED"})
    responses.get(f"{BASE}/v2/locations", json={"locations": [location_payload()]})
    responses.post(f"{BASE}/v2/orders/search", json={"orders": [order]})

    page = adapter.fetch("orders", {})

    assert page.items == [order]
    assert len(responses.calls) == 2


@responses.activate
def test_a_return_orders_returned_lines_get_their_skus_from_the_catalog(adapter):
    """A returned line names the variation, never a SKU: without the catalog it would be the variation id."""
    returned = return_order("SALE_1")
    returned["returns"][0]["return_line_items"][0]["catalog_object_id"] = "V1"
    responses.get(f"{BASE}/v2/locations", json={"locations": [location_payload()]})
    responses.post(f"{BASE}/v2/orders/search", json={"orders": [returned]})
    responses.get(
        f"{BASE}/v2/catalog/list",
        json={"objects": [{"type": "ITEM_VARIATION", "id": "V1", "item_variation_data": {"sku": "KIT-001-RED"}}]},
    )

    page = adapter.fetch("orders", {})

    assert page.items[0]["returns"][0]["return_line_items"][0]["omnidesk_sku"] == "KIT-001-RED"
    assert adapter.map("orders", page.items[0]).returns[0].line_skus == ["KIT-001-RED"]


@responses.activate
def test_locations_are_one_page_and_square_answers_empty_as_an_empty_object(adapter):
    responses.get(f"{BASE}/v2/locations", json={})

    page = adapter.fetch("locations", {})

    assert (page.items, page.cursor, page.has_more) == ([], {}, False)
    assert adapter.fetch("orders", {"start_at": "2019-08-01T00:00:00+00:00"}).cursor == {
        "start_at": "2019-08-01T00:00:00+00:00"
    }  # no location: nothing to search


def test_unknown_stream_is_refused(adapter):
    with pytest.raises(ValueError, match="no stream 'catalog'"):
        adapter.fetch("catalog", {})
    with pytest.raises(MappingError, match="does not map stream 'catalog'"):
        adapter.map("catalog", {})


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"errors": [{"code": "INTERNAL_SERVER_ERROR"}]}, "answered errors"),
        ({"payments": {"id": "x"}}, "not a list"),
        (["not", "an", "object"], "not a JSON object"),
    ],
)
@responses.activate
def test_an_unusable_answer_is_a_transient_transport_error(adapter, body, reason):
    responses.get(f"{BASE}/v2/payments", json=body)

    with pytest.raises(TransportError, match=reason) as error:
        adapter.fetch("payments", {})

    assert error.value.permanent is False


@responses.activate
def test_refused_token_is_permanent(adapter):
    responses.get(
        f"{BASE}/v2/payments",
        status=401,
        json={"errors": [{"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED"}]},
    )

    with pytest.raises(TransportError) as error:
        adapter.fetch("payments", {})

    assert (error.value.permanent, error.value.status, len(responses.calls)) == (True, 401, 1)
