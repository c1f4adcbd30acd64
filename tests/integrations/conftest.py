"""The sandbox retailer over real HTTP, shared by the integration tests."""

from __future__ import annotations

import pytest
from django.conf import settings

from integrations.sandbox import SandboxServer, World
from integrations.services import source_upsert

SANDBOX_ORDERS = 2000


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


@pytest.fixture
def fast_http(monkeypatch):
    """Short timeouts and backoffs so fault-injection tests take seconds, not minutes."""
    monkeypatch.setattr(settings, "OMNIDESK_HTTP_TIMEOUT", 1.0)
    monkeypatch.setattr(settings, "OMNIDESK_HTTP_BACKOFF", 0.01)
    monkeypatch.setattr(settings, "OMNIDESK_HTTP_RETRIES", 6)
    monkeypatch.setattr(settings, "OMNIDESK_HTTP_MAX_RETRY_AFTER", 0.2)


def shopify_source_for(server, **credentials):
    source, _ = source_upsert(
        name="shopify",
        adapter="shopify",
        base_url=server.url("shopify"),
        credentials={
            "access_token": "shpat_sandbox",
            "webhook_secret": "shopify_webhook_secret",
            **credentials,
        },
        page_size=250,
    )
    return source


@pytest.fixture
def shopify_source(db, sandbox, fast_http):
    return shopify_source_for(sandbox)
