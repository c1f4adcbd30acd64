"""Sessions end after 30 minutes without a request, and 12 hours after signing in, whichever comes first;
every time on a screen is shown in the zone its viewer chose."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django_htmx.http import HttpResponseClientRedirect

from orders.timezones import SESSION_KEY, viewer_zone_use

_SIGNED_IN = "omnidesk_signed_in"
_LAST_SEEN = "omnidesk_last_seen"
POLL_HEADER = "X-OmniDesk-Poll"  # sent by pages that refresh themselves (the pickup board): no activity


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
