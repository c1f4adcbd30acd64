"""One rule for an order's lines (orders/catalogue/lines.py): the pane, the counter and the messages agree."""

from __future__ import annotations

import pytest

from orders.catalogue.lines import order_lines
from orders.desk.selectors import order_pane
from orders.flags.messaging import message_context
from tests.factories import LineFactory, OrderFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def systems():
    return (
        SourceFactory(name="shopify", kind="storefront", adapter="shopify"),
        SourceFactory(name="square", kind="pos", adapter="square"),
        SourceFactory(name="odoo", kind="erp", adapter="odoo"),
    )


def test_the_origins_lines_when_it_lists_any(systems):
    shop, pos, erp = systems
    order = OrderFactory(origin_source=shop)
    for source, sku in ((erp, "ERP-1"), (shop, "WEB-1"), (pos, "POS-1"), (shop, "WEB-2"), (erp, "ERP-2")):
        LineFactory(order=order, source=source, sku=sku)

    assert [line.sku for line in order_lines(order)] == ["WEB-1", "WEB-2"]
    assert [view.line.sku for view in order_pane(order)["lines"]] == ["WEB-1", "WEB-2"]


def test_else_the_most_authoritative_system_not_the_one_listing_most(systems):
    """The POS outranks the ERP even when the ERP lists more lines (the counter used to take the longest list)."""
    shop, pos, erp = systems
    order = OrderFactory(origin_source=shop)
    for source, sku in ((erp, "ERP-1"), (erp, "ERP-2"), (erp, "ERP-3"), (pos, "POS-1"), (pos, "POS-2")):
        LineFactory(order=order, source=source, sku=sku, quantity=1)

    assert [line.sku for line in order_lines(order)] == ["POS-1", "POS-2"]
    assert [view.line.sku for view in order_pane(order)["lines"]] == ["POS-1", "POS-2"]
    assert message_context(order)["items"] == "2 items"
