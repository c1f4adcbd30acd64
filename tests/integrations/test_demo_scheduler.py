"""``make demo``: its retailer, its first sync, and its in-process stand-in for beat (no Redis), which runs every
entry of the real schedule on time, crontabs too."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from integrations.management.commands.demo import beat_due
from integrations.models import SyncRun
from orders.models import Order

STARTED = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def test_intervals_run_at_once_then_every_period_and_the_nightly_upkeep_at_its_hour():
    beat = settings.CELERY_BEAT_SCHEDULE
    with time_machine.travel(datetime(2026, 12, 7, 2, 0, 1, tzinfo=UTC), tick=False):
        first = beat_due(beat, {}, started=STARTED)
    assert sorted(first) == ["detect-flags", "dispatch-due-syncs", "push-pending-pickups"]

    ran = dict.fromkeys(first, datetime(2026, 12, 7, 2, 0, 1, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 12, 7, 2, 0, 20, tzinfo=UTC), tick=False):
        assert beat_due(beat, ran, started=STARTED) == ["dispatch-due-syncs"]  # 15 s are up, 2 and 5 min are not
    with time_machine.travel(datetime(2026, 12, 7, 3, 20, tzinfo=UTC), tick=False):
        assert "partitions-upkeep" in beat_due(beat, ran, started=STARTED)  # 03:17 UTC has passed since the start


@pytest.mark.sandbox
def test_the_demo_sets_up_a_varied_retailer_and_syncs_every_source_cleanly(db, fast_http, settings, monkeypatch):
    """``make demo --setup-only``: the demo's retailer disagrees the way real vendors do (the varied shape),
    and its first sync lands every record of every source, none dead-lettered."""
    # What the command changes for the whole process, given back afterwards: private hosts allowed, its signals.
    settings.OMNIDESK_ALLOW_PRIVATE_SOURCES = False
    monkeypatch.setenv("OMNIDESK_ALLOW_PRIVATE_SOURCES", "false")
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    out = StringIO()
    try:
        call_command("demo", "--setup-only", "--orders", "60", "--sandbox-port", "0", stdout=out)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)

    assert "sandbox retailer with 60 varied orders" in out.getvalue()
    runs = SyncRun.objects.order_by("source__name")
    assert [(r.source.name, r.status, r.dead_lettered) for r in runs] == [
        (name, SyncRun.Status.SUCCEEDED, 0) for name in ("easypost", "hubspot", "odoo", "shopify", "square")
    ]
    assert Order.objects.count() == 60  # one order per order of the world, whichever systems know it
