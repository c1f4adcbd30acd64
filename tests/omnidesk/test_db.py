"""``field__any=[…]`` (omnidesk/db.py): one array parameter on PostgreSQL, the same rows as ``__in`` anywhere."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders():
    first, second = CustomerFactory(), CustomerFactory()
    return [
        OrderFactory(number="#A1", customer=first),
        OrderFactory(number="#A2", customer=first),
        OrderFactory(number="#B1", customer=second),
    ]


@pytest.mark.parametrize(
    ("lookup", "values", "expected"),
    [
        ("number__any", ["#A1", "#B1", "#ZZ"], ["#A1", "#B1"]),  # str keys of a text column, passed as they are
        ("number__any", ["#A2", None], ["#A2"]),  # None matches nothing, as in __in
        ("pk__any", "ids", ["#A1", "#A2", "#B1"]),  # int ids
        ("pk__any", "id texts", ["#A1", "#A2", "#B1"]),  # "12": prepared to the column's type, as __in does
        ("customer_id__any", "customer ids", ["#A1", "#A2"]),
    ],
)
def test_any_finds_what_in_finds(orders, lookup, values, expected):
    given = (
        {
            "ids": [o.pk for o in orders],
            "id texts": [str(o.pk) for o in orders],
            "customer ids": {orders[0].customer_id},
        }.get(values, values)
        if isinstance(values, str)
        else values
    )

    found = sorted(Order.objects.filter(**{lookup: given}).values_list("number", flat=True))

    assert found == expected
    assert found == sorted(
        Order.objects.filter(**{lookup.replace("__any", "__in"): given}).values_list("number", flat=True)
    )


def test_an_empty_list_finds_nothing_without_asking_the_database(orders):
    with CaptureQueriesContext(connection) as queries:
        assert list(Order.objects.filter(number__any=[])) == []
    assert len(queries) == 0


def test_on_postgresql_the_keys_are_one_array_parameter(orders, postgresql_only):
    with CaptureQueriesContext(connection) as queries:
        list(Order.objects.filter(number__any=["#A1", "#A2", "#A1"]))
    (query,) = queries.captured_queries
    assert '"orders_order"."number" = ANY(' in query["sql"]
    assert query["sql"].endswith(
        """"number" = ANY('{#A1,#A2}') ORDER BY "orders_order"."placed_at" DESC, "orders_order"."id" DESC"""
    )  # duplicates sent once
