"""Secrets at rest: MultiFernet over ``FIELD_ENCRYPTION_KEYS`` (newest first, so keys rotate)."""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """Stored ciphertext could not be read with any configured key. Never fall back to the raw value."""


@cache
def _fernet(keys: tuple[str, ...], secret_key: str, debug: bool) -> MultiFernet:
    if not keys:
        if not debug:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEYS is not set. Generate one with "
                '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.'
            )
        # Local development only: a key derived from SECRET_KEY.
        keys = (base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()).decode(),)
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY, settings.DEBUG)


def encrypt(plaintext: str) -> str:
    """Encrypt with the newest key."""
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with any configured key; raises DecryptionError rather than return ciphertext."""
    try:
        return _current().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError("Stored secret cannot be decrypted with the configured keys") from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key."""
    return _current().rotate(token.encode()).decode()


def mask(secret: str, visible: int = 4) -> str:
    """``••••3f9a``: enough to recognise a key, never enough to use it."""
    if not secret:
        return ""
    return "••••" + secret[-visible:] if len(secret) > visible else "••••"
