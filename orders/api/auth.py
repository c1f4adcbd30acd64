"""API tokens: made once and shown once (only a digest is stored), read from ``Authorization: Token <token>``."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja.security import APIKeyHeader

from ..models import ApiToken

TOKEN_BYTES = 32
LAST_USED_EVERY = timedelta(minutes=1)  # write last_used_at at most this often per token


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(user) -> str:
    """A new token for ``user``; only its digest is stored, so this is the one time it can be read."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    ApiToken.objects.create(user=user, prefix=token[:8], digest=token_digest(token))
    return token


class TokenAuth(APIKeyHeader):
    """``Authorization: Token <token>``; a revoked token or an inactive user is refused."""

    param_name = "Authorization"
    openapi_description = (
        "`Authorization: Token <token>`; create one with `python manage.py create_api_token USERNAME`."
    )

    def authenticate(self, request: HttpRequest, key: str | None):
        scheme, _, token = (key or "").partition(" ")
        if scheme.lower() != "token" or not token.strip():
            return None
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(token.strip()), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if found is None:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


def signed_in_or_token(view):
    """The OpenAPI document is for integrators: a signed-in user or a valid token, else 401."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs):
        if request.user.is_authenticated or TokenAuth()(request) is not None:
            return view(request, *args, **kwargs)
        return JsonResponse({"detail": "Unauthorized"}, status=401)

    return guarded
