"""The flag engine: opening once, refreshing, closing, when it runs, two workers at once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine

from integrations.models import Source
from integrations.sync import PAGE_HOOKS, RUN_HOOKS
from orders.flags.detection import DEFAULT_THRESHOLDS, detect, detect_after_run
from orders.flags.rules import FIRST_SYNC_ATTEMPTS, RULES
from orders.flags.store import flag_close, flag_open, flags_close, flags_open
from orders.ingest import IngestResult
from orders.models import (
    DetectionRule,
    Flag,
    Lifecycle,
    Payment,
    TimelineEvent,
)
from orders.tasks import detect_after_page_queued, detect_flags
from tests.concurrency import racing
from tests.factories import (
    OrderFactory,
    SourceFactory,
)

from .support import (
    NOW,
    SECOND,
    in_erp,
    open_flags,
    store_sale,
    web_order,
)


# -- the flag engine -------------------------------------------------------------------------
def test_a_flag_opens_once_closes_once_and_keeps_its_history(systems):
    order = web_order(systems, placed_ago=timedelta(hours=1))

    first = detect(order_ids=[order.pk], now=NOW)
    again = detect(order_ids=[order.pk], now=NOW + timedelta(minutes=5))
    assert (first.opened, again.opened, again.still_open) == (1, 0, 1)
    assert open_flags(order) == ["phantom_order"]

    in_erp(systems, order, assigned_to="Ann", status=Lifecycle.ASSIGNED)
    cleared = detect(order_ids=[order.pk], now=NOW + timedelta(minutes=10))
    assert (cleared.opened, cleared.closed) == (0, 1)
    assert detect(order_ids=[order.pk], now=NOW + timedelta(minutes=15)).closed == 0

    flag = Flag.objects.get(order=order)
    assert flag.closed_at == NOW + timedelta(minutes=10)
    kinds = list(TimelineEvent.objects.filter(order=order).order_by("occurred_at").values_list("kind", "summary"))
    assert kinds == [
        (TimelineEvent.Kind.FLAG_OPENED, f"Phantom order: {flag.detail}"),
        (TimelineEvent.Kind.FLAG_CLOSED, "Phantom order closed: the condition cleared"),
    ]


def test_a_condition_that_returns_opens_a_new_flag_beside_the_closed_one(systems):
    order = store_sale(systems, paid="40.00")
    detect(order_ids=[order.pk], now=NOW)
    Payment.objects.filter(order=order).update(amount=Decimal("50.00"))
    detect(order_ids=[order.pk], now=NOW + timedelta(minutes=1))
    Payment.objects.filter(order=order).update(amount=Decimal("45.00"))

    assert detect(order_ids=[order.pk], now=NOW + timedelta(minutes=2)).opened == 1
    assert Flag.objects.filter(order=order).count() == 2
    assert open_flags(order) == ["payment_mismatch"]


def test_new_facts_refresh_the_open_flag_without_reopening_it(systems):
    order = store_sale(systems, paid="40.00")
    detect(order_ids=[order.pk], now=NOW)
    Payment.objects.filter(order=order).update(amount=Decimal("45.00"))

    result = detect(order_ids=[order.pk], now=NOW + timedelta(minutes=1))

    assert (result.opened, result.updated, result.still_open) == (0, 1, 1)
    assert Flag.objects.get(order=order).evidence["captured"] == "45.00"
    assert TimelineEvent.objects.filter(order=order, kind=TimelineEvent.Kind.FLAG_OPENED).count() == 1


def test_the_supervisors_threshold_and_switch_are_obeyed(systems):
    order = web_order(systems, placed_ago=timedelta(minutes=20))
    assert detect(order_ids=[order.pk], now=NOW).opened == 0

    DetectionRule.objects.filter(code="phantom_order").update(threshold=timedelta(minutes=15))
    assert detect(order_ids=[order.pk], now=NOW).opened == 1

    DetectionRule.objects.filter(code="phantom_order").update(enabled=False)
    assert detect(order_ids=[order.pk], now=NOW).closed == 1
    assert open_flags(order) == []


def test_the_migration_seeds_every_rule_with_the_documented_defaults(db):
    stored = dict(DetectionRule.objects.values_list("code", "threshold"))
    assert set(stored) == set(RULES)
    assert {code: t for code, t in stored.items() if t} == DEFAULT_THRESHOLDS


def test_detection_scoped_to_some_orders_leaves_the_others_flags_alone(systems):
    mine, other = store_sale(systems, paid="1.00"), store_sale(systems, paid="2.00")
    detect(now=NOW)
    Payment.objects.update(amount=Decimal("50.00"))

    assert detect(order_ids=[mine.pk], now=NOW).closed == 1
    assert open_flags(other) == ["payment_mismatch"]


def test_a_person_can_raise_and_resolve_a_flag_through_the_same_api(systems):
    order = web_order(systems)
    flag = flag_open(order_id=order.pk, code="stock_shortfall", detail="line 1 missing at the counter", now=NOW)
    assert flag_open(order_id=order.pk, code="stock_shortfall", detail="again", now=NOW).pk == flag.pk

    assert flag_close(flag=flag, reason="found in the back room", now=NOW) is True
    assert flag_close(flag=flag, reason="twice", now=NOW) is False
    assert list(TimelineEvent.objects.filter(order=order).values_list("summary", flat=True)) == [
        "Stock shortfall: line 1 missing at the counter",
        "Stock shortfall closed: found in the back room",
    ]


# -- when it runs ----------------------------------------------------------------------------
def test_the_page_hook_runs_the_rules_on_the_touched_orders_at_the_wall_clock(systems):
    order = web_order(systems, placed_ago=timedelta(minutes=10))
    assert detect_after_page_queued in PAGE_HOOKS

    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        detect_after_page_queued(systems.shop, IngestResult(order_ids={order.pk}))  # the tests' Celery is eager
        assert open_flags(order) == []
    with time_machine.travel(NOW + timedelta(minutes=20, seconds=1), tick=False):
        detect_after_page_queued(systems.shop, IngestResult(order_ids={order.pk}))
        assert open_flags(order) == ["phantom_order"]


def test_the_run_hook_runs_the_rules_once_over_every_order_a_sync_run_touched(systems):
    first = web_order(systems, placed_ago=timedelta(minutes=10))
    second = web_order(systems, placed_ago=timedelta(minutes=10))
    assert detect_after_run in RUN_HOOKS

    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        detect_after_run(systems.shop, {first.pk})
        assert (open_flags(first), open_flags(second)) == (["phantom_order"], [])
        detect_after_run(systems.shop, {first.pk, second.pk})
    assert (open_flags(first), open_flags(second)) == (["phantom_order"], ["phantom_order"])


def test_after_a_sources_first_sync_the_run_hook_runs_the_rules_over_every_order(systems):
    untouched = store_sale(systems, paid="40.00")

    detect_after_run(systems.shop, set())  # a run of a source read before touched nothing: nothing to do
    assert open_flags(untouched) == []
    systems.pos.last_success_at = None  # the POS as its first run found it; the run recorded its success since
    detect_after_run(systems.pos, set())  # rules that waited for the POS may now conclude on any order
    assert open_flags(untouched) == ["payment_mismatch"]


def test_a_rule_that_concludes_from_absence_holds_its_verdicts_until_its_systems_were_read(systems):
    """While the storefront's first sync has not finished, "nothing captured" may only mean "not read yet"."""
    held = store_sale(systems, paid="40.00")
    assert detect(order_ids=[held.pk], now=NOW).opened == 1
    systems.shop.last_success_at = None  # e.g. a storefront connected today, its backfill under way
    systems.shop.save()
    fresh = store_sale(systems, paid="30.00")
    Payment.objects.filter(order=held).update(amount=Decimal("50.00"))

    result = detect(order_ids=[held.pk, fresh.pk], now=NOW + timedelta(minutes=1))
    assert (result.opened, result.closed) == (0, 0)
    assert (open_flags(held), open_flags(fresh)) == (["payment_mismatch"], [])  # neither closed nor opened
    waiting = ["promise_at_risk", "promise_missed", "return_not_refunded", "payment_mismatch"]
    assert result.waiting == dict.fromkeys(waiting, ["shopify"])

    systems.shop.last_success_at = NOW + timedelta(minutes=2)
    systems.shop.save()
    result = detect(order_ids=[held.pk, fresh.pk], now=NOW + timedelta(minutes=3))
    assert (result.opened, result.closed, result.waiting) == (1, 1, {})
    assert (open_flags(held), open_flags(fresh)) == ([], ["payment_mismatch"])


def test_a_source_whose_first_sync_keeps_failing_is_waited_for_no_longer(systems):
    """A carrier added with wrong credentials must not silence the promise flags of every order for good."""
    late = web_order(systems, placed_ago=timedelta(days=10), promised_by=NOW - timedelta(days=3))
    broken = SourceFactory(name="easypost-eu", kind="carrier", adapter="easypost", last_success_at=None)

    for failures in range(FIRST_SYNC_ATTEMPTS):
        Source.objects.filter(pk=broken.pk).update(consecutive_failures=failures)
        result = detect(order_ids=[late.pk], now=NOW, codes=["promise_missed"])
        assert (result.waiting, open_flags(late)) == ({"promise_missed": ["easypost-eu"]}, [])
    Source.objects.filter(pk=broken.pk).update(consecutive_failures=FIRST_SYNC_ATTEMPTS)

    result = detect(order_ids=[late.pk], now=NOW, codes=["promise_missed"])
    assert (result.waiting, open_flags(late)) == ({}, ["promise_missed"])


def test_the_beat_task_opens_what_only_time_brings(systems):
    order = web_order(systems, placed_ago=timedelta(minutes=10))

    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        assert detect_flags()["opened"] == 1
        assert detect_flags() == {"opened": 0, "closed": 0, "still_open": 1, "updated": 0}
    assert open_flags(order) == ["phantom_order"]


# -- two workers at once ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_opening_the_same_flag_open_it_once():
    systems_ = SimpleNamespace(shop=SourceFactory(name="shopify", kind="storefront", adapter="shopify"))
    order = OrderFactory(origin_source=systems_.shop)
    row = {"order_id": order.pk, "code": "phantom_order", "detail": "not in the ERP", "evidence": {}}

    first, second = racing(lambda: flags_open([row], now=NOW), lambda: flags_open([row], now=NOW + SECOND))

    assert (len(first), second) == (1, [])
    assert Flag.objects.filter(order=order, closed_at__isnull=True).count() == 1
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.FLAG_OPENED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_closing_the_same_flag_close_it_once():
    order = OrderFactory()
    flag = Flag.objects.create(order=order, code="phantom_order", opened_at=NOW)

    first, second = racing(
        lambda: flags_close([flag.pk], now=NOW, reason="cleared"),
        lambda: flags_close([flag.pk], now=NOW + SECOND, reason="cleared"),
    )

    assert (first, second) == (1, 0)
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.FLAG_CLOSED).count() == 1
