"""What a sync leaves, comparable between two runs of it."""

from __future__ import annotations

from collections import defaultdict

from integrations.models import Source
from orders.models import Order, OrderRecord, Payment, Picking, Return, Shipment, TimelineEvent


def end_state() -> dict:
    """Everything synced, named by the records' own ids (database ids differ between runs).

    Flags are compared by ``tests/integrations/test_sync_order.py`` (detection runs at a fixed clock there).
    """
    sources = {str(pk): name for pk, name in Source.objects.values_list("pk", "name")}
    members = defaultdict(set)
    for order_id, source, external_id in OrderRecord.objects.values_list("order_id", "source__name", "external_id"):
        members[order_id].add((source, external_id))
    name = {order_id: tuple(sorted(records)) for order_id, records in members.items()}
    state = {
        "orders": {
            name[row[0]]: row[1:]
            for row in Order.objects.values_list(
                "id", "number", "status", "channel", "fulfilment", "total", "placed_at", "promised_by", "store__code"
            )
        },
        # Events that follow their subject when an orphan is linked (not the order's own: which system
        # saw an order first decides whether its record says "placed" or "seen").
        "events": {
            _named(key, sources): name.get(order_id)
            for key, order_id in TimelineEvent.objects.exclude(subject="").values_list("key", "order_id")
        },
    }
    for model in (Picking, Payment, Shipment, Return):
        state[model.__name__] = {
            (source, external_id): name.get(order_id)
            for source, external_id, order_id in model.objects.values_list("source__name", "external_id", "order_id")
        }
    return state


def _named(key: str, sources: dict[str, str]) -> str:
    """An event key with its source's name for the source's id (``3:payment:…`` -> ``square:payment:…``)."""
    source, _, rest = key.partition(":")
    return f"{sources.get(source, source)}:{rest}"


def state_differences(first: dict, other: dict) -> dict:
    """The first few keys whose value differs, per part, and how many: a readable failure (pytest's own diff of
    thousands of rows takes minutes)."""
    found = {}
    for part in sorted(first.keys() | other.keys()):
        left, right = first.get(part, {}), other.get(part, {})
        differing = sorted((k for k in left.keys() | right.keys() if left.get(k) != right.get(k)), key=str)
        if differing:
            found[part] = {"count": len(differing)} | {str(k): (left.get(k), right.get(k)) for k in differing[:5]}
    return found
