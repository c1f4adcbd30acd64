"""The only outbound HTTP seam: timeouts, retries with backoff, Retry-After, one error type.

Every adapter talks to its vendor through :class:`HttpClient`. Unit tests mock at this
seam with ``responses``; integration tests send real HTTP to the sandbox.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from django.conf import settings

from .hosts import HostGuard

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class TransportError(Exception):
    """An HTTP exchange that failed. ``permanent`` says whether retrying later can help."""

    def __init__(self, message: str, *, permanent: bool, status: int | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.status = status


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now_ts = time.time() if now is None else now
    return max(0.0, when.timestamp() - now_ts)


@dataclass
class HttpClient:
    """A ``requests.Session`` with OmniDesk's timeout and retry policy.

    Credentials go in ``headers`` and are never logged: log lines name only method,
    path and status.
    """

    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = field(default_factory=lambda: settings.OMNIDESK_HTTP_TIMEOUT)
    retries: int = field(default_factory=lambda: settings.OMNIDESK_HTTP_RETRIES)
    backoff: float = field(default_factory=lambda: settings.OMNIDESK_HTTP_BACKOFF)
    max_retry_after: float = field(default_factory=lambda: settings.OMNIDESK_HTTP_MAX_RETRY_AFTER)
    sleep: Any = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    attempts: int = 0  # total attempts made, for run statistics and tests
    guard: HostGuard | None = None  # where the credentials may go (a source's adapter; see hosts.py)

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send one request, retrying transient failures; raise :class:`TransportError` when done trying."""
        url = self.url(path)
        problem = self.guard.problem(url) if self.guard is not None else None
        if problem:
            raise TransportError(f"{method} {_path(url)} not sent: {problem}", permanent=True)
        headers = {**self.headers, **kwargs.pop("headers", {})}
        last_error: TransportError | None = None
        for attempt in range(self.retries + 1):
            self.attempts += 1
            wait: float | None = None
            try:
                response = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
            except (requests.Timeout, requests.ConnectionError) as exc:
                last_error = TransportError(f"{method} {_path(url)}: {type(exc).__name__}", permanent=False)
            else:
                if response.status_code < 400:
                    return response
                detail = f"{method} {_path(url)} answered HTTP {response.status_code}"
                if response.status_code not in RETRYABLE_STATUS:
                    raise TransportError(
                        _explain(detail, response.status_code),
                        permanent=True,
                        status=response.status_code,
                    )
                last_error = TransportError(detail, permanent=False, status=response.status_code)
                wait = parse_retry_after(response.headers.get("Retry-After"))
            if attempt == self.retries:
                break
            if wait is None:
                wait = self.backoff * (2**attempt) * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not crypto)
            wait = min(wait, self.max_retry_after)
            logger.info("retrying %s %s in %.2fs after: %s", method, _path(url), wait, last_error)
            self.sleep(wait)
        raise last_error  # type: ignore[misc]  (set on every failed attempt)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        return self.request("PUT", path, **kwargs)


def _path(url: str) -> str:
    """The URL without its query string, which may carry search terms or tokens."""
    return url.split("?", 1)[0]


def _explain(detail: str, status: int) -> str:
    if status in (401, 403):
        return f"{detail}: the credentials were refused (check the access token)"
    if status == 404:
        return f"{detail}: not found (check the source's base URL)"
    return detail


def utc_now() -> datetime:
    return datetime.now(UTC)
