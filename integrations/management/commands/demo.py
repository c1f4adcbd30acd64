"""`make demo`: migrate, demo users, the sandbox retailer, a first sync, then web + scheduler.

Uses whatever DATABASE_URL / REDIS_URL say: with neither, SQLite and tasks run
in-process (a scheduler thread stands in for Celery beat + worker); with REDIS_URL,
a real Celery worker and beat are started. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from celery.schedules import schedule as every_seconds
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from integrations.demo import demo_sources_ensure, demo_users_ensure
from integrations.hosts import private_sources_allow
from integrations.models import SyncRun
from integrations.sandbox import SandboxServer, World
from integrations.sandbox.generate import SHAPES
from integrations.sync import source_sync
from integrations.tasks import worker_queues
from omnidesk.celery import app


class Command(BaseCommand):
    help = "Run OmniDesk on the simulated retailer: migrate, demo users, sandbox, first sync, web + scheduler."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--sandbox-port", type=int, default=8800)
        parser.add_argument("--orders", type=int, default=2000, help="Size of the simulated retailer")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--shape",
            choices=SHAPES,
            default="varied",
            help="varied (default): the systems disagree the way real vendors do; standard: the bench's world",
        )
        parser.add_argument("--interval", type=int, default=60, help="Seconds between scheduled syncs")
        parser.add_argument("--setup-only", action="store_true", help="Stop after the first sync (no web server)")

    def handle(self, *args, **opts):
        say = self.stdout.write
        # Ctrl-C and `kill` both end the demo through the `finally` below, even when the
        # shell that started it ignores SIGINT (as it does for background jobs).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _terminate)
        private_sources_allow()  # the sandbox retailer serves on 127.0.0.1 (for the worker started below too)
        call_command("migrate", interactive=False, verbosity=0)
        say("✓ database migrated (" + settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1] + ")")
        logins = demo_users_ensure()

        world = World(
            orders=opts["orders"], seed=opts["seed"], now=datetime.now(UTC), realtime=True, shape=opts["shape"]
        )
        sandbox = SandboxServer(world, port=opts["sandbox_port"])
        sandbox_url = sandbox.start()
        say(f"✓ sandbox retailer with {opts['orders']} {opts['shape']} orders at {sandbox_url}")
        children: list[subprocess.Popen] = []
        try:
            sources = demo_sources_ensure(sandbox_url, interval_seconds=opts["interval"])
            for source in sources:
                run = source_sync(source_id=source.pk, trigger=SyncRun.Trigger.COMMAND)
                say("✓ first sync " + run.summary())
            if opts["setup_only"]:
                return
            if settings.CELERY_TASK_ALWAYS_EAGER:
                threading.Thread(target=_in_process_scheduler, args=(15.0,), daemon=True, name="scheduler").start()
                say("✓ scheduler running in-process (no REDIS_URL): due syncs every 15 s, flag detection every 5 min")
            else:
                celery = [sys.executable, "-m", "celery", "-A", "omnidesk"]
                os.makedirs(".demo", exist_ok=True)
                queues = ",".join(worker_queues())  # the default, webhook and every source's sync queue
                children.append(_spawn([*celery, "worker", "-Q", queues, "--loglevel=warning", "--concurrency=2"]))
                children.append(_spawn([*celery, "beat", "--loglevel=warning", "--schedule=.demo/beat"]))
                say("✓ Celery worker and beat started on " + settings.CELERY_BROKER_URL.split("@")[-1])
            url = f"http://127.0.0.1:{opts['port']}/"
            say("")
            say(f"OmniDesk is at {url}  (admin: {url}admin/)")
            for login in logins:
                say(f"   {login.role:<12} {login.username:<12} password: {login.password}")
            say("Ctrl-C stops everything.")
            call_command("runserver", f"127.0.0.1:{opts['port']}", use_reloader=False)
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
            sandbox.stop()


def _terminate(signum, frame):
    raise KeyboardInterrupt


def _spawn(args: list[str]) -> subprocess.Popen:
    """Start a child process from a fixed argument list (our own interpreter and Celery)."""
    return subprocess.Popen(args)  # noqa: S603


def _in_process_scheduler(every: float) -> None:
    """Beat + worker stand-in for the demo without Redis: runs every CELERY_BEAT_SCHEDULE entry on time.

    Tasks are eager without a broker, so calling them here runs them in this thread.
    """
    app.loader.import_default_modules()  # every app's tasks.py, as a worker would at start
    started, last_run = app.now(), {}
    while True:
        time.sleep(every)
        close_old_connections()
        for name in beat_due(settings.CELERY_BEAT_SCHEDULE, last_run, started=started):
            last_run[name] = app.now()
            try:
                app.tasks[settings.CELERY_BEAT_SCHEDULE[name]["task"]].apply()
            except Exception as exc:  # keep the demo alive; a sync's failure is recorded on its source
                print(f"scheduled {name} failed: {exc}", file=sys.stderr)


def beat_due(beat: dict, last_run: dict[str, datetime], *, started: datetime) -> list[str]:
    """The entries of a beat schedule due now: an interval (seconds) never run yet is due at once; any other
    Celery schedule (the nightly crontab) counts from ``started``, so it runs at its own time, not at start."""
    due = []
    for name, entry in beat.items():
        plan = entry["schedule"]
        if isinstance(plan, int | float):
            plan = every_seconds(run_every=timedelta(seconds=plan), app=app)
            if name not in last_run:
                due.append(name)
                continue
        if plan.is_due(last_run.get(name, started)).is_due:
            due.append(name)
    return due
