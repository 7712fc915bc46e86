"""Log redaction: credentials never reach a log line, even by accident."""

from __future__ import annotations

import logging
import logging.config
import re
import threading
from typing import Any

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
        _redact_record(record)
        return True


def _redact_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string must not break logging
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    return record


def record_redaction_install() -> None:
    """Redact every log record as it is made, whatever logger or handler it goes to.

    A filter sees only the records of the handler it is attached to; Django's ``django.server``
    handler, gunicorn's access log and logging's last-resort handler would each need their own.
    Wrapping the record factory covers them all, in every process that sets up Django.
    """
    current = logging.getLogRecordFactory()
    if getattr(current, "redacts_secrets", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _redact_record(current(*args, **kwargs))

    factory.redacts_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def logging_configure(config: dict[str, Any]) -> None:
    """``LOGGING_CONFIG``: redaction on every record first, then the project's ``LOGGING``."""
    record_redaction_install()
    logging.config.dictConfig(config)


class QuietForbiddenFilter(logging.Filter):
    """Drops the traceback of a 403 (``PermissionDenied``): the request line says all there is to say."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
