"""Orphan linking costs O(page) whatever the order of arrival.

A 5,000-order world synced carrier first leaves every tracker waiting for its order
(its ERP picking or its storefront fulfilment names the tracking number). Each page must cost what the first
pages of its stream cost: the same statements, no SQL (parameters included) growing
with the orphans earlier pages left. The end state is the storefront-first sync's, but
for what issue 11 owns: an order's store (field precedence) and its flag history.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import connection

from integrations import sync
from integrations.demo import demo_sources_ensure
from integrations.models import Source, SyncRun
from integrations.sandbox import SandboxServer, World
from orders import ingest as ingest_module
from tests.bench.syncbench import data_reset
from tests.integrations.state import end_state, state_differences

pytestmark = pytest.mark.sandbox

ORDERS = 5000
CARRIER_FIRST = ("easypost", "odoo", "hubspot", "square", "shopify")
STOREFRONT_FIRST = ("shopify", "square", "odoo", "hubspot", "easypost")


@pytest.fixture(scope="module")
def big_sandbox():
    server = SandboxServer(World(orders=ORDERS, seed=7))
    server.start()
    yield server
    server.stop()


def sources_sync(base_url, order) -> None:
    demo_sources_ensure(base_url)
    # The ERP's pages at 250 rows, not its adapter's 1,000: enough full pages of each stream to compare late with early
    Source.objects.filter(adapter="odoo").update(page_size=250)
    sources = {s.name: s for s in Source.objects.all()}
    for name in order:
        run = sync.source_sync(source_id=sources[name].pk)
        assert run.status == SyncRun.Status.SUCCEEDED, run.summary()
        assert run.dead_lettered == 0


def page_costs(monkeypatch) -> list[dict]:
    """Per page landed from now on: its source and stream, records, SQL statements and their characters, in all
    and within orphan linking."""
    pages = []
    land, link = sync.page_land, ingest_module.orphans_link
    linking = [False]

    def counted(execute, sql, params, many, context):
        page = pages[-1]
        text = sql if params is None else f"{sql} {params}"  # arrays of ids grow the params, not the text
        page["statements"] += 1
        page["characters"] += len(text)
        if linking[0]:
            page["linking_statements"] += 1
            page["linking_characters"] += len(text)
        return execute(sql, params, many, context)

    def landed(**kwargs):
        pages.append(
            {"source": kwargs["source"].name, "stream": kwargs["stream"], "records": len(kwargs["page"].items),
             "statements": 0, "characters": 0, "linking_statements": 0, "linking_characters": 0}
        )  # fmt: skip
        with connection.execute_wrapper(counted):
            return land(**kwargs)

    def orphans_link(scope=None):
        linking[0] = True
        try:
            return link(scope)
        finally:
            linking[0] = False

    monkeypatch.setattr(sync, "page_land", landed)
    monkeypatch.setattr(ingest_module, "orphans_link", orphans_link)
    return pages


def test_carrier_first_pages_cost_what_they_cost_first_and_end_as_storefront_first(db, big_sandbox, monkeypatch):
    pages = page_costs(monkeypatch)
    sources_sync(big_sandbox.base_url, CARRIER_FIRST)
    carrier_first = end_state()
    monkeypatch.undo()

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction: TRUNCATE needs no pending checks
    data_reset()
    sources_sync(big_sandbox.base_url, STOREFRONT_FIRST)
    storefront_first = end_state()

    streams = defaultdict(list)
    for page in pages:
        streams[page["source"], page["stream"]].append(page)
    checked = set()
    for stream, costs in streams.items():
        assert max(page["linking_statements"] for page in costs) <= 24, stream  # a fixed handful per kind of orphan
        full = [page for page in costs if page["records"] == max(p["records"] for p in costs)]
        if len(full) < 8:
            continue
        checked.add(stream)
        early, late = full[: len(full) // 2], full[len(full) // 2 :]
        # What a page writes varies with its content, not with history: each kind of write a page may or may not
        # need (new orders and their status, new customers, suggested links, returns, a staging table created or
        # recycled) adds a couple of statements; recent orders, new to the ERP, need more of them. Cost growing
        # with the orphans has no such bound (and the linking figures below catch it directly).
        assert max(p["statements"] for p in late) <= max(p["statements"] for p in early) + 10, stream
        # Linking the carrier's trackers used to send every orphan's id again with each page.
        assert max(p["linking_characters"] for p in late) <= 1.1 * max(p["linking_characters"] for p in early), stream
    assert {("easypost", "trackers"), ("odoo", "orders"), ("odoo", "pickings"), ("shopify", "orders")} <= checked
    assert len(carrier_first["orders"]) == ORDERS
    assert state_differences(carrier_first, storefront_first) == {}
    assert None not in carrier_first["Shipment"].values()
