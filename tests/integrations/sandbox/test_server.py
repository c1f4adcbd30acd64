"""The sandbox server itself: faults, the call-limit header, control endpoints,
corruption, webhooks, read-ahead, the transport and the management command."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from integrations.management.commands import sandbox as sandbox_command
from integrations.sandbox import SandboxServer, World

from .walkers import SHOPIFY, SIZE, known_by, shopify_all

pytestmark = pytest.mark.sandbox


# --- faults and the call limit ------------------------------------------------------------------
def test_the_call_limit_bucket_fills_when_set_to_the_standard_plan_rate(http, server):
    drained = http.post(server.base_url + "/_sandbox/call-limit", json={"leak_rate": 0.001}).json()
    used = [
        http.get(server.url("shopify") + "/locations.json", headers=SHOPIFY).headers["X-Shopify-Shop-Api-Call-Limit"]
        for _ in range(4)
    ]
    server.set_call_limit(leak_rate=40)
    after = http.get(server.url("shopify") + "/locations.json", headers=SHOPIFY).headers[
        "X-Shopify-Shop-Api-Call-Limit"
    ]

    assert drained == {"leak_rate": 0.001, "size": 40}
    assert used == ["1/40", "2/40", "3/40", "4/40"]
    assert after == "1/40"


def test_graphql_answers_carry_their_cost_and_a_small_bucket_throttles_the_adapter_into_waiting(http, server):
    from integrations.adapters.shopify import ShopifyAdapter
    from integrations.adapters.shopify_graphql import ORDERS_QUERY

    graphql = server.url("shopify") + "/graphql.json"
    ask = {"query": ORDERS_QUERY, "variables": {"first": 250}}
    control = http.post(server.base_url + "/_sandbox/graphql-cost", json={"maximum": 300, "restore_rate": 100}).json()
    first = http.post(graphql, json=ask, headers=SHOPIFY).json()
    throttled = http.post(graphql, json=ask, headers=SHOPIFY).json()

    assert control == {"maximum": 300.0, "restore_rate": 100.0, "rules": "shopify"}
    listed = first["data"]["orders"]["nodes"]
    assert first["extensions"]["cost"]["requestedQueryCost"] == 252  # 2 + 250 orders × 1 (ids and times only)
    assert first["extensions"]["cost"]["actualQueryCost"] == 2 + len(listed) > 100  # what is left is under 252
    assert [e["extensions"]["code"] for e in throttled["errors"]] == ["THROTTLED"]
    assert "data" not in throttled

    # A bucket of 1,000, the least that holds a read of four whole orders (948): each read waits for the last
    server.world.shopify_cost.configure(maximum=1000, restore_rate=1000)
    waits = []
    adapter = ShopifyAdapter(
        base_url=server.url("shopify"),
        credentials={"access_token": "shpat_sandbox", "backfill": "paged"},
        page_size=100,
    )
    adapter.client.sleep = lambda seconds: (waits.append(seconds), time.sleep(seconds))
    page, pages = adapter.fetch("orders", {}), 1
    while page.has_more:
        page, pages = adapter.fetch("orders", page.cursor), pages + 1
    server.world.shopify_cost.configure(maximum=2000, restore_rate=100_000)

    assert pages >= 4
    assert waits and all(0 < w <= 0.948 for w in waits)  # waited for the bucket, never refused


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


def test_a_bulk_query_beyond_shopifys_limits_is_refused(http, server):
    from integrations.adapters.shopify_bulk import RUN_QUERY

    graphql = server.url("shopify") + "/graphql.json"
    names = ("lineItems", "shippingLines", "fulfillmentOrders", "returns", "events")
    connections = " ".join(f"{name} {{ edges {{ node {{ id }} }} }}" for name in names)
    query = f"{{ orders {{ edges {{ node {{ id {connections} }} }} }} }}"

    answer = http.post(graphql, json={"query": RUN_QUERY, "variables": {"query": query}}, headers=SHOPIFY).json()

    assert answer["data"]["bulkOperationRunQuery"] == {
        "bulkOperation": None,
        "userErrors": [{"field": ["query"], "message": "it has 6 connections (at most 5)", "code": "INVALID"}],
    }


def test_one_bulk_operation_runs_at_a_time_and_one_that_fails_writing_its_file_frees_the_shop(
    http, server, monkeypatch
):
    from integrations.adapters.shopify_bulk import BULK_ORDERS, CURRENT, RUN_QUERY
    from integrations.sandbox.formats import shopify_graphql

    graphql = server.url("shopify") + "/graphql.json"

    def run() -> dict:
        ask = {"query": RUN_QUERY, "variables": {"query": BULK_ORDERS}}
        return http.post(graphql, json=ask, headers=SHOPIFY).json()["data"]["bulkOperationRunQuery"]

    def settled() -> dict:
        """The current operation once it no longer runs."""
        deadline = time.monotonic() + 10
        while True:
            answer = http.post(graphql, json={"query": CURRENT}, headers=SHOPIFY).json()
            operation = answer["data"]["currentBulkOperation"]
            if operation["status"] != "RUNNING" or time.monotonic() > deadline:
                return operation
            time.sleep(0.05)

    # Given an operation whose file cannot be written, still writing it
    writing = threading.Event()

    def broken(*args, **kwargs):
        writing.wait(10)
        raise RuntimeError("render failed")

    monkeypatch.setattr(shopify_graphql, "_bulk_render", broken)
    first = run()["bulkOperation"]
    # When another is asked for while it runs, Shopify's answer is a refusal, not a second operation
    refused = run()
    writing.set()
    failed = settled()
    monkeypatch.undo()

    assert refused["bulkOperation"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["OPERATION_IN_PROGRESS"]
    assert first["id"] in refused["userErrors"][0]["message"]
    # Then the failed one says so, and the shop takes the next
    assert (failed["id"], failed["status"], failed["errorCode"]) == (first["id"], "FAILED", "INTERNAL_SERVER_ERROR")
    assert run()["userErrors"] == []
    assert settled()["status"] == "COMPLETED"  # (and its file written before the next test asks for one)


def test_the_sandbox_answers_other_requests_while_a_bulk_file_is_written(http, server, monkeypatch):
    """Shopify writes a bulk operation's file beside its API; the sandbox's writer lets waiting requests take the
    world's lock between chunks (it is not fair: a thread that takes it again at once keeps it). Before, a 65,000
    order file held every vendor's answers for about ten seconds, the Odoo lane and every webhook with them."""
    from integrations.adapters.shopify_bulk import BULK_ORDERS, CURRENT, RUN_QUERY
    from integrations.sandbox.formats import shopify_graphql

    monkeypatch.setattr(shopify_graphql, "BULK_CHUNK", 1)  # one order a chunk: a file written over many takes
    graphql = server.url("shopify") + "/graphql.json"
    started = http.post(graphql, json={"query": RUN_QUERY, "variables": {"query": BULK_ORDERS}}, headers=SHOPIFY)

    answered_while_writing = []
    for _ in range(5):
        count = http.get(server.url("shopify") + "/customers/count.json", headers=SHOPIFY)
        answered_while_writing.append((count.status_code, server.world.shopify_bulk["file"] is None))
    deadline = time.monotonic() + 30
    while True:  # RUNNING until the file is written and the shop was asked once since (the next test starts clean)
        done = http.post(graphql, json={"query": CURRENT}, headers=SHOPIFY).json()["data"]["currentBulkOperation"]
        if done["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.05)

    assert started.json()["data"]["bulkOperationRunQuery"]["userErrors"] == []
    assert answered_while_writing == [(200, True)] * 5
    assert done["status"] == "COMPLETED"
