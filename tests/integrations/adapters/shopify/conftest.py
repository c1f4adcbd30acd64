"""ShopifyAdapter: mapping against Shopify's own sample payloads, fetching at the HTTP seam: the fixtures its tests share."""

from __future__ import annotations

import pytest

from integrations.adapters.shopify import ShopifyAdapter
from tests.vendor_fixtures import load

from ..helpers import make_adapter
from .support import (
    BASE,
    TOKEN,
)


@pytest.fixture
def vector() -> dict:
    return load("shopify", "webhook_orders_create_hmac_test_vector")


@pytest.fixture
def adapter(vector) -> ShopifyAdapter:
    """The REST transport: this module's fetching tests speak REST (test_shopify_graphql.py speaks GraphQL)."""
    return make_adapter(ShopifyAdapter, BASE, access_token=TOKEN, webhook_secret=vector["secret"], transport="rest")
