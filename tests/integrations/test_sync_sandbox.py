"""The Shopify source against the sandbox retailer over real HTTP: the reliability bars of QUALITY.md."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from integrations.models import DeadLetter, RawRecord, Source, SyncRun
from integrations.sync import dead_letter_replay, source_sync
from orders.models import (
    Customer,
    CustomerIdentity,
    Flag,
    Order,
    OrderLine,
    OrderRecord,
    Payment,
    Return,
    Shipment,
    Store,
    TimelineEvent,
    TrackingEvent,
)

from .conftest import shopify_source_for

pytestmark = pytest.mark.sandbox


def shopify_truth(server) -> dict[str, dict]:
    """Ground truth orders that Shopify knows, by Shopify order id."""
    return {
        o["systems"]["shopify"]["external_id"]: o for o in server.world.truth()["orders"] if "shopify" in o["systems"]
    }


def state() -> dict:
    """Everything the sync wrote, without surrogate ids or sync times: equal states mean equal effect."""
    return {
        "records": sorted(OrderRecord.objects.values_list("external_id", "external_number", "status", "content_hash")),
        "orders": sorted(Order.objects.values_list("number", "status", "total", "customer__email", "store__code")),
        "lines": sorted(OrderLine.objects.values_list("external_id", "sku", "quantity", "unit_price")),
        "payments": sorted(Payment.objects.values_list("external_id", "kind", "status", "amount")),
        "shipments": sorted(Shipment.objects.values_list("external_id", "tracking_number", "status")),
        "scans": TrackingEvent.objects.count(),
        "returns": sorted(Return.objects.values_list("external_id", "status")),
        "identities": sorted(
            CustomerIdentity.objects.values_list("external_id", "email_normalised", "phone_e164", "content_hash")
        ),
        "customers": Customer.objects.count(),
        # Flags are concluded at the end of each run: a run cut short may open and then close one on the
        # way, so the comparison is of the flags open at the end, and of every other event exactly.
        "events": sorted(
            TimelineEvent.objects.exclude(kind__in=["flag_opened", "flag_closed"]).values_list(
                "key", "kind", "occurred_at"
            )
        ),
        "open_flags": sorted(Flag.objects.filter(closed_at__isnull=True).values_list("order__number", "code")),
        "raw": RawRecord.objects.count(),
        "stores": sorted(Store.objects.values_list("code", flat=True)),
    }


def wipe() -> None:
    for model in (
        TimelineEvent,
        TrackingEvent,
        OrderLine,
        Payment,
        Shipment,
        Return,
        OrderRecord,
        Order,
        CustomerIdentity,
        Customer,
        DeadLetter,
        RawRecord,
        SyncRun,
    ):
        model.objects.all().delete()
    Source.objects.update(cursor={})


def sync_until_done(source: Source, attempts: int = 6) -> list[SyncRun]:
    """What the scheduler does: run again after a failure, from the committed cursor."""
    runs = []
    for _ in range(attempts):
        runs.append(source_sync(source_id=source.pk))
        if runs[-1].status == SyncRun.Status.SUCCEEDED:
            return runs
    raise AssertionError("sync never succeeded: " + "; ".join(r.summary() for r in runs))


def test_full_sync_lands_every_shopify_order_of_the_world(shopify_source, sandbox):
    truth = shopify_truth(sandbox)

    run = source_sync(source_id=shopify_source.pk)

    assert run.status == SyncRun.Status.SUCCEEDED, run.summary()
    assert run.dead_lettered == 0
    records = dict(OrderRecord.objects.filter(source=shopify_source).values_list("external_id", "external_number"))
    assert records == {ext: o["systems"]["shopify"]["number"] for ext, o in truth.items()}
    assert Order.objects.count() == len(truth)
    # every order has its placed event; statuses as the truth says where Shopify alone can tell
    assert TimelineEvent.objects.filter(kind="order_placed").count() == len(truth)
    web_stores = {o["store"] for o in truth.values() if o["fulfilment"] == "pickup"}
    assert web_stores <= set(Store.objects.values_list("code", flat=True))
    pickup = Order.objects.filter(fulfilment="pickup")
    assert pickup.count() == sum(o["fulfilment"] == "pickup" for o in truth.values())
    assert not pickup.filter(store__isnull=True).exists()


def test_a_second_sync_changes_nothing(shopify_source):
    source_sync(source_id=shopify_source.pk)
    before = state()

    run = source_sync(source_id=shopify_source.pk)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.created, run.updated) == (0, 0)
    assert state() == before


def test_a_sync_under_injected_faults_ends_in_the_state_of_a_clean_sync(shopify_source, sandbox):
    sync_until_done(shopify_source)
    clean = state()
    wipe()

    sandbox.set_faults(
        rate=0.2,
        kinds=["500", "503", "429", "timeout", "reset"],
        seed=3,
        retry_after=0,
        timeout_seconds=1.5,
    )
    runs = sync_until_done(Source.objects.get(pk=shopify_source.pk))
    faults_seen = sum(n for kind, n in sandbox.faults.counts.items() if kind != "requests")
    sandbox.set_faults(rate=0)

    assert faults_seen > 0
    assert state() == clean
    shopify_source.refresh_from_db()
    assert shopify_source.consecutive_failures == 0
    assert shopify_source.health == "ok"
    assert runs[-1].status == SyncRun.Status.SUCCEEDED


def test_a_run_killed_mid_way_resumes_to_the_same_state(shopify_source):
    source_sync(source_id=shopify_source.pk)
    clean = state()
    wipe()

    killed = source_sync(source_id=shopify_source.pk, max_pages=6)  # locations 1, customers 3, orders 2 of 6
    landed = Order.objects.count()
    resumed = source_sync(source_id=shopify_source.pk)

    assert killed.pages == 6
    assert 0 < landed < len(clean["orders"])
    assert resumed.status == SyncRun.Status.SUCCEEDED
    assert state() == clean


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_of_one_source_produce_no_duplicates(sandbox, fast_http):
    source = shopify_source_for(sandbox)
    results = []

    def worker():
        try:
            results.append(source_sync(source_id=source.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(r.status for r in results)
    assert statuses in (["skipped", "succeeded"], ["succeeded", "succeeded"])
    truth = shopify_truth(sandbox)
    assert OrderRecord.objects.count() == len(truth)
    assert Order.objects.count() == len(truth)
    assert TimelineEvent.objects.filter(kind="order_placed").count() == len(truth)


def test_a_malformed_record_is_dead_lettered_and_lands_after_the_fix(shopify_source, sandbox):
    truth = shopify_truth(sandbox)
    broken_id = sorted(truth)[5]
    sandbox.world.corrupt("shopify", "orders", broken_id, "wrong_type")

    run = source_sync(source_id=shopify_source.pk)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.dead_lettered == 1
    assert OrderRecord.objects.count() == len(truth) - 1
    letter = DeadLetter.objects.get()
    assert (letter.stream, letter.external_id, letter.resolved_at) == ("orders", broken_id, None)
    assert letter.reason == "MappingError: order.lineItems must be a JSON object, got str"  # GraphQL's name
    assert letter.payload["id"] == f"gid://shopify/Order/{broken_id}"

    # replaying the unchanged payload still fails, with the reason kept
    assert dead_letter_replay(dead_letter=letter) is False
    letter.refresh_from_db()
    assert (letter.replay_count, letter.resolved_at) == (1, None)

    sandbox.world.repair_all()
    run = source_sync(source_id=shopify_source.pk)

    assert run.created == 1
    assert OrderRecord.objects.count() == len(truth)
    letter.refresh_from_db()
    assert letter.resolved_at is not None


def test_refused_credentials_stop_the_run_with_a_clear_message(db, sandbox, fast_http):
    source = shopify_source_for(sandbox, access_token="shpat_wrong")

    run = source_sync(source_id=source.pk)

    assert run.status == SyncRun.Status.FAILED
    assert "HTTP 401" in run.error and "credentials were refused" in run.error
    source.refresh_from_db()
    assert (source.consecutive_failures, source.health) == (1, "degraded")
    assert Order.objects.count() == 0


def test_a_wrong_base_url_says_so(db, sandbox, fast_http):
    source = shopify_source_for(sandbox)
    source.base_url = sandbox.base_url + "/nowhere/admin/api/2025-07"
    source.save()

    run = source_sync(source_id=source.pk)

    assert run.status == SyncRun.Status.FAILED
    assert "HTTP 404" in run.error and "check the source's base URL" in run.error
