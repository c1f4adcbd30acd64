"""Writes on the canonical model that people (or the correlation) decide: merging customers."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from . import events
from .models import Customer, CustomerIdentity, CustomerMerge, Note, Order, TimelineEvent

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
