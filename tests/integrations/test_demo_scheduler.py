"""The demo's in-process stand-in for beat (no Redis) runs every entry of the real schedule on time, crontabs too."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from django.conf import settings

from integrations.management.commands.demo import beat_due

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
