"""Data migrations that rewrite what is already stored."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps

from integrations.models import Source
from orders.models import StockLevel
from tests.factories import SourceFactory, StockFactory


def test_odoo_counts_kept_per_sku_are_dropped_and_their_stream_read_again(db):
    odoo = SourceFactory(name="odoo", kind=Source.Kind.ERP, adapter="odoo")
    square = SourceFactory(name="square", kind=Source.Kind.POS, adapter="square")
    Source.objects.filter(pk=odoo.pk).update(cursor={"stock": {"id": 9}, "orders": {"id": 4}})
    Source.objects.filter(pk=square.pk).update(cursor={"inventory": {"cursor": "x"}})
    StockFactory(source=odoo, external_id="2:LAMP-1")
    StockFactory(source=square, external_id="L1:LAMP-1")

    import_module("orders.migrations.0011_stock_per_quant").per_quant(apps, None)

    assert list(StockLevel.objects.values_list("source__name", "external_id")) == [("square", "L1:LAMP-1")]
    assert Source.objects.get(pk=odoo.pk).cursor == {"orders": {"id": 4}}  # stock: every quant again
    assert Source.objects.get(pk=square.pk).cursor == {"inventory": {"cursor": "x"}}
