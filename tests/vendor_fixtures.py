"""Load the vendor payload fixtures under ``tests/fixtures/vendor/`` (attribution in its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VENDOR_FIXTURES = Path(__file__).parent / "fixtures" / "vendor"


def path(vendor: str, name: str) -> Path:
    return VENDOR_FIXTURES / vendor / (name if name.endswith(".json") else f"{name}.json")


def load(vendor: str, name: str) -> Any:
    """The decoded JSON of ``tests/fixtures/vendor/<vendor>/<name>.json``, a fresh copy each call."""
    return json.loads(path(vendor, name).read_text(encoding="utf-8"))
