"""Detection against the sandbox's ground truth: all five sources synced over real HTTP, the rules run
after every page and on the beat, and the open flags compared per code with the flags the world says
each order should carry."""

from __future__ import annotations

import pytest
import time_machine

from integrations.demo import demo_sources_ensure
from integrations.models import SyncRun
from integrations.sync import source_sync
from orders.flags.detection import detect
from orders.flags.rules import RULES
from orders.models import Flag, OrderRecord, Shipment, TimelineEvent
from orders.tasks import detect_flags

pytestmark = pytest.mark.sandbox

SYNC_ORDER = ("shopify", "square", "odoo", "hubspot", "easypost")


def omnidesk_order_of(truth) -> dict[str, int]:
    """Each truth order's OmniDesk order, found through any system's external id."""
    by_record = {
        (system, external_id): order_id
        for system, external_id, order_id in OrderRecord.objects.values_list("source__name", "external_id", "order_id")
    }
    by_record.update(
        (("easypost", external_id), order_id)
        for external_id, order_id in Shipment.objects.filter(source__name="easypost").values_list(
            "external_id", "order_id"
        )
    )
    found = {}
    for order in truth["orders"]:
        for system, ids in order["systems"].items():
            order_id = by_record.get((system, ids["external_id"]))
            if order_id is not None:
                found[order["order_id"]] = order_id
                break
    return found


def scores(truth) -> dict[str, tuple[float, float, set, set]]:
    """Per code: (precision, recall, false positives, misses) of the open flags against the truth."""
    ours_of = omnidesk_order_of(truth)
    open_flags = set(Flag.objects.filter(closed_at__isnull=True).values_list("code", "order_id"))
    result = {}
    for code in RULES:
        expected = {ours_of.get(o["order_id"], o["order_id"]) for o in truth["orders"] if code in o["flags"]}
        found = {order_id for flag_code, order_id in open_flags if flag_code == code}
        hits = len(found & expected)
        precision = hits / len(found) if found else 1.0
        recall = hits / len(expected) if expected else 1.0
        result[code] = (precision, recall, found - expected, expected - found)
    return result


@pytest.mark.django_db(transaction=True)
def test_open_flags_match_the_ground_truth(sandbox, fast_http):
    world = sandbox.world
    sources = {s.name: s for s in demo_sources_ensure(sandbox.base_url)}
    with time_machine.travel(world.now_dt, tick=True):  # the run hooks read the world's clock as "now"
        for name in SYNC_ORDER:
            run = source_sync(source_id=sources[name].pk)
            assert run.status == SyncRun.Status.SUCCEEDED, run.summary()
        detect_flags()  # the beat's run: what no page touched since its sync finished (the ERP now witnesses)
    detect(now=world.now_dt)  # at the world's exact clock, as the truth is taken
    truth = world.truth()

    table = scores(truth)
    print()
    for code, (precision, recall, _, _) in table.items():
        expected = sum(code in o["flags"] for o in truth["orders"])
        print(f"{code:20} truth {expected:3}  precision {precision:.3f}  recall {recall:.3f}")
    for code, (precision, recall, false_positives, misses) in table.items():
        assert recall == 1.0, (code, sorted(misses))
        assert precision >= 0.95, (code, sorted(false_positives))

    # Never twice: syncing everything again and running the rules again opens nothing new.
    flags_before = Flag.objects.count()
    with time_machine.travel(world.now_dt, tick=False):
        for name in SYNC_ORDER:
            source_sync(source_id=sources[name].pk)
    again = detect(now=world.now_dt)
    assert (again.opened, again.closed) == (0, 0)
    assert Flag.objects.count() == flags_before
    opened_events = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.FLAG_OPENED).count()
    assert opened_events == flags_before
