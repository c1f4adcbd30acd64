"""Suggested links: two customers who may be one person, shown to those who may settle it (never merged on a weak key)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q

from ..access import sees_every_store
from ..models import (
    Customer,
    CustomerIdentity,
    CustomerLink,
    Order,
)


@dataclass
class SuggestedLink:
    """A customer who may be this one (one unverified key shared), as the customer's screen shows it."""

    link: CustomerLink
    other: Customer
    kind: str  # "e-mail", "phone"
    value: str
    can_decide: bool
    systems: list[str]  # the systems that know the other customer
    orders: int  # how many orders the other customer has


KEY_LABELS = {"email": "e-mail", "phone": "phone", "loyalty": "loyalty id"}


def suggested_links(customer: Customer, user, *, verified) -> list[SuggestedLink]:
    """Open suggested links of the customer, for those who see every customer (agents, supervisors).

    A supervisor settles them; an agent only with the caller verified on this call, who can say
    whether the other record is theirs. Store staff see none: the other customer is not theirs to see.
    """
    if not sees_every_store(user):
        return []
    links = list(
        CustomerLink.objects.filter(Q(customer=customer) | Q(other=customer), decision=CustomerLink.Decision.OPEN)
        .select_related("customer", "other")
        .order_by("created_at", "id")
    )
    if not links:  # most customers: no permission or other customer to look up
        return []
    may = user.has_perm("orders.change_customerlink") or (
        verified is not None and user.has_perm("orders.view_customerlink")
    )
    others = {link.other_id if link.customer_id == customer.pk else link.customer_id for link in links}
    systems: dict[int, set[str]] = defaultdict(set)
    for cid, name in CustomerIdentity.objects.filter(customer__in=others).values_list("customer_id", "source__name"):
        systems[cid].add(name)
    orders = dict(
        Order.objects.filter(customer__in=others)
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    out = []
    for link in links:
        kind, _, value = link.key.partition(":")
        other = link.other if link.customer_id == customer.pk else link.customer
        out.append(
            SuggestedLink(
                link, other, KEY_LABELS.get(kind, kind), value, may, sorted(systems[other.pk]), orders.get(other.pk, 0)
            )
        )
    return out


def maybe_same_as(customer_ids: list[int], user) -> dict[int, list[int]]:
    """Per customer, the other customers an open suggested link says may be the same person (one query).

    For those who see every customer, as :func:`suggested_links`; store staff get nothing.
    """
    others: dict[int, list[int]] = {pk: [] for pk in customer_ids}
    if not customer_ids or not sees_every_store(user):
        return others
    links = CustomerLink.objects.filter(
        Q(customer__in=customer_ids) | Q(other__in=customer_ids), decision=CustomerLink.Decision.OPEN
    ).values_list("customer_id", "other_id")
    for one, other in links:
        for this, that in ((one, other), (other, one)):
            if this in others and that not in others[this]:
                others[this].append(that)
    return {pk: sorted(found) for pk, found in others.items()}
