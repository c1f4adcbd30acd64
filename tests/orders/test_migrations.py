"""Data migrations that rewrite what is already stored."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from integrations.models import Source
from orders.models import Customer, CustomerIdentity, StockLevel
from tests.factories import CustomerFactory, IdentityFactory, SourceFactory, StockFactory


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


def test_placeholder_keys_stop_being_keys_and_square_customers_are_read_again(db):
    square = SourceFactory(name="square", kind=Source.Kind.POS, adapter="square")
    shop = SourceFactory(name="shopify", kind=Source.Kind.STOREFRONT, adapter="shopify")
    Source.objects.filter(pk=square.pk).update(cursor={"customers": {"begin_time": "x"}, "orders": {"cursor": "o"}})
    Source.objects.filter(pk=shop.pk).update(cursor={"customers": {"since": 1}})
    walk_in = CustomerFactory(email="noemail@example.com", phone="+10000000000")
    ann = CustomerFactory(email="ann@example.com", phone="+12125554240")
    IdentityFactory(customer=walk_in, source=square, external_id="SQ1", email="noemail@example.com",
                    email_normalised="noemail@example.com", email_verified=True, phone="0000000000",
                    phone_e164="+10000000000", phone_verified=True)  # fmt: skip
    IdentityFactory(customer=ann, source=square, external_id="SQ2", email="Ann@Example.com",
                    email_normalised="ann@example.com", email_verified=True, phone="+1-212-555-4240",
                    phone_e164="+12125554240", phone_verified=True)  # fmt: skip

    import_module("orders.migrations.0027_identity_keys_recheck").recheck(apps, None)

    rows = CustomerIdentity.objects.order_by("external_id").values_list(
        "email", "email_normalised", "email_verified", "phone", "phone_e164", "phone_verified"
    )
    assert list(rows) == [
        ("noemail@example.com", "", False, "0000000000", "", False),  # what was written is kept
        ("Ann@Example.com", "ann@example.com", True, "+1-212-555-4240", "+12125554240", True),
    ]
    assert list(Customer.objects.order_by("pk").values_list("email", "phone")) == [
        ("", ""),
        ("ann@example.com", "+12125554240"),
    ]
    assert Source.objects.get(pk=square.pk).cursor == {"orders": {"cursor": "o"}}  # every profile read again
    assert Source.objects.get(pk=shop.pk).cursor == {"customers": {"since": 1}}


@pytest.mark.django_db(transaction=True)
def test_picking_packages_split_a_reference_and_join_it_again_when_rolled_back():
    before, after = [("orders", "0024_timeline_partitions")], [("orders", "0025_picking_packages")]

    def state(target):
        executor = MigrationExecutor(connection)
        executor.migrate(target)
        return executor.loader.project_state(target).apps

    try:
        old = state(before)
        odoo = old.get_model("integrations", "Source").objects.create(name="odoo", kind="erp", adapter="odoo")
        old.get_model("orders", "Picking").objects.create(
            source=odoo, external_id="p1", name="WH/OUT/1", kind="outgoing", status="handed_to_carrier",
            tracking_number="1Z1, 1Z2",
        )  # fmt: skip
        packages = state(after).get_model("orders", "PickingPackage").objects.order_by("id")
        assert list(packages.values_list("tracking_number", flat=True)) == ["1Z1", "1Z2"]

        rolled_back = state(before).get_model("orders", "Picking").objects.get(external_id="p1")
        assert rolled_back.tracking_number == "1Z1,1Z2"
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
