"""Tell the customer first: a ready-to-send message for flags that change what they were promised.

The store counter uses the same mechanism for "your order is ready for pickup"
(template ``ready_for_pickup``, at most one per order, sent when the last line is picked).

For ``promise_at_risk``, ``promise_missed``, ``stuck_shipment`` and ``delivery_exception``
a supervisor-edited template (:class:`MessageTemplate`) is filled from the order. An
agent sends it with one click, or it goes automatically when the template says so.
A flag has at most one :class:`CustomerMessage` (a one-to-one row created before any
mail leaves), so the same news never goes twice, whoever clicks or however often
detection runs. Delivery is a Celery task queued after commit; it re-checks the row's
status under a lock, so a retried task does not send again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template import Context, Template
from django.template.defaultfilters import pluralize
from django.utils import timezone

from integrations.adapters.fields import http_url
from omnidesk.queue import enqueue_on_commit

from ..catalogue.lines import order_lines
from ..catalogue.standing import cancellable, standings
from ..models import READY_FOR_PICKUP, CustomerMessage, Flag, MessageTemplate, Order, TimelineEvent
from ..timeline import events
from ..timezones import customer_day
from .codes import MESSAGE_CODES

log = logging.getLogger(__name__)


class CannotMessage(Exception):
    """Why no message can go for this flag (no template, no address, already closed)."""


def recipient(order: Order) -> str:
    """The e-mail the order itself carries: never one its customer gained by a merge (it may be someone else's)."""
    return order.email


def message_context(order: Order) -> dict:
    """What the templates may say: the promise, the new projection, the carrier's word, the pickup store."""
    shipments = list(order.shipments.prefetch_related("events"))
    latest = max(shipments, key=lambda s: s.last_event_at or s.shipped_at or order.placed_at, default=None)
    scans = list(latest.events.all()) if latest else []
    last_scan = scans[-1] if scans else None
    items = sum(line.pieces for line in order_lines(order))  # 2.5 ft of rope is one item to collect
    standing = standings([order.pk]).get(order.pk)
    projected = standing.projected.at if standing and standing.projected else None
    return {
        "cancellable": bool(standing) and cancellable(order, standing),
        "trace_recorded": trace_recorded(order),
        "customer_name": (order.customer.name if order.customer_id else "") or "there",
        "order_number": order.number,
        "promised": customer_day(order.promised_by, order.store),
        "projected": customer_day(projected, order.store),
        "carrier": latest.carrier if latest else "",
        "tracking_number": latest.tracking_number if latest else "",
        "tracking_url": http_url(latest.tracking_url) if latest else "",
        "carrier_status": (last_scan.message or last_scan.status)
        if last_scan
        else (latest.raw_status if latest else ""),
        "store_name": order.store.name if order.store else "",
        "store_address": " ".join(order.store.address.split()) if order.store else "",
        "items": f"{items} item{pluralize(items)}",
    }


# The wording used while no supervisor has saved one: the customer is told the order is ready regardless.
FALLBACK_TEMPLATES = {
    READY_FOR_PICKUP: (
        "Your order {{ order_number }} is ready for pickup",
        "Hello {{ customer_name }},\n\nyour order {{ order_number }} ({{ items }}) is ready for pickup at "
        "{{ store_name }}{% if store_address %}, {{ store_address }}{% endif %}. Please bring this e-mail or "
        "a photo ID.\n\nThe {{ store_name }} team",
    )
}


@dataclass(frozen=True)
class Draft:
    """A message as it would be sent now, and why it must not be (empty when it may)."""

    subject: str
    body: str
    problem: str


def message_draft(code: str, order: Order) -> Draft:
    """Template ``code`` rendered for ``order``, checked against the order's state (:func:`message_unsafe`)."""
    template = MessageTemplate.objects.filter(code=code).first()
    if template is not None:
        subject, body = template.subject, template.body
    elif code in FALLBACK_TEMPLATES:
        subject, body = FALLBACK_TEMPLATES[code]
    else:
        raise CannotMessage(f"no message template for {code}")
    facts = message_context(order)
    context = Context(facts, autoescape=False)
    body = Template(body).render(context)
    return Draft(Template(subject).render(context).strip(), body, message_unsafe(body, facts))


TRACE_CODES = ("stuck_shipment", "delivery_exception")
OFFERS_CANCEL = re.compile(r"\bcancel", re.IGNORECASE)
CLAIMS_TRACE = re.compile(r"\b(we have asked|we asked|we have opened|opened a trace|trace)\b", re.IGNORECASE)


def trace_recorded(order: Order) -> bool:
    """Somebody is chasing the carrier: a parcel flag taken by a person, or a note on the order about a trace."""
    taken = Flag.objects.filter(order=order, code__in=TRACE_CODES, owner__isnull=False).exists()
    return taken or order.notes.filter(body__icontains="trace").exists()


def message_unsafe(body: str, context: dict) -> str:
    """Why this text must not go to the customer in the order's state (``context``: :func:`message_context`).

    No offer to cancel when the order can no longer be cancelled; no "we have asked the carrier"
    unless a trace was recorded. Checked on the text as it would be sent, whoever wrote the template.
    """
    if OFFERS_CANCEL.search(body) and not context["cancellable"]:
        return "the message offers to cancel, but the order can no longer be cancelled"
    if CLAIMS_TRACE.search(body) and not context["trace_recorded"]:
        return (
            "the message says we asked the carrier, but nobody recorded a trace: take the flag or note the trace first"
        )
    return ""


def message_preview(flag: Flag) -> dict:
    """What "Tell the customer" would send, for the agent to review: recipient, subject, body, and any objection."""
    if flag.code not in MESSAGE_CODES:
        raise CannotMessage(f"{flag.code} has no customer message")
    order = flag.order
    draft = message_draft(flag.code, order)
    to = recipient(order)
    problem = draft.problem or ("" if to else "no e-mail address for this customer")
    return {"to": to, "subject": draft.subject, "body": draft.body, "problem": problem}


def message_send(flag: Flag, *, by=None) -> CustomerMessage:
    """Queue the flag's message once. A second call (another agent, auto-send) returns the first message."""
    existing = CustomerMessage.objects.filter(flag=flag).first()
    if existing is not None:
        return existing
    if flag.code not in MESSAGE_CODES:
        raise CannotMessage(f"{flag.code} has no customer message")
    if flag.closed_at is not None:
        raise CannotMessage("the flag is closed: nothing to tell the customer")
    try:
        return _message_queue(flag.order, flag.code, flag=flag, by=by)
    except IntegrityError:  # someone else queued it between our check and our insert
        return CustomerMessage.objects.get(flag=flag)


def message_ready_for_pickup(order: Order) -> CustomerMessage:
    """Tell the customer the order waits at the counter, once per order (the store counter calls this)."""
    existing = CustomerMessage.objects.filter(order=order, flag__isnull=True, about=READY_FOR_PICKUP).first()
    if existing is not None:
        return existing
    try:
        return _message_queue(order, READY_FOR_PICKUP)
    except IntegrityError:  # another clerk's action queued it first
        return CustomerMessage.objects.get(order=order, flag__isnull=True, about=READY_FOR_PICKUP)


def _message_queue(order: Order, code: str, *, flag: Flag | None = None, by=None) -> CustomerMessage:
    """The message row, its timeline event and (after commit) its delivery; IntegrityError if one exists."""
    to = recipient(order)
    if not to:
        raise CannotMessage("no e-mail address for this customer")
    draft = message_draft(code, order)
    if draft.problem:
        raise CannotMessage(draft.problem)
    subject, body = draft.subject, draft.body
    with transaction.atomic():
        message = CustomerMessage.objects.create(
            flag=flag, order=order, about=code, to=to, subject=subject, body=body, sent_by=by
        )
        who = by.get_username() if by is not None else "automatically"
        events.events_write(
            [
                events.flag_action(
                    key=f"message:{message.pk}",
                    kind=TimelineEvent.Kind.MESSAGE_SENT,
                    occurred_at=message.created_at,
                    summary=f"Message to {to} ({who}): {subject}",
                    order_id=order.pk,
                    actor=by,
                )
            ]
        )
        enqueue_on_commit("orders.tasks.deliver_message", message.pk)
    return message


def message_deliver(message_id: int) -> CustomerMessage:
    """Send one queued message by e-mail, at most once (the row is locked and its status checked).

    A failure is kept on the row (failed, with the error) and then raised, outside the
    transaction so the row keeps it, for the task to retry.
    """
    with transaction.atomic():
        message = CustomerMessage.objects.select_for_update().get(pk=message_id)
        if message.status == CustomerMessage.Status.SENT:
            return message
        try:
            send_mail(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.to])
        except Exception as error:  # SMTP down
            failure = error
            message.status, message.error = CustomerMessage.Status.FAILED, str(error)[:1000]
            message.save(update_fields=["status", "error"])
            log.warning("message %s not sent: %s", message.pk, error)
        else:
            message.status, message.sent_at, message.error = CustomerMessage.Status.SENT, timezone.now(), ""
            message.save(update_fields=["status", "sent_at", "error"])
            return message
    raise failure


def messages_auto_send(flag_ids) -> int:
    """After detection opened flags: send those whose template a supervisor set to auto-send. Returns how many."""
    auto = set(MessageTemplate.objects.filter(auto_send=True).values_list("code", flat=True))
    if not auto:
        return 0
    sent = 0
    flags = Flag.objects.filter(pk__any=flag_ids, code__in=auto, closed_at__isnull=True, message__isnull=True)
    for flag in flags.select_related("order__customer", "order__store"):
        try:
            message_send(flag)
            sent += 1
        except CannotMessage as reason:
            log.info("no automatic message for flag %s: %s", flag.pk, reason)
    return sent
