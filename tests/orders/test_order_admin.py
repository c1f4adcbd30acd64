"""The supervisor's read-only order and stock screens show quantities as the desk does: no column padding."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import LineFactory, OrderFactory, SourceFactory, StockFactory, supervisor

pytestmark = pytest.mark.django_db


def cells(html: str, field: str) -> list[str]:
    """The text of each ``<td class="field-<field>">`` of the page, in order."""
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(rf'<td class="field-{field}[^"]*">(.*?)</td>', html, re.S)
    ]


def test_the_order_line_inline_shows_a_quantity_normalised_with_its_unit(client):
    client.force_login(supervisor())
    order = OrderFactory()
    square = SourceFactory(name="square")
    LineFactory(order=order, source=square, sku="MUG-1", quantity=2)
    LineFactory(order=order, source=square, sku="ROPE-1", quantity=Decimal("2.5"), unit="m")
    LineFactory(order=order, source=square, sku="FLOUR-1", quantity=Decimal("1.000"), unit="kg")
    LineFactory(order=order, source=square, sku="CHEESE-1", quantity=Decimal("0.250"))

    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert cells(html, "sku") == ["MUG-1", "ROPE-1", "FLOUR-1", "CHEESE-1"]
    assert cells(html, "amount") == ["2", "2.5 m", "1 kg", "0.25"]
    assert "2.500" not in html


def test_the_stock_list_shows_a_count_by_measure_without_trailing_zeros(client):
    client.force_login(supervisor())
    StockFactory(sku="LAMP-1", on_hand=12)
    StockFactory(sku="ROPE-1", on_hand=Decimal("12.5"))

    page = client.get(reverse("admin:orders_stocklevel_changelist"))

    assert page.status_code == 200
    html = page.content.decode()
    assert dict(
        zip(re.findall(r'<th class="field-sku">.*?>(\w+-1)<', html), cells(html, "on_hand_shown"), strict=True)
    ) == {
        "LAMP-1": "12",
        "ROPE-1": "12.5",
    }
