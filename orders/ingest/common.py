"""What every ingester shares: the result it reports, content hashes, id scoping."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from integrations import records as rec


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    events: int = 0
    order_ids: set[int] = field(default_factory=set)

    def merge(self, other: IngestResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.events += other.events
        self.order_ids |= other.order_ids


def record_hash(record: rec.Record) -> str:
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()


def latest_by_id(records):
    """One record per external id (the last one wins), keeping first-seen order."""
    return list({record.external_id: record for record in records}.values())


def scoped(order_external_id: str, child_external_id: str) -> str:
    """Child ids are only unique within their order in some systems (Square line uids)."""
    return f"{order_external_id}:{child_external_id}"


def split_changed(records, known_hashes: dict[str, str], hashes: dict[str, str]) -> tuple[list, list[str]]:
    """``(changed records, unchanged external ids)`` by content hash."""
    changed = [r for r in records if known_hashes.get(r.external_id) != hashes[r.external_id]]
    unchanged = [r.external_id for r in records if known_hashes.get(r.external_id) == hashes[r.external_id]]
    return changed, unchanged


def updated_before(updated_at: datetime | None, stored: datetime | None) -> bool:
    """A record that says it was last updated before the version already stored: an earlier look landing late
    (a page fetched before a webhook, landing after it). Unknown on either side is never older."""
    return None not in (updated_at, stored) and updated_at < stored
