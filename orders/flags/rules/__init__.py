"""Detection rules: one small, set-based function per flag code.

Each rule reads the canonical model for a scope of orders (``order_ids``; ``None`` means
every order) at the clock ``now`` and returns ``{order_id: Finding}`` for the orders whose
condition holds. A rule runs a fixed handful of queries whatever the number of orders —
never one per order — so the same code serves the ~1,000 orders one sync page touched
and the whole table. The conditions are the product's (PRODUCT.md, and the docstring
of ``integrations/sandbox/truth.py``, which the sandbox test holds them to). Every age
comparison is strict: "older than the threshold".

A finding's ``evidence`` holds only facts (times, statuses, amounts, which system said
what), never an age relative to ``now``: a still-open flag is rewritten only when the
facts behind it change. Its ``detail`` says them in one human sentence, as they stood when
its evidence last changed (it may name an age then, "after 2 h"; the worklist shows how long it has
been open).
"""

from __future__ import annotations

from .common import Finding, Rule
from .delivery import delivery_exception, duplicate_shipment, promise_at_risk, promise_missed, stuck_shipment
from .fulfilment import phantom_order, stock_shortfall, unassigned
from .money import payment_mismatch, return_not_refunded

RULES: dict[str, Rule] = {
    "phantom_order": phantom_order,
    "unassigned": unassigned,
    "stock_shortfall": stock_shortfall,
    "stuck_shipment": stuck_shipment,
    "delivery_exception": delivery_exception,
    "promise_at_risk": promise_at_risk,
    "promise_missed": promise_missed,
    "return_not_refunded": return_not_refunded,
    "duplicate_shipment": duplicate_shipment,
    "payment_mismatch": payment_mismatch,
}

__all__ = ["RULES", "Finding", "Rule", *RULES]
