"""The sandbox over real HTTP: each vendor's paging and filters, cross-view consistency,
credentials, faults, control endpoints, corruption and webhooks. No database needed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.management.commands import sandbox as sandbox_command
from integrations.sandbox import SandboxServer, World

SIZE = 600
SHOPIFY = {"X-Shopify-Access-Token": "shpat_sandbox"}
SQUARE = {"Authorization": "Bearer sq_sandbox", "Square-Version": "2025-08-20"}
ODOO = {"Authorization": "bearer odoo_sandbox"}
HUBSPOT = {"Authorization": "Bearer hs_sandbox"}
EASYPOST = ("ep_sandbox", "")

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def server():
    with SandboxServer(World(orders=SIZE, seed=7)) as running:
        yield running


@pytest.fixture(scope="module")
def truth(server):
    return server.world.truth()


@pytest.fixture
def http(server):
    session = requests.Session()
    yield session
    session.close()
    server.set_faults(rate=0)
    server.world.repair_all()


# --- walkers: each vendor's own paging, to the end ------------------------------------------


def shopify_all(http, server, resource, params=None, limit=37):
    url, query, items, pages = server.url("shopify") + f"/{resource}.json", {"limit": limit, **(params or {})}, [], 0
    while url:
        response = http.get(url, params=query, headers=SHOPIFY)
        assert response.status_code == 200, response.text
        items += response.json()[resource]
        pages += 1
        url, query = response.links.get("next", {}).get("url"), None
    return items, pages


def square_all(http, server, path, root, body):
    items, cursor = [], None
    while True:
        response = http.post(
            server.url("square") + path, json={**body, **({"cursor": cursor} if cursor else {})}, headers=SQUARE
        )
        assert response.status_code == 200, response.text
        data = response.json()
        items += data.get(root, [])
        cursor = data.get("cursor")
        if not cursor:
            return items


def odoo_all(http, server, model, domain, limit=97, fields=None):
    rows, offset = [], 0
    while True:
        body = {
            "domain": domain,
            "limit": limit,
            "offset": offset,
            "order": "write_date asc, id asc",
            **({"fields": fields} if fields else {}),
        }
        response = http.post(server.url("odoo") + f"/json/2/{model}/search_read", json=body, headers=ODOO)
        assert response.status_code == 200, response.text
        page = response.json()
        rows += page
        offset += len(page)
        if len(page) < limit:
            return rows


def hubspot_all(http, server, body):
    results, after, totals = [], None, set()
    while True:
        response = http.post(
            server.url("hubspot") + "/crm/v3/objects/contacts/search",
            json={**body, **({"after": after} if after else {})},
            headers=HUBSPOT,
        )
        assert response.status_code == 200, response.text
        data = response.json()
        results += data["results"]
        totals.add(data["total"])
        after = data.get("paging", {}).get("next", {}).get("after")
        if not after:
            return results, totals


def easypost_all(http, server, params=None):
    trackers, before = [], None
    while True:
        query = {"page_size": 23, **(params or {}), **({"before_id": before} if before else {})}
        response = http.get(server.url("easypost") + "/v2/trackers", params=query, auth=EASYPOST)
        assert response.status_code == 200, response.text
        data = response.json()
        trackers += data["trackers"]
        if not data["has_more"]:
            return trackers
        before = data["trackers"][-1]["id"]


def known_by(truth, system):
    return {o["systems"][system]["external_id"]: o for o in truth["orders"] if system in o["systems"]}


def ids(items, key="id"):
    values = [str(item[key]) for item in items]
    assert len(values) == len(set(values)), "a record was served twice"
    return set(values)


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
    assert {p["carrier_tracking_ref"] for p in pickings} <= set(fulfilled)


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


# --- faults --------------------------------------------------------------------------------------


def test_faults_strike_the_asked_share_of_vendor_requests_and_rate_zero_stops_them(http, server):
    control = http.post(
        server.base_url + "/_sandbox/faults",
        json={"rate": 0.25, "kinds": ["500", "503", "429"], "seed": 4, "retry_after": 2},
    )
    statuses = [http.get(server.url("shopify") + "/locations.json", headers=SHOPIFY) for _ in range(400)]
    counts = Counter(r.status_code for r in statuses)
    health = http.get(server.base_url + "/_sandbox/health").json()  # control requests never fail
    http.post(server.base_url + "/_sandbox/faults", json={"rate": 0})
    after = [http.get(server.url("shopify") + "/locations.json", headers=SHOPIFY).status_code for _ in range(100)]

    assert control.status_code == 200
    assert 0.18 <= (400 - counts[200]) / 400 <= 0.32
    assert set(counts) == {200, 500, 503, 429}
    assert all(r.headers["Retry-After"] == "2" for r in statuses if r.status_code == 429)
    assert health["fault_counts"]["requests"] == 400
    assert after == [200] * 100


def test_a_reset_drops_the_connection_and_a_timeout_hangs(http, server):
    server.set_faults(rate=1, kinds=["reset"])
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url("shopify") + "/locations.json", headers=SHOPIFY, timeout=5)
    server.set_faults(rate=1, kinds=["timeout"], timeout_seconds=1.0)
    with pytest.raises(requests.Timeout):
        requests.get(server.url("shopify") + "/locations.json", headers=SHOPIFY, timeout=0.3)
    started = time.perf_counter()
    slow = requests.get(server.url("shopify") + "/locations.json", headers=SHOPIFY, timeout=5)

    assert slow.status_code == 200 and time.perf_counter() - started >= 1.0
    assert server.fault_count() == 2


# --- control endpoints, corruption, webhooks --------------------------------------------------------


def test_control_endpoints_serve_the_truth_and_move_the_clock(http, server):
    world = server.world
    try:
        truth = http.get(server.base_url + "/_sandbox/truth").json()
        moved = http.post(server.base_url + "/_sandbox/clock", json={"advance_seconds": 3600}).json()
        health = http.get(server.base_url + "/_sandbox/health").json()
        back = http.post(server.base_url + "/_sandbox/clock", json={"now": "2026-11-20T12:00:00Z"}).json()

        assert truth == world.truth()
        assert truth["now"] == "2026-11-20T12:00:00Z"
        assert moved == {"now": "2026-11-20T13:00:00Z"} == {"now": health["now"]}
        assert back == {"now": truth["now"]}
        assert http.post(server.base_url + "/_sandbox/clock", json={}).status_code == 400
    finally:
        world.set_now("2026-11-20T12:00:00Z")


@pytest.mark.parametrize(
    ("how", "broken"),
    [
        ("missing_id", lambda o: "id" not in o),
        ("wrong_type", lambda o: isinstance(o["line_items"], str)),
        ("truncated", lambda o: len(o) == 3 and "line_items" not in o),
        ("bad_date", lambda o: o["created_at"] == "not-a-date"),
    ],
)
def test_corrupt_breaks_one_order_until_repaired(http, server, how, broken):
    target = server.world.stream("shopify", "orders").externals[7]
    before, _ = shopify_all(http, server, "orders", {"status": "any"}, limit=250)
    assert (
        http.post(
            server.base_url + "/_sandbox/corrupt",
            json={"vendor": "shopify", "stream": "orders", "external_id": target, "how": how},
        ).status_code
        == 200
    )
    during, _ = shopify_all(http, server, "orders", {"status": "any"}, limit=250)
    assert http.post(
        server.base_url + "/_sandbox/repair", json={"vendor": "shopify", "stream": "orders", "external_id": target}
    ).json() == {"repaired": 1}
    after, _ = shopify_all(http, server, "orders", {"status": "any"}, limit=250)

    assert len(before) == len(during) == len(after)
    assert sum(broken(o) for o in during) == 1
    assert not any(broken(o) for o in after)
    assert str(after[-1]["id"]) == target  # repaired last, so it sorts last by updated_at


def test_the_shopify_webhook_is_the_order_signed_with_the_webhook_secret(http, server, truth):
    order_id = next(ext for ext, o in known_by(truth, "shopify").items() if o["fulfilment"] == "ship")
    body, headers = server.shopify_webhook(order_id, topic="orders/create")
    served = http.get(server.url("shopify") + f"/orders/{order_id}.json", headers=SHOPIFY).json()["order"]
    expected = base64.b64encode(hmac.new(b"shopify_webhook_secret", body, hashlib.sha256).digest()).decode()

    assert json.loads(body) == served
    assert headers["X-Shopify-Hmac-Sha256"] == expected
    assert headers["X-Shopify-Topic"] == "orders/create" and headers["X-Shopify-API-Version"] == "2025-07"
    assert {"X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id", "X-Shopify-Event-Id", "X-Shopify-Triggered-At"} <= set(
        headers
    )


def test_the_easypost_webhook_is_signed_like_easypost(server, truth):
    tracker = next(o["systems"]["easypost"]["external_id"] for o in truth["orders"] if "easypost" in o["systems"])
    body, headers = server.easypost_webhook(tracker)

    assert json.loads(body)["result"]["id"] == tracker
    assert (
        headers["X-Hmac-Signature"]
        == "hmac-sha256-hex=" + hmac.new(b"easypost_webhook_secret", body, hashlib.sha256).hexdigest()
    )


# --- the transport -----------------------------------------------------------------------------------


def test_read_ahead_serves_the_same_bytes_as_computing_each_page():
    def walk(target):
        with requests.Session() as session:
            url, query, pages = target.url("shopify") + "/orders.json", {"limit": 50, "status": "any"}, []
            while url:
                response = session.get(url, params=query, headers=SHOPIFY)
                pages.append(response.content)
                url, query = response.links.get("next", {}).get("url"), None
            return pages

    with SandboxServer(World(orders=SIZE, seed=7), read_ahead=False) as plain:
        expected = [page.replace(plain.base_url.encode(), b"") for page in walk(plain)]
    with SandboxServer(World(orders=SIZE, seed=7)) as ahead:
        served = [page.replace(ahead.base_url.encode(), b"") for page in walk(ahead)]
        hits = ahead.read_ahead.hits

    assert served == expected
    assert hits > 0


def test_every_answer_has_a_content_length_and_keeps_the_connection(http, server):
    response = http.get(server.url("shopify") + "/locations.json", headers=SHOPIFY)

    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.raw.version == 11 and "close" not in response.headers.get("Connection", "")


def test_the_management_command_serves_prints_the_urls_and_exports_the_truth(tmp_path: Path, monkeypatch):
    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(sandbox_command.time, "sleep", interrupt)
    out = io.StringIO()
    command = sandbox_command.Command(stdout=out)
    command.handle(
        orders=40, seed=3, host="127.0.0.1", port=0, export_truth=str(tmp_path / "truth.json"), realtime=False
    )
    text = out.getvalue()

    assert "/shopify/admin/api/2025-07" in text and "/easypost" in text and "Stopping." in text
    assert json.loads((tmp_path / "truth.json").read_text())["seed"] == 3
