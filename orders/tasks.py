"""Celery tasks of the orders app: thin wrappers, idempotent."""

from celery import shared_task

from .messaging import message_deliver


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=60, retry_kwargs={"max_retries": 8})
def deliver_message(message_id: int) -> str:
    """Safe to repeat: a message already sent is not sent again."""
    return message_deliver(message_id).status
