"""Sessions end after 30 minutes without a request, and 12 hours after signing in, whichever comes first;
every time on a screen is shown in the zone its viewer chose; screens read from the replica, when there is one,
except just after their viewer wrote."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django_htmx.http import HttpResponseClientRedirect

from omnidesk.routers import REPLICA, replica_reads_allow, replica_reads_track
from orders.timezones import SESSION_KEY, viewer_zone_use

_SIGNED_IN = "omnidesk_signed_in"
_LAST_SEEN = "omnidesk_last_seen"
WROTE_AT = "omnidesk_wrote_at"  # when this session last wrote (time.time()): its next reads go to the primary
POLL_HEADER = "X-OmniDesk-Poll"  # sent by pages that refresh themselves (the pickup board): no activity
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class SessionIdleTimeoutMiddleware:
    """Log out a session idle for ``SESSION_IDLE_TIMEOUT`` s or older than ``SESSION_COOKIE_AGE`` s.

    Both are checked against timestamps in the session itself: the cookie's own expiry
    slides whenever the session is saved, so it cannot be the absolute cap. The last-seen
    time is written at most once a minute to spare the session store.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            signed_in = request.session.setdefault(_SIGNED_IN, now)
            last_seen = request.session.get(_LAST_SEEN, now)
            if now - last_seen > settings.SESSION_IDLE_TIMEOUT or now - signed_in > settings.SESSION_COOKIE_AGE:
                logout(request)
                response = redirect_to_login(request.get_full_path())
                return (
                    HttpResponseClientRedirect(response["Location"]) if request.headers.get("HX-Request") else response
                )
            polled = request.headers.get(POLL_HEADER) == "1"  # a screen refreshing itself is not a person
            if not polled and (now - last_seen >= 60 or _LAST_SEEN not in request.session):
                request.session[_LAST_SEEN] = now
        return self.get_response(request)


class ViewerTimeZoneMiddleware:
    """Times on this request's screens in the zone the signed-in person chose (kept in their session)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with viewer_zone_use(request.session.get(SESSION_KEY, "")):
            return self.get_response(request)


class ReplicaReadsMiddleware:
    """Let views marked ``replica_reads`` read from the replica, unless their viewer wrote a moment ago.

    A request that writes (a note, a handover, a resolve: any POST not marked as only reading,
    or any write the router saw) stamps its session; for ``OMNIDESK_REPLICA_STICKY_SECONDS``
    after that, the session's requests read the primary, so the redirect after a note never
    shows the screen without it. Other people's screens may show it a moment later: the
    replica's lag.

    Goes after the session, authentication and idle-timeout middleware: the session and the
    user are read before any view runs, on the primary whatever this decides, and the stamp
    it writes into the session on the way out is saved by ``SessionMiddleware`` after it.
    Removes itself when no replica is configured.
    """

    def __init__(self, get_response):
        if REPLICA not in connections:
            raise MiddlewareNotUsed("no replica database configured (DATABASE_REPLICA_URL)")
        self.get_response = get_response

    def __call__(self, request):
        with replica_reads_track() as reads:
            response = self.get_response(request)
        only_read = request.method in _SAFE_METHODS or getattr(request, "replica_reads_declared", False)
        if (reads.wrote or not only_read) and _signed_in(request):
            request.session[WROTE_AT] = time.time()
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        request.replica_reads_declared = request.method in getattr(view_func, "replica_reads", ())
        if request.replica_reads_declared and not _wrote_lately(request):
            replica_reads_allow()


def _signed_in(request) -> bool:
    """A person with a session (an API token has none to remember the write in)."""
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated and bool(request.session.session_key)


def _wrote_lately(request) -> bool:
    wrote_at = request.session.get(WROTE_AT)
    return wrote_at is not None and time.time() - wrote_at < settings.OMNIDESK_REPLICA_STICKY_SECONDS
