"""Encryption of upstream credentials at rest (Fernet, AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.OMNIDESK_CREDENTIALS_KEY
    if not key:
        digest = hashlib.sha256(("omnidesk-credentials:" + settings.SECRET_KEY).encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key)


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
