"""Which lines an order has: ONE rule, read by the agent's pane, the counter's checklist and the customer's messages.

A web order mirrored to the POS for pickup lists every item in both systems; an order the
ERP also holds lists them a third time. Showing or counting them all would double every
item, so every screen shows the lines of one system: the order's origin when it lists any,
else the most authoritative system that does (:data:`PRECEDENCE`: storefront, POS, ERP, …).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db.models import F

from ..models import Order, OrderLine

# Which system is the most authoritative about an order, by its kind: the correlation's field precedence
# (ingest/correlate.py), the order of the numbers on a pickup card, and the system whose lines are shown.
PRECEDENCE = {"storefront": 0, "pos": 1, "erp": 2, "crm": 3, "carrier": 4}


def lines_of(order: Order, lines: Iterable[OrderLine], kind_of: Mapping[int, str]) -> list[OrderLine]:
    """Of ``lines`` (the order's, from any system), those of the system the rule picks, in the order given.

    ``kind_of`` maps a line's ``source_id`` to its system's kind (``"storefront"``, ``"pos"``…).
    """
    by_source: dict[int, list[OrderLine]] = {}
    for line in lines:
        by_source.setdefault(line.source_id, []).append(line)
    if not by_source:
        return []
    if order.origin_source_id in by_source:
        return by_source[order.origin_source_id]
    best = min(by_source, key=lambda source_id: (PRECEDENCE.get(kind_of.get(source_id), 9), source_id))
    return by_source[best]


def order_lines(order: Order) -> list[OrderLine]:
    """The order's lines by :func:`lines_of`, read in one query (with where each line ships from)."""
    lines = list(
        order.lines.select_related("fulfilment_location").annotate(source_kind=F("source__kind")).order_by("id")
    )
    return lines_of(order, lines, {line.source_id: line.source_kind for line in lines})
