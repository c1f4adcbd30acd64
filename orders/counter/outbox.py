"""The counter's outbox: a pickup's state (ready, collected, refused) pushed to every system that holds the order.

One ``PickupPush`` row per order, system and state (unique): :func:`pushes_queue` writes them
with the counter's action and queues each after commit; the task sends one row
(:func:`push_send`, at most once); the beat's sweep (``orders.tasks.push_pending_pickups``)
queues what is still unsent (:func:`pushes_pending`, :func:`pushes_dispatch`).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from integrations.adapters import CollectedLine, adapter_class, adapter_for
from integrations.http import TransportError
from omnidesk.queue import enqueue

from ..models import Order, OrderLine, OrderRecord, PickupPush, quantity_json, quantity_value

log = logging.getLogger(__name__)


def push_targets(order: Order, state: str) -> list[OrderRecord]:
    """The order's record in every system whose adapter takes ``state`` (one per system).

    Square takes ready, collected and refused (its PICKUP fulfillment's state); Shopify takes
    collected (a fulfilment of the taken lines); Odoo takes collected (the picking validated)
    and refused (the picking cancelled). See each adapter's ``push_pickup``.
    """
    targets: dict[int, OrderRecord] = {}
    for record in order.records.select_related("source").order_by("id"):
        if record.source_id not in targets and state in adapter_class(record.source.adapter).pickup_states:
            targets[record.source_id] = record
    return list(targets.values())


def pushes_queue(*, order: Order, state: str, lines: list[OrderLine] = ()) -> list[PickupPush]:
    """Queue the state for each system that takes it, once (unique per order, system and state).

    ``lines`` are what the customer took (collected); the tasks go after commit.
    """
    records = push_targets(order, state)
    if not records:
        log.info("order %s: no system takes the pickup state %s", order.pk, state)
        return []
    taken = [{"sku": line.sku, "quantity": quantity_json(line.quantity)} for line in lines]
    PickupPush.objects.bulk_create(
        [
            PickupPush(order=order, target=record.source, external_id=record.external_id, state=state, lines=taken)
            for record in records
        ],
        ignore_conflicts=True,
    )
    pushes = list(PickupPush.objects.filter(order=order, state=state, target__in=[r.source_id for r in records]))
    for push in pushes:
        if push.sent_at is None:
            transaction.on_commit(lambda push_id=push.pk: _push_dispatch(push_id))
    return pushes


def _push_dispatch(push_id: int) -> None:
    try:
        enqueue("orders.tasks.push_pickup", push_id)
    except Exception:  # the periodic sweep (push_pending_pickups) sends it later
        log.warning("pickup push %s not sent now; the sweep retries it", push_id, exc_info=True)


def pushes_dispatch(push_ids: list[int]) -> int:
    """Queue these outbox rows for sending now (the sweep, a supervisor's "send again now"); returns how many."""
    for push_id in push_ids:
        _push_dispatch(push_id)
    return len(push_ids)


def push_send(push_id: int) -> PickupPush:
    """Send one outbox row through its target's adapter, at most once (locked; ``sent_at`` re-checked).

    A failure is counted and kept on the row (the board shows it) and raised as a
    TransportError; the periodic sweep (``push_pending_pickups``) tries the row again.
    """
    with transaction.atomic():
        push = PickupPush.objects.select_for_update().select_related("target").get(pk=push_id)
        if push.sent_at is not None:
            return push
        push.attempts += 1
        try:
            lines = [CollectedLine(sku=line["sku"], quantity=quantity_value(line["quantity"])) for line in push.lines]
            adapter_for(push.target).push_pickup(external_id=push.external_id, state=push.state, lines=lines)
        except (TransportError, ValueError) as error:
            push.last_error = str(error)[:1000]
            push.save(update_fields=["attempts", "last_error"])
            log.warning("pickup push %s failed: %s", push.pk, error)
        else:
            push.sent_at, push.last_error = timezone.now(), ""
            push.save(update_fields=["attempts", "sent_at", "last_error"])
            return push
    raise TransportError(push.last_error, permanent=False)


def pushes_pending() -> list[int]:
    return list(PickupPush.objects.filter(sent_at__isnull=True).order_by("id").values_list("id", flat=True))
