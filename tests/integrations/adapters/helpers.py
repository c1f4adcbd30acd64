"""What the adapter tests share: adapters that never really sleep, UTC times, mocked answers.

Plain functions rather than fixtures: each test module keeps its own ``adapter`` fixture,
with its vendor's credentials, and builds it with :func:`make_adapter`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import responses

from integrations.adapters.base import Adapter

A = TypeVar("A", bound=Adapter)


class Sleeps(list):
    """A fake ``sleep`` that records what it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_adapter(cls: type[A], base_url: str, *, page_size: int = 2, **credentials: str) -> A:
    """An adapter with small pages whose HTTP client records its waits (:class:`Sleeps`) instead of sleeping."""
    adapter = cls(base_url=base_url, credentials=credentials, page_size=page_size)
    adapter.client.sleep = Sleeps()
    return adapter


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def mock_answer(url: str, body: Any, *, method: str = "GET", **kwargs: Any) -> None:
    """Mock one answer at ``url`` (in an active ``responses``): a ``str`` body as is, anything else as JSON."""
    if isinstance(body, str):
        responses.add(method, url, body=body, **kwargs)
    else:
        responses.add(method, url, json=body, **kwargs)
