"""Thin Celery tasks of the canonical model: take ids or nothing, call one service, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from .detection import detect
from .messaging import message_deliver


@shared_task(time_limit=4 * 60, soft_time_limit=3 * 60 + 30)
def detect_flags() -> dict[str, int]:
    """Every rule over every order: opens what only time brings (a grace period running out), closes what cleared.

    Safe to run twice or to overlap a page's detection: opening and closing are race-safe.
    """
    return detect().counts()


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
    from integrations.http import TransportError

    from .pickup import pickup_push_send

    try:
        sent = pickup_push_send(push_id).sent_at
    except TransportError:
        return None
    return sent.isoformat() if sent else None


@shared_task(time_limit=4 * 60, soft_time_limit=3 * 60 + 30)
def push_pending_pickups() -> int:
    """The sweep (beat, every 2 minutes): every pickup push not yet accepted upstream is tried again."""
    from .pickup import pending_push_ids, pushes_dispatch

    return pushes_dispatch(pending_push_ids())
