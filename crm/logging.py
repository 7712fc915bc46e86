"""Log redaction: credentials never reach a log line, even by accident."""

from __future__ import annotations

import logging
import re
import threading

_lock = threading.Lock()
_known_secrets: set[str] = set()

_PATTERNS = [
    re.compile(r"(?i)(x-api-key['\"]?\s*[:=]\s*['\"]?)([^'\"\s,}]+)"),
    re.compile(r"(?i)(bearer\s+)([A-Za-z0-9._\-+/=]+)"),
    re.compile(r"(?i)((?:token|secret|api_key|password)['\"]?\s*[:=]\s*['\"]?)([^'\"\s&,}]+)"),
]
MASK = "[redacted]"


def register_secret(value: str | None) -> None:
    """Remember a secret value so that any log line containing it is masked."""
    if value and len(value) >= 4:
        with _lock:
            _known_secrets.add(value)


def redact(text: str) -> str:
    """Mask registered secrets and credential-looking fragments in ``text``."""
    with _lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record's message with :func:`redact` before it is emitted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not break logging
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class QuietForbiddenFilter(logging.Filter):
    """Drops the traceback of a 403 (``PermissionDenied``): the request line says all there is to say."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
