"""Writes on the canonical model that people (or the correlation) decide: merging customers, raising and
resolving flags, staff notes."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from . import events
from .detection import flags_close, flags_open
from .models import Customer, CustomerIdentity, CustomerMerge, Flag, Note, Order, TimelineEvent

MOVED = {"identities": CustomerIdentity, "orders": Order, "notes": Note, "events": TimelineEvent}


@transaction.atomic
def customer_merge(
    *, survivor_id: int, merged_ids: Iterable[int], key: str, source=None, by=None
) -> list[CustomerMerge]:
    """Fold customers into ``survivor_id``, recording each merge so it can be reversed."""
    merges = []
    for customer in Customer.objects.select_for_update().filter(pk__in=set(merged_ids) - {survivor_id}).order_by("id"):
        moved = {
            kind: list(model.objects.filter(customer=customer).values_list("id", flat=True))
            for kind, model in MOVED.items()
        }
        for kind, model in MOVED.items():
            model.objects.filter(pk__in=moved[kind]).update(customer_id=survivor_id)
        merge = CustomerMerge.objects.create(
            survivor_id=survivor_id,
            merged_customer_id=customer.pk,
            merged_snapshot={
                "name": customer.name,
                "email": customer.email,
                "phone": customer.phone,
                "loyalty_id": customer.loyalty_id,
            },
            key=key,
            source=source,
            by=by,
            moved=moved,
        )
        CustomerMerge.objects.filter(survivor=customer).update(survivor_id=survivor_id)  # earlier merges into it
        customer.delete()
        events.events_write([events.customers_merged(merge=merge)])
        merges.append(merge)
    return merges


@transaction.atomic
def customer_merge_reverse(*, merge: CustomerMerge, by) -> Customer:
    """Undo a merge: the merged customer comes back under its old id with what moved with it."""
    merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.reversed_at is not None:
        raise ValueError("this merge was already reversed")
    now = timezone.now()
    customer = Customer.objects.create(pk=merge.merged_customer_id, **merge.merged_snapshot)
    for kind, model in MOVED.items():
        model.objects.filter(pk__in=merge.moved.get(kind, []), customer_id=merge.survivor_id).update(
            customer_id=customer.pk
        )
    merge.reversed_at, merge.reversed_by = now, by
    merge.save(update_fields=["reversed_at", "reversed_by"])
    events.events_write([events.merge_reversed(merge=merge, customer_id=customer.pk)])
    return customer


def merge_blocked(a: int, b: int) -> bool:
    """A supervisor reversed a merge of these two: never merge them automatically again."""
    return CustomerMerge.objects.filter(
        reversed_at__isnull=False, survivor_id__in=(a, b), merged_customer_id__in=(a, b)
    ).exists()


@transaction.atomic
def flag_open(*, order_id: int, code: str, detail: str, evidence: dict | None = None, now=None) -> Flag:
    """Raise a flag on an order (a clerk marks a line missing), or return the one already open for that code.

    The same race-safe path as detection: never two open flags of one code on one order.
    A flag whose rule does not see the condition is closed by the next detection run (as
    is every flag of a rule a supervisor turned off): keep hand-raised codes to ones the
    rules also detect, as ``stock_shortfall`` detects the lines a clerk marked missing.
    """
    flags_open(
        [{"order_id": order_id, "code": code, "detail": detail, "evidence": evidence or {}}],
        now=now or timezone.now(),
    )
    return Flag.objects.get(order_id=order_id, code=code, closed_at__isnull=True)


@transaction.atomic
def flag_close(*, flag: Flag, reason: str, by=None, now=None) -> bool:
    """Resolve a flag by hand, with the reason in the timeline. False when it was already closed."""
    return flags_close([flag.pk], now=now or timezone.now(), reason=reason, by=by) == 1


@transaction.atomic
def note_write(*, customer: Customer | None, order: Order | None, author, body: str) -> Note:
    """A staff note on a customer or an order, and its timeline event, in one transaction."""
    note = Note.objects.create(customer=customer, order=order, author=author, body=body)
    events.events_write([events.note_added(note=note)])
    return note
