"""``PlannerStats`` (omnidesk/db.py): a sync run's tables are analysed by what the run wrote, not by their size."""

from __future__ import annotations

import pytest
from django.db import connection

from omnidesk.db import PlannerStats

pytestmark = pytest.mark.django_db(transaction=True)  # the server counts a table's writes once they commit


@pytest.fixture
def probe(postgresql_only):
    """A table already holding 50,000 rows of 'another source', and a partitioned one (one partition)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE stats_probe (source_id int, n int)")
        cursor.execute("INSERT INTO stats_probe SELECT 1, g FROM generate_series(1, 50000) g")
        cursor.execute("ANALYZE stats_probe")
        cursor.execute("CREATE TABLE stats_probe_parted (n int) PARTITION BY RANGE (n)")
        cursor.execute(
            "CREATE TABLE stats_probe_parted_1 PARTITION OF stats_probe_parted FOR VALUES FROM (0) TO (10000000)"
        )
    _flushed()
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE stats_probe, stats_probe_parted")


def _flushed() -> None:
    """Have this session's pending write counts reach the server's statistics now, not within the second."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _write(table: str, rows: int) -> None:
    with connection.cursor() as cursor:
        column = "source_id, n" if table == "stats_probe" else "n"
        values = "2, g" if table == "stats_probe" else "g"
        cursor.execute(f"INSERT INTO {table} ({column}) SELECT {values} FROM generate_series(1, %s) g", [rows])  # noqa: S608
    _flushed()


def _source_estimate() -> int:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) SELECT * FROM stats_probe WHERE source_id = 2")
        return cursor.fetchone()[0][0]["Plan"]["Plan Rows"]


def test_a_table_is_analysed_by_the_runs_own_rows_then_each_time_they_grew_four_times(probe):
    stats = PlannerStats(["stats_probe", "stats_probe_parted"])

    _write("stats_probe", 999)
    assert stats.refresh(force=True) == []  # 999 of the run's rows: not yet, whatever the table's 50,000

    _write("stats_probe", 1)
    assert stats.refresh(force=True) == ["stats_probe"]
    assert 500 <= _source_estimate() <= 2000  # the planner now knows the source's 1,000 rows (a sample's guess)

    _write("stats_probe", 2999)
    assert stats.refresh(force=True) == []
    _write("stats_probe", 1)
    assert stats.refresh(force=True) == ["stats_probe"]  # 4,000 written: four times the 1,000 analysed
    assert 2000 <= _source_estimate() <= 8000


def test_a_partitioned_table_is_analysed_by_its_partitions(probe):
    stats = PlannerStats(["stats_probe_parted"])

    _write("stats_probe_parted", 1500)

    assert stats.refresh(force=True) == ["stats_probe_parted_1"]
    assert stats.refresh(force=True) == []  # checked again at once: nothing new


def test_checks_wait_a_few_seconds_between_them(probe):
    stats = PlannerStats(["stats_probe"])
    assert stats.refresh() == []  # the first check, at once: nothing written yet
    _write("stats_probe", 5000)

    assert stats.refresh() == []  # within seconds of the last check: not looked at
    assert stats.refresh(force=True) == ["stats_probe"]
