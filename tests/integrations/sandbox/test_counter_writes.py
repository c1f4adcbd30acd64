"""The store counter's writes, over real HTTP: each adapter's ``push_pickup`` against the sandbox's vendor APIs.

Shopify takes "ready for pickup" (GraphQL only) and a fulfilment of the collected lines, Odoo a validated (or cancelled)
picking over both transports, Square its PICKUP fulfillment's state. Every push is
idempotent: repeated after a lost answer, it writes nothing more.
"""

from __future__ import annotations

import pytest

from integrations.adapters import CollectedLine
from integrations.adapters.odoo import OdooAdapter
from integrations.adapters.shopify import ShopifyAdapter
from integrations.adapters.shopify_graphql import FULFILLMENT_CREATE
from integrations.adapters.square import SquareAdapter
from integrations.demo import SANDBOX_SOURCES
from integrations.http import TransportError

from .walkers import ODOO, SHOPIFY


def _adapter(cls, server, vendor: str, **credentials):
    _, path, default = SANDBOX_SOURCES[vendor]
    return cls(base_url=server.base_url + path, credentials={**default, **credentials})


@pytest.fixture
def waiting(server, http):
    """Web orders waiting at a counter (ready or not, not collected, not cancelled, picking assigned), in turn."""
    world, now = server.world, server.world.now
    found = iter(
        o
        for o in world.orders
        if o.kind == "pickup"
        and o.channel == "web"
        and (o.collected is None or o.collected > now)
        and (o.cancel is None or o.cancel > now)
        and o.breakdown != "stock_shortfall"
        and o.erp is not None
        and o.erp <= now
        and len(o.lines) >= 2
    )
    used = set(world.shopify_fulfilled) | set(world.picking_states)
    orders = world.stream("shopify", "orders")

    def untouched(o) -> bool:  # an earlier test's write moved its updated_at to this clock
        return orders.updated_at(orders.find(str(o.shopify_id)), now) < now

    return lambda: next(o for o in found if o.shopify_id not in used and o.out_picking.id not in used and untouched(o))


def _lines(o, *positions) -> list[CollectedLine]:
    return [CollectedLine(sku=o.lines[n][0].sku, quantity=o.lines[n][1]) for n in positions]


def _odoo_read(http, server, model: str, ids: list[int], fields: list[str]) -> list[dict]:
    answer = http.post(server.url("odoo") + f"/json/2/{model}/read", json={"ids": ids, "fields": fields}, headers=ODOO)
    assert answer.status_code == 200, answer.text
    return answer.json()


# --- Shopify ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("transport", ["graphql", "rest"])
def test_shopify_fulfils_only_the_collected_lines_once(server, http, waiting, transport):
    o = waiting()
    shopify = _adapter(ShopifyAdapter, server, "shopify", transport=transport)
    url = server.url("shopify") + f"/orders/{o.shopify_id}.json"
    before = http.get(url, headers=SHOPIFY).json()["order"]["updated_at"]

    fulfilment = shopify.push_pickup(external_id=str(o.shopify_id), state="collected", lines=_lines(o, 0))
    again = shopify.push_pickup(external_id=str(o.shopify_id), state="collected", lines=_lines(o, 0))

    assert server.world.shopify_fulfilled[o.shopify_id]["quantities"] == {o.line_ids[0]: o.lines[0][1]}
    assert fulfilment["status"].lower() == "success" and again is None  # the second push found nothing left
    order = http.get(url, headers=SHOPIFY).json()["order"]
    assert order["fulfillment_status"] == "partial"
    assert [line["fulfillment_status"] for line in order["line_items"]] == ["fulfilled"] + [None] * (len(o.lines) - 1)
    assert str(order["fulfillments"][-1]["id"]) == str(fulfilment["id"]).rsplit("/", 1)[-1]
    assert order["updated_at"] > before  # the next incremental sync reads it again
    fulfillment_orders = http.get(
        server.url("shopify") + f"/orders/{o.shopify_id}/fulfillment_orders.json", headers=SHOPIFY
    ).json()["fulfillment_orders"]
    assert [(fo["status"], fo["delivery_method"]["method_type"]) for fo in fulfillment_orders] == [
        ("in_progress", "pick_up")
    ]
    assert [item["fulfillable_quantity"] for item in fulfillment_orders[0]["line_items"]] == [0] + [
        q for _, q, _ in o.lines[1:]
    ]


def test_shopify_marks_a_pickup_ready_over_graphql_once(server, waiting):
    o = waiting()
    shopify = _adapter(ShopifyAdapter, server, "shopify")

    shopify.push_pickup(external_id=str(o.shopify_id), state="ready", lines=[])
    marked = server.world.shopify_prepared[o.shopify_id]
    shopify.push_pickup(external_id=str(o.shopify_id), state="ready", lines=[])  # a repeat after a lost answer

    assert server.world.shopify_prepared == {o.shopify_id: marked}
    with pytest.raises(TransportError, match="cannot be prepared for pickup"):
        shipped = next(x for x in server.world.orders if x.kind == "ship" and x.channel == "web" and not x.shipments)
        shopify.graphql.mutate(
            "mutation { fulfillmentOrderLineItemsPreparedForPickup(input: $input) { userErrors { message } } }",
            {"input": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": _fulfillment_order_gid(shipped)}]}},
            "fulfillmentOrderLineItemsPreparedForPickup",
        )


def _fulfillment_order_gid(o) -> str:
    from integrations.sandbox.formats.shopify_records import FULFILLMENT_ORDER_BASE

    return f"gid://shopify/FulfillmentOrder/{FULFILLMENT_ORDER_BASE + o.idx}"


def test_shopify_graphql_refuses_an_overdrawn_fulfilment_with_user_errors(server, waiting):
    o = waiting()
    shopify = _adapter(ShopifyAdapter, server, "shopify")
    line = {"id": f"gid://shopify/FulfillmentOrderLineItem/{o.line_ids[0] + 1}", "quantity": o.lines[0][1] + 1}
    batch = {"fulfillmentOrderId": _fulfillment_order_gid(o), "fulfillmentOrderLineItems": [line]}

    with pytest.raises(
        TransportError, match="refused fulfillmentCreate: .*Invalid fulfillment order line item quantity"
    ):
        shopify.graphql.mutate(
            FULFILLMENT_CREATE, {"fulfillment": {"lineItemsByFulfillmentOrder": [batch]}}, "fulfillmentCreate"
        )

    assert o.shopify_id not in server.world.shopify_fulfilled


def test_shopify_over_rest_tells_nothing_of_ready_and_refuses_an_overdrawn_fulfilment(server, http, waiting):
    o = waiting()
    shopify = _adapter(ShopifyAdapter, server, "shopify", transport="rest")
    assert shopify.push_pickup(external_id=str(o.shopify_id), state="ready", lines=_lines(o, 0)) is None
    with pytest.raises(ValueError, match="takes no pickup state 'refused'"):
        shopify.push_pickup(external_id=str(o.shopify_id), state="refused", lines=_lines(o, 0))
    assert o.shopify_id not in server.world.shopify_prepared

    fo = http.get(server.url("shopify") + f"/orders/{o.shopify_id}/fulfillment_orders.json", headers=SHOPIFY).json()
    item = fo["fulfillment_orders"][0]["line_items"][0]
    body = {
        "fulfillment": {
            "line_items_by_fulfillment_order": [
                {
                    "fulfillment_order_id": item["fulfillment_order_id"],
                    "fulfillment_order_line_items": [{"id": item["id"], "quantity": item["quantity"] + 1}],
                }
            ]
        }
    }
    answer = http.post(server.url("shopify") + "/fulfillments.json", json=body, headers=SHOPIFY)

    assert answer.status_code == 422 and "Invalid fulfillment order line item quantity" in answer.json()["errors"][0]
    assert o.shopify_id not in server.world.shopify_fulfilled


# --- Odoo ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("transport", ["json2", "jsonrpc"])
def test_odoo_validates_the_picking_with_the_collected_quantities_and_no_backorder(server, http, waiting, transport):
    o = waiting()
    odoo = _adapter(OdooAdapter, server, "odoo", transport=transport)
    picking = o.out_picking

    assert odoo.push_pickup(external_id=str(o.so_id), state="collected", lines=_lines(o, 0)) is True
    assert odoo.push_pickup(external_id=str(o.so_id), state="collected", lines=_lines(o, 0)) is True  # a repeat

    [read] = _odoo_read(http, server, "stock.picking", [picking.id], ["state", "date_done"])
    assert read["state"] == "done" and read["date_done"]
    moves = _odoo_read(http, server, "stock.move", [m.id for m in picking.moves], ["quantity", "picked", "state"])
    demand = [float(o.lines[m.line_no][1]) for m in picking.moves]
    assert [(m["quantity"], m["picked"], m["state"]) for m in moves] == [
        (demand[0], True, "done"),
        *[(0.0, True, "done")] * (len(moves) - 1),
    ]


def test_odoo_cancels_the_picking_of_a_refused_order_and_then_refuses_to_validate_it(server, http, waiting):
    o = waiting()
    odoo = _adapter(OdooAdapter, server, "odoo")

    odoo.push_pickup(external_id=str(o.so_id), state="refused", lines=[])

    [read] = _odoo_read(http, server, "stock.picking", [o.out_picking.id], ["state"])
    assert read["state"] == "cancel"
    with pytest.raises(ValueError, match="no open outgoing picking"):
        odoo.push_pickup(external_id=str(o.so_id), state="collected", lines=_lines(o, 0))


def test_the_odoo_sandbox_asks_about_a_backorder_unless_told_to_skip_it(server, http, waiting):
    o = waiting()
    picking, base = o.out_picking, server.url("odoo") + "/json/2"
    http.post(base + "/stock.move/write", json={"ids": [picking.moves[0].id], "vals": {"quantity": 0}}, headers=ODOO)

    asked = http.post(base + "/stock.picking/button_validate", json={"ids": [picking.id]}, headers=ODOO)
    done = http.post(
        base + "/stock.picking/button_validate",
        json={"ids": [picking.id], "context": {"skip_backorder": True}},
        headers=ODOO,
    )
    again = http.post(base + "/stock.picking/button_validate", json={"ids": [picking.id]}, headers=ODOO)

    assert asked.status_code == 200 and asked.json()["res_model"] == "stock.backorder.confirmation"
    assert done.status_code == 200 and done.json() is True
    assert again.status_code == 422 and again.json()["name"] == "odoo.exceptions.UserError"


def test_an_odoo_refusal_to_validate_is_a_transport_error(server, waiting, monkeypatch):
    o = waiting()
    odoo = _adapter(OdooAdapter, server, "odoo")
    monkeypatch.setattr(odoo, "_execute", lambda *args, **kwargs: {"res_model": "stock.backorder.confirmation"})
    with pytest.raises(TransportError, match="did not validate picking"):
        odoo.push_pickup(external_id=str(o.so_id), state="collected", lines=_lines(o, 0, 1))


# --- Square -------------------------------------------------------------------------------------------
def test_square_sets_the_pickup_fulfillment_state(server, waiting):
    o = waiting()
    square = _adapter(SquareAdapter, server, "square")

    ready = square.push_pickup(external_id=o.square_id, state="ready", lines=[])
    collected = square.push_pickup(external_id=o.square_id, state="collected", lines=_lines(o, 0))

    assert [f["state"] for f in ready["fulfillments"]] == ["PREPARED"]
    assert [f["state"] for f in collected["fulfillments"]] == ["COMPLETED"]
    assert server.world.fulfillment_states[o.square_id] == "COMPLETED"

    revision = server.world.revision
    again = square.push_pickup(external_id=o.square_id, state="collected", lines=_lines(o, 0))  # a lost answer
    late = square.push_pickup(external_id=o.square_id, state="ready", lines=[])  # a retry arriving late
    assert [f["state"] for f in again["fulfillments"] + late["fulfillments"]] == ["COMPLETED", "COMPLETED"]
    assert server.world.revision == revision  # neither wrote anything
