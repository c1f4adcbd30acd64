"""The freshness benchmark end to end at a tiny scale: signed webhooks through gunicorn and a Celery worker on
Redis while every source backfills, then the polling sources' incremental runs."""

from __future__ import annotations

import psutil
import pytest

from integrations.models import Source, WebhookDelivery
from tests.bench.freshbench import DISPATCH_TICK_SECONDS, FreshnessOptions, bench_freshness
from tests.bench.syncbench import Figures

# transaction: gunicorn, the worker and the backfill see the data from their own connections;
# broker_alone: the worker consumes the test broker's `webhooks` queue, which no other test may share
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker_alone")]

SOURCES = ("easypost", "hubspot", "odoo", "shopify", "square")


def test_every_webhook_sent_during_a_backfill_is_landed_visible_and_timed_and_nothing_is_left_behind():
    options = FreshnessOptions(orders=300, webhooks=20, rate=20.0, web_workers=1, worker_concurrency=1)
    figures = Figures()
    children_before = {p.pid for p in psutil.Process().children(recursive=True)}

    bench_freshness(figures, options, log=lambda *_: None)

    values = {name: figure["value"] for name, figure in figures.values.items()}
    # every webhook was accepted once, landed, and what it brought can be opened
    assert values["fresh.webhooks"] == 20 == WebhookDelivery.objects.filter(processed_at__isnull=False).count()
    assert figures.values["fresh.webhooks"]["note"] == "20 accepted, at 20/s"
    assert values["fresh.visible"] == 20
    assert set(WebhookDelivery.objects.values_list("source__adapter", flat=True)) == {"shopify", "easypost"}
    # and each was timed from its receipt to its landing
    assert 0 < values["fresh.webhook_p50_s"] <= values["fresh.webhook_p95_s"] <= values["fresh.webhook_max_s"]
    assert values["fresh.during_backfill"] in (0, 1)
    # and each polling source's incremental run was measured, the bound built from the slowest
    runs = [values[f"fresh.poll.{name}_run_s"] for name in SOURCES]
    interval = max(Source.objects.values_list("interval_seconds", flat=True))
    assert values["fresh.poll_bound_s"] == pytest.approx(interval + DISPATCH_TICK_SECONDS + max(runs), abs=0.002)
    # and gunicorn, the worker, the sandbox and the backfill are gone: each was waited for, and their own
    # children (gunicorn's and the worker's processes) die with them, within seconds on a busy machine
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in children_before]
    _, alive = psutil.wait_procs(left, timeout=15)
    assert [p.pid for p in alive] == []
