"""The sync engine against an in-memory adapter: idempotence, dead letters, resume, locking, failures."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from psycopg.errors import DeadlockDetected

from integrations import sync
from integrations.adapters import Adapter, Page
from integrations.http import TransportError
from integrations.locks import landing_lock, source_lock
from integrations.models import DeadLetter, RawRecord, SyncRun
from integrations.records import MappingError, UpstreamOrder
from integrations.sync import source_sync
from orders.models import Customer, Order, OrderLine, OrderRecord, Payment, TimelineEvent
from tests.factories import SourceFactory


def order_payload(n: int, status: str = "paid", **extra) -> dict:
    return {
        "id": str(n),
        "name": f"#{1000 + n}",
        "status": status,
        "email": f"Person{n % 3}@Example.com",
        "placed_at": "2026-11-01T10:00:00+00:00",
        "updated_at": f"2026-11-01T10:{n:02d}:00+00:00",
        "lines": [{"id": f"{n}-1", "sku": "SKU-1", "qty": 2, "price": "9.50"}],
        "payments": [{"id": f"{n}-p", "amount": "19.00"}],
        **extra,
    }


class FakeAdapter(Adapter):
    """Pages of dict payloads; the cursor is the index of the next page."""

    name = "fake"
    kind = "storefront"
    streams = ("orders",)

    def __init__(self, pages, fail_on_page: int | None = None):
        super().__init__(base_url="http://fake.invalid", credentials={})
        self.pages = pages
        self.fail_on_page = fail_on_page
        self.fetches = 0

    def fetch(self, stream, cursor):
        index = cursor.get("page", 0)
        self.fetches += 1
        if self.fail_on_page == index:
            raise TransportError("GET /orders answered HTTP 503", permanent=False, status=503)
        more = index + 1 < len(self.pages)
        return Page(items=self.pages[index], cursor={"page": index + 1 if more else index}, has_more=more)

    def external_id(self, stream, payload):
        return str(payload.get("id", ""))

    def map(self, stream, payload):
        if "broken" in payload:
            raise MappingError(f"line_items is not a list: {payload['broken']!r}")
        return UpstreamOrder(
            external_id=payload["id"],
            number=payload["name"],
            status=payload["status"],
            email=payload["email"],
            placed_at=payload["placed_at"],
            updated_at=payload["updated_at"],
            total=Decimal("19.00"),
            lines=[
                {
                    "external_id": li["id"],
                    "sku": li["sku"],
                    "quantity": li["qty"],
                    "unit_price": li["price"],
                }
                for li in payload["lines"]
            ],
            payments=[{"external_id": p["id"], "kind": "capture", "amount": p["amount"]} for p in payload["payments"]],
        )


def counts() -> dict[str, int]:
    return {
        "orders": Order.objects.count(),
        "records": OrderRecord.objects.count(),
        "lines": OrderLine.objects.count(),
        "payments": Payment.objects.count(),
        "customers": Customer.objects.count(),
        "events": TimelineEvent.objects.count(),
    }


@pytest.fixture
def source(db):
    return SourceFactory(name="fake")


def test_first_sync_lands_every_record_with_its_events(source):
    pages = [[order_payload(1), order_payload(2)], [order_payload(3, status="placed")]]

    run = source_sync(source_id=source.pk, adapter=FakeAdapter(pages))

    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.pages, run.fetched, run.created, run.updated, run.unchanged, run.dead_lettered) == (
        2,
        3,
        3,
        0,
        0,
        0,
    )
    # 3 customers' e-mails normalise to person0/1/2@example.com; order 3 is only 'placed' (no status event)
    assert counts() == {
        "orders": 3,
        "records": 3,
        "lines": 3,
        "payments": 3,
        "customers": 3,
        "events": 3 + 2 + 3,
    }
    source.refresh_from_db()
    assert source.cursor == {"orders": {"page": 1}}
    assert source.last_success_at is not None and source.consecutive_failures == 0
    order = Order.objects.get(number="#1001")
    assert order.customer.email == "person1@example.com"
    assert list(order.events.values_list("kind", flat=True)) == [
        "order_placed",
        "status_changed",
        "payment",
    ]


def test_second_sync_of_the_same_data_changes_nothing(source):
    pages = [[order_payload(1), order_payload(2)], [order_payload(3)]]
    source_sync(source_id=source.pk, adapter=FakeAdapter(pages))
    before = counts()
    source.cursor = {}
    source.save()

    run = source_sync(source_id=source.pk, adapter=FakeAdapter(pages))

    assert (run.created, run.updated, run.unchanged) == (0, 0, 3)
    assert counts() == before


def test_a_status_change_writes_exactly_one_event(source):
    source_sync(source_id=source.pk, adapter=FakeAdapter([[order_payload(1)]]))
    changed = order_payload(1, status="handed_to_carrier", updated_at="2026-11-02T08:00:00+00:00")
    source.cursor = {}
    source.save()

    run = source_sync(source_id=source.pk, adapter=FakeAdapter([[changed]]))
    source.cursor = {}
    source.save()
    source_sync(source_id=source.pk, adapter=FakeAdapter([[changed]]))

    assert (run.created, run.updated) == (0, 1)
    status_events = TimelineEvent.objects.filter(kind="status_changed").order_by("occurred_at")
    assert [(e.data["from"], e.data["to"]) for e in status_events] == [
        (None, "paid"),
        ("paid", "handed_to_carrier"),
    ]
    assert Order.objects.get().status == "handed_to_carrier"


def test_a_malformed_record_is_dead_lettered_while_the_rest_of_its_page_lands(source):
    bad = order_payload(2, broken="oops")
    run = source_sync(source_id=source.pk, adapter=FakeAdapter([[order_payload(1), bad, order_payload(3)]]))

    assert (run.created, run.dead_lettered) == (2, 1)
    assert sorted(Order.objects.values_list("number", flat=True)) == ["#1001", "#1003"]
    letter = DeadLetter.objects.get()
    assert (letter.stream, letter.external_id, letter.sync_run_id) == ("orders", "2", run.pk)
    assert letter.reason == "MappingError: line_items is not a list: 'oops'"
    assert letter.payload == bad
    assert letter.raw_record.data == bad

    # The same bad page again: still one open dead letter, not two.
    source.cursor = {}
    source.save()
    source_sync(source_id=source.pk, adapter=FakeAdapter([[order_payload(1), bad, order_payload(3)]]))
    assert DeadLetter.objects.filter(resolved_at__isnull=True).count() == 1

    # Fixed upstream: the next sync lands it and resolves the dead letter.
    fixed = order_payload(2, updated_at="2026-11-03T09:00:00+00:00")
    run = source_sync(source_id=source.pk, adapter=FakeAdapter([[fixed]]))
    assert run.created == 1
    assert Order.objects.filter(number="#1002").exists()
    assert DeadLetter.objects.get().resolved_at is not None


class FixedAdapter(FakeAdapter):
    """The adapter after the fix a dead letter waited for: a ``broken`` field no longer fails the record."""

    def map(self, stream, payload):
        return super().map(stream, {k: v for k, v in payload.items() if k != "broken"})


def test_a_replayed_dead_letter_lands_under_the_landing_lock_and_the_rules_see_it(
    source, monkeypatch, django_capture_on_commit_callbacks
):
    source_sync(source_id=source.pk, adapter=FakeAdapter([[order_payload(1), order_payload(2, broken="oops")]]))
    letter = DeadLetter.objects.get()
    locked, acted_on = [], []
    monkeypatch.setattr(sync, "landing_lock", lambda source_id: locked.append(source_id) or landing_lock(source_id))
    monkeypatch.setattr(sync, "PAGE_HOOKS", [lambda src, result: acted_on.append((src.pk, result.order_ids))])

    with django_capture_on_commit_callbacks() as on_commit:
        assert sync.dead_letter_replay(dead_letter=letter, adapter=FixedAdapter([])) is True
    assert acted_on == []  # not before the replay commits
    for callback in on_commit:
        callback()

    landed = Order.objects.get(number="#1002")
    letter.refresh_from_db()
    assert (letter.replay_count, letter.resolved_at is not None) == (1, True)
    assert locked == [source.pk]
    assert acted_on == [(source.pk, {landed.pk})]


def test_a_run_killed_mid_way_resumes_to_the_state_of_a_clean_sync(source, django_db_reset_sequences):
    pages = [[order_payload(n) for n in range(i * 3, i * 3 + 3)] for i in range(4)]
    adapter = FakeAdapter(pages)

    killed = source_sync(source_id=source.pk, adapter=adapter, max_pages=2)
    assert killed.pages == 2
    source.refresh_from_db()
    assert source.cursor == {"orders": {"page": 2}}
    resumed = source_sync(source_id=source.pk, adapter=FakeAdapter(pages))

    assert resumed.pages == 2
    assert resumed.created == 6
    assert counts()["orders"] == 12
    assert counts()["events"] == 12 * 3


def test_an_upstream_failure_marks_the_source_and_keeps_what_landed(source):
    pages = [[order_payload(1)], [order_payload(2)]]
    run = source_sync(source_id=source.pk, adapter=FakeAdapter(pages, fail_on_page=1))

    assert run.status == SyncRun.Status.FAILED
    assert run.error == "GET /orders answered HTTP 503"
    source.refresh_from_db()
    assert (source.consecutive_failures, source.health) == (1, "degraded")
    assert source.last_error == "GET /orders answered HTTP 503"
    assert Order.objects.count() == 1

    run = source_sync(source_id=source.pk, adapter=FakeAdapter(pages))
    source.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (source.consecutive_failures, source.health, Order.objects.count()) == (0, "ok", 2)


def test_raw_payloads_are_kept_once_by_content(source):
    pages = [[order_payload(1), order_payload(2)]]
    source_sync(source_id=source.pk, adapter=FakeAdapter(pages))
    source.cursor = {}
    source.save()
    source_sync(source_id=source.pk, adapter=FakeAdapter(pages))

    assert RawRecord.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_source_never_syncs_twice_at_once():
    source = SourceFactory(name="fake")
    result = {}

    with source_lock(source.pk) as held:
        assert held is not None

        def other_worker():
            result["run"] = source_sync(source_id=source.pk, adapter=FakeAdapter([[order_payload(1)]]))
            connection.close()

        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join()

    assert result["run"].status == SyncRun.Status.SKIPPED
    assert Order.objects.count() == 0
    run = source_sync(source_id=source.pk, adapter=FakeAdapter([[order_payload(1)]]))
    assert run.status == SyncRun.Status.SUCCEEDED


def deadlocked_once(monkeypatch) -> list[dict]:
    """``page_land`` aborted by PostgreSQL to break a deadlock on its first call, as it raises then; the keyword
    arguments of every call, in order."""
    real_page_land = sync.page_land
    calls = []

    def landing(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            try:
                raise DeadlockDetected("deadlock detected")
            except DeadlockDetected as cause:
                raise OperationalError("deadlock detected") from cause
        return real_page_land(**kwargs)

    monkeypatch.setattr(sync, "page_land", landing)
    monkeypatch.setattr(sync.time, "sleep", lambda seconds: None)
    return calls


def test_a_page_aborted_to_break_a_deadlock_is_landed_again(source, monkeypatch):
    calls = deadlocked_once(monkeypatch)

    run = source_sync(source_id=source.pk, adapter=FakeAdapter([[order_payload(1)]]))

    assert run.status == SyncRun.Status.SUCCEEDED
    assert [call["stream"] for call in calls] == ["orders", "orders"]
    assert Order.objects.count() == 1


class MapWatchingAdapter(FakeAdapter):
    """Records which thread mapped each payload, and signals once a payload of the second page is mapped."""

    def __init__(self, pages):
        super().__init__(pages)
        self.mapped: list[tuple[str, str]] = []  # (payload id, thread name)
        self.second_page_mapped = threading.Event()

    def map(self, stream, payload):
        self.mapped.append((payload["id"], threading.current_thread().name))
        if payload["id"] in {p["id"] for p in self.pages[1]}:
            self.second_page_mapped.set()
        return super().map(stream, payload)


def test_the_next_page_is_fetched_and_mapped_while_the_current_one_lands(source, monkeypatch):
    adapter = MapWatchingAdapter([[order_payload(1), order_payload(2)], [order_payload(3)], [order_payload(4)]])
    real_page_land = sync.page_land
    overlapped = []

    def landing(**kwargs):
        if not overlapped:  # the first page: hold its transaction open until the reader has mapped the second
            overlapped.append(adapter.second_page_mapped.wait(timeout=10))
        return real_page_land(**kwargs)

    monkeypatch.setattr(sync, "page_land", landing)

    run = source_sync(source_id=source.pk, adapter=adapter)

    assert overlapped == [True]
    assert (run.status, run.pages, run.created) == (SyncRun.Status.SUCCEEDED, 3, 4)
    assert [payload_id for payload_id, _ in adapter.mapped] == ["1", "2", "3", "4"]  # each payload mapped once
    assert {thread.rsplit("_", 1)[0] for _, thread in adapter.mapped} == {"fetch-fake"}


def test_a_page_landed_again_after_a_lost_race_is_not_mapped_again(source, monkeypatch):
    adapter = MapWatchingAdapter([[order_payload(1), order_payload(2, broken="oops")], [order_payload(3)]])
    calls = deadlocked_once(monkeypatch)

    run = source_sync(source_id=source.pk, adapter=adapter)

    assert calls[0]["page"] is calls[1]["page"]  # the same prepared page, landed again
    assert (run.status, run.pages, run.created, run.dead_lettered) == (SyncRun.Status.SUCCEEDED, 2, 2, 1)
    assert [payload_id for payload_id, _ in adapter.mapped] == ["1", "2", "3"]
    assert DeadLetter.objects.get().reason == "MappingError: line_items is not a list: 'oops'"


def test_a_prepared_page_keeps_each_payloads_text_hash_id_and_record_or_failure():
    bad = order_payload(2, broken="oops")
    page = sync.page_prepare(FakeAdapter([]), "orders", [order_payload(1), bad])

    assert page.texts == [sync.payload_json(order_payload(1)), sync.payload_json(bad)]
    assert page.hashes == [sync.payload_hash(order_payload(1)), sync.payload_hash(bad)]
    assert page.external_ids == ["1", "2"]
    assert [r.external_id for r in page.records] == ["1"]
    assert page.failures == [(bad, sync.payload_hash(bad), "MappingError: line_items is not a list: 'oops'")]
