"""The sync engine: pull a source page by page and land each page in one transaction.

    fetch(cursor) -> page of raw payloads                                  } the reader thread,
      -> canonical JSON + content hash, adapter.map (pure) -> typed records } a page ahead
      -> RawRecord (kept once per hash); bad records -> DeadLetter (reason + payload)
      -> orders.ingest (correlate + upsert)    -> timeline events (only on real change)
      -> source.cursor = page.cursor           (same transaction as the rows it covers)

A run killed at any point resumes from the last committed cursor: the page it was
on is fetched again and, upserts being idempotent, lands exactly once in effect.
The pure half of a page (:func:`page_prepare`) runs in the reader thread while the
page before it lands. Both threads share one interpreter lock, so this overlaps little of
the landing's own Python with PostgreSQL's work (measured: ``docs/scaling.md``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from psycopg.errors import DeadlockDetected, ForeignKeyViolation, SerializationFailure, UniqueViolation
from pydantic import ValidationError

from omnidesk.db import PlannerStats, copy_insert
from orders.ingest import IngestResult, ingest, orphans_settle
from orders.ingest.customers import CustomerMergedMeanwhile

from .adapters import Adapter, Page, adapter_for
from .http import TransportError
from .locks import landing_lock, source_lock
from .models import DeadLetter, RawRecord, Source, SyncRun

logger = logging.getLogger(__name__)

PAGE_HOOKS: list[Callable[[Source, IngestResult], None]] = []
# Called once at the end of a sync run with every order id its pages touched (detection runs
# there: once per run, set-based, rather than once per page of a long backfill).
RUN_HOOKS: list[Callable[[Source, set[int]], None]] = []
"""Called after each landed page commits (``transaction.on_commit``), e.g. to run the rules on touched orders."""


def payload_json(payload: Any) -> str:
    """The canonical JSON text of a payload: what is hashed and what is stored."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def payload_hash(payload: Any, text: str | None = None) -> str:
    return hashlib.sha256((text or payload_json(payload)).encode()).hexdigest()


@dataclass(frozen=True)
class PreparedPage:
    """A page's payloads with everything that needs no database worked out, in the payloads' order.

    ``failures`` holds ``(payload, content hash, reason)`` for each payload the adapter
    could not map; ``records`` the typed records of the others (frozen, so a page landed
    again after a lost race reuses them).
    """

    items: list[Any]
    texts: list[str]
    hashes: list[str]
    external_ids: list[str]
    records: list[Any]
    failures: list[tuple[Any, str, str]]


def page_prepare(adapter: Adapter, stream: str, items: Iterable[Any]) -> PreparedPage:
    """The pure half of landing a page: canonical JSON, content hashes, vendor ids and the adapter's mapping.

    Touches no database, so a sync run does it in its reader thread for the next page while
    the current one lands.
    """
    items = list(items)
    texts = [payload_json(item) for item in items]
    hashes = [payload_hash(item, text) for item, text in zip(items, texts, strict=True)]
    records, failures = [], []
    for item, digest in zip(items, hashes, strict=True):
        try:
            records.append(adapter.map(stream, item))
        except Exception as exc:  # any mapping failure dead-letters the record, never the page
            failures.append((item, digest, _reason(exc)))
    external_ids = [_external_id(adapter, stream, item) for item in items]
    return PreparedPage(items, texts, hashes, external_ids, records, failures)


def page_land(
    *,
    source: Source,
    adapter: Adapter,
    stream: str,
    page: PreparedPage,
    cursor: dict | None,
    run: SyncRun | None,
    now=None,
) -> IngestResult:
    """Store and ingest one prepared page (:func:`page_prepare`), and (when ``cursor`` is given) commit the
    stream's cursor with it."""
    now = now or timezone.now()
    with transaction.atomic():
        landing_lock(source.pk)
        _raw_records_store(source, stream, page, now)
        result = ingest(source=source, records=page.records, synced_at=now)
        _dead_letters_write(source, stream, page.failures, run)
        _dead_letters_resolve(source, stream, _mapped_external_ids(page), now)
        if cursor is not None:
            source.cursor = {**source.cursor, stream: cursor}
            Source.objects.filter(pk=source.pk).update(cursor=source.cursor)
        if run is not None:
            SyncRun.objects.filter(pk=run.pk).update(
                pages=F("pages") + 1,
                fetched=F("fetched") + len(page.items),
                created=F("created") + result.created,
                updated=F("updated") + result.updated,
                unchanged=F("unchanged") + result.unchanged,
                dead_lettered=F("dead_lettered") + len(page.failures),
                cursor_after=source.cursor,
            )
        if run is None:  # a webhook's event: act on it now; a sync run's pages are handled once, at its end
            _page_hooks_on_commit(source, result)
    return result


def _page_hooks_on_commit(source: Source, result: IngestResult) -> None:
    """Act on what a page landed outside a sync run (a webhook's event, a replayed dead letter) once it commits."""
    for hook in PAGE_HOOKS:
        transaction.on_commit(lambda hook=hook: hook(source, result))


def _reason(exc: Exception) -> str:
    """Why a record failed, naming fields but never their values (pydantic's ``input_value`` is personal data)."""
    if isinstance(exc, ValidationError):
        problems = exc.errors(include_url=False, include_input=False, include_context=False)
        text = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in problems)
    else:
        text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:4000]


def _raw_records_store(source: Source, stream: str, page: PreparedPage, now) -> None:
    """Keep every payload of the page once (by content hash).

    Only payloads not stored yet are written, straight into the table: the source's landing
    lock keeps other pages of the source out meanwhile; a webhook received at that moment may
    store the same payload (``webhook_receive``), and then the page's unique key fails and it is
    landed again (``_page_land_retrying``).
    """
    stored = set(
        RawRecord.objects.filter(source=source, content_hash__any=page.hashes).values_list("content_hash", flat=True)
    )
    rows = {}
    for digest, text, external_id in zip(page.hashes, page.texts, page.external_ids, strict=True):
        if digest not in stored:
            rows[digest] = {
                "source_id": source.pk,
                "stream": stream,
                "external_id": external_id,
                "content_hash": digest,
                "payload": text,
                "first_seen_at": now,
            }
    copy_insert(RawRecord, list(rows.values()))


def _external_id(adapter, stream, item) -> str:
    try:
        return (adapter.external_id(stream, item) or "")[:128]
    except Exception:  # a malformed payload may not even have an id
        return ""


def _dead_letters_write(source, stream, failures, run) -> None:
    """One open dead letter per failing payload: the same bad record fetched again is not lettered twice."""
    if not failures:
        return
    raws = {
        r.content_hash: r for r in RawRecord.objects.filter(source=source, content_hash__in=[d for _, d, _ in failures])
    }
    open_for = set(
        DeadLetter.objects.filter(raw_record__in=raws.values(), resolved_at__isnull=True).values_list(
            "raw_record_id", flat=True
        )
    )
    letters = []
    for item, digest, reason in failures:
        raw = raws[digest]
        logger.warning("dead letter: %s/%s/%s: %s", source.name, stream, raw.external_id or "?", reason)
        if raw.pk not in open_for:
            open_for.add(raw.pk)
            letters.append(
                DeadLetter(
                    source=source,
                    sync_run=run,
                    raw_record=raw,
                    stream=stream,
                    external_id=raw.external_id,
                    reason=reason,
                    payload=item,
                )
            )
    DeadLetter.objects.bulk_create(letters)


def _mapped_external_ids(page: PreparedPage) -> set[str]:
    """The vendor's ids of the payloads that mapped: what closes their open dead letters, which are kept under that
    id. Not the canonical rows' ids, which need not be the same (a Square count is lettered as
    ``variation:location``, its StockLevel is ``location:SKU``)."""
    failed = {digest for _, digest, _ in page.failures}
    return {ext for ext, digest in zip(page.external_ids, page.hashes, strict=True) if ext and digest not in failed}


def _dead_letters_resolve(source, stream, external_ids: set[str], now) -> None:
    """A payload that now maps (fixed upstream, or by an adapter fix) closes its open dead letters."""
    open_letters = DeadLetter.objects.filter(source=source, stream=stream, resolved_at__isnull=True)
    if external_ids and open_letters.exists():  # the usual case, no open letters, costs one index probe
        open_letters.filter(external_id__in=external_ids).update(resolved_at=now)


def source_sync(
    *,
    source_id: int,
    trigger: str = SyncRun.Trigger.SCHEDULE,
    adapter: Adapter | None = None,
    max_pages: int | None = None,
) -> SyncRun:
    """Pull every stream of one source from its cursor to the end. Never raises for upstream failures.

    Returns the run; a run that found another in progress is recorded as ``skipped``.
    ``max_pages`` stops early (used by tests that simulate a killed run).
    """
    source = Source.objects.get(pk=source_id)
    with source_lock(source.pk) as lock:
        if lock is None:
            return SyncRun.objects.create(
                source=source,
                trigger=trigger,
                status=SyncRun.Status.SKIPPED,
                finished_at=timezone.now(),
                cursor_before=source.cursor,
                cursor_after=source.cursor,
            )
        source.refresh_from_db()  # the cursor another run may have moved while we waited
        run = SyncRun.objects.create(
            source=source, trigger=trigger, cursor_before=source.cursor, cursor_after=source.cursor
        )
        Source.objects.filter(pk=source.pk).update(last_attempt_at=run.started_at)
        touched: set[int] = set()
        try:
            adapter = adapter or adapter_for(source)
            _streams_pull(source, adapter, run, lock, max_pages, touched)
            # Each page linked the orphans waiting for what it wrote; what raced another sync is linked here.
            touched |= orphans_settle()
        except TransportError as exc:
            return _run_failed(source, run, str(exc), touched)
        except Exception as exc:
            logger.exception("sync of %s failed", source.name)
            return _run_failed(source, run, _reason(exc), touched)
        run.refresh_from_db()
        run.status = SyncRun.Status.SUCCEEDED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        Source.objects.filter(pk=source.pk).update(
            last_success_at=run.finished_at, consecutive_failures=0, last_error=""
        )
        _run_hooks(source, touched)
        return run


def _run_hooks(source: Source, touched: set[int]) -> None:
    """The end of a run, even a failed one: its landed pages are committed and must be acted on."""
    for hook in RUN_HOOKS:
        try:
            hook(source, touched)
        except Exception:
            logger.exception("after the sync of %s: %s failed", source.name, getattr(hook, "__name__", hook))


def _streams_pull(
    source: Source, adapter: Adapter, run: SyncRun, lock, max_pages: int | None, touched: set[int]
) -> None:
    """Land every stream page by page, fetching and preparing the next page while the current one lands.

    The read-ahead uses the cursor the current page returned, which is exactly where
    the next run would resume: if landing fails, the prefetched page is simply dropped.
    Between pages the planner statistics of the tables being grown are kept current
    (``PlannerStats``), or each page's lookups slow down as the tables grow.
    """
    pages = 0
    stats = PlannerStats(_synced_tables())

    def fetched(stream: str, cursor: dict) -> tuple[Page, PreparedPage]:  # in the reader thread
        page = adapter.fetch(stream, cursor)
        return page, page_prepare(adapter, stream, page.items)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"fetch-{source.name}") as reader:
        for stream in adapter.streams:
            upcoming = reader.submit(fetched, stream, source.cursor.get(stream, {}))
            while upcoming is not None:
                page, prepared = upcoming.result()
                pages += 1
                more = page.has_more and (max_pages is None or pages < max_pages)
                upcoming = reader.submit(fetched, stream, page.cursor) if more else None
                result = _page_land_retrying(
                    source=source, adapter=adapter, stream=stream, page=prepared, cursor=page.cursor, run=run
                )
                touched.update(result.order_ids)
                lock.renew()
                stats.refresh()
            if max_pages is not None and pages >= max_pages:
                return


def _synced_tables() -> list[str]:
    """The tables a sync writes, whose planner statistics it keeps fresh while it grows them."""
    return [
        model._meta.db_table for app in ("orders", "integrations") for model in apps.get_app_config(app).get_models()
    ]


RETRYABLE = (DeadlockDetected, SerializationFailure, ForeignKeyViolation, UniqueViolation, CustomerMergedMeanwhile)


def _page_land_retrying(*, source, adapter, stream, page, cursor, run, attempts: int = 4) -> IngestResult:
    """Land a page; land it again when it lost a race with another source's sync.

    Two syncs can deadlock (PostgreSQL aborts one), one can merge away a customer the
    other's open page points at (the foreign key fails at commit), or a webhook can store
    the very payload the page is writing (its unique hash). A page is one
    transaction of idempotent upserts, so the aborted attempt left nothing and the next
    one resolves against the state the other sync committed.
    """
    for attempt in range(attempts):
        try:
            return page_land(source=source, adapter=adapter, stream=stream, page=page, cursor=cursor, run=run)
        except (OperationalError, IntegrityError, CustomerMergedMeanwhile) as exc:
            cause = exc if isinstance(exc, CustomerMergedMeanwhile) else exc.__cause__
            if attempt == attempts - 1 or not isinstance(cause, RETRYABLE):
                raise
            logger.info("page of %s/%s lost a race (%s); landing it again", source.name, stream, type(cause).__name__)
            time.sleep(0.05 * (attempt + 1))


def _run_failed(source: Source, run: SyncRun, error: str, touched: set[int]) -> SyncRun:
    run.refresh_from_db()
    run.status = SyncRun.Status.FAILED
    run.finished_at = timezone.now()
    run.error = error
    run.save(update_fields=["status", "finished_at", "error"])
    Source.objects.filter(pk=source.pk).update(
        last_error=error,
        last_error_at=run.finished_at,
        consecutive_failures=F("consecutive_failures") + 1,
    )
    logger.warning("sync of %s failed: %s", source.name, error)
    _run_hooks(source, touched)
    return run


def dead_letter_replay(*, dead_letter: DeadLetter, adapter: Adapter | None = None) -> bool:
    """Map and ingest a dead letter's payload again (after an adapter fix). True when it landed.

    It lands as a webhook's event does: under the source's landing lock (never interleaved
    with a page of a sync run), and the rules run on the orders it touched once it commits.
    """
    source = dead_letter.source
    adapter = adapter or adapter_for(source)
    now = timezone.now()
    DeadLetter.objects.filter(pk=dead_letter.pk).update(replay_count=F("replay_count") + 1, last_replayed_at=now)
    try:
        record = adapter.map(dead_letter.stream, dead_letter.payload)
    except Exception as exc:
        DeadLetter.objects.filter(pk=dead_letter.pk).update(reason=_reason(exc))
        return False
    with transaction.atomic():
        landing_lock(source.pk)
        result = ingest(source=source, records=[record], synced_at=now)
        DeadLetter.objects.filter(pk=dead_letter.pk).update(resolved_at=now)
        _page_hooks_on_commit(source, result)
    return True
