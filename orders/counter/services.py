"""The store counter: preparing a pickup order line by line, handing it over, pushing the state upstream.

    clerk action (views)
      -> lock the order's Pickup row (SELECT … FOR UPDATE): two clerks are served one after the other
      -> PickupLine located / picked / missing      -- missing opens stock_shortfall at once (flag_open)
      -> every line picked: Pickup ready, the customer told once (message template ready_for_pickup),
         PickupPush("ready") queued for each system that takes it
      -> Handover (identity checked; one per order): collected or refused, a PickupPush per system
      -> TimelineEvent kind "pickup" with the clerk, in the same transaction
      -> the order's status follows (ready for pickup, collected: orders.catalogue.standing.orders_status_refresh)
      -> after commit: orders.tasks.push_pickup sends each outbox row through its system's adapter
         (Square: the PICKUP fulfillment's state; Shopify: a fulfilment; Odoo: the picking validated)

Exactly once: the Pickup row lock serialises actions on one order; ``handover_one_per_order``
and ``pickuppush_once_per_target_state`` make a second handover or a second push to one
system impossible even if a path forgot the lock.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..catalogue.lines import order_lines
from ..catalogue.standing import orders_status_refresh
from ..flags.messaging import CannotMessage, message_ready_for_pickup
from ..flags.store import flag_open
from ..freetext import NAME_MAX, REASON_MAX, text_problem
from ..models import (
    CustomerMerge,
    Flag,
    Handover,
    Order,
    OrderLine,
    OrderRecord,
    Pickup,
    PickupLine,
    PickupPush,
    TimelineEvent,
    quantity_json,
    quantity_text,
)
from ..timeline import events
from .outbox import pushes_queue

log = logging.getLogger(__name__)

Stage = Pickup.Stage
CLOSED_STAGES = (Stage.COLLECTED, Stage.REFUSED)


class PickupError(Exception):
    """A counter action that cannot be done (order already handed over, identity not confirmed, …).

    ``field`` names the form field the clerk should look at (``name``, ``proof``, ``lines``,
    ``refusal``, ``reason``), so the error is shown next to it; empty: the whole action.
    """

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class IdentityCheck:
    """What the clerk checked: the name given plus one proof (``method`` is a Handover.IdCheck value)."""

    name: str
    method: str
    value: str = ""


# --- locking -------------------------------------------------------------------------------------
def pickup_lock(order: Order) -> Pickup:
    """The order's Pickup row, created when first needed, locked for the rest of the transaction."""
    try:
        with transaction.atomic():
            Pickup.objects.get_or_create(order=order)
    except IntegrityError:  # another clerk created it between our read and our insert
        pass
    return Pickup.objects.select_for_update().get(order=order)


def _event(*, order: Order, key: str, summary: str, by, data: dict | None = None, at=None) -> None:
    """A pickup timeline event with the clerk; the key names the fact so a replay writes it once."""
    events.events_write(
        [
            events._event(
                key=key,
                kind=TimelineEvent.Kind.PICKUP,
                occurred_at=at or timezone.now(),
                summary=summary,
                order_id=order.pk,
                customer_id=order.customer_id,
                actor=by,
                data=data,
            )
        ]
    )


def _who(user) -> str:
    return user.get_username() if user is not None else "someone"


# --- preparing -----------------------------------------------------------------------------------
@transaction.atomic
def pickup_line_check(
    *, order: Order, line: OrderLine, state: str, by, missing_quantity: int = 0, reason: str = ""
) -> Pickup:
    """Record a clerk's check of one line; may start preparation, raise a shortfall, or make the order ready.

    ``missing_quantity`` counts items; a line sold by measure (2.5 ft of rope) is missing as a whole.
    """
    if line.order_id != order.pk:
        raise PickupError("that line belongs to another order")
    if state not in PickupLine.State.values:
        raise PickupError(f"unknown line state {state!r}")
    if state == PickupLine.State.MISSING and line.measured:
        missing_quantity = line.quantity  # a piece cut or weighed to order is there or not: all of it is missing
    elif state == PickupLine.State.MISSING and not (1 <= missing_quantity <= line.quantity):
        raise PickupError(f"missing quantity must be between 1 and {line.pieces}")
    _typed(reason, what="reason", limit=REASON_MAX)
    pickup = pickup_lock(order)
    if pickup.stage in CLOSED_STAGES:
        raise PickupError(f"order {order.number} is already {pickup.get_stage_display().lower()}")
    now = timezone.now()
    if state != PickupLine.State.MISSING:
        missing_quantity, reason = 0, ""
    PickupLine.objects.update_or_create(
        line=line,
        defaults={
            "pickup": pickup,
            "state": state,
            "missing_quantity": missing_quantity,
            "reason": reason,
            "by": by,
            "at": now,
        },
    )
    _start(pickup, by=by, now=now)
    summary = f"{_who(by)} marked {line} {state}"
    if state == PickupLine.State.MISSING:
        missing = f"{quantity_text(missing_quantity)} {line.unit}".rstrip()
        summary += f" ({missing} missing{': ' + reason if reason else ''})"
    _event(order=order, key=f"pickup:line:{line.pk}:{now.isoformat()}", summary=summary, by=by, at=now)
    if state == PickupLine.State.MISSING:
        _shortfall_raise(order=order, line=line, missing_quantity=missing_quantity, reason=reason, by=by)
    _ready_if_all_picked(pickup, by=by, now=now)
    return pickup


def _start(pickup: Pickup, *, by, now) -> None:
    """The first check of any line starts preparation: who started it answers "nobody was told" (S3)."""
    if pickup.stage != Stage.NEW:
        return
    pickup.stage, pickup.started_by, pickup.started_at = Stage.PREPARING, by, now
    pickup.save(update_fields=["stage", "started_by", "started_at", "updated_at"])


def _shortfall_raise(*, order: Order, line: OrderLine, missing_quantity, reason: str, by) -> Flag:
    """S2: the shelf is short. Opened at once, through the same race-safe path as detection."""
    detail = (
        f"order {order.number}: {f'all {line}' if line.measured else f'{quantity_text(missing_quantity)} of {line}'}"
        " not on the shelf at "
        f"{order.store.name if order.store else 'the store'} (marked missing by {_who(by)}"
        f"{': ' + reason if reason else ''})"
    )
    missing = {"sku": line.sku, "missing": quantity_json(missing_quantity), "reason": reason}
    evidence = {"marked_missing": [missing | ({"unit": line.unit} if line.unit else {})]}
    return flag_open(order_id=order.pk, code=Flag.Code.STOCK_SHORTFALL, detail=detail, evidence=evidence)


def _ready_if_all_picked(pickup: Pickup, *, by, now) -> None:
    """All lines picked: ready, the customer told once, the state queued for upstream. A line unpicked: back."""
    order = pickup.order
    lines = order_lines(order)
    picked = set(
        PickupLine.objects.filter(pickup=pickup, state=PickupLine.State.PICKED).values_list("line_id", flat=True)
    )
    all_picked = bool(lines) and all(line.pk in picked for line in lines)
    if all_picked and pickup.stage == Stage.PREPARING:
        pickup.stage, pickup.ready_at = Stage.READY, now
        pickup.save(update_fields=["stage", "ready_at", "updated_at"])
        _event(order=order, key=f"pickup:ready:{order.pk}:{now.isoformat()}", summary="Ready for pickup", by=by)
        _customer_tell_ready(pickup, now=now)
        pushes_queue(order=order, state=PickupPush.State.READY, lines=lines)
        orders_status_refresh([order.pk])
    elif not all_picked and pickup.stage == Stage.READY:
        pickup.stage, pickup.ready_at = Stage.PREPARING, None
        pickup.save(update_fields=["stage", "ready_at", "updated_at"])
        orders_status_refresh([order.pk])


def _customer_tell_ready(pickup: Pickup, *, now) -> None:
    """Tell the customer once per order (``ready_notified_at`` is set under the row lock).

    The message is the supervisors' ``ready_for_pickup`` template, queued and delivered
    like a flag's message (orders.flags.messaging): in the timeline, retried until the mail
    server takes it.
    """
    if pickup.ready_notified_at is not None:
        return
    try:
        message_ready_for_pickup(pickup.order)
    except CannotMessage as reason:
        log.info("order %s is ready, but the customer cannot be told: %s", pickup.order_id, reason)
        return
    pickup.ready_notified_at = now
    pickup.save(update_fields=["ready_notified_at"])


def _typed(value: str, *, what: str, limit: int, field: str = "") -> None:
    """Refuse what a clerk typed when it is too long or holds a card number (nothing is written)."""
    problem = text_problem(value.strip(), what=what, limit=limit)
    if problem:
        raise PickupError(problem, field=field)


# --- handing over --------------------------------------------------------------------------------
ACCEPTED_PROOFS = (Handover.IdCheck.ORDER_NUMBER, Handover.IdCheck.ID_SEEN)


def identity_confirmed(order: Order, check: IdentityCheck) -> bool:
    """The name on the order, plus an order secret (its number) or a photo ID showing that name.

    Contact details are no proof: an e-mail or phone can reach a customer record through
    a merge on unverified data (a guest order), so they say nothing about who is at the
    counter. The name is compared with the one given with the order itself.
    """
    expected = order_name(order)
    if not expected or not names_match(check.name, expected):
        return False
    if check.method == Handover.IdCheck.ORDER_NUMBER:
        return _order_number(check.value) in order_numbers(order)
    return check.method == Handover.IdCheck.ID_SEEN


def order_name(order: Order) -> str:
    """The name given with the order; for an order synced before it was kept, its customer's, unless merged."""
    if order.contact_name:
        return order.contact_name
    if order.customer_id and not CustomerMerge.objects.filter(survivor_id=order.customer_id).exists():
        return order.customer.name
    return ""


def names_match(given: str, expected: str) -> bool:
    """The same words, ignoring case, accents and punctuation (``zoe muller`` is ``Zoë Müller``)."""
    return bool(_words(given)) and _words(given) == _words(expected)


def _words(name: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    return re.findall(r"[a-z0-9]+", plain)


def _order_number(value: str) -> str:
    return re.sub(r"\s+", "", value).lstrip("#").casefold()


def order_numbers(order: Order) -> set[str]:
    """The order's number in every system that knows it (``#1001``, ``S00042`` …), normalised."""
    numbers = {order.number, *OrderRecord.objects.filter(order=order).values_list("external_number", flat=True)}
    return {_order_number(n) for n in numbers if n and _order_number(n)}


@transaction.atomic
def pickup_handover(
    *, order: Order, by, check: IdentityCheck | None = None, line_ids: list[int] | None = None, refusal: str = ""
) -> Handover:
    """Hand the order over (identity checked) or record its refusal. A second call returns the first handover.

    ``line_ids`` names the lines taken in a partial collection (default: all). A refusal
    needs a reason and no identity check.
    """
    _typed(refusal, what="reason for the refusal", limit=REASON_MAX, field="refusal")
    _typed(check.name if check else "", what="name given", limit=NAME_MAX, field="name")
    pickup = pickup_lock(order)
    existing = Handover.objects.filter(order=order).first()
    if existing is not None:  # a double-click, or another clerk was first
        return existing
    now = timezone.now()
    lines = order_lines(order)
    all_ids = [line.pk for line in lines]
    if refusal.strip():
        handover = Handover.objects.create(
            order=order,
            clerk=by,
            at=now,
            collected_by=check.name.strip() if check else "",
            refused=True,
            refusal_reason=refusal.strip(),
        )
        _close(pickup, stage=Stage.REFUSED, now=now)
        _event(order=order, key=f"pickup:handover:{handover.pk}", summary=f"Refused at the counter ({refusal.strip()}), "
               f"recorded by {_who(by)}", by=by, at=now)  # fmt: skip
        pushes_queue(order=order, state=PickupPush.State.REFUSED)
        orders_status_refresh([order.pk])
        return handover
    if check is None or not identity_confirmed(order, check):
        raise PickupError("identity not confirmed: give the name and one matching proof", field="proof")
    if pickup.stage != Stage.READY and not line_ids:
        raise PickupError(
            f"order {order.number} is not ready: hand over only the picked lines (partial)", field="lines"
        )
    taken = [pk for pk in (line_ids or all_ids) if pk in all_ids]
    if not taken:
        raise PickupError("no lines of this order were chosen", field="lines")
    partial = set(taken) != set(all_ids)
    handover = Handover.objects.create(
        order=order,
        clerk=by,
        at=now,
        collected_by=check.name.strip(),
        id_check=check.method,
        partial=partial,
        lines=taken,
    )
    _close(pickup, stage=Stage.COLLECTED, now=now)
    how = Handover.IdCheck(check.method).label.lower()
    summary = f"{'Partly collected' if partial else 'Collected'} by {handover.collected_by} ({how}), handed over by {_who(by)}"
    _event(order=order, key=f"pickup:handover:{handover.pk}", summary=summary, by=by, at=now)
    pushes_queue(order=order, state=PickupPush.State.COLLECTED, lines=[line for line in lines if line.pk in taken])
    orders_status_refresh([order.pk])
    return handover


def _close(pickup: Pickup, *, stage: str, now) -> None:
    pickup.stage, pickup.closed_at = stage, now
    pickup.save(update_fields=["stage", "closed_at", "updated_at"])
