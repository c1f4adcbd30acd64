"""Load benchmark: 50 agents at once on the 1M-order database, without and then during a sync (``bench --only load``).

Served as in production: gunicorn (several workers), ``OMNIDESK_PROFILE=production``
(DEBUG off, WhiteNoise, collected static files). The load client (:mod:`tests.bench.loadusers`,
locust in its own process) plays the agents' browsers behind the TLS proxy production
has: it sends ``X-Forwarded-Proto: https``, so secure cookies and CSRF origin checks
behave as they do for a real browser.

Two measured phases of the same length, one after the other, the agents working
without a break: the baseline with nothing else running, then the same while a
sandbox retailer is synced over HTTP with the real adapters, two sources at a time
as a Celery worker with concurrency 2 runs them (``manage.py sync`` processes). The
sandbox is generated before the baseline, so only the sync itself loads phase two.

The load client is never imported here: locust monkey-patches whatever process imports
it for gevent, which breaks psycopg, threads and ssl already loaded.

The sync writes into a copy of the lookup database (``CREATE DATABASE … TEMPLATE``,
a file copy: 21–23 s for 1M orders here), under new source names, so the agents read and the
sync writes the same million orders while the lookup benchmark's data stays exactly as
generated (its reuse check counts orders); the copy is dropped at the end. The sandbox's
order numbers (``#1001`` …) and e-mails overlap the generated retailer's, so the sync
also re-attaches existing orders to the sandbox's customers: an agent who clicks such an
order a moment later is sent to its new customer's screen (``HX-Redirect``, followed as
htmx would). Any 404 left counts as an error, and is also counted apart.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.models import Sum

from integrations.demo import demo_sources_ensure
from integrations.models import Source, SyncRun
from omnidesk.celery import worker_priority_lower
from orders.models import Store
from orders.roles import AGENT

from . import benchdata
from .lookup import lookup_data_ensure
from .syncbench import Figures, database_url, sandbox_process, server_execute

SOURCE_PREFIX = "load-"  # the synced sandbox's sources, beside the generated retailer's own
SYNC_ORDER = ("odoo", "shopify", "square", "easypost", "hubspot")  # largest first, dealt to the lanes in turn
PROBES_PER_KIND = 50


@dataclass(frozen=True)
class LoadOptions:
    users: int = 50
    seconds: float = 60.0
    sandbox_orders: int = 50_000
    gunicorn_workers: int = 4
    gunicorn_threads: int = 1
    sync_lanes: int = 2
    think: tuple[float, float] = (1.0, 3.0)
    spawn_rate: float = 10.0
    board_every: int = 8  # tasks: the second of each round of this many polls a store's pickup board


def bench_load(
    figures: Figures, options: LoadOptions, *, orders: int = 1_000_000, customers: int = 300_000, log=print
) -> dict:
    """Run both phases; add per-kind and overall p50/p95/max, counts and errors to ``figures``; return the snapshots."""
    lookup_data_ensure(orders, customers, log)
    with _database_copy(log) as database_url:
        accounts = _agents_ensure(options.users)
        probes = [text for pairs in benchdata.probe_targets(n=PROBES_PER_KIND).values() for text, _ in pairs]
        log(f"load bench: sandbox of {options.sandbox_orders:,} orders, gunicorn, {options.users} agents …")
        with (
            sandbox_process(orders=options.sandbox_orders) as sandbox,
            _gunicorn(database_url, workers=options.gunicorn_workers, threads=options.gunicorn_threads) as host,
            _agents(host, accounts, probes, options) as agents,
        ):
            sources = demo_sources_ensure(sandbox.url, name_prefix=SOURCE_PREFIX)
            log(f"  baseline: {options.users} agents for {options.seconds:.0f} s, nothing else running")
            baseline = agents.measure(options.seconds)
            with _sync_lanes(sources, database_url, lanes=options.sync_lanes) as sync:
                sync.wait_started()
                fetched_before = sync.fetched()
                log(f"  during a sync: {options.users} agents for {options.seconds:.0f} s")
                started = time.monotonic()
                during = agents.measure(options.seconds)
                synced = sync.fetched() - fetched_before
                busy = min(sync.last_exit(default=time.monotonic()) - started, during["seconds"]) / during["seconds"]
    _figures_add(figures, options, baseline, during, synced=synced, busy=busy)
    for name, snap in (("baseline", baseline), ("during sync", during)):
        total = snap["total"]
        log(
            f"  {name}: {total['requests']} requests, p95 {total['p95_ms']} ms, max {total['max_ms']:.0f} ms, "
            f"{_errors(snap)} errors"
        )
        for problem in snap["errors"] + snap["exceptions"]:
            log(f"    {problem}")
    return {"baseline": baseline, "sync": during, "synced": synced, "sync_busy": busy}


def _figures_add(figures: Figures, options: LoadOptions, baseline: dict, during: dict, *, synced: int, busy: float):
    figures.add("load.users", options.users, "agents", f"think {options.think[0]:g}–{options.think[1]:g} s")
    figures.add(
        "load.gunicorn",
        options.gunicorn_workers,
        "workers",
        f"{options.gunicorn_threads} thread(s) each, OMNIDESK_PROFILE=production",
    )
    for phase, snap in (("baseline", baseline), ("during_sync", during)):
        note = "no sync running" if phase == "baseline" else "while a sandbox sync runs; target p95 ≤ 300 ms, 0 errors"
        total = snap["total"]
        figures.add(f"load.{phase}.seconds", snap["seconds"], "s")
        figures.add(f"load.{phase}.requests", total["requests"], "requests")
        figures.add(f"load.{phase}.requests_per_s", total["requests"] / snap["seconds"], "requests/s")
        figures.add(f"load.{phase}.errors", _errors(snap), "errors", "non-2xx/3xx, wrong page, or exception")
        figures.add(
            f"load.{phase}.errors_not_found",
            snap["not_found"],
            "errors",
            "of which 404s (a link the sync made stale that no redirect could mend)",
        )
        figures.add(f"load.{phase}.p50_ms", total["p50_ms"], "ms")
        figures.add(f"load.{phase}.p95_ms", total["p95_ms"], "ms", note)
        figures.add(f"load.{phase}.max_ms", total["max_ms"], "ms")
        for kind, entry in snap["kinds"].items():
            figures.add(f"load.{phase}.{kind}.requests", entry["requests"], "requests")
            figures.add(f"load.{phase}.{kind}.p50_ms", entry["p50_ms"], "ms")
            figures.add(f"load.{phase}.{kind}.p95_ms", entry["p95_ms"], "ms")
            figures.add(f"load.{phase}.{kind}.max_ms", entry["max_ms"], "ms")
    figures.add("load.sync.upstream_records", synced, "records", "fetched by the sync during the phase")
    figures.add("load.sync.records_per_s", synced / during["seconds"], "records/s")
    figures.add("load.sync.busy_pct", busy * 100, "%", "share of the phase a sync was running (100: all of it)")
    if baseline["total"]["p95_ms"]:
        figures.add(
            "load.sync_vs_baseline_p95_ratio",
            during["total"]["p95_ms"] / baseline["total"]["p95_ms"],
            "ratio",
            "p95 during the sync ÷ p95 without",
        )


def _errors(snap: dict) -> int:
    return snap["total"]["failures"] + sum(e["count"] for e in snap["exceptions"])


# --- the database the phases run on --------------------------------------------------------------------------
@contextmanager
def _database_copy(log) -> Iterator[str]:
    """Point Django at a file copy of this database for the block; yield the copy's URL; drop it afterwards."""
    params = connection.settings_dict
    original, copy = params["NAME"], f"{params['NAME'][:58]}_load"
    connection.close()  # a template database must have no other session:
    server_execute(  # nor an idle one left behind (a finished thread's); a busy one still stops the copy, loudly
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND state LIKE 'idle%%'",
        [original],
    )
    server_execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    started = time.perf_counter()
    server_execute(f'CREATE DATABASE "{copy}" TEMPLATE "{original}" STRATEGY FILE_COPY')
    log(f"load bench: copied the database in {time.perf_counter() - started:.0f} s")
    params["NAME"] = copy
    try:
        yield database_url(copy)
    finally:
        connection.close()
        params["NAME"] = original
        server_execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


def _agents_ensure(count: int) -> list[tuple[str, str]]:
    """``count`` agent accounts (one each: django-axes throttles sign-ins per username + IP), one shared password."""
    password = secrets.token_urlsafe(16)
    hashed = make_password(password)  # hashed once: PBKDF2 costs ~0.5 s a time
    group = Group.objects.get(name=AGENT)
    accounts = []
    for i in range(1, count + 1):
        user, _ = User.objects.update_or_create(username=f"load.agent{i:03d}", defaults={"password": hashed})
        user.groups.set([group])
        accounts.append((user.username, password))
    return accounts


# --- the processes --------------------------------------------------------------------------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _production_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "OMNIDESK_PROFILE": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",  # TLS ends at the proxy, which the load client plays
        "OMNIDESK_CREDENTIALS_KEY": Fernet.generate_key().decode(),  # the web server decrypts no credential here
        "EMAIL_HOST": "127.0.0.1",  # production wants a sending backend; searching and opening orders send nothing
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def _gunicorn(database_url: str, *, workers: int, threads: int, env: dict | None = None) -> Iterator[str]:
    """``gunicorn omnidesk.wsgi`` with the production profile (or ``env``) on a free port; yield its URL; stop it after."""
    env = env or _production_env(database_url)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=settings.BASE_DIR, env=env, check=True)  # noqa: S603
    port = _free_port()
    command = [
        sys.executable, "-m", "gunicorn", "omnidesk.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--threads", str(threads), "--worker-class", "gthread" if threads > 1 else "sync", "--timeout", "60",
        "--graceful-timeout", "5", "--log-level", "warning",
    ]  # fmt: skip
    child = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stderr=subprocess.PIPE)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{url}/accounts/login/", child, "gunicorn")
        yield url
    finally:
        _stop(child)


def _wait_until_up(url: str, child: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=10, headers={"X-Forwarded-Proto": "https"}).status_code < 500:
                return
        except requests.RequestException:  # not listening yet, or a worker still booting
            pass
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            raise RuntimeError(f"{what} did not start: " + child.stderr.read().decode()[-2000:])
        time.sleep(0.2)


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


class _Agents:
    """The load client process: ``measure(seconds)`` empties its statistics, waits, and returns them."""

    def __init__(self, child: subprocess.Popen):
        self.child = child

    def ask(self, command: str) -> dict:
        self.child.stdin.write(command + "\n")
        self.child.stdin.flush()
        return self.answer()

    def answer(self) -> dict:
        line = self.child.stdout.readline()
        if not line:
            raise RuntimeError(f"the load client ended (exit {self.child.wait()})")
        message = json.loads(line)
        if message["event"] == "failed":
            raise RuntimeError(f"the load client failed: {message['error']}; {message['errors']}")
        return message

    def measure(self, seconds: float) -> dict:
        self.ask("reset")
        time.sleep(seconds)
        return self.ask("snapshot")


@contextmanager
def _agents(host: str, accounts: list[tuple[str, str]], probes: list[str], options: LoadOptions) -> Iterator[_Agents]:
    """Start the agents (locust, :mod:`tests.bench.loadusers`); return once every one has signed in."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="omnidesk-load-") as plan:
        stores = list(Store.objects.filter(kind=Store.Kind.STORE).order_by("code").values_list("code", flat=True))
        given = {"accounts": accounts, "probes": probes, "stores": stores, "board_every": options.board_every}
        json.dump(given, plan)
        plan.flush()
        command = [
            sys.executable, "-m", "tests.bench.loadusers", "--host", host, "--plan", plan.name,
            "--think", str(options.think[0]), str(options.think[1]), "--spawn-rate", str(options.spawn_rate),
        ]  # fmt: skip
        pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
        child = subprocess.Popen(command, cwd=settings.BASE_DIR, **pipes)  # noqa: S603
        agents = _Agents(child)
        try:
            agents.answer()  # ready: everyone signed in (the plan file may go)
            yield agents
        finally:
            if child.poll() is None:
                child.stdin.close()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


class _SyncLanes:
    """``lanes`` ``manage.py sync`` processes, each syncing its share of the sources one after another.

    At the Celery worker's priority (``OMNIDESK_WORKER_NICENESS``), as production runs the sync.
    """

    def __init__(self, sources: list[Source], database_url: str, lanes: int):
        self.sources = sources
        ranked = sorted(sources, key=lambda s: SYNC_ORDER.index(s.adapter) if s.adapter in SYNC_ORDER else 9)
        env = {**os.environ, "DATABASE_URL": database_url}
        self.children = [
            subprocess.Popen(  # noqa: S603
                [sys.executable, "manage.py", "sync", *(s.name for s in ranked[lane::lanes])],
                preexec_fn=worker_priority_lower,
                cwd=settings.BASE_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for lane in range(lanes)
            if ranked[lane::lanes]
        ]
        self.exits: list[float] = []
        self.watchers = [threading.Thread(target=self._watch, args=(c,), daemon=True) for c in self.children]
        for watcher in self.watchers:
            watcher.start()

    def _watch(self, child: subprocess.Popen) -> None:
        child.wait()
        self.exits.append(time.monotonic())

    def fetched(self) -> int:
        return SyncRun.objects.filter(source__in=self.sources).aggregate(n=Sum("fetched"))["n"] or 0

    def wait_started(self, timeout: float = 120) -> None:
        """Until the first page has landed (the processes' start-up is not part of the phase)."""
        deadline = time.monotonic() + timeout
        while not self.fetched():
            if time.monotonic() > deadline or len(self.exits) == len(self.children):
                raise RuntimeError("the sync did not start: " + self._stderr())
            time.sleep(0.2)

    def last_exit(self, default: float) -> float:
        """When the last lane ended, or ``default`` if one is still running."""
        return max(self.exits) if len(self.exits) == len(self.children) else default

    def stop(self) -> None:
        for child in self.children:
            _stop(child)
        for watcher in self.watchers:
            watcher.join(timeout=5)

    def _stderr(self) -> str:
        return " / ".join(c.stderr.read().decode()[-1000:] for c in self.children if c.poll() is not None)


@contextmanager
def _sync_lanes(sources: list[Source], database_url: str, *, lanes: int) -> Iterator[_SyncLanes]:
    """Sync ``sources`` in the background for the block; whatever is still running at its end is stopped."""
    sync = _SyncLanes(sources, database_url, lanes)
    try:
        yield sync
    finally:
        sync.stop()
