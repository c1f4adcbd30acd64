"""The sandbox world without HTTP: determinism, ground truth, breakdown rates, clock, corruption.

No database: run with ``pytest tests/integrations/sandbox -p no:django`` or as part of
the suite.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from integrations.sandbox import CORRUPTIONS, DEFAULT_NOW, DEFAULT_RATES, THRESHOLDS, World
from integrations.sandbox.formats import Request, easypost, hubspot, odoo, shopify, square
from integrations.sandbox.generate import Generator
from orders.catalogue.identity import normalise_email, normalise_phone

SIZE = 2000
LIFECYCLE = {
    "placed", "paid", "in_erp", "assigned", "picked", "packed", "ready_for_pickup",
    "handed_to_carrier", "in_transit", "out_for_delivery", "delivered", "collected",
    "cancelled", "return_requested", "returned", "refunded",
}  # fmt: skip
DAY = 86400


@pytest.fixture(scope="module")
def world():
    return World(orders=SIZE, seed=7)


def flags_of(truth: dict) -> Counter:
    return Counter(flag for order in truth["orders"] for flag in order["flags"])


def served(w: World, module, method, path, *, query=None, body=None, headers) -> bytes:
    """What the vendor module answers to one request, straight from the module (no HTTP)."""
    request = Request(
        method=method,
        path=path,
        query={k: [str(v)] for k, v in (query or {}).items()},
        headers=headers,
        body=json.dumps(body).encode() if body is not None else b"",
        origin="http://sandbox",
        prefix="/x",
    )
    response = module.handle(w, request)
    assert response.status == 200, response.body
    return response.body


def first_pages(w: World) -> list[bytes]:
    """The first page of every vendor list, rendered straight from the vendor modules."""

    def call(module, method, path, **kwargs):
        return served(w, module, method, path, **kwargs)

    shop = {"X-Shopify-Access-Token": "shpat_sandbox"}
    sq = {"Authorization": "Bearer sq_sandbox"}
    return [
        call(shopify, "GET", "/admin/api/2025-07/orders.json", query={"status": "any", "limit": 250}, headers=shop),
        call(shopify, "GET", "/admin/api/2025-07/customers.json", query={"limit": 250}, headers=shop),
        call(square, "POST", "/v2/orders/search", body={"limit": 500}, headers=sq),
        call(square, "GET", "/v2/payments", query={"limit": 100}, headers=sq),
        call(square, "POST", "/v2/customers/search", body={}, headers=sq),
        call(square, "POST", "/v2/inventory/counts/batch-retrieve", body={}, headers=sq),
        call(odoo, "POST", "/json/2/stock.picking/search_read", body={"domain": [], "limit": 300}, headers={"Authorization": "bearer odoo_sandbox"}),
        call(hubspot, "POST", "/crm/v3/objects/contacts/search", body={"limit": 100, "properties": ["email", "phone"]}, headers={"Authorization": "Bearer hs_sandbox"}),
        call(easypost, "GET", "/v2/trackers", query={"page_size": 100}, headers={"Authorization": "Basic ZXBfc2FuZGJveDo="}),
    ]  # fmt: skip


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_size_and_clock_give_byte_identical_truth_and_vendor_pages():
    one, two = World(orders=400, seed=11), World(orders=400, seed=11)

    assert json.dumps(one.truth()) == json.dumps(two.truth())
    assert first_pages(one) == first_pages(two)


def test_another_seed_gives_another_world():
    assert World(orders=400, seed=11).truth()["orders"] != World(orders=400, seed=12).truth()["orders"]


# --- the ground truth ---------------------------------------------------------------------------


def test_truth_has_the_agreed_shape(world):
    truth = world.truth()

    assert set(truth) == {"seed", "now", "thresholds", "stores", "people", "orders", "measured_stock"}
    assert (truth["seed"], truth["now"]) == (7, "2026-11-20T12:00:00Z")
    assert (
        truth["thresholds"]
        == THRESHOLDS
        == {
            "phantom_grace_seconds": 1800,
            "unassigned_seconds": 7200,
            "stuck_seconds": 172800,
            "return_refund_seconds": 604800,
        }
    )
    assert [(s["code"], s["name"], s["kind"]) for s in truth["stores"]] == [
        ("downtown", "Downtown", "store"),
        ("riverside", "Riverside", "store"),
        ("airport-mall", "Airport Mall", "store"),
        ("central-warehouse", "Central Warehouse", "warehouse"),
    ]
    assert all(set(s["ids"]) == {"shopify", "square", "odoo"} for s in truth["stores"][:3])
    assert set(truth["stores"][3]["ids"]) == {"shopify", "odoo"}  # the warehouse sells nothing in store
    assert [o["order_id"] for o in truth["orders"]] == [f"O{n:06d}" for n in range(1, SIZE + 1)]
    for order in truth["orders"]:
        assert set(order) == {
            "order_id", "person_id", "own_customer", "channel", "fulfilment", "store", "number", "placed_at",
            "promised_by", "status", "systems", "parcels", "flags", "lines", "units", "refunds", "refunded_cents",
            "returned_skus", "measured_lines",
        }  # fmt: skip
        assert order["status"] in LIFECYCLE
        assert set(order["systems"]) <= {"shopify", "odoo", "square", "easypost"}
        assert all(set(ref) == {"external_id", "number"} for ref in order["systems"].values())
    for person in truth["people"]:
        assert set(person) == {"person_id", "name", "email", "phone", "loyalty_id", "ids", "customers"}
        assert sorted(s for group in person["customers"] for s in group) == sorted(person["ids"])
        assert person["email"] == person["email"].lower()


def test_orders_are_spread_over_the_thirty_days_before_now(world):
    placed = [datetime.fromisoformat(o["placed_at"]) for o in world.truth()["orders"]]

    assert placed == sorted(placed)
    assert DEFAULT_NOW - timedelta(days=30) <= placed[0] < placed[-1] < DEFAULT_NOW


def test_each_kind_of_order_is_in_the_systems_that_handle_it(world):
    orders = world.truth()["orders"]
    kinds = Counter((o["channel"], o["fulfilment"]) for o in orders)

    assert set(kinds) == {("store", "carry_out"), ("web", "ship"), ("web", "pickup"), ("web", "delivery")}
    for o in orders:
        systems = set(o["systems"])
        if o["channel"] == "store":
            assert systems == {"square"} and o["number"] == o["systems"]["square"]["number"]
            continue
        assert o["systems"]["shopify"]["number"] == o["number"] and o["number"].startswith("#")
        if "phantom_order" in o["flags"]:
            assert systems == {"shopify"}
        if o["fulfilment"] == "pickup" and "odoo" in systems:
            assert o["systems"]["square"]["number"] == o["number"]  # the POS knows it by reference_id
        if o["status"] in ("in_transit", "out_for_delivery", "delivered"):
            assert "easypost" in systems


def test_people_are_known_by_the_systems_they_used(world):
    truth = world.truth()
    people = {p["person_id"]: p for p in truth["people"]}
    in_store = {o["person_id"] for o in truth["orders"] if o["channel"] == "store" and o["person_id"]}
    guests_only = set(people) - in_store

    assert all("square" in people[pid]["ids"] for pid in in_store)
    assert sum("hubspot" in p["ids"] for p in people.values()) > 0.85 * len(people)
    assert any(p["loyalty_id"] for p in people.values())
    assert any(not p["phone"] for p in people.values())
    assert all("square" not in people[pid]["ids"] for pid in guests_only)


# --- breakdowns ------------------------------------------------------------------------------


def test_each_breakdown_strikes_its_share_of_orders_at_the_initial_clock(world):
    assert flags_of(world.truth()) == {flag: round(rate * SIZE) for flag, rate in DEFAULT_RATES.items()}


def test_each_broken_order_carries_exactly_one_flag_at_the_initial_clock(world):
    assert all(len(o["flags"]) <= 1 for o in world.truth()["orders"])


def test_rates_are_configurable():
    w = World(orders=500, seed=3, rates={"phantom_order": 0.1, "stuck_shipment": 0.0})
    flags = flags_of(w.truth())

    assert flags["phantom_order"] == 50
    assert flags["stuck_shipment"] == 0
    assert flags["unassigned"] == round(DEFAULT_RATES["unassigned"] * 500)


def test_an_unknown_breakdown_is_refused():
    with pytest.raises(ValueError, match="unknown breakdown"):
        World(orders=10, rates={"lost_in_space": 0.5})


def test_orders_without_a_breakdown_never_raise_a_flag_whatever_the_clock():
    w = World(orders=1500, seed=5)
    clean = {o["order_id"] for o in w.truth()["orders"] if not o["flags"]}
    for days in (-3, 1, 2, 5, 12, 45):
        w.set_now(DEFAULT_NOW + timedelta(days=days))
        flagged = {o["order_id"] for o in w.truth()["orders"] if o["flags"]}
        assert not flagged & clean, f"clean orders flagged {days} days on"


# --- the clock -------------------------------------------------------------------------------


def test_advancing_the_clock_makes_orders_progress():
    w = World(orders=1000, seed=9)
    before = {o["order_id"]: o for o in w.truth()["orders"]}
    now = w.advance(3 * DAY)
    after = {o["order_id"]: o for o in w.truth()["orders"]}

    assert now == int((DEFAULT_NOW + timedelta(days=3)).timestamp())
    assert after.keys() == before.keys()  # no order is placed after the initial clock
    moved = [oid for oid in before if before[oid]["status"] != after[oid]["status"]]
    assert len(moved) > 50
    delivered = lambda orders: sum(o["status"] in ("delivered", "collected") for o in orders.values())  # noqa: E731
    assert delivered(after) > delivered(before)
    gained = [oid for oid in before if set(after[oid]["systems"]) > set(before[oid]["systems"])]
    assert gained  # parcels handed over since: EasyPost now knows them


def test_an_at_risk_promise_becomes_a_missed_one_once_it_passes():
    w = World(orders=1000, seed=4)
    at_risk = [o["order_id"] for o in w.truth()["orders"] if o["flags"] == ["promise_at_risk"]]
    w.advance(8 * DAY)
    later = {o["order_id"]: o for o in w.truth()["orders"]}

    assert at_risk
    for oid in at_risk:
        assert "promise_at_risk" not in later[oid]["flags"]
        assert "promise_missed" in later[oid]["flags"] or later[oid]["status"] in ("delivered", "returned")


def test_going_back_in_time_hides_what_had_not_happened_yet():
    w = World(orders=300, seed=2)
    w.set_now("2026-11-05T00:00:00Z")
    truth = w.truth()

    assert truth["now"] == "2026-11-05T00:00:00Z"
    assert all(o["placed_at"] <= "2026-11-05T00:00:00Z" for o in truth["orders"])
    assert len(truth["orders"]) < 300


def test_the_realtime_clock_follows_wall_time(monkeypatch):
    wall = [1_000_000.0]
    monkeypatch.setattr("integrations.sandbox.world.time.time", lambda: wall[0])
    w = World(orders=20, seed=1, realtime=True)
    start = w.now
    wall[0] += 90

    assert w.following_wall_clock
    assert w.now == start + 90
    w.advance(DAY)
    assert w.now == start + 90 + DAY


# --- malformed records -------------------------------------------------------------------------


def test_corrupt_then_repair_moves_the_object_so_a_sync_fetches_it_again():
    w = World(orders=200, seed=1)
    stream = w.stream("shopify", "orders")
    target = stream.externals[10]
    before = stream.updated_at(10, w.now)
    w.advance(60)
    w.corrupt("shopify", "orders", target, "bad_date")

    assert w.corruption("shopify", "orders", target) == "bad_date"
    assert stream.updated_at(10, w.now) == w.now > before
    w.advance(60)
    assert w.repair("shopify", "orders", target) is True
    assert w.corruption("shopify", "orders", target) is None
    assert stream.updated_at(10, w.now) == w.now
    assert w.repair("shopify", "orders", target) is False


def test_repair_all_restores_every_corrupted_object():
    w = World(orders=200, seed=1)
    for how, ext in zip(CORRUPTIONS, w.stream("odoo", "stock.move").externals, strict=False):
        w.corrupt("odoo", "stock.move", ext, how)

    assert w.repair_all() == len(CORRUPTIONS)
    assert w.corruptions == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("shopify", "orders", "1", "melted"), "unknown corruption"),
        (("shopify", "orders", "1", "truncated"), "no object"),
        (("shopify", "parcels", "1", "truncated"), "unknown stream"),
    ],
)
def test_corrupting_something_that_does_not_exist_is_refused(args, message):
    with pytest.raises(ValueError, match=message):
        World(orders=50, seed=1).corrupt(*args)


def test_the_default_clock_is_the_agreed_one():
    assert datetime(2026, 11, 20, 12, tzinfo=UTC) == DEFAULT_NOW
    assert World(orders=5).now_dt == DEFAULT_NOW


def test_the_varied_world_records_in_store_returns_and_other_tenders_as_square_does():
    """Return orders naming their sale (some sorting before it), short order pages, ACH pending and failed."""
    w = World(orders=160, seed=23, shape="varied")
    now, truth = w.now, {o["order_id"]: o for o in w.truth()["orders"]}
    returns = [r for o in w.orders for r in o.sq_returns]
    orders = w.stream("square", "orders")
    position = {key: n for n, (_, key, _) in enumerate(orders.visible(now))}
    assert any(position[r.square_id] < position[r.order.square_id] for r in returns)  # paged before its sale
    assert not {r.square_id for r in returns} & {
        s["external_id"] for o in truth.values() for s in o["systems"].values()
    }
    request = Request(
        method="POST", path="/v2/orders/search", query={}, headers={"Authorization": "Bearer sq_sandbox"},
        body=json.dumps({"limit": 500, "query": {"sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"}}}).encode(),
        origin="http://sandbox", prefix="/x",
    )  # fmt: skip
    page = json.loads(square.handle(w, request).body)
    assert len(page["orders"]) == 10 and page["cursor"]  # fewer than asked, as Square may answer
    for r in returns:
        payload = orders.objects[orders.find(r.square_id)]
        rendered = square.render_order(w, payload, now, orders.updated_at(orders.find(r.square_id), now))
        (ret,) = rendered["returns"]
        assert (ret["source_order_id"], rendered["total_money"]["amount"]) == (r.order.square_id, 0)
        assert [line["source_line_item_uid"] for line in ret["return_line_items"]] == [
            r.order.sq_line_uids[n] for n, _ in r.lines
        ]
        assert rendered["refunds"][0]["amount_money"]["amount"] == r.cents
        assert "return_not_refunded" not in truth[r.order.order_id]["flags"]
    paid_otherwise = [o for o in w.orders if o.tender]
    assert {(o.tender, o.payment_status_at(now)) for o in paid_otherwise} == {
        ("BANK_ACCOUNT", "PENDING"), ("BANK_ACCOUNT", "COMPLETED"), ("BANK_ACCOUNT", "FAILED"),
        ("SQUARE_ACCOUNT", "COMPLETED"), ("BUY_NOW_PAY_LATER", "COMPLETED"),
    }  # fmt: skip
    for o in paid_otherwise:  # a transfer still pending or failed took no money: captured is not the total
        flagged = "payment_mismatch" in truth[o.order_id]["flags"]
        assert flagged == (o.payment_status_at(now) in ("PENDING", "FAILED")), o.order_id


def test_the_varied_world_sells_a_few_lines_by_measure_at_the_till_as_square_records_them():
    """``measured_quantity``: a decimal quantity with its quantity_unit, the unit price times it the line's total."""
    w = World(orders=160, seed=23, shape="varied")
    now, truth = w.now, {o["order_id"]: o for o in w.truth()["orders"]}
    measured = [o for o in w.orders if o.measure is not None]
    orders = w.stream("square", "orders")
    found = []
    for o in measured:
        rendered = square.render_order(w, orders.objects[orders.find(o.square_id)], now, now)
        line = rendered["line_items"][0]
        found.append((line["quantity"], json.dumps(line["quantity_unit"], sort_keys=True)))
        cents = Decimal(line["base_price_money"]["amount"]) * Decimal(line["quantity"])
        assert cents == line["total_money"]["amount"] == o.lines[0][2] * o.lines[0][1], o.order_id
        assert rendered["total_money"]["amount"] == o.total, o.order_id  # every money figure as before
        assert truth[o.order_id]["measured_lines"] == [
            {"sku": line["metadata"]["sku"], "quantity": line["quantity"], "unit": o.measure[3]}
        ]
        assert (o.kind, o.breakdown, o.sq_returns, "measured_quantity" in o.vary) == ("carry_out", None, [], True)
    assert sorted(found) == sorted(
        (quantity, json.dumps(unit, sort_keys=True))
        for quantity, unit in [
            ("1.5", {"measurement_unit": {"length_unit": "IMPERIAL_FOOT"}, "precision": 1}),
            ("0.75", {"measurement_unit": {"weight_unit": "METRIC_KILOGRAM"}, "precision": 2}),
            ("0.5", {"measurement_unit": {"custom_unit": {"name": "Spool", "abbreviation": "spl"}, "type": "TYPE_CUSTOM"},
                     "precision": 1}),
            ("1.5", {"measurement_unit": {"length_unit": "METRIC_METER"}, "precision": 1}),
            ("1", {"measurement_unit": {"volume_unit": "METRIC_LITER"}, "precision": 0}),
            ("0.25", {"measurement_unit": {"weight_unit": "IMPERIAL_POUND"}, "precision": 2}),
        ]
    )  # fmt: skip
    assert sum(bool(o["measured_lines"]) for o in truth.values()) == 6
    assert not any(o.measure for o in World(orders=160, seed=23).orders)  # the standard world sells by the item


def test_the_varied_world_counts_what_it_sells_by_measure_with_a_fraction(monkeypatch):
    """``measured_quantity``: the store's count of each product sold by measure keeps a remnant (18.25 kg), as Square
    renders it (a decimal string) and the ERP (a float); every other count is whole, and no flag moves."""
    from integrations.sandbox.formats.odoo_records import stock_quant

    w = World(orders=160, seed=23, shape="varied")
    now, truth = w.now, w.truth()
    sold = {(o.store.code, o.lines[0][0].sku): o.measure for o in w.orders if o.measure is not None}
    counted = {(c["store"], c["sku"]): c for c in truth["measured_stock"]}

    assert set(counted) == set(sold)
    assert sorted((c["quantity"].partition(".")[2], c["unit"]) for c in counted.values()) == [
        ("25", "kg"), ("5", "ft"), ("5", "l"), ("5", "m"), ("5", "spl"), ("75", "lb"),
    ]  # fmt: skip
    inventory = w.stream("square", "inventory")
    for stock in w.stocks:
        key = (stock.store.code, stock.product.sku)
        if key in counted:
            assert square.render_count(w, stock, now, now)["quantity"] == counted[key]["quantity"]
            assert stock_quant(w, stock, now, now)["quantity"] == float(counted[key]["quantity"])
            assert stock in inventory.objects  # the POS counts the store's shelf
        else:
            assert stock.quantity_at(now) == int(stock.quantity_at(now)), key
    assert World(orders=160, seed=23).truth()["measured_stock"] == []  # the standard world counts by the item

    monkeypatch.setattr(Generator, "count_by_measure", lambda *args: None)
    whole = World(orders=160, seed=23, shape="varied")  # the same world counted in whole units
    assert [o["flags"] for o in whole.truth()["orders"]] == [o["flags"] for o in truth["orders"]]


def test_the_varied_world_sends_packages_backorders_silent_trackers_and_returns_to_sender():
    """The carrier and ERP shapes of ``generate.VARIATIONS``, as the vendors render them at the initial clock."""
    from integrations.sandbox.formats.odoo_records import stock_move, stock_picking
    from integrations.sandbox.formats.shopify_records import render_order

    world = World(orders=160, seed=23, shape="varied")
    now = world.now
    struck = {
        v: [o for o in world.orders if v in o.vary]
        for v in ("packages", "backorder", "never_scanned", "return_to_sender")
    }
    assert all(struck.values()), {v: len(orders) for v, orders in struck.items()}

    for o in struck["packages"]:  # one picking, every package's number comma-joined, each parcel its own lines
        out = stock_picking(world, o.out_picking, now, now)
        assert out["carrier_tracking_ref"] == ",".join(p.code for p in o.shipments)
        fulfilled = [
            [item["sku"] for item in f["line_items"]] for f in render_order(world, o, now, now)["fulfillments"]
        ]
        assert sorted(sku for skus in fulfilled for sku in skus) == sorted(p.sku for p, _, _ in o.lines)
    for o in struck["backorder"]:  # the left-behind moves name the backorder once it exists
        back = stock_picking(world, o.back_picking, now, now)
        assert back["backorder_id"] == [o.out_picking.id, o.out_picking.name]
        assert sorted(back["move_ids"]) == sorted(m.id for m in o.back_picking.moves) != []
        assert {stock_move(world, m, now, now)["picking_id"][0] for m in o.back_picking.moves} == {o.back_picking.id}
        before = {stock_move(world, m, o.done - 1, o.done - 1)["picking_id"][0] for m in o.back_picking.moves}
        assert before == {o.out_picking.id}
    trackers = world.stream("easypost", "trackers")
    for o in struck["never_scanned"]:
        i = trackers.find(o.shipments[0].tracker_id)
        tracker = easypost.render(world, trackers, i, now)
        assert (tracker["status"], tracker["tracking_details"]) == (("unknown" if o.idx % 2 else "pre_transit"), [])
    returned = [o.shipments[0].status_at(now)[1] for o in struck["return_to_sender"]]
    assert set(returned) == {"return_to_sender"}
    assert any(len(o.shipments) == 2 for o in struck["return_to_sender"])  # sent again
    truth = {o["order_id"]: o for o in world.truth()["orders"]}
    for o in struck["packages"] + struck["backorder"]:  # delivered only once every line has arrived
        arrived = max(p.scans[-1][0] for p in o.shipments)
        assert (truth[o.order_id]["status"] == "delivered") == (arrived <= now), o.order_id


def test_the_varied_world_s_wholesale_orders_hold_more_than_a_query_at_usual_sizes_and_the_truth_says_what():
    """``wholesale``: 60 lines and more, by the case, in five or six parcels of more than five lines each, a return
    refunded in five refunds (the first of more than two lines); the truth's lines, units and refunds are the world's,
    and the storefront and the ERP render them all."""
    from integrations.sandbox.formats.odoo_records import stock_picking
    from integrations.sandbox.formats.shopify_records import render_order

    world = World(orders=160, seed=23, shape="varied")
    now = world.now
    truth = {o["order_id"]: o for o in world.truth()["orders"]}
    big = [o for o in world.orders if "wholesale" in o.vary]
    assert len(big) == 1
    for o in big:
        expected = truth[o.order_id]
        assert (expected["lines"], expected["units"]) == (len(o.lines), sum(q for _, q, _ in o.lines))
        assert 60 <= expected["lines"] <= 72 and expected["units"] >= 6 * 60
        assert expected["refunds"] == len(o.refunds) == 5 and expected["refunded_cents"] == sum(r[1] for r in o.refunds)
        assert (expected["status"], expected["flags"]) == ("refunded", [])
        assert len(expected["parcels"]) == len(o.shipments) in (5, 6)
        carried = [n for p in o.shipments for n in p.lines]
        assert carried == list(range(len(o.lines)))  # each line in one parcel
        assert min(len(p.lines) for p in o.shipments) > 5
        assert [len(r[2]) for r in o.refunds] == [4, 2, 2, 2, 2]

        rest = render_order(world, o, now, now)
        assert len(rest["line_items"]) == expected["lines"]
        assert sum(item["quantity"] for item in rest["line_items"]) == expected["units"]
        assert [len(f["line_items"]) for f in rest["fulfillments"]] == [len(p.lines) for p in o.shipments]
        assert [len(r["refund_line_items"]) for r in rest["refunds"]] == [4, 2, 2, 2, 2]
        ids = [item["id"] for r in rest["refunds"] for item in r["refund_line_items"]]
        assert len(set(ids)) == len(ids)
        out = stock_picking(world, o.out_picking, now, now)
        assert out["carrier_tracking_ref"] == ",".join(p.code for p in o.shipments)
        assert len(out["move_ids"]) == expected["lines"]
    line_ids = [i for o in world.orders if o.channel == "web" for i in o.line_ids]
    assert len(set(line_ids)) == len(line_ids)  # a wholesale order's many lines take no other order's ids


# --- the varied shape: who is whom ---------------------------------------------------------


@pytest.fixture(scope="module")
def varied():
    return World(orders=160, seed=23, shape="varied")


def _served_contacts(w: World) -> list[tuple[str, str, str, str]]:
    """``(system, person id, e-mail, phone)`` of every POS customer and CRM contact, as the vendors serve them."""
    person_of = {(s, ext): p["person_id"] for p in w.truth()["people"] for s, ext in p["ids"].items()}
    customers = served(
        w, square, "POST", "/v2/customers/search", body={"limit": 100}, headers={"Authorization": "Bearer sq_sandbox"}
    )
    contacts = served(w, hubspot, "POST", "/crm/v3/objects/contacts/search", body={"limit": 100, "properties": ["email", "phone"]}, headers={"Authorization": "Bearer hs_sandbox"})  # fmt: skip
    return [
        ("square", person_of[("square", c["id"])], c["email_address"], c.get("phone_number", ""))
        for c in json.loads(customers)["customers"]
    ] + [
        ("hubspot", person_of[("hubspot", c["id"])], c["properties"]["email"], c["properties"]["phone"] or "")
        for c in json.loads(contacts)["results"]
    ]


def test_pos_customers_and_crm_contacts_of_different_people_hold_one_placeholder(varied):
    """``placeholder_contact``: ``noemail@…`` and ``0000000000``, typed for several people, are nobody's key, and
    the truth groups those records as the keys they really hold say."""
    holders: dict[tuple[str, str, str], set[str]] = {}
    for system, person_id, email, phone in _served_contacts(varied):
        for key, value, normalised in (
            ("email", email, normalise_email(email)),
            ("phone", phone, normalise_phone(phone)),
        ):
            if value and not normalised:
                holders.setdefault((system, key, value), set()).add(person_id)
    shared = {(system, key) for (system, key, _), people in holders.items() if len(people) >= 2}
    assert shared == {("square", "email"), ("square", "phone"), ("hubspot", "email"), ("hubspot", "phone")}
    typed = {p.person_id: p for p in varied.people if p.typed}
    assert {person_id for people in holders.values() for person_id in people} == set(typed)
    truth = {p["person_id"]: p for p in varied.truth()["people"]}
    blind = [
        pid for pid, p in typed.items() if set(p.typed.get("square", ())) == {"email", "phone"} and not p.loyalty_id
    ]
    assert blind and all(["square"] in truth[pid]["customers"] for pid in blind)  # no key left: a customer of its own


def test_a_household_shares_one_phone_and_stays_two_people(varied):
    """``household_phone``: different names and e-mails on one phone; the first pair are both POS customers holding
    one placeholder e-mail there, so their given names alone tell them apart."""
    by_phone: dict[str, list[dict]] = {}
    for p in varied.truth()["people"]:
        if p["phone"]:
            by_phone.setdefault(p["phone"], []).append(p)
    households = [people for people in by_phone.values() if len(people) > 1]
    assert len(households) == 3 and all(len(people) == 2 for people in households)
    for a, b in households:
        assert a["name"].split()[0] != b["name"].split()[0] and a["email"] != b["email"]
    at_till = {}
    for system, person_id, email, phone in _served_contacts(varied):
        if system == "square" and normalise_phone(phone) in by_phone:
            at_till.setdefault(normalise_phone(phone), []).append((person_id, normalise_email(email)))
    assert any(len(records) == 2 and {e for _, e in records} == {""} for records in at_till.values())


def test_guest_checkouts_with_a_placeholder_e_mail_are_customers_of_their_own(varied):
    """A guest order whose e-mail is a placeholder shares only its phone with its person: its own customer."""
    page = served(varied, shopify, "GET", "/admin/api/2025-07/orders.json", query={"status": "any", "limit": 250}, headers={"X-Shopify-Access-Token": "shpat_sandbox"})  # fmt: skip
    truth = {o["number"]: o for o in varied.truth()["orders"]}
    typed = [o for o in json.loads(page)["orders"] if o["customer"] is None and not normalise_email(o["email"])]
    assert len(typed) == sum("placeholder_contact" in o.vary for o in varied.orders) >= 3
    assert all(normalise_phone(o["phone"]) and truth[o["name"]]["own_customer"] for o in typed)


# --- the varied shape: fulfilments -----------------------------------------------------------


def test_a_voided_label_stays_in_the_storefront_cancelled_beside_the_live_parcel(varied):
    """``voided_label``: the first fulfilment is cancelled, its tracker never scanned after the label; the live
    parcel is the second, and the truth reads only it."""
    page = served(varied, shopify, "GET", "/admin/api/2025-07/orders.json", query={"status": "any", "limit": 250}, headers={"X-Shopify-Access-Token": "shpat_sandbox"})  # fmt: skip
    served_orders = {o["name"]: o for o in json.loads(page)["orders"]}
    voided = [o for o in varied.orders if o.voided]
    assert len(voided) >= 3
    trackers = {parcel.code: parcel for parcel in varied.shipments}
    for o in voided:
        first, live = served_orders[o.number]["fulfillments"][:2]
        assert (first["name"], first["status"], first["shipment_status"]) == (f"{o.number}.1", "cancelled", None)
        assert [scan[1] for scan in trackers[first["tracking_number"]].scans] == ["pre_transit"]
        assert first["id"] < live["id"] and o.voided.created < o.voided.voided < o.shipments[0].created
        assert (live["name"], live["status"], live["tracking_number"]) == (
            f"{o.number}.2",
            "success",
            o.shipments[0].code,
        )
    truth = {t["number"]: t for t in varied.truth()["orders"]}
    assert not any(
        {"duplicate_shipment", "delivery_exception"} & set(truth[o.number]["flags"])
        for o in voided
        if o.breakdown is None
    )


def test_a_partly_fulfilled_order_waits_in_an_erp_backorder_and_is_not_delivered(varied):
    """``partial_fulfilment``: the held line is unfulfilled in the storefront (``fulfillment_status`` partial) and
    waits in an open ERP backorder; the parcel delivered is not the order delivered, so its passed promise is missed."""
    page = served(varied, shopify, "GET", "/admin/api/2025-07/orders.json", query={"status": "any", "limit": 250}, headers={"X-Shopify-Access-Token": "shpat_sandbox"})  # fmt: skip
    served_orders = {o["name"]: o for o in json.loads(page)["orders"]}
    body = {"domain": [["backorder_id", "!=", False]], "fields": ["backorder_id", "origin", "state", "move_ids"]}
    backorders = json.loads(served(varied, odoo, "POST", "/json/2/stock.picking/search_read", body=body, headers={"Authorization": "bearer odoo_sandbox"}))  # fmt: skip
    held = [o for o in varied.orders if "partial_fulfilment" in o.vary]
    assert len(held) >= 3
    waiting = [(b["origin"], b["state"], len(b["move_ids"])) for b in backorders if b["state"] != "done"]
    assert sorted(waiting) == sorted(
        [(o.so_name, "confirmed", len(o.back_lines)) for o in held]
        + [
            (o.so_name, "assigned", len(o.back_lines))
            for o in varied.orders
            if o.back_done and o.back_done > varied.now
        ]
    )
    truth = {t["number"]: t for t in varied.truth()["orders"]}
    for o in held:
        order = served_orders[o.number]
        skus = [o.lines[n][0].sku for n in o.back_lines]
        assert order["fulfillment_status"] == "partial" and order["closed_at"] is None
        assert [(i["sku"], i["fulfillable_quantity"]) for i in order["line_items"] if not i["fulfillment_status"]] == [
            (o.lines[n][0].sku, o.lines[n][1]) for n in o.back_lines
        ] + [(p.sku, 0) for p, _, _ in o.removed]
        assert not {i["sku"] for f in order["fulfillments"] for i in f["line_items"]} & set(skus)
        assert o.shipments[0].scans[-1][1] == "delivered"
        assert truth[o.number]["status"] != "delivered" and truth[o.number]["flags"] == ["promise_missed"]


def test_a_pickup_paid_in_store_is_pending_until_marked_paid_and_a_mismatch_only_once_handed_over_unpaid(varied):
    """``pay_in_store``: the sale pending from checkout stays in the history; marking the order paid adds a sale of
    what was outstanding. Truth: owed at the counter before collection, out of line once handed over unpaid."""
    page = served(varied, shopify, "GET", "/admin/api/2025-07/orders.json", query={"status": "any", "limit": 250}, headers={"X-Shopify-Access-Token": "shpat_sandbox"})  # fmt: skip
    served_orders = {o["name"]: o for o in json.loads(page)["orders"]}
    truth = {o["number"]: o for o in varied.truth()["orders"]}
    now = varied.now
    paid = [o for o in varied.orders if o.pay_in_store and o.marked_paid is not None and o.marked_paid <= now]
    forgotten = [
        o
        for o in varied.orders
        if o.pay_in_store and o.marked_paid is None and o.collected is not None and o.collected <= now
    ]
    awaiting = [o for o in varied.orders if o.pay_in_store and (o.collected is None or o.collected > now)]
    assert (len(paid) >= 1, len(forgotten) >= 1, len(awaiting) >= 1) == (True, True, True)
    for o in paid + forgotten + awaiting:
        order = served_orders[o.number]
        listed = served(varied, shopify, "GET", f"/admin/api/2025-07/orders/{o.shopify_id}/transactions.json", query={"in_shop_currency": "true"}, headers={"X-Shopify-Access-Token": "shpat_sandbox"})  # fmt: skip
        sales = [
            (t["kind"], t["status"], t["gateway"], t["manual_payment_gateway"], t["amount"])
            for t in json.loads(listed)["transactions"]
        ]
        total = f"{o.total / 100:.2f}"
        pending = ("sale", "pending", "Pay in store", True, total)
        assert order["payment_gateway_names"] == ["Pay in store"]
        if o in paid:
            assert sales == [pending, ("sale", "success", "Pay in store", True, total)]
            assert (order["financial_status"], order["total_outstanding"]) == ("paid", "0.00")
        else:
            assert sales == [pending]
            assert (order["financial_status"], order["total_outstanding"]) == ("pending", total)
        assert ("payment_mismatch" in truth[o.number]["flags"]) == (o in forgotten)
