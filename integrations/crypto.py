"""Encryption of upstream credentials at rest (Fernet, AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def credentials_key() -> str:
    """The key in use: ``OMNIDESK_CREDENTIALS_KEY``, else one derived from ``SECRET_KEY`` (development only)."""
    if settings.OMNIDESK_CREDENTIALS_KEY:
        return settings.OMNIDESK_CREDENTIALS_KEY
    digest = hashlib.sha256(("omnidesk-credentials:" + settings.SECRET_KEY).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _fernet() -> Fernet:
    return Fernet(credentials_key())


def encrypt_credentials(values: dict[str, str]) -> str:
    if not values:
        return ""
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt_credentials(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:  # key rotated without re-encrypting
        raise ValueError("stored credentials cannot be decrypted with the current OMNIDESK_CREDENTIALS_KEY") from exc
