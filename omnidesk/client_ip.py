"""The client's address for login throttling (axes), behind ``OMNIDESK_PROXY_COUNT`` trusted reverse proxies.

With no proxy (the default) it is ``REMOTE_ADDR`` and ``X-Forwarded-For`` is ignored: anyone
can write that header, so trusting it would let an attacker pick a fresh address for every
guess (or lock a colleague out). Behind ``n`` proxies, each appending the address it saw,
the client is the ``n``-th address from the right of ``X-Forwarded-For``; what the client
itself put further left is never read.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.OMNIDESK_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < count:
        return remote  # not through all the proxies: the address that reached us is all we know
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
