"""Thin Celery tasks of the canonical model: take ids or nothing, call one service, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from integrations.http import TransportError

from . import partitions
from .counter.outbox import push_send, pushes_dispatch, pushes_pending
from .flags.detection import detect, detect_after_page
from .flags.messaging import message_deliver

logger = logging.getLogger(__name__)


@shared_task(time_limit=4 * 60, soft_time_limit=3 * 60 + 30)
def detect_flags() -> dict[str, int]:
    """Every rule over every order: opens what only time brings (a grace period running out), closes what cleared.

    Safe to run twice or to overlap a page's detection: opening and closing are race-safe.
    """
    return detect().counts()


@shared_task(time_limit=2 * 60, soft_time_limit=110)
def detect_orders(source_name: str, order_ids: list[int]) -> None:
    """The rules over the orders a webhook's page touched (:func:`~orders.flags.detection.detect_after_page`)."""
    detect_after_page(source_name, order_ids)


def detect_after_page_queued(source, result) -> None:
    """``PAGE_HOOKS`` entry (after a webhook's page commits): queue the rules over the orders it touched on the
    default queue, so the webhook worker is free for the next event at once (the rules take longer than
    landing an event). Run in-process in the demo (no broker)."""
    if not result.order_ids:
        return
    try:
        detect_orders.delay(source.name, sorted(result.order_ids))
    except Exception:  # the broker is down: the events are landed, and the 5-minute run evaluates these orders
        logger.exception("could not queue the rules after a page of %s", source.name)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=60, retry_kwargs={"max_retries": 8})
def deliver_message(message_id: int) -> str:
    """Safe to repeat: a message already sent is not sent again."""
    return message_deliver(message_id).status


@shared_task(acks_late=True)
def push_pickup(push_id: int) -> str | None:
    """Push one pickup state upstream. Safe to repeat: a sent row is not sent again.

    A refusal stays on the row (attempts, last error: the board shows it) and the sweep
    below tries it again; the sweep is the only retry, so a stuck push is tried once per
    sweep, never by several retry chains at once.
    """
    try:
        sent = push_send(push_id).sent_at
    except TransportError:
        return None
    return sent.isoformat() if sent else None


@shared_task(time_limit=4 * 60, soft_time_limit=3 * 60 + 30)
def push_pending_pickups() -> int:
    """The sweep (beat, every 2 minutes): every pickup push not yet accepted upstream is tried again."""
    return pushes_dispatch(pushes_pending())


@shared_task(time_limit=60 * 60, soft_time_limit=55 * 60)
def partitions_upkeep() -> dict[str, list[str]]:
    """Nightly (beat): the coming months' partitions, the default partition emptied, raw payload retention.

    Idempotent: a second run finds every partition made and nothing to drop (orders/partitions.py).
    """
    done = partitions.partitions_upkeep()
    if any(done.values()):
        logger.info("partitions upkeep: %s", done)
    return done
