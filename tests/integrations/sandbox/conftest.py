"""A small sandbox world served over HTTP for each test module (no database needed)."""

from __future__ import annotations

import pytest
import requests

from integrations.sandbox import SandboxServer, World

from .walkers import SIZE


@pytest.fixture(scope="module")
def server():
    with SandboxServer(World(orders=SIZE, seed=7)) as running:
        yield running


@pytest.fixture(scope="module")
def truth(server):
    return server.world.truth()


@pytest.fixture
def http(server):
    """A keep-alive session; faults and corruption are undone after each test."""
    session = requests.Session()
    yield session
    session.close()
    server.set_faults(rate=0)
    server.world.repair_all()
    server.world.counter_writes_forget()


@pytest.fixture(scope="module")
def shopify_graphql(server):
    """POST a document to the sandbox's Shopify Admin GraphQL API; its whole answer (``data`` and any ``errors``)."""
    http = requests.Session()
    url = server.url("shopify") + "/graphql.json"

    def post(document: str, **variables) -> dict:
        headers = {"X-Shopify-Access-Token": "shpat_sandbox"}
        return http.post(url, json={"query": document, "variables": variables}, headers=headers).json()

    yield post
    http.close()
