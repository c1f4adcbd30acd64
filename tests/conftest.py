"""Shared fixtures: personas, Celery in-process by default, the PostgreSQL check."""

from __future__ import annotations

import fcntl
import os

import pytest
from django.db import connection

from integrations.hosts import private_sources_allow
from integrations.sandbox import SandboxServer, World
from omnidesk.celery import app as celery_app

SANDBOX_ORDERS = 2000


def pytest_configure(config):
    # Tasks run in-process unless a test starts a real worker on Redis (tests/integrations/test_tasks.py, test_scale_out.py).
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    private_sources_allow()  # the sandbox retailer serves on 127.0.0.1 (here and in workers the tests start)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped test is a failure: a missing browser or service must not pass silently."""
    report = yield
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI: {report.longrepr}"
    return report


@pytest.fixture(autouse=True, scope="session")
def _postgres_in_ci(django_db_setup, django_db_blocker):
    """`make test` runs on PostgreSQL; in CI a silent fall-back to SQLite would be a lie."""
    if os.environ.get("CI") == "true":
        with django_db_blocker.unblock():
            assert connection.vendor == "postgresql", "CI must run the tests on PostgreSQL (set DATABASE_URL)"


@pytest.fixture
def postgresql_only():
    """For tests of what only PostgreSQL has (partitions, arrays, planner statistics): off it they skip
    locally and fail in CI, which runs on PostgreSQL."""
    if connection.vendor != "postgresql":
        if os.environ.get("CI") == "true":
            pytest.fail("this test needs PostgreSQL: set DATABASE_URL (make test does)")
        pytest.skip("a PostgreSQL-only test (set DATABASE_URL to run it)")


@pytest.fixture
def broker_alone(tmp_path_factory):
    """Hold the real broker alone for the test: a test that runs real Celery workers on Redis waits for any other.

    Their workers consume the same queues (``celery`` at least), so two such tests at once take each
    other's tasks. An exclusive lock on a file every xdist worker of this run shares, since
    ``--dist loadgroup`` cannot keep them apart: pytest 9.2 ignores the group suffix xdist 3.8 puts
    on test ids (``item._nodeid``), so an ``xdist_group`` mark no longer sends tests to one worker.
    """
    shared = tmp_path_factory.getbasetemp().parent  # pytest-N/, above each xdist worker's own popen-gwK/
    with open(shared / "broker.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def sandbox():
    """A 2,000-order world served on a free port for the whole session. Tests reset faults and corruption."""
    server = SandboxServer(World(orders=SANDBOX_ORDERS, seed=7))
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _sandbox_clean(request):
    yield
    if "sandbox" in request.fixturenames:
        server = request.getfixturevalue("sandbox")
        server.set_faults(rate=0)
        server.world.repair_all()
        server.world.counter_writes_forget()
