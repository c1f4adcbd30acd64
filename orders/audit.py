"""The access log: an audit row for every view of a customer's personal data (who, what, when)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone

from .models import AccessLog, Customer, Order

POLL_WINDOW = timedelta(minutes=5)


def audit(
    user,
    action: str,
    *,
    customer_ids: Iterable[int | None] = (),
    order_id: int | None = None,
    page: str = "",
    poll: bool = False,
) -> AccessLog | None:
    """Record that ``user`` was shown these customers' data. Never the data itself, nor the search terms.

    ``poll``: a page that refreshes itself (the pickup board) writes one row while it keeps
    showing the same customers to the same user, not one every 30 s.
    """
    ids = sorted({cid for cid in customer_ids if cid})
    username = user.get_username()
    if (
        poll
        and AccessLog.objects.filter(
            username=username, action=action, page=page, customer_ids=ids, at__gte=timezone.now() - POLL_WINDOW
        ).exists()
    ):
        return None
    return AccessLog.objects.create(
        user=user if user.is_authenticated else None,
        username=username,
        action=action,
        customer_ids=ids,
        order_id=order_id,
        page=page[:200],
    )


class AdminAccessLogged:
    """A model admin mixin: its list and object pages write an access-log row (they show personal data).

    The row names the customers of the objects shown (the object itself, its ``customer``,
    or its order's customer); an upstream record (raw payload, dead letter) names only the page.
    """

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            audit(
                request.user,
                AccessLog.Action.ADMIN,
                customer_ids=_customers_of(changelist.result_list),
                page=request.path,
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        if response.status_code == 200 and original is not None:
            audit(request.user, AccessLog.Action.ADMIN, customer_ids=_customers_of([original]), page=request.path)
        return response


def _customers_of(objects) -> list[int]:
    """The customers whose data these objects carry, in at most one more query."""
    objects = list(objects)
    ids = [o.pk for o in objects if isinstance(o, Customer)]
    ids += [o.customer_id for o in objects if getattr(o, "customer_id", None)]
    order_ids = [o.order_id for o in objects if getattr(o, "order_id", None)]
    if order_ids:
        ids += Order.objects.filter(pk__in=order_ids).values_list("customer_id", flat=True)
    return ids
