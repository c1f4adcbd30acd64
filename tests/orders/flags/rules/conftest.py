"""Detection rules, one by one: the boundary of each threshold, the condition that closes each flag; and the: the fixtures its tests share."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from tests.factories import (
    SourceFactory,
    StoreFactory,
)

from .support import (
    NOW,
)


@pytest.fixture
def systems(db):
    """The five systems, each with a finished sync (so their silence about an order means something)."""
    return SimpleNamespace(
        shop=SourceFactory(name="shopify", kind="storefront", adapter="shopify"),
        pos=SourceFactory(name="square", kind="pos", adapter="square"),
        erp=SourceFactory(name="odoo", kind="erp", adapter="odoo", last_success_at=NOW - timedelta(days=1)),
        carrier=SourceFactory(name="easypost", kind="carrier", adapter="easypost"),
        store=StoreFactory(code="downtown", name="Downtown"),
    )
