"""Where a source may send its credentials: its vendor's hosts over https, never an internal address.

Each adapter declares ``allowed_hosts`` (``*.myshopify.com``, ``api.hubapi.com`` …; ``None``
for Odoo, which a retailer hosts anywhere, so only a superuser may set its URL). A host
that is, or resolves to, a loopback, private, link-local or otherwise non-public address
is refused unless ``OMNIDESK_ALLOW_PRIVATE_SOURCES`` is on (the sandbox retailer, the demo,
the benchmarks and the tests run on 127.0.0.1; an on-premises ERP may need it too).
The check runs when a source is saved and again before every request (a paging link or a
DNS change cannot lead the token elsewhere).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

ENV_PREFIX = "OMNIDESK_SOURCE_"  # credentials_env may only name variables under this prefix


@dataclass(frozen=True)
class HostGuard:
    """``allowed``: host patterns (``*.example.com`` matches any subdomain); ``None`` allows any public host."""

    allowed: tuple[str, ...] | None

    def problem(self, url: str) -> str | None:
        """Why a request to ``url`` may not be sent, or None."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower().rstrip(".")
        except ValueError:
            return "the URL cannot be read"
        if parts.scheme not in ("http", "https") or not host:
            return "the URL needs http(s):// and a host"
        if is_internal(host):
            if settings.OMNIDESK_ALLOW_PRIVATE_SOURCES:
                return None
            return (
                f"{host} is a loopback or private address; sources may use one only with "
                "OMNIDESK_ALLOW_PRIVATE_SOURCES=true"
            )
        if parts.scheme != "https":
            return f"{host} must be reached over https"
        if self.allowed is not None and not any(_matches(host, pattern) for pattern in self.allowed):
            return f"{host} is not a host of this vendor's API (allowed: {', '.join(self.allowed)})"
        return None


def _matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def is_internal(host: str) -> bool:
    """True when the host is, or resolves to, an address that is not on the public internet."""
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            return True
        try:
            infos = socket.getaddrinfo(host, None)
        except (OSError, UnicodeError):
            return False  # not resolvable now: judged by its name; checked again before each request
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    return any(not address.is_global for address in addresses)


def private_sources_allow() -> None:
    """For the sandbox retailer (demo, benchmarks): sources on 127.0.0.1, here and in the processes started next."""
    settings.OMNIDESK_ALLOW_PRIVATE_SOURCES = True
    os.environ["OMNIDESK_ALLOW_PRIVATE_SOURCES"] = "true"
