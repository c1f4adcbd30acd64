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

from collections.abc import Iterable

from integrations.models import Source

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

# Rules that conclude from what no system reports (not delivered or ready, not paid, not refunded, not
# scanned) and the kinds of system that would report it. Absence only counts in a system OmniDesk has
# read completely at least once: while one of these has not finished its first sync, its facts may
# still be on their way (an onboarding that syncs the ERP first would otherwise flag, and tell, every
# customer whose delivery the storefront has not been read for yet), so the rule's verdicts are held:
# no flag of its code opens or closes until then. A source whose first sync has failed
# FIRST_SYNC_ATTEMPTS times in a row is broken, not on its way: it is waited for no longer, so a source
# added with wrong credentials cannot silence these flags for every order (sync health shows it failing).
FIRST_SYNC_ATTEMPTS = 3
ABSENCE_WITNESSES: dict[str, tuple[str, ...]] = {
    "phantom_order": (Source.Kind.ERP, Source.Kind.POS),
    "promise_at_risk": (Source.Kind.STOREFRONT, Source.Kind.POS, Source.Kind.ERP, Source.Kind.CARRIER),
    "promise_missed": (Source.Kind.STOREFRONT, Source.Kind.POS, Source.Kind.ERP, Source.Kind.CARRIER),
    "stuck_shipment": (Source.Kind.CARRIER,),
    "return_not_refunded": (Source.Kind.STOREFRONT, Source.Kind.POS),
    "payment_mismatch": (Source.Kind.STOREFRONT, Source.Kind.POS),
}


def rules_waiting(sources: Iterable[Source] | None = None) -> dict[str, list[str]]:
    """``{code: [source names]}``: the rules holding their verdicts until those sources' first sync has finished.

    ``sources``: every source, when the caller has them already (else they are read).
    """
    sources = Source.objects.filter(enabled=True, last_success_at__isnull=True) if sources is None else sources
    unread = [
        (s.name, s.kind)
        for s in sources
        if s.enabled and s.last_success_at is None and s.consecutive_failures < FIRST_SYNC_ATTEMPTS
    ]
    waiting = {}
    for code, kinds in ABSENCE_WITNESSES.items():
        names = sorted(name for name, kind in unread if kind in kinds)
        if names:
            waiting[code] = names
    return waiting


__all__ = ["ABSENCE_WITNESSES", "FIRST_SYNC_ATTEMPTS", "RULES", "Finding", "Rule", "rules_waiting", *RULES]
