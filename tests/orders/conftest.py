"""Fixtures shared by the tests that land vendor-shaped payloads through the real mappers and ``orders.ingest``."""

from __future__ import annotations

import pytest

from tests.factories import SourceFactory


@pytest.fixture
def shop(db):
    return SourceFactory(name="shopify", kind="storefront", adapter="shopify")


@pytest.fixture
def erp(db):
    return SourceFactory(name="odoo", kind="erp", adapter="odoo")


@pytest.fixture
def carrier(db):
    return SourceFactory(name="easypost", kind="carrier", adapter="easypost")
