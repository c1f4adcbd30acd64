"""OdooAdapter: mapping of search_read rows, both transports, keyset paging and Odoo's errors: the payloads and helpers its tests share."""

from __future__ import annotations

from integrations.adapters.odoo import OdooAdapter

from ..helpers import make_adapter

BASE = "https://erp.example.com"


KEY = "6578616d706c65206a736f6e20617069206b6579"


PRODUCT = [10, "[IPOD2008GREEN] IPod Nano - 8gb (green)"]


WAREHOUSE = {
    "id": 1,
    "name": "Central Warehouse",
    "code": "CW",
    "write_date": "2025-04-01 08:00:00",
}


PARTNER = {
    "id": 7, "name": "Bob Norman", "email": "bob.norman@mail.example.com",
    "phone": "+1 613-612-0707", "ref": "LY-00042", "customer_rank": 1,
    "write_date": "2025-04-02 16:29:59",
}  # fmt: skip


SALE_ORDER = {
    "id": 42, "name": "S00042", "client_order_ref": "#1001", "origin": "#1001",
    "partner_id": [7, "Bob Norman"], "state": "sale", "amount_total": 598.94,
    "currency_id": [1, "USD"], "date_order": "2025-04-02 16:30:05",
    "commitment_date": "2025-04-05 18:00:00", "write_date": "2025-04-02 16:31:21",
    "warehouse_id": [2, "Downtown"], "picking_ids": [12],
}  # fmt: skip


PICKING = {
    "id": 12, "name": "DT/OUT/00012", "origin": "S00042", "sale_id": [42, "S00042"],
    "user_id": [6, "Marc Demo"], "state": "assigned", "scheduled_date": "2025-04-03 09:00:00",
    "date_deadline": "2025-04-05 18:00:00", "date_done": False, "location_id": [18, "DT/Stock"],
    "location_dest_id": [5, "Partners/Customers"], "picking_type_code": "outgoing",
    "carrier_tracking_ref": False, "write_date": "2025-04-02 17:00:00",
}  # fmt: skip


MOVE = {
    "id": 31, "picking_id": [12, "DT/OUT/00012"], "product_id": PRODUCT,
    "product_uom_qty": 2.0, "quantity": 2.0, "picked": True, "state": "assigned",
    "write_date": "2025-04-02 17:05:00",
}  # fmt: skip


QUANT = {
    "id": 3, "product_id": PRODUCT, "location_id": [18, "DT/Stock"], "quantity": 4.0,
    "reserved_quantity": 1.0, "write_date": "2025-04-02 17:05:00",
}  # fmt: skip


def adapter_for(transport: str = "json2", **credentials: str) -> OdooAdapter:
    return make_adapter(OdooAdapter, BASE, api_key=KEY, transport=transport, **credentials)
