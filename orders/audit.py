"""The access log: an audit row for every view of a customer's personal data (who, what, when)."""

from __future__ import annotations

from collections.abc import Iterable

from .models import AccessLog


def audit(user, action: str, *, customer_ids: Iterable[int | None] = (), order_id: int | None = None) -> AccessLog:
    """Record that ``user`` was shown these customers' data. Never the data itself, nor the search terms."""
    return AccessLog.objects.create(
        user=user if user.is_authenticated else None,
        username=user.get_username(),
        action=action,
        customer_ids=sorted({cid for cid in customer_ids if cid}),
        order_id=order_id,
    )
