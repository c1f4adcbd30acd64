"""Monthly partitions of the timeline and the raw payloads (issue 15): the migration, the upkeep, raw retention.

Each test runs in one transaction (rolled back): the migrations' functions are called
with a schema editor, as Django calls them. Foreign keys are checked at once
(``SET CONSTRAINTS ALL IMMEDIATE``): PostgreSQL refuses to alter a table with checks
still deferred, which in a real migration or upkeep run never happens (they start clean).
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import import_module

import pytest
from django.db import IntegrityError, connection, transaction

from integrations.models import DeadLetter, RawRecord, WebhookDelivery
from orders import partitions
from orders.models import TimelineEvent
from orders.timeline import events
from orders.timeline.selectors import order_timeline
from tests.factories import OrderFactory, SourceFactory

JAN, JUN, DEC = (datetime(2025, m, 10, 12, 0, tzinfo=UTC) for m in (1, 6, 12))
NOW = datetime(2026, 12, 7, 3, 17, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _postgresql(postgresql_only):
    """Partitions are PostgreSQL's (``postgresql_only``: skipped elsewhere locally, a failure in CI)."""


@pytest.fixture
def checked_now(db):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _where(table: str) -> dict[int, str]:
    """Each row's id -> the partition holding it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, tableoid::regclass::text FROM {table} ORDER BY id")  # noqa: S608
        return dict(cursor.fetchall())


def _partitioned(table: str) -> bool:
    return partitions.partitioned(table)


def _migrations():
    return (
        import_module("orders.migrations.0024_timeline_partitions"),
        import_module("integrations.migrations.0004_raw_record_partitions"),
    )


def _raw(source, external_id: str, at: datetime, digest: str | None = None) -> RawRecord:
    return RawRecord.objects.create(
        source=source,
        stream="orders",
        external_id=external_id,
        content_hash=digest or f"hash-{external_id}",
        payload=f'{{"id": "{external_id}"}}',
        first_seen_at=at,
    )


def _note(order, key: str, at: datetime) -> dict:
    return events.flag_action(key=key, kind="note", occurred_at=at, summary=key, order_id=order.pk, actor=None)


def test_the_migration_partitions_tables_holding_rows_of_several_months(checked_now):
    # Given both tables as they were before the migration, with rows of three months
    timeline, raw = _migrations()
    with connection.schema_editor() as editor:
        timeline.unpartition(None, editor)
        raw.unpartition(None, editor)
    assert not _partitioned("orders_timelineevent") and not _partitioned("integrations_rawrecord")
    source = SourceFactory(name="shop")
    order = OrderFactory(number="#1001")
    written = [_note(order, "jun", JUN), _note(order, "dec", DEC), _note(order, "jan", JAN)]
    assert events.events_write(written) == 3
    letter_raw = _raw(source, "1", JAN)
    later_raw = _raw(source, "2", JUN)
    DeadLetter.objects.create(source=source, stream="orders", external_id="1", reason="bad", raw_record=letter_raw)
    ids = dict(TimelineEvent.objects.values_list("key", "id"))

    # When the migrations run forwards
    with connection.schema_editor() as editor:
        timeline.partition(None, editor)
        raw.partition(None, editor)

    # Then each row is in its month's partition with its id, and the order pane reads them in time order
    assert _partitioned("orders_timelineevent") and _partitioned("integrations_rawrecord")
    assert _where("orders_timelineevent") == {
        ids["jun"]: "orders_timelineevent_p202506",
        ids["dec"]: "orders_timelineevent_p202512",
        ids["jan"]: "orders_timelineevent_p202501",
    }
    assert _where("integrations_rawrecord") == {
        letter_raw.pk: "integrations_rawrecord_p202501",
        later_raw.pk: "integrations_rawrecord_p202506",
    }
    assert [(e.key, e.occurred_at) for e in order_timeline(order_id=order.pk)] == [
        ("jan", JAN),
        ("jun", JUN),
        ("dec", DEC),
    ]
    assert DeadLetter.objects.get().raw_record == letter_raw
    # a re-sync of the same events writes nothing; a new event gets a later id
    assert events.events_write([_note(order, "jan", JAN), _note(order, "dec", DEC)]) == 0
    assert TimelineEvent.objects.count() == 3
    assert events.events_write([_note(order, "new", DEC)]) == 1
    assert TimelineEvent.objects.get(key="new").pk > max(
        ids.values()
    )  # (skipped duplicates use ids up, as ON CONFLICT did)
    # the same payload again: the same unique violation as before, and get_or_create finds the stored one
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw(source, "1", NOW)
    found, created = RawRecord.objects.get_or_create(source=source, content_hash="hash-1")
    assert (found.pk, created) == (letter_raw.pk, False)
    assert _raw(source, "3", NOW).pk == later_raw.pk + 2  # the failed insert used one id up


def test_an_event_whose_key_is_written_keeps_its_first_time_even_when_its_time_moved(checked_now):
    order = OrderFactory(number="#1002")
    assert events.events_write([_note(order, "placed", JAN)]) == 1

    assert events.events_write([_note(order, "placed", DEC)]) == 0  # the storefront corrected the time: not twice

    assert list(TimelineEvent.objects.values_list("key", "occurred_at")) == [("placed", JAN)]


def test_deleting_an_event_frees_its_key_and_truncating_empties_the_key_table(checked_now):
    order = OrderFactory(number="#1003")
    events.events_write([_note(order, "a", JAN), _note(order, "b", JUN)])

    TimelineEvent.objects.filter(key="a").delete()
    assert events.events_write([_note(order, "a", DEC)]) == 1
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE orders_timelineevent")
        cursor.execute("SELECT count(*) FROM orders_timelineevent_key")
        assert cursor.fetchone() == (0,)
    assert events.events_write([_note(order, "a", DEC), _note(order, "b", JUN)]) == 2
    # a TRUNCATE that names the key table too (a reset emptying every table at once) works the same
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE orders_timelineevent, orders_timelineevent_key, integrations_rawrecord_content")
        cursor.execute("SELECT count(*) FROM orders_timelineevent_key")
        assert cursor.fetchone() == (0,)
    assert events.events_write([_note(order, "b", JUN)]) == 1


def test_upkeep_makes_the_coming_months_and_a_second_run_does_nothing(checked_now):
    first = partitions.partitions_upkeep(now=datetime(2027, 5, 20, tzinfo=UTC))
    second = partitions.partitions_upkeep(now=datetime(2027, 5, 20, tzinfo=UTC))

    made = [f"p2027{m:02d}" for m in (5, 6, 7, 8)]
    assert first == {
        "orders_timelineevent": [f"orders_timelineevent_{p}" for p in made],
        "integrations_rawrecord": [f"integrations_rawrecord_{p}" for p in made],
        "dropped": [],
    }
    assert second == {"orders_timelineevent": [], "integrations_rawrecord": [], "dropped": []}
    assert list(partitions.month_partitions("orders_timelineevent"))[-1] == datetime(2027, 8, 1, tzinfo=UTC)


def test_a_row_of_a_month_without_partition_lands_in_default_and_upkeep_moves_it_out(checked_now):
    order = OrderFactory(number="#1004")
    old = datetime(2019, 3, 5, 8, 30, tzinfo=UTC)
    events.events_write([_note(order, "old", old)])
    event = TimelineEvent.objects.get(key="old")
    assert _where("orders_timelineevent") == {event.pk: "orders_timelineevent_default"}

    done = partitions.partitions_upkeep(now=NOW)

    assert done["orders_timelineevent"] == ["orders_timelineevent_p201903"]
    assert _where("orders_timelineevent") == {event.pk: "orders_timelineevent_p201903"}
    assert events.events_write([_note(order, "old", old)]) == 0  # its key moved with it
    assert [e.pk for e in order_timeline(order_id=order.pk)] == [event.pk]


def test_retention_drops_old_raw_months_but_keeps_what_open_letters_and_waiting_webhooks_need(checked_now, settings):
    # Given raw payloads of January and February 2024 (beyond 13 months on 7 Dec 2026) and of this month
    settings.OMNIDESK_RAW_RETENTION_MONTHS = 13
    source = SourceFactory(name="shop")
    jan, feb = datetime(2024, 1, 15, tzinfo=UTC), datetime(2024, 2, 15, tzinfo=UTC)
    for_open, for_resolved = _raw(source, "a", jan), _raw(source, "b", jan)
    _raw(source, "c", jan)  # needed by nothing
    for_waiting, for_done = _raw(source, "d", feb), _raw(source, "e", feb)
    recent = _raw(source, "f", NOW)
    open_letter = DeadLetter.objects.create(source=source, stream="orders", reason="x", raw_record=for_open)
    resolved = DeadLetter.objects.create(source=source, stream="orders", reason="y", raw_record=for_resolved)
    DeadLetter.objects.filter(pk=resolved.pk).update(resolved_at=NOW)
    waiting = WebhookDelivery.objects.create(source=source, event_id="1", topic="t", raw_record=for_waiting)
    done = WebhookDelivery.objects.create(source=source, event_id="2", topic="t", raw_record=for_done, processed_at=NOW)

    # When the nightly upkeep runs
    result = partitions.partitions_upkeep(now=NOW)

    # Then only the payloads still needed are left of those months, in their months' partitions
    assert result["dropped"] == ["integrations_rawrecord_p202401", "integrations_rawrecord_p202402"]
    assert _where("integrations_rawrecord") == {
        for_open.pk: "integrations_rawrecord_p202401",
        for_waiting.pk: "integrations_rawrecord_p202402",
        recent.pk: "integrations_rawrecord_p202612",
    }
    assert DeadLetter.objects.get(pk=open_letter.pk).raw_record_id == for_open.pk
    assert DeadLetter.objects.get(pk=resolved.pk).raw_record_id is None
    assert WebhookDelivery.objects.get(pk=waiting.pk).raw_record_id == for_waiting.pk
    assert WebhookDelivery.objects.get(pk=done.pk).raw_record_id is None
    assert _raw(source, "c", NOW).content_hash == "hash-c"  # a dropped payload seen again is stored again
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw(source, "a", NOW)  # a kept one is still known

    # And once the letter is resolved and the delivery processed, the next night drops those months
    assert partitions.partitions_upkeep(now=NOW)["dropped"] == []
    DeadLetter.objects.filter(pk=open_letter.pk).update(resolved_at=NOW)
    WebhookDelivery.objects.filter(pk=waiting.pk).update(processed_at=NOW)
    assert partitions.partitions_upkeep(now=NOW)["dropped"] == [
        "integrations_rawrecord_p202401",
        "integrations_rawrecord_p202402",
    ]
    assert sorted(RawRecord.objects.values_list("external_id", flat=True)) == ["c", "f"]
    assert list(partitions.month_partitions("integrations_rawrecord"))[0] == datetime(2026, 12, 1, tzinfo=UTC)


def test_the_timeline_is_never_dropped_by_retention(checked_now, settings):
    settings.OMNIDESK_RAW_RETENTION_MONTHS = 1
    order = OrderFactory(number="#1005")
    events.events_write([_note(order, "ancient", datetime(2015, 1, 1, tzinfo=UTC))])

    partitions.partitions_upkeep(now=NOW)

    assert list(TimelineEvent.objects.values_list("key", flat=True)) == ["ancient"]


def _scans(plan: dict) -> dict[str, set[str]]:
    """Each relation an EXPLAIN (FORMAT JSON) plan reads, with the indexes it reads it through.

    An index scan names its index itself; a bitmap heap scan's index is named by the bitmap index scans
    under it; a sequential scan has none (an empty set).
    """
    found: dict[str, set[str]] = {}
    if "Relation Name" in plan:
        found[plan["Relation Name"]] = {plan["Index Name"]} if "Index Name" in plan else _bitmap_indexes(plan)
    for child in plan.get("Plans", []):
        if "Relation Name" in plan and child["Node Type"].startswith("Bitmap"):
            continue  # read above, with its heap scan
        for relation, indexes in _scans(child).items():
            found.setdefault(relation, set()).update(indexes)
    return found


def _bitmap_indexes(plan: dict) -> set[str]:
    """The indexes of the bitmap index scans (under any BitmapAnd/BitmapOr) beneath a bitmap heap scan."""
    indexes = set()
    for child in plan.get("Plans", []):
        if child["Node Type"] == "Bitmap Index Scan":
            indexes.add(child["Index Name"])
        elif child["Node Type"] in ("BitmapAnd", "BitmapOr"):
            indexes |= _bitmap_indexes(child)
    return indexes


@pytest.mark.parametrize("other_path", ["enable_indexscan", "enable_bitmapscan"], ids=["bitmap scan", "index scan"])
def test_is_this_payload_stored_reads_an_index_on_every_partition(checked_now, other_path):
    # Given raw payloads in two months (the sync asks this of every page, a webhook of every event)
    source = SourceFactory(name="shop")
    _raw(source, "1", JAN)
    _raw(source, "2", NOW)
    lookup = RawRecord.objects.filter(source=source, content_hash__any=["hash-1", "hash-9"]).values_list(
        "content_hash", flat=True
    )
    sql, params = lookup.query.sql_with_params()

    # When PostgreSQL plans it as if the table were large (a sequential scan is a last resort)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"SET LOCAL {other_path} = off")  # (each of the two ways through an index, in turn)
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0][0]["Plan"]

    # Then every partition is searched through its (source, content hash) index, not read for the source and filtered
    scans = _scans(plan)
    assert set(scans) >= {
        "integrations_rawrecord_default",  # (January 2025 has no month partition of its own)
        "integrations_rawrecord_p202612",
    }
    assert {relation: {index.removeprefix(relation) for index in indexes} for relation, indexes in scans.items()} == {
        relation: {"_source_id_content_hash_idx"} for relation in scans
    }
    assert sorted(lookup) == ["hash-1"]
