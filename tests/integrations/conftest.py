"""Fixtures of the integration tests (the sandbox itself is in tests/conftest.py, shared with the browser tests)."""

from __future__ import annotations

import pytest
from django.conf import settings

from integrations.sandbox import SandboxServer, World
from integrations.services import source_upsert


@pytest.fixture
def fast_http(monkeypatch):
    """Short timeouts and backoffs so fault-injection tests take seconds, not minutes."""
    monkeypatch.setattr(settings, "OMNIDESK_HTTP_TIMEOUT", 1.0)
    monkeypatch.setattr(settings, "OMNIDESK_HTTP_BACKOFF", 0.01)
    monkeypatch.setattr(settings, "OMNIDESK_HTTP_RETRIES", 6)
    monkeypatch.setattr(settings, "OMNIDESK_HTTP_MAX_RETRY_AFTER", 0.2)


@pytest.fixture(scope="module")
def varied():
    """The sandbox's varied world (the systems disagree as real vendors do), served for one module's tests."""
    server = SandboxServer(World(orders=160, seed=23, shape="varied"))
    server.start()
    yield server
    server.stop()


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
