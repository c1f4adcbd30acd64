"""Mapping every model, and Odoo's conventions.

OdooAdapter: mapping of search_read rows, both transports, keyset paging and Odoo's errors.

No captured Odoo answer is available under a usable licence (tests/fixtures/vendor/README.md
and ../shared/fixtures/vendor/README.md, "erp"), so the rows below are written here from
the Odoo external API documentation (odoo/documentation external_api.rst, ORM field
types): many2one as ``[id, "Display Name"]``, ``false`` for every null, datetimes as
zone-less UTC ``"YYYY-MM-DD HH:MM:SS"``, floats for quantities and amounts.

No database: the adapter is pure apart from HTTP, which ``responses`` mocks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.adapters.odoo import OdooAdapter
from integrations.adapters.odoo_mapping import (
    WAREHOUSE_KEY,
    map_location,
    map_move,
    map_order,
    map_partner,
    map_picking,
    map_stock,
    parse_datetime,
)
from integrations.records import (
    CustomerRecord,
    LocationRecord,
    MappingError,
    MoveRecord,
    PickingLineRecord,
    PickingRecord,
    StockRecord,
    UpstreamOrder,
)

from ..helpers import utc
from .support import (
    BASE,
    KEY,
    MOVE,
    PARTNER,
    PICKING,
    PRODUCT,
    QUANT,
    SALE_ORDER,
    WAREHOUSE,
    adapter_for,
)


# -- the adapter's identity ----------------------------------------------------------------
def test_contract():
    assert (OdooAdapter.name, OdooAdapter.kind) == ("odoo", "erp")
    assert OdooAdapter.streams == ("locations", "partners", "orders", "pickings", "moves", "stock")
    assert OdooAdapter.required_credentials == ("api_key",)
    assert OdooAdapter.optional_credentials == ("database", "transport", "uid", "login")


def test_json2_sends_the_key_as_bearer_and_the_database_header_jsonrpc_sends_neither():
    json2 = OdooAdapter(base_url=BASE, credentials={"api_key": KEY, "database": "shop"})
    jsonrpc = adapter_for("jsonrpc", database="shop")

    assert json2.transport == "json2"
    assert (json2.client.headers["Authorization"], json2.client.headers["X-Odoo-Database"]) == (
        f"bearer {KEY}",
        "shop",
    )
    assert "Authorization" not in jsonrpc.client.headers
    assert "X-Odoo-Database" not in jsonrpc.client.headers


@pytest.mark.parametrize(
    ("credentials", "reason"),
    [
        ({}, "api_key"),
        ({"api_key": KEY, "transport": "xmlrpc"}, "transport must be one of json2, jsonrpc"),
        ({"api_key": KEY, "transport": "jsonrpc", "uid": "admin"}, "uid must be an integer"),
    ],
)
def test_bad_credentials_are_refused(credentials, reason):
    with pytest.raises(ValueError, match=reason):
        OdooAdapter(base_url=BASE, credentials=credentials)


def test_external_id_is_the_integer_id_as_a_string_or_empty():
    adapter = adapter_for()

    assert adapter.external_id("orders", SALE_ORDER) == "42"
    assert [adapter.external_id("orders", p) for p in ({"id": False}, {"id": "42"}, [42])] == [""] * 3


# -- mapping: every model ------------------------------------------------------------------
def test_warehouse_maps_to_a_location_coded_by_the_slug_of_its_name():
    assert map_location(WAREHOUSE) == LocationRecord(
        external_id="1", name="Central Warehouse", code="central-warehouse", kind="warehouse"
    )
    store = map_location({**WAREHOUSE, "id": 2, "name": "Downtown", "code": "DT"})
    assert (store.code, store.kind) == ("downtown", "store")
    with pytest.raises(MappingError, match=r"stock\.warehouse\.name is missing"):
        map_location({**WAREHOUSE, "name": False})


def test_partner_maps_contact_details_and_ref_as_loyalty_id():
    assert map_partner(PARTNER) == CustomerRecord(
        external_id="7",
        name="Bob Norman",
        emails=["bob.norman@mail.example.com"],
        phones=["+1 613-612-0707"],
        loyalty_id="LY-00042",
        updated_at=utc(2025, 4, 2, 16, 29, 59),
    )
    # Odoo ≤18 servers that also answer ``mobile`` (not requested: Odoo 19 dropped it).
    assert map_partner({**PARTNER, "mobile": "+1 613-555-0100"}).phones == [
        "+1 613-612-0707",
        "+1 613-555-0100",
    ]


def test_sale_order_maps_every_field():
    assert map_order(SALE_ORDER) == UpstreamOrder(
        external_id="42",
        number="S00042",
        references=["#1001"],  # client_order_ref and origin both name the web order
        channel="web",
        location_id="2",
        raw_status="sale",
        status="in_erp",
        placed_at=utc(2025, 4, 2, 16, 30, 5),
        updated_at=utc(2025, 4, 2, 16, 31, 21),
        promised_by=utc(2025, 4, 5, 18),
        currency="USD",
        total=Decimal("598.94"),
        customer=CustomerRecord(external_id="7", name="Bob Norman"),
    )


def test_picking_maps_every_field():
    picking = {**PICKING, WAREHOUSE_KEY: [2, "Downtown"]}

    assert map_picking(picking) == PickingRecord(
        external_id="12",
        name="DT/OUT/00012",
        order_reference="S00042",
        order_external_id="42",
        kind="outgoing",
        raw_status="assigned",
        status="assigned",
        assigned_to="Marc Demo",
        location_id="2",
        scheduled_at=utc(2025, 4, 3, 9),
        done_at=None,
        tracking_numbers=[],
        carrier="",
        updated_at=utc(2025, 4, 2, 17),
    )


def test_move_maps_to_a_picking_line_with_the_sku_of_the_product_display_name():
    assert map_move(MOVE) == MoveRecord(
        external_id="31",
        picking_external_id="12",
        line=PickingLineRecord(
            external_id="31",
            sku="IPOD2008GREEN",
            quantity=Decimal("2.0"),
            done_quantity=Decimal("2.0"),
            state="assigned",
        ),
        updated_at=utc(2025, 4, 2, 17, 5),
    )


@pytest.mark.parametrize(
    ("picked", "state", "done"),
    [
        (False, "assigned", Decimal(0)),
        (True, "assigned", Decimal("2.0")),
        (False, "done", Decimal("2.0")),
    ],
)
def test_move_quantity_counts_as_done_only_once_picked_or_done(picked, state, done):
    assert map_move({**MOVE, "picked": picked, "state": state}).line.done_quantity == done


def test_quant_maps_to_stock_at_its_warehouse():
    quant = {**QUANT, WAREHOUSE_KEY: [2, "Downtown"]}

    assert map_stock(quant) == StockRecord(
        sku="IPOD2008GREEN",
        location_id="2",
        part="3",  # the quant: one warehouse may hold several of one SKU (bins, lots), each kept
        on_hand=4,
        reserved=1,
        counted_at=utc(2025, 4, 2, 17, 5),
    )


@pytest.mark.parametrize(
    ("location", "bin_"),
    [
        ([31, "DT/Stock/B-07"], "DT/Stock/B-07"),
        ([18, "DT/Stock"], ""),
        ([44, "DT/Stock/Aisle 2/Shelf 3"], "DT/Stock/Aisle 2/Shelf 3"),
    ],
)
def test_a_quant_below_the_warehouse_stock_location_names_its_bin(location, bin_):
    quant = {**QUANT, "location_id": location, WAREHOUSE_KEY: [2, "Downtown"]}

    assert (map_stock(quant).location_id, map_stock(quant).bin) == ("2", bin_)


@pytest.mark.parametrize(
    ("quantity", "reserved", "on_hand", "reserved_units"),
    [(2.5, 0.5, 2, 1), (3.0, 0.0, 3, 0), (-1.5, False, -2, 0)],
)
def test_fractional_quants_round_so_available_stock_is_never_overstated(quantity, reserved, on_hand, reserved_units):
    quant = {**QUANT, "quantity": quantity, "reserved_quantity": reserved, WAREHOUSE_KEY: [2, "DT"]}

    assert (map_stock(quant).on_hand, map_stock(quant).reserved) == (on_hand, reserved_units)


def test_quant_outside_any_warehouse_or_not_resolved_raises():
    with pytest.raises(MappingError, match=r"location_id \('18', 'DT/Stock'\) belongs to no warehouse"):
        map_stock({**QUANT, WAREHOUSE_KEY: False})
    with pytest.raises(MappingError, match=r"stock\.quant\._omnidesk_warehouse_id is missing"):
        map_stock(QUANT)


# -- mapping: Odoo's conventions -------------------------------------------------------------
def test_false_means_empty_for_every_field():
    order = map_order(
        {**SALE_ORDER, "client_order_ref": False, "origin": False, "partner_id": False,
         "date_order": False, "commitment_date": False, "warehouse_id": False,
         "amount_total": False, "picking_ids": False}
    )  # fmt: skip
    picking = map_picking(
        {**PICKING, "origin": False, "sale_id": False, "user_id": False, "scheduled_date": False,
         "date_deadline": False, "location_id": False, "carrier_tracking_ref": False,
         "write_date": False, WAREHOUSE_KEY: False, "carrier_id": False}
    )  # fmt: skip
    partner = map_partner({**PARTNER, "name": False, "email": False, "phone": False, "ref": False})
    move = map_move({**MOVE, "picking_id": False, "quantity": False})

    assert (order.references, order.customer, order.location_id, order.total) == ([], None, "", 0)
    assert (order.placed_at, order.promised_by) == (None, None)
    assert (picking.order_reference, picking.order_external_id, picking.assigned_to) == ("", "", "")
    assert (picking.location_id, picking.tracking_numbers, picking.carrier) == ("", [], "")
    assert (picking.scheduled_at, picking.updated_at, picking.status) == (None, None, "in_erp")
    assert (partner.name, partner.emails, partner.phones, partner.loyalty_id) == ("", [], [], "")
    assert (move.picking_external_id, move.line.done_quantity) == ("", Decimal(0))


def test_many2one_pairs_give_id_and_display_name():
    picking = map_picking({**PICKING, "carrier_id": [3, "FedEx US"], "carrier_tracking_ref": "794644790132"})

    assert (picking.carrier, picking.tracking_numbers) == ("FedEx US", ["794644790132"])
    assert map_order({**SALE_ORDER, "partner_id": [7, False]}).customer == CustomerRecord(external_id="7", name="")


@pytest.mark.parametrize(
    ("display_name", "sku"),
    [
        ("[IPOD2008GREEN] IPod Nano - 8gb (green)", "IPOD2008GREEN"),
        ("[FURN_0096] Customizable Desk (Steel, White)", "FURN_0096"),
        ("[A-1] [B] nested brackets", "A-1"),
        ("Office Chair", "odoo-product-10"),
        ("[ ] Blank reference", "odoo-product-10"),
        ("", "odoo-product-10"),
    ],
)
def test_sku_is_parsed_from_the_product_display_name(display_name, sku):
    assert map_move({**MOVE, "product_id": [10, display_name]}).line.sku == sku


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("2025-04-02 16:30:05", utc(2025, 4, 2, 16, 30, 5)),
        ("2025-04-02", utc(2025, 4, 2)),
        (" 2025-04-02 16:30:05.250000 ", utc(2025, 4, 2, 16, 30, 5, 250000)),
        (False, None),
    ],
)
def test_odoo_datetimes_are_zone_less_utc_and_dates_midnight(value, parsed):
    assert parse_datetime(value, "sale.order.date_order") == parsed


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("draft", "placed"),
        ("sent", "placed"),
        ("sale", "in_erp"),
        ("done", "in_erp"),
        ("cancel", "cancelled"),
    ],
)
def test_order_status_table(state, status):
    assert map_order({**SALE_ORDER, "state": state}).status == status


@pytest.mark.parametrize(
    ("code", "state", "user", "tracking", "kind", "status"),
    [
        ("outgoing", "draft", False, False, "outgoing", "in_erp"),
        ("outgoing", "waiting", False, False, "outgoing", "in_erp"),
        ("outgoing", "confirmed", False, False, "outgoing", "in_erp"),
        ("outgoing", "confirmed", [6, "Marc Demo"], False, "outgoing", "assigned"),
        ("outgoing", "assigned", False, False, "outgoing", "in_erp"),
        ("outgoing", "assigned", [6, "Marc Demo"], False, "outgoing", "assigned"),
        (
            "outgoing",
            "done",
            [6, "Marc Demo"],
            "1Z001985YW99744790",
            "outgoing",
            "handed_to_carrier",
        ),
        ("outgoing", "done", False, False, "outgoing", "handed_to_carrier"),
        ("dropship", "done", False, False, "outgoing", "handed_to_carrier"),
        ("internal", "done", [6, "Marc Demo"], False, "internal", "picked"),
        ("internal", "assigned", [6, "Marc Demo"], False, "internal", "assigned"),
        ("incoming", "assigned", False, False, "incoming", "return_requested"),
        ("incoming", "done", False, False, "incoming", "returned"),
        ("outgoing", "cancel", [6, "Marc Demo"], False, "outgoing", "cancelled"),
        ("incoming", "cancel", False, False, "incoming", "cancelled"),
    ],
)
def test_picking_status_table(code, state, user, tracking, kind, status):
    picking = {
        **PICKING,
        "picking_type_code": code,
        "state": state,
        "user_id": user,
        "carrier_tracking_ref": tracking,
    }

    record = map_picking(picking)

    assert (record.kind, record.raw_status, record.status) == (kind, state, status)


def test_return_picking_names_its_sale_order_not_its_origin():
    picking = {**PICKING, "origin": "Return of DT/OUT/00012", "picking_type_code": "incoming"}

    assert map_picking(picking).order_reference == "S00042"


def test_each_package_of_a_multi_package_picking_is_a_tracking_number_of_its_own():
    """Odoo's carrier connectors (delivery_fedex, delivery_ups) write every package's number, comma-joined."""
    two = map_picking({**PICKING, "state": "done", "carrier_tracking_ref": "794608181111,794608182222"})
    assert two.tracking_numbers == ["794608181111", "794608182222"]

    six = ",".join(f"79460818{n:04d}" for n in range(6))  # 77 characters: more than one number may hold
    record = map_picking({**PICKING, "state": "done", "carrier_tracking_ref": six})
    assert (record.external_id, record.status, len(record.tracking_numbers)) == ("12", "handed_to_carrier", 6)
    assert record.tracking_numbers[-1] == "794608180005"


@pytest.mark.parametrize(
    ("mapper", "row", "reason"),
    [
        (map_order, {**SALE_ORDER, "partner_id": 7}, r"sale\.order\.partner_id must be a many2one \[id, name\] pair, got 7"),
        (map_order, {**SALE_ORDER, "warehouse_id": ["2", "Downtown"]}, r"sale\.order\.warehouse_id must be a many2one"),
        (map_order, {**SALE_ORDER, "currency_id": False}, r"sale\.order\.currency_id is missing"),
        (map_order, {**SALE_ORDER, "state": "locked"}, r"sale\.order\.state 'locked' is not one of cancel, done, draft, sale, sent"),
        (map_order, {**SALE_ORDER, "amount_total": "598.94"}, r"sale\.order\.amount_total must be a number, got str"),
        (map_order, {**SALE_ORDER, "date_order": "2025-04-02T16:30:05Z"}, r"sale\.order\.date_order is not an Odoo date-time 'YYYY-MM-DD HH:MM:SS'"),
        (map_order, {**SALE_ORDER, "date_order": "2025-13-02 16:30:05"}, r"sale\.order\.date_order is not an Odoo date-time"),
        (map_order, {**SALE_ORDER, "write_date": 1743611481}, r"sale\.order\.write_date must be an Odoo date-time string, got int"),
        (map_order, {**SALE_ORDER, "name": ["S00042"]}, r"sale\.order\.name must be a string, got list"),
        (map_order, {**SALE_ORDER, "id": False}, r"sale\.order\.id is missing or not an id: False"),
        (map_order, {k: v for k, v in SALE_ORDER.items() if k != "amount_total"}, r"sale\.order\.amount_total is missing"),
        (map_order, [SALE_ORDER], r"sale\.order must be a JSON object, got list"),
        (map_picking, {**PICKING, "picking_type_code": "mrp_operation"}, r"stock\.picking\.picking_type_code 'mrp_operation' is not one of"),
        (map_picking, {**PICKING, "state": False}, r"stock\.picking\.state '' is not one of"),
        (map_picking, {**PICKING, "user_id": [6]}, r"stock\.picking\.user_id must be a many2one"),
        (map_move, {**MOVE, "product_id": False}, r"stock\.move\.product_id is missing"),
        (map_move, {**MOVE, "picked": "yes"}, r"stock\.move\.picked must be a boolean, got str"),
        (map_move, {**MOVE, "product_uom_qty": [2.0]}, r"stock\.move\.product_uom_qty must be a number, got list"),
        (map_partner, {**PARTNER, "email": 42}, r"res\.partner\.email must be a string, got int"),
        (map_stock, {"id": 3, "product_id": PRODUCT, "location_id": [18, "DT/Stock"]}, r"stock\.quant\.quantity is missing"),
    ],
)  # fmt: skip
def test_malformed_rows_raise_naming_the_field(mapper, row, reason):
    with pytest.raises(MappingError, match=reason):
        mapper(row)
