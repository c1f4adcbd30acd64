"""`make bench` freshness part: how soon what happened upstream is on the agent's screen.

Webhooks: Shopify ``orders/updated`` and EasyPost ``tracker.updated`` events, built and
signed by the sandbox (``POST /_sandbox/webhooks``), POSTed at a steady rate to OmniDesk's
webhook endpoint (gunicorn, production profile) while every source's backfill runs (two
``manage.py sync`` lanes at the Celery worker's priority), and processed by a real Celery
worker on Redis. A delivery's ``received_at`` is stamped when the view accepts it and its
``processed_at`` in the same transaction that lands the record, so their difference is
"received → visible": the screens read the database on each request (nothing is cached).
Each processed event is then checked on the record an agent would open.

Polling sources: a change upstream is seen by the next run, which beat dispatches within
the source's interval plus the dispatch tick; the run itself is measured here as
incremental runs after the backfill, each after the sandbox's clock moved on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone

from integrations.crypto import credentials_key
from integrations.demo import demo_sources_ensure
from integrations.models import SyncRun, WebhookDelivery
from integrations.tasks import DEFAULT_QUEUE, WEBHOOK_QUEUE
from omnidesk.celery import app as celery_app
from orders.models import OrderRecord, Shipment

from .loadbench import _gunicorn, _production_env, _stop, _sync_lanes
from .lookup import percentile
from .syncbench import Figures, _source_sync_process, data_reset, database_url, die_with_parent, sandbox_process

WORKER_NAME = "freshness"
DISPATCH_TICK_SECONDS = 15  # beat's dispatch-due-syncs (settings.CELERY_BEAT_SCHEDULE)


@dataclass(frozen=True)
class FreshnessOptions:
    orders: int = 100_000  # the world the backfill syncs
    webhooks: int = 1_000  # half Shopify, half EasyPost
    rate: float = 5.0  # webhooks a second
    lanes: int = 2  # sources synced at once by the backfill
    web_workers: int = 2  # gunicorn workers receiving the webhooks
    worker_concurrency: int = 2  # Celery worker processes landing them


def bench_freshness(figures: Figures, options: FreshnessOptions, *, log=print) -> None:
    """Webhook received → visible while a backfill runs (p50/p95/max), and the polling sources' bound."""
    data_reset()
    with sandbox_process(orders=options.orders) as sandbox:
        sources = demo_sources_ensure(sandbox.url)
        hooks = _webhooks_built(sandbox.url, options.webhooks)
        log(f"freshness bench: {len(hooks)} webhooks over a backfill of {options.orders:,} orders …")
        url = database_url(connection.settings_dict["NAME"])
        env = {**_production_env(url), "OMNIDESK_CREDENTIALS_KEY": credentials_key()}
        with (
            _gunicorn(url, workers=options.web_workers, threads=1, env=env) as host,
            _celery_worker(env, options),
            _general_worker(env),
        ):
            with _sync_lanes(sources, url, lanes=options.lanes) as backfill:
                backfill.wait_started()
                sent = _webhooks_send(host, hooks, options.rate)
                sending_ended = time.monotonic()
                backfill_end = _backfill_wait(backfill)
            _deliveries_wait(len(sent))
        during = backfill_end >= sending_ended  # every webhook was sent while the backfill still ran
        _webhook_figures_add(figures, options, sent, during=during)
        _polling_figures_add(figures, sources, sandbox.url, {**os.environ, "DATABASE_URL": url}, log)


def _webhooks_built(base_url: str, count: int) -> list[tuple[str, dict]]:
    """``count`` signed webhooks from the sandbox, Shopify and EasyPost interleaved: ``[(source name, request)]``."""
    halves = {}
    for vendor in ("shopify", "easypost"):
        reply = requests.post(
            f"{base_url}/_sandbox/webhooks", json={"vendor": vendor, "count": count // 2, "seed": 15}, timeout=600
        )
        reply.raise_for_status()
        halves[vendor] = reply.json()["webhooks"]
    mixed = []
    for shop, carrier in zip(halves["shopify"], halves["easypost"], strict=False):
        mixed += [("shopify", shop), ("easypost", carrier)]
    return mixed


def _webhooks_send(host: str, hooks: list[tuple[str, dict]], rate: float) -> list[str]:
    """POST each webhook at its slot of a steady ``rate`` (four senders, as a vendor's retries overlap)."""
    started = time.monotonic()
    session = requests.Session()

    def send(slot: int) -> str:
        name, hook = hooks[slot]
        time.sleep(max(0.0, started + slot / rate - time.monotonic()))
        reply = session.post(
            f"{host}/webhooks/{name}/",
            data=hook["body"].encode(),
            headers={**hook["headers"], "X-Forwarded-Proto": "https"},
            timeout=30,
        )
        if reply.status_code != 200:
            raise RuntimeError(f"webhook {slot} ({name}) answered {reply.status_code}: {reply.text[:300]}")
        return reply.json()["status"]

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook") as pool:
        return list(pool.map(send, range(len(hooks))))


def _backfill_wait(backfill, timeout: float = 3600) -> float:
    """Let the backfill finish (its runs are the "under load" the figures are taken in); when it ended."""
    deadline = time.monotonic() + timeout
    while len(backfill.exits) < len(backfill.children):
        if time.monotonic() > deadline:
            raise RuntimeError("the backfill did not finish in an hour")
        time.sleep(0.5)
    return backfill.last_exit(time.monotonic())


def _deliveries_wait(count: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while WebhookDelivery.objects.filter(processed_at__isnull=False).count() < count:
        if time.monotonic() > deadline:
            waiting = WebhookDelivery.objects.filter(processed_at__isnull=True).count()
            raise RuntimeError(f"{waiting} webhooks were not processed within {timeout:.0f} s")
        time.sleep(0.5)


def _celery_worker(env: dict, options: FreshnessOptions):
    """A Celery worker for the ``webhooks`` queue at the web's CPU priority (as ``docs/scaling.md`` advises),
    for the block; the backfill runs at the sync workers' lower priority."""
    return _Running(
        _worker_command("webhooks", WEBHOOK_QUEUE, options.worker_concurrency),
        {**env, "OMNIDESK_WORKER_NICENESS": "0"},
        ready=lambda: _worker_answers("webhooks"),
    )


def _general_worker(env: dict):
    """The worker for the default queue (the rules over what each webhook touched), at the workers' priority."""
    return _Running(_worker_command("general", DEFAULT_QUEUE, 1), env, ready=lambda: _worker_answers("general"))


def _worker_command(name: str, queue: str, concurrency: int) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "omnidesk", "worker", "-Q", queue, "--concurrency", str(concurrency),
        "--loglevel", "WARNING", "--hostname", f"{WORKER_NAME}-{name}@{os.getpid()}", "--without-gossip",
        "--without-mingle",
    ]  # fmt: skip


def _worker_answers(name: str, timeout: float = 120) -> None:
    """Until the worker answers a ping: the webhooks are timed from when it can take them, not from its start-up."""
    deadline = time.monotonic() + timeout
    while not celery_app.control.ping(destination=[f"{WORKER_NAME}-{name}@{os.getpid()}"], timeout=1):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Celery worker {name} did not answer within {timeout:.0f} s")


class _Running:
    """Run ``command`` for the block; stop it after (a context manager that also kills it if the block fails)."""

    def __init__(self, command: list[str], env: dict, ready=None):
        self.command, self.env, self.ready = command, env, ready

    def __enter__(self) -> subprocess.Popen:
        self.child = subprocess.Popen(  # noqa: S603
            self.command, cwd=settings.BASE_DIR, env=self.env, stderr=subprocess.PIPE, preexec_fn=die_with_parent
        )
        threading.Thread(target=self.child.stderr.read, daemon=True).start()  # never let a full pipe block it
        if self.ready is not None:
            try:
                self.ready()
            except BaseException:
                _stop(self.child)
                raise
        return self.child

    def __exit__(self, *exc) -> None:
        _stop(self.child)


def _webhook_figures_add(figures: Figures, options: FreshnessOptions, statuses: list[str], *, during: bool) -> None:
    rows = list(
        WebhookDelivery.objects.values_list("source__adapter", "received_at", "processed_at", "raw_record__external_id")
    )
    lags = sorted((processed - received).total_seconds() for _, received, processed, _ in rows)
    shown = _visible_count(rows)
    figures.add(
        "fresh.webhooks", len(rows), "webhooks", f"{statuses.count('accepted')} accepted, at {options.rate:g}/s"
    )
    figures.add("fresh.during_backfill", int(during), "bool", "1: every webhook was sent while the backfill ran")
    for share, name in ((0.5, "p50"), (0.95, "p95"), (1.0, "max")):
        figures.add(
            f"fresh.webhook_{name}_s",
            percentile(lags, share) if lags else float("nan"),
            "s",
            "received → visible; target p95 ≤ 2 s",
        )
    figures.add("fresh.visible", shown, "records", f"of {len(rows)}: the order or parcel is there to open")


def _visible_count(rows) -> int:
    """How many processed events an agent can open: the storefront's order record, the carrier's parcel."""
    wanted = {"shopify": set(), "easypost": set()}
    for adapter, _, processed, external_id in rows:
        if processed is not None and adapter in wanted:
            wanted[adapter].add(external_id)
    orders = OrderRecord.objects.filter(source__adapter="shopify", external_id__in=wanted["shopify"]).count()
    parcels = Shipment.objects.filter(source__adapter="easypost", external_id__in=wanted["easypost"]).count()
    return orders + parcels


def _polling_figures_add(figures: Figures, sources, base_url: str, env: dict, log) -> None:
    """Each source's incremental run after the upstream clock moved on 10 minutes: the polling bound's variable part."""
    requests.post(f"{base_url}/_sandbox/clock", json={"advance_seconds": 600}, timeout=30).raise_for_status()
    slowest = 0.0
    for source in sources:
        started = timezone.now()
        if _source_sync_process(source, log, env):
            raise RuntimeError(f"the incremental sync of {source.name} failed (see above)")
        run = SyncRun.objects.filter(source=source, started_at__gte=started).latest("started_at")
        if run.status != SyncRun.Status.SUCCEEDED:  # skipped: another process was syncing it (a stray bench?)
            raise RuntimeError(f"the incremental sync of {source.name} did not run: {run.status}")
        seconds = run.duration.total_seconds()
        slowest = max(slowest, seconds)
        figures.add(f"fresh.poll.{source.name}_run_s", seconds, "s", f"incremental run, {run.fetched} records")
    interval = max(source.interval_seconds for source in sources)
    figures.add(
        "fresh.poll_bound_s",
        interval + DISPATCH_TICK_SECONDS + slowest,
        "s",
        f"change → visible at worst: interval {interval} s + dispatch tick {DISPATCH_TICK_SECONDS} s + slowest run",
    )
