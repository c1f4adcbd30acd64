"""Detection: run the rules, open, refresh and close flags, and keep their history in the timeline.

    rules (rules/: {code: {order_id: Finding}})
      -> flags_apply: open what started, refresh the evidence of what goes on, close what cleared
      -> store.flags_open / flags_close: race-safe, each with its timeline event (written once)

It runs at the end of every sync run for the orders the run touched (:func:`detect_after_run`,
a ``RUN_HOOKS`` entry), after each webhook's page (:func:`detect_after_page`, queued by ``PAGE_HOOKS``)
and every few minutes over every order
(``orders.tasks.detect_flags``) for what only time changes: a grace period running out.

A condition that goes on across syncs finds its flag open and only refreshes the evidence
when the facts changed: it never opens twice (``store.py`` says how opening and closing
stay exactly-once under concurrent workers).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from integrations.models import Source
from omnidesk.db import update_rows

from ..models import DetectionRule, Flag, Order
from .messaging import messages_auto_send
from .rules import RULES, Finding, rules_waiting
from .store import flags_close, flags_open

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLDS = {
    "phantom_order": timedelta(minutes=30),
    "unassigned": timedelta(hours=2),
    "stuck_shipment": timedelta(hours=48),
    "return_not_refunded": timedelta(days=7),
}
CLEARED = "the condition cleared"


@dataclass(frozen=True)
class RuleSetting:
    enabled: bool
    threshold: timedelta | None


@dataclass
class DetectionResult:
    opened: int = 0
    closed: int = 0
    still_open: int = 0
    updated: int = 0
    opened_ids: list[int] = field(default_factory=list, repr=False)
    # {code: [source names]}: rules whose verdicts were held, their flags left as they were (``rules_waiting``)
    waiting: dict[str, list[str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"opened": self.opened, "closed": self.closed, "still_open": self.still_open, "updated": self.updated}


def rule_settings() -> dict[str, RuleSetting]:
    """Each rule's supervisor setting; a rule without a row (or a threshold) runs with the default."""
    stored = {rule.code: rule for rule in DetectionRule.objects.all()}
    settings = {}
    for code in RULES:
        rule = stored.get(code)
        threshold = rule.threshold if rule is not None else None
        settings[code] = RuleSetting(
            enabled=rule.enabled if rule is not None else True,
            threshold=threshold if threshold is not None else DEFAULT_THRESHOLDS.get(code),
        )
    return settings


def detect(
    order_ids: Iterable[int] | None = None, now: datetime | None = None, codes: Collection[str] | None = None
) -> DetectionResult:
    """Evaluate the rules (``codes``, default all) over ``order_ids`` (``None``: every order) at ``now``.

    Opens a flag where a condition started, refreshes the evidence of open flags whose
    facts changed, closes open flags (of these orders and codes) whose condition cleared.
    A rule turned off by the supervisor finds nothing, so its open flags close. A rule that
    concludes from absence while a system that would report it has not finished its first
    sync is not run: its flags neither open nor close (``rules.ABSENCE_WITNESSES``).
    """
    now = now or timezone.now()
    scope = None if order_ids is None else sorted(set(order_ids))
    if scope == []:
        return DetectionResult()
    settings = rule_settings()
    waiting = rules_waiting()
    findings = {}
    for code in codes or RULES:
        if code in waiting:
            continue
        setting = settings[code]
        findings[code] = RULES[code](scope, now=now, threshold=setting.threshold) if setting.enabled else {}
    with transaction.atomic():
        result = flags_apply(findings, scope=scope, now=now)
    result.waiting = {code: sources for code, sources in waiting.items() if code in (codes or RULES)}
    if result.opened_ids:  # tell the customer where a supervisor turned automatic messages on
        messages_auto_send(result.opened_ids)
    return result


def flags_apply(findings: dict[str, dict[int, Finding]], *, scope: list[int] | None, now: datetime) -> DetectionResult:
    """Make the open flags of ``scope`` for these codes be exactly ``findings``."""
    current = Flag.objects.filter(closed_at__isnull=True, code__in=list(findings))
    if scope is not None:
        current = current.filter(order_id__any=scope)
    existing = {(order_id, code): (pk, evidence) for pk, order_id, code, evidence in current.values_list(
        "id", "order_id", "code", "evidence"
    )}  # fmt: skip
    held = _resolved_while_holding(findings, scope)
    # The order's number is part of every flag's facts: it changes when the storefront's record arrives
    # after the ERP's (``S00042`` becomes ``#1042``), and the detail quoting it must follow.
    numbers = dict(
        Order.objects.filter(pk__any=list({o for found in findings.values() for o in found})).values_list(
            "id", "number"
        )
    )
    new, changed = [], []
    for code, found in findings.items():
        for order_id, finding in found.items():
            flag = existing.get((order_id, code))
            evidence = {**finding.evidence, "order": numbers.get(order_id, "")}
            if flag is None and (order_id, code) in held:
                continue  # a person resolved it while the condition held: not reopened until it clears
            if flag is None:
                new.append({"order_id": order_id, "code": code, "detail": finding.detail, "evidence": evidence})
            elif flag[1] != evidence:
                changed.append({"id": flag[0], "detail": finding.detail, "evidence": evidence})
    cleared = [pk for (order_id, code), (pk, _) in existing.items() if order_id not in findings[code]]
    released = [pk for (order_id, code), pk in held.items() if order_id not in findings[code]]
    Flag.objects.filter(pk__any=released).update(resolved_while_holding=False)
    update_rows(Flag, changed, fields=["detail", "evidence"])
    opened = flags_open(new, now=now)
    closed = flags_close(cleared, now=now, reason=CLEARED)
    return DetectionResult(
        opened=len(opened),
        closed=closed,
        still_open=len(existing) - len(cleared),
        updated=len(changed),
        opened_ids=opened,
    )


def _resolved_while_holding(findings: dict, scope: list[int] | None) -> dict[tuple[int, str], int]:
    """``{(order_id, code): flag id}`` of flags a person resolved while their condition still held."""
    held = Flag.objects.filter(resolved_while_holding=True, code__in=list(findings))
    if scope is not None:
        held = held.filter(order_id__any=scope)
    return {(order_id, code): pk for pk, order_id, code in held.values_list("id", "order_id", "code")}


def detect_after_page(source_name: str, order_ids: Iterable[int]) -> None:
    """The rules over the orders a webhook's landed page touched, once it has committed (queued by
    ``orders.tasks.detect_after_page_queued``, the ``PAGE_HOOKS`` entry).

    A failure here is logged, not raised: the page is already committed and the periodic
    run (``orders.tasks.detect_flags``) evaluates these orders again.
    """
    order_ids = set(order_ids)
    if not order_ids:
        return
    try:
        detect(order_ids=order_ids)
    except Exception:
        logger.exception("detection after a page of %s failed", source_name)


def detect_after_run(source, order_ids: set[int]) -> None:
    """``RUN_HOOKS`` entry: the rules over every order a sync run touched, once, at its end.

    After a source's first complete sync, over every order: rules that held their verdicts
    until this source had been read (``rules.ABSENCE_WITNESSES``) may now conclude on orders
    this run did not touch. A failure is logged by the sync's ``_run_hooks``; the periodic
    run evaluates these orders again.
    """
    first_read = (
        source.last_success_at is None and Source.objects.filter(pk=source.pk, last_success_at__isnull=False).exists()
    )  # ``source`` is as the run found it; the run's success is recorded in the database only
    if first_read:
        detect()
    elif order_ids:
        detect(order_ids=order_ids)
