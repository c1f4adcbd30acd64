"""Each vendor view over real HTTP: paging walks every record exactly once, incremental
filters return only newer records, the views agree with each other and with the
ground truth, and a wrong credential gets the vendor's 401."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from .walkers import (
    ODOO,
    SHOPIFY,
    SQUARE,
    easypost_all,
    hubspot_all,
    ids,
    known_by,
    odoo_all,
    shopify_all,
    square_all,
)

pytestmark = pytest.mark.sandbox


# --- Shopify -----------------------------------------------------------------------------------


def test_shopify_link_paging_walks_every_order_exactly_once(http, server, truth):
    orders, pages = shopify_all(http, server, "orders", {"status": "any", "order": "updated_at asc"})

    assert ids(orders) == set(known_by(truth, "shopify"))
    assert pages == -(-len(orders) // 37)
    keys = [(datetime.fromisoformat(o["updated_at"]), o["id"]) for o in orders]
    assert keys == sorted(keys)


def test_shopify_next_link_carries_only_limit_and_page_info_and_refuses_filters(http, server):
    first = http.get(server.url("shopify") + "/orders.json", params={"status": "any", "limit": 5}, headers=SHOPIFY)
    link = first.links["next"]["url"]

    assert set(parse_qs(urlsplit(link).query)) == {"limit", "page_info"}
    assert http.get(link, headers=SHOPIFY).status_code == 200
    refused = http.get(link + "&status=any", headers=SHOPIFY)
    assert refused.status_code == 400 and "page_info" in refused.json()["errors"]
    assert first.headers["X-Shopify-Shop-Api-Call-Limit"].endswith("/40")


def test_shopify_updated_at_min_returns_exactly_the_orders_changed_since(http, server):
    everything, _ = shopify_all(http, server, "orders", {"status": "any"}, limit=250)
    stamps = sorted(datetime.fromisoformat(o["updated_at"]) for o in everything)
    cut = stamps[len(stamps) // 2]
    newer, _ = shopify_all(http, server, "orders", {"status": "any", "updated_at_min": cut.isoformat()}, limit=50)

    assert ids(newer) == {str(o["id"]) for o in everything if datetime.fromisoformat(o["updated_at"]) >= cut}


def test_shopify_status_filter_defaults_to_open_orders(http, server, truth):
    default, _ = shopify_all(http, server, "orders", limit=250)
    cancelled, _ = shopify_all(http, server, "orders", {"status": "cancelled"}, limit=250)

    assert all(o["closed_at"] is None and o["cancelled_at"] is None for o in default)
    assert ids(cancelled) == {ext for ext, o in known_by(truth, "shopify").items() if o["status"] == "cancelled"}


def test_shopify_orders_follow_the_retailer_conventions(http, server, truth):
    orders, _ = shopify_all(http, server, "orders", {"status": "any"}, limit=250)
    by_id = known_by(truth, "shopify")
    location = {s["code"]: int(s["ids"]["shopify"]) for s in truth["stores"]}
    for order in orders:
        world = by_id[str(order["id"])]
        code = order["shipping_lines"][0]["code"]
        notes = {n["name"]: n["value"] for n in order["note_attributes"]}
        assert code == {"ship": code, "pickup": "pickup", "delivery": "scheduled_delivery"}[world["fulfilment"]]
        assert notes["promised_by"] == world["promised_by"]
        if world["fulfilment"] == "pickup":
            assert order["location_id"] == location[world["store"]]
        if world["fulfilment"] == "delivery":
            assert notes["delivery_window_end"] == world["promised_by"]
        assert isinstance(order["total_price"], str) and order["line_items"][0]["sku"]


def test_shopify_customers_and_locations(http, server, truth):
    customers, _ = shopify_all(http, server, "customers")
    locations = http.get(server.url("shopify") + "/locations.json", headers=SHOPIFY).json()["locations"]
    people = {p["ids"]["shopify"]: p for p in truth["people"] if "shopify" in p["ids"]}

    assert ids(customers) == set(people)
    for customer in customers:
        person = people[str(customer["id"])]
        assert customer["email"].lower() == person["email"]
        assert (customer["phone"] or "") == person["phone"]  # Shopify keeps E.164
        assert ("loyalty:" + person["loyalty_id"] in customer["tags"]) == bool(person["loyalty_id"])
    assert [loc["name"] for loc in locations] == ["Downtown", "Riverside", "Airport Mall", "Central Warehouse"]


# --- Square --------------------------------------------------------------------------------------


def test_square_order_search_cursor_walks_every_order_exactly_once(http, server, truth):
    body = {"limit": 41, "query": {"sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"}}}
    orders = square_all(http, server, "/v2/orders/search", "orders", body)
    by_id = known_by(truth, "square")

    assert ids(orders) == set(by_id)
    assert [o["updated_at"] for o in orders] == sorted(o["updated_at"] for o in orders)
    for order in orders:
        world = by_id[order["id"]]
        assert isinstance(order["line_items"][0]["quantity"], str)
        assert isinstance(order["total_money"]["amount"], int)
        if world["channel"] == "web":
            assert order["reference_id"] == world["number"]
            assert order["fulfillments"][0]["type"] == "PICKUP"
        else:
            assert order["tenders"][0]["payment_id"]


def test_square_updated_at_filter_needs_the_matching_sort_and_returns_only_newer(http, server):
    everything = square_all(
        http,
        server,
        "/v2/orders/search",
        "orders",
        {"query": {"sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"}}},
    )
    cut = everything[len(everything) // 3]["updated_at"]
    query = {
        "filter": {"date_time_filter": {"updated_at": {"start_at": cut}}},
        "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
    }
    newer = square_all(http, server, "/v2/orders/search", "orders", {"limit": 50, "query": query})
    mismatched = http.post(
        server.url("square") + "/v2/orders/search",
        json={"query": {**query, "sort": {"sort_field": "CREATED_AT"}}},
        headers=SQUARE,
    )

    assert ids(newer) == {o["id"] for o in everything if o["updated_at"] >= cut}
    assert mismatched.status_code == 400
    assert mismatched.json()["errors"][0]["category"] == "INVALID_REQUEST_ERROR"


def test_square_payments_customers_and_inventory(http, server, truth):
    payments, cursor = [], None
    while True:
        params = {"limit": 37, "sort_order": "ASC", **({"cursor": cursor} if cursor else {})}
        data = http.get(server.url("square") + "/v2/payments", params=params, headers=SQUARE).json()
        payments += data.get("payments", [])
        if not (cursor := data.get("cursor")):
            break
    store_sales = {o["systems"]["square"]["number"] for o in truth["orders"] if o["channel"] == "store"}
    customers = square_all(
        http,
        server,
        "/v2/customers/search",
        "customers",
        {"limit": 29, "query": {"sort": {"field": "CREATED_AT", "order": "ASC"}}},
    )
    people = {p["ids"]["square"]: p for p in truth["people"] if "square" in p["ids"]}
    counts = square_all(http, server, "/v2/inventory/counts/batch-retrieve", "counts", {"limit": 100})

    assert ids(payments) and {p["receipt_number"] for p in payments} == store_sales
    assert ids(customers) == set(people)
    for customer in customers:
        person = people[customer["id"]]
        assert customer["email_address"].lower() == person["email"]
        if person["phone"]:
            digits = person["phone"][2:]
            assert customer["phone_number"] == f"+1-{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    assert len(counts) == 3 * 192 and all(isinstance(c["quantity"], str) for c in counts)


# --- Odoo ------------------------------------------------------------------------------------


def test_odoo_offset_paging_walks_every_sale_order_exactly_once_and_refs_the_shopify_name(http, server, truth):
    rows = odoo_all(http, server, "sale.order", [["write_date", ">", "2000-01-01 00:00:00"]])
    by_id = known_by(truth, "odoo")

    assert ids(rows) == set(by_id)
    for row in rows:
        world = by_id[str(row["id"])]
        assert row["name"] == world["systems"]["odoo"]["number"]
        assert row["client_order_ref"] == row["origin"] == world["systems"]["shopify"]["number"]
        assert isinstance(row["partner_id"], list) and len(row["partner_id"]) == 2


def test_odoo_write_date_filter_returns_exactly_the_records_written_since(http, server):
    everything = odoo_all(http, server, "stock.move", [], fields=["write_date"], limit=500)
    cut = sorted(row["write_date"] for row in everything)[len(everything) // 2]
    newer = odoo_all(http, server, "stock.move", [["write_date", ">", cut]], fields=["write_date"])
    since = odoo_all(http, server, "stock.move", [["write_date", ">=", cut]], fields=["write_date"])

    assert ids(newer) == {str(r["id"]) for r in everything if r["write_date"] > cut}
    assert ids(since) - ids(newer) == {str(r["id"]) for r in everything if r["write_date"] == cut}


def test_odoo_keyset_domain_walks_every_picking_once_over_jsonrpc_too(http, server):
    seen, after = [], None
    while True:
        domain = (
            []
            if after is None
            else ["|", ["write_date", ">", after[0]], "&", ["write_date", "=", after[0]], ["id", ">", after[1]]]
        )
        call = {
            "service": "object",
            "method": "execute_kw",
            "args": [
                "sandbox",
                2,
                "odoo_sandbox",
                "stock.picking",
                "search_read",
                [domain],
                {
                    "fields": ["write_date", "origin", "user_id", "state"],
                    "limit": 50,
                    "order": "write_date asc, id asc",
                },
            ],
        }
        page = http.post(
            server.url("odoo") + "/jsonrpc", json={"jsonrpc": "2.0", "method": "call", "params": call, "id": len(seen)}
        ).json()["result"]
        seen += page
        if len(page) < 50:
            break
        after = (page[-1]["write_date"], page[-1]["id"])
    everything = odoo_all(http, server, "stock.picking", [], fields=["origin"])

    assert ids(seen) == ids(everything)
    assert all(p["user_id"] is False or (isinstance(p["user_id"], list) and len(p["user_id"]) == 2) for p in seen)


def test_odoo_refuses_an_operator_it_does_not_know(http, server):
    response = http.post(
        server.url("odoo") + "/json/2/sale.order/search_read", json={"domain": [["name", "ilike", "S0"]]}, headers=ODOO
    )

    assert response.status_code == 422
    assert response.json()["name"] == "builtins.ValueError" and "ilike" in response.json()["message"]


# --- HubSpot, EasyPost ------------------------------------------------------------------------------


def test_hubspot_after_paging_walks_every_contact_once_with_the_person_s_email(http, server, truth):
    body = {
        "limit": 33,
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["email", "phone", "firstname", "lastname"],
    }
    results, totals = hubspot_all(http, server, body)
    people = {p["ids"]["hubspot"]: p for p in truth["people"] if "hubspot" in p["ids"]}

    assert ids(results) == set(people) and totals == {len(people)}
    for contact in results:
        person = people[contact["id"]]
        assert contact["properties"]["email"].lower() == person["email"]
        assert all(value is None or isinstance(value, str) for value in contact["properties"].values())
        if person["phone"]:
            assert contact["properties"]["phone"].startswith("(")


def test_hubspot_gte_filter_returns_only_contacts_modified_since(http, server):
    everything, _ = hubspot_all(http, server, {"limit": 100})
    stamps = sorted(c["properties"]["lastmodifieddate"] for c in everything)
    cut = stamps[len(stamps) // 2]
    since = str(int(datetime.fromisoformat(cut).timestamp() * 1000))
    flt = [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": since}]}]
    newer, _ = hubspot_all(http, server, {"limit": 100, "filterGroups": flt})

    assert ids(newer) == {c["id"] for c in everything if c["properties"]["lastmodifieddate"] >= cut}


def test_easypost_before_id_paging_walks_every_tracker_newest_first(http, server, truth):
    trackers = easypost_all(http, server)
    first = {o["systems"]["easypost"]["external_id"] for o in truth["orders"] if "easypost" in o["systems"]}

    assert ids(trackers) >= first  # plus the second tracker of each duplicated shipment
    assert [t["created_at"] for t in trackers] == sorted((t["created_at"] for t in trackers), reverse=True)
    newer = easypost_all(http, server, {"updated_at_min": trackers[len(trackers) // 2]["updated_at"]})
    assert ids(newer) == {t["id"] for t in trackers if t["updated_at"] >= trackers[len(trackers) // 2]["updated_at"]}


def test_tracking_codes_match_the_shopify_fulfilments_and_the_erp(http, server, truth):
    orders, _ = shopify_all(http, server, "orders", {"status": "any"}, limit=250)
    fulfilled = {f["tracking_number"]: str(o["id"]) for o in orders for f in o["fulfillments"] if f["tracking_number"]}
    trackers = easypost_all(http, server)
    pickings = odoo_all(
        http,
        server,
        "stock.picking",
        [["carrier_tracking_ref", "!=", False]],
        fields=["carrier_tracking_ref", "sale_id"],
    )

    assert {t["tracking_code"] for t in trackers} == set(fulfilled)
    for o in truth["orders"]:
        if "easypost" in o["systems"]:
            assert fulfilled[o["systems"]["easypost"]["number"]] == o["systems"]["shopify"]["external_id"]
    for p in pickings:  # one number per package, comma-joined; each a fulfilment of the picking's order
        assert len({fulfilled[number] for number in p["carrier_tracking_ref"].split(",")}) == 1, p
    assert {number for p in pickings for number in p["carrier_tracking_ref"].split(",")} <= set(fulfilled)


# --- credentials --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "method", "path", "kwargs", "shape"),
    [
        ("shopify", "GET", "/orders.json", {"headers": {"X-Shopify-Access-Token": "shpat_wrong"}}, "errors"),
        ("square", "POST", "/v2/orders/search", {"headers": {"Authorization": "Bearer nope"}, "json": {}}, "errors"),
        (
            "odoo",
            "POST",
            "/json/2/sale.order/search_read",
            {"headers": {"Authorization": "bearer nope"}, "json": {}},
            "name",
        ),
        (
            "odoo",
            "POST",
            "/jsonrpc",
            {
                "json": {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {
                        "service": "object",
                        "method": "execute_kw",
                        "args": ["db", 2, "nope", "sale.order", "search_read", [[]], {}],
                    },
                }
            },
            "error",
        ),
        ("hubspot", "POST", "/crm/v3/objects/contacts/search", {"headers": {}, "json": {}}, "category"),
        ("easypost", "GET", "/v2/trackers", {"auth": ("someone_else", "")}, "error"),
    ],
)
def test_a_wrong_credential_gets_401_in_the_vendor_s_error_shape(http, server, vendor, method, path, kwargs, shape):
    response = http.request(method, server.url(vendor) + path, **kwargs)

    assert response.status_code == 401
    assert shape in response.json()
