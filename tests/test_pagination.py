"""The admin's lists of big tables: counted by PostgreSQL's estimate when unfiltered (omnidesk/pagination.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from omnidesk import pagination
from omnidesk.pagination import EstimatedCountPaginator
from orders.models import Order, Pickup, TimelineEvent
from tests.factories import OrderFactory, supervisor

pytestmark = pytest.mark.django_db


def _analyse(*tables: str) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")  # noqa: S608 (model table names)


def _counted(queryset) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        count = EstimatedCountPaginator(queryset, 100).count
    return count, [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"]]


@pytest.fixture
def orders(monkeypatch):
    monkeypatch.setattr(pagination, "ESTIMATE_ABOVE", 2)  # a big table, as far as the paginator knows
    OrderFactory.create_batch(3, channel=Order.Channel.WEB)
    OrderFactory(channel=Order.Channel.STORE)
    _analyse("orders_order")


def test_a_whole_big_table_is_counted_by_the_estimate_without_reading_it(orders):
    assert _counted(Order.objects.all()) == (4, [])  # a table this small is estimated exactly


def test_a_filtered_list_is_counted_exactly(orders):
    count, counts = _counted(Order.objects.filter(channel=Order.Channel.WEB))

    assert (count, len(counts)) == (3, 1)


def test_a_table_smaller_than_the_bar_is_counted_exactly(orders, monkeypatch):
    monkeypatch.setattr(pagination, "ESTIMATE_ABOVE", 100_000)

    count, counts = _counted(Order.objects.all())

    assert (count, len(counts)) == (4, 1)


def test_a_table_without_an_estimate_is_counted_exactly(monkeypatch):
    monkeypatch.setattr(pagination, "ESTIMATE_ABOVE", 0)
    with connection.cursor() as cursor:  # never analysed (-1), or analysed empty (0)
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'orders_pickup'")
        assert cursor.fetchone()[0] <= 0

    assert _counted(Pickup.objects.order_by("pk")) == (0, ['SELECT COUNT(*) AS "__count" FROM "orders_pickup"'])


def test_the_timeline_admin_counts_its_partitions_by_their_estimates(client, monkeypatch):
    monkeypatch.setattr(pagination, "ESTIMATE_ABOVE", 2)
    order = OrderFactory()
    TimelineEvent.objects.bulk_create(
        TimelineEvent(key=f"e{i}", order=order, kind="note", occurred_at=timezone.now(), summary=f"event {i}")
        for i in range(5)
    )
    _analyse("orders_timelineevent")  # and each month's partition
    client.force_login(supervisor())

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("admin:orders_timelineevent_changelist"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "5 timeline events" in html and html.count("event ") >= 5
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"] and "timelineevent" in q["sql"]]
