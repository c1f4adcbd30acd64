"""The store counter: preparing, handing over and pushing a pickup, race-safe, scoped to the clerk's stores: the fixtures its tests share."""

from __future__ import annotations

import pytest

from .support import (
    _scene,
)


@pytest.fixture
def pushes(monkeypatch):
    """Pushes queued after commit, recorded instead of sent (the sandbox test sends them for real)."""
    queued = []
    monkeypatch.setattr("orders.counter.outbox._push_dispatch", queued.append)
    return queued


@pytest.fixture
def scene(db):
    return _scene()
