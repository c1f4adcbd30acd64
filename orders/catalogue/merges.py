"""One person, one customer: merging customers (by the correlation's trusted evidence or a supervisor), reversing
a merge, and settling a suggested link. Every merge is recorded with what moved, so it can be undone."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Customer, CustomerIdentity, CustomerLink, CustomerMerge, Note, Order, TimelineEvent
from ..timeline import events

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
            model.objects.filter(pk__any=moved[kind]).update(customer_id=survivor_id)
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
        links = _links_moved(customer.pk, survivor_id)
        customer.delete()
        CustomerLink.objects.bulk_create(links, ignore_conflicts=True)
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
        model.objects.filter(pk__any=merge.moved.get(kind, []), customer_id=merge.survivor_id).update(
            customer_id=customer.pk
        )
    merge.reversed_at, merge.reversed_by = now, by
    merge.save(update_fields=["reversed_at", "reversed_by"])
    events.events_write([events.merge_reversed(merge=merge, customer_id=customer.pk)])
    return customer


def _links_moved(merged_id: int, survivor_id: int) -> list[CustomerLink]:
    """The merged customer's suggested links, re-drawn from the survivor (none to itself)."""
    moved = []
    for link in CustomerLink.objects.filter(Q(customer_id=merged_id) | Q(other_id=merged_id)):
        ends = {survivor_id if end == merged_id else end for end in (link.customer_id, link.other_id)}
        if len(ends) == 2:
            a, b = sorted(ends)
            moved.append(
                CustomerLink(
                    customer_id=a, other_id=b, key=link.key, source_id=link.source_id, decision=link.decision,
                    decided_by_id=link.decided_by_id, decided_at=link.decided_at, created_at=link.created_at,
                )
            )  # fmt: skip
    return moved


def merge_blocked(a: int, b: int) -> bool:
    """A supervisor reversed a merge of these two, or said they are not the same person: never merge them."""
    return (
        CustomerMerge.objects.filter(
            reversed_at__isnull=False, survivor_id__in=(a, b), merged_customer_id__in=(a, b)
        ).exists()
        or CustomerLink.objects.filter(
            customer_id=min(a, b), other_id=max(a, b), decision=CustomerLink.Decision.REJECTED
        ).exists()
    )


@transaction.atomic
def customer_link_decide(*, link: CustomerLink, same_person: bool, by) -> Customer:
    """Settle a suggested link: the same person (merged, the older customer surviving) or not (never again).

    Returns the customer the caller's screen should show next.
    """
    link = CustomerLink.objects.select_for_update().get(pk=link.pk)
    if link.decision != CustomerLink.Decision.OPEN:
        raise ValueError("this suggestion was already settled")
    if same_person:
        customer_merge(survivor_id=link.customer_id, merged_ids=[link.other_id], key=f"confirmed {link.key}", by=by)
        return Customer.objects.get(pk=link.customer_id)
    link.decision, link.decided_by, link.decided_at = CustomerLink.Decision.REJECTED, by, timezone.now()
    link.save(update_fields=["decision", "decided_by", "decided_at"])
    return link.customer
