"""Payloads shaped as the vendors send them, for tests that drive the real mappers through ``orders.ingest``.

EasyPost trackers start from EasyPost's own recorded Tracker; Odoo rows carry every field the
adapter asks ``search_read`` for (Odoo 17 shapes); Shopify orders start from Shopify's reference
examples (``tests/fixtures/vendor/``, attribution in its README).
"""

from __future__ import annotations

import copy
from datetime import datetime

from integrations.adapters.odoo_mapping import WAREHOUSE_KEY
from tests.vendor_fixtures import load


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def odoo(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def tracker(tracker_id, code, status, details, *, est=None, detail="", carrier="UPS") -> dict:
    """EasyPost's recorded Tracker (tests/cassettes/test_tracker_create.yaml) with this parcel's facts;
    ``details`` are ``(at, status, status_detail, message)`` scans."""
    payload = copy.deepcopy(load("carriers", "easypost_tracker_create_response"))
    template = payload["tracking_details"][-1]
    payload.update(
        id=tracker_id,
        tracking_code=code,
        carrier=carrier,
        status=status,
        status_detail=detail,
        est_delivery_date=z(est) if est else None,
        updated_at=z(max(at for at, *_ in details)) if details else payload["updated_at"],
        tracking_details=[
            {**copy.deepcopy(template), "status": s, "status_detail": d, "message": m, "datetime": z(at)}
            for at, s, d, m in details
        ],
    )
    return payload


def picking(pid, name, state, *, scheduled: datetime, written: datetime, sale=(42, "S00042"), code="outgoing",
            tracking=False, done=False, origin="S00042", user=False, backorder=False) -> dict:  # fmt: skip
    """A ``stock.picking`` search_read row."""
    return {
        "id": pid, "name": name, "origin": origin, "sale_id": list(sale) if sale else False,
        "user_id": user, "state": state, "scheduled_date": odoo(scheduled), "date_deadline": False,
        "date_done": odoo(done) if done else False, "location_id": [8, "WH/Stock"],
        "location_dest_id": [5, "Partners/Customers"], "picking_type_code": code,
        "carrier_tracking_ref": tracking, "write_date": odoo(written), "backorder_id": backorder,
        WAREHOUSE_KEY: [1, "Warehouse"],
    }  # fmt: skip


def move(mid, picking_id, picking_name, sku, qty, *, written: datetime, done=0.0, state="assigned") -> dict:
    """A ``stock.move`` search_read row of the picking ``picking_id``."""
    return {
        "id": mid, "picking_id": [picking_id, picking_name], "product_id": [9, f"[{sku}] {sku.title()}"],
        "product_uom_qty": qty, "quantity": done, "picked": False, "state": state, "write_date": odoo(written),
    }  # fmt: skip


def shopify_order(name: str = "order_tagged_fulfilled_refunded") -> dict:
    """Shopify's reference order ``name`` (the bare order object)."""
    return load("shopify", name)["order"]


def shopify_paid_order(**changes) -> dict:
    """The sample order reduced to one live line (the red iPod), paid in full by one sale, nothing shipped."""
    order = shopify_order()
    red = next(item for item in order["line_items"] if item["sku"] == "IPOD2008RED")
    order.update(
        {
            "line_items": [red],
            "fulfillments": [],
            "refunds": [],
            "financial_status": "paid",
            "fulfillment_status": None,
            "total_price": "199.00",
            "current_total_price": "199.00",
            "transactions": [
                {"id": 9001, "kind": "sale", "status": "success", "amount": "199.00", "currency": "USD",
                 "gateway": "bogus", "processed_at": "2025-04-02T11:00:00-05:00"}
            ],
        }
    )  # fmt: skip
    order.update(changes)
    return order
