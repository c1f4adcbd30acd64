"""SquareAdapter: mapping against Square's own example payloads, fetching at the HTTP seam: the fixtures its tests share."""

from __future__ import annotations

import pytest

from integrations.adapters.square import (
    SquareAdapter,
)
from tests.vendor_fixtures import load

from ..helpers import make_adapter
from .support import (
    BASE,
    TOKEN,
)


@pytest.fixture
def vector() -> dict:
    return load("square", "webhook_signature_test_vector")


@pytest.fixture
def adapter(vector) -> SquareAdapter:
    return make_adapter(SquareAdapter, BASE, access_token=TOKEN, webhook_signature_key=vector["signature_key"])
