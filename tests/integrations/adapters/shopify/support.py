"""ShopifyAdapter: mapping against Shopify's own sample payloads, fetching at the HTTP seam: the payloads and helpers its tests share."""

from __future__ import annotations

from decimal import Decimal

from integrations.records import (
    LineRecord,
)
from tests.vendor_fixtures import load

BASE = "https://shop.example.com/admin/api/2025-07"


TOKEN = "shpat_test"


def order_fixture(name: str = "order_tagged_fulfilled_refunded") -> dict:
    return load("shopify", name)["order"]


def ups_fulfilment() -> dict:
    return load("shopify", "fulfillment_update_tracking_ups")["fulfillment"]


def ipod_line(line_id: str, sku: str, name: str) -> LineRecord:
    """A line of the sample order: one iPod Nano at 199.00."""
    return LineRecord(external_id=line_id, sku=sku, name=name, quantity=1, unit_price=Decimal("199.00"))
