"""Lenient readers for provider webhook values: numbers as strings, fields missing, zone-less times."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

#: Largest id a BigAutoField can hold; anything beyond is not one of ours.
MAX_ID = 2**63 - 1
#: Provider times before this are not calls of ours (year 0001 overflows once a zone is applied).
EARLIEST_PROVIDER_TIME = datetime(2000, 1, 1, tzinfo=UTC)
#: How far ahead of our clock a provider time may be (clock skew); beyond it the value is refused.
MAX_FUTURE_SKEW = timedelta(days=1)


class WebhookPayloadError(ValueError):
    """Valid JSON that is not an event we recognise (the view answers 400)."""


def as_int(value: Any) -> int | None:
    """``143``, ``"143"``, ``"143.0"`` → 143; anything else → None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number)


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"true", "yes", "1", "y"}:
            return True
        if text in {"false", "no", "0", "n"}:
            return False
    return None


def as_str(value: Any, limit: int | None = None) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    text = str(value).replace("\x00", "").strip()
    return text[:limit] if limit else text


def as_dict(value: Any) -> dict:
    """An object, or a JSON string holding one (some senders double-encode metadata)."""
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return _without_nul(value) if isinstance(value, dict) else {}


def _without_nul(value: Any) -> Any:
    """PostgreSQL's jsonb refuses U+0000 in strings; a provider's stray one must not fail the event."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def as_id(value: Any) -> int | None:
    """One of our row ids: a positive integer, possibly written as a string or ending a label."""
    if isinstance(value, str):
        match = re.search(r"(\d{1,19})\s*$", value)
        value = match.group(1) if match else None
    number = as_int(value)
    return number if number is not None and 0 < number <= MAX_ID else None


def as_datetime(value: Any, zone_name: str) -> datetime | None:
    """A provider time; one without a zone is read in ``zone_name`` (the provider's account zone).

    A time we cannot use (before 2000, more than ``MAX_FUTURE_SKEW`` ahead, year 9999) raises
    ``WebhookPayloadError``: the view answers 400 and stores the request as failed, instead of an
    overflow later turning into a 503 the sender retries for ever. Unreadable text stays ``None``.
    """
    text = as_str(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if not (EARLIEST_PROVIDER_TIME.year <= parsed.year < 9000):
        raise WebhookPayloadError(f"Time out of range: {text[:40]}")
    if timezone.is_naive(parsed):
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = timezone.get_default_timezone()
        parsed = parsed.replace(tzinfo=zone)
    if parsed < EARLIEST_PROVIDER_TIME:
        raise WebhookPayloadError(f"Time out of range: {text[:40]}")
    if parsed > timezone.now() + MAX_FUTURE_SKEW:
        raise WebhookPayloadError(f"Time in the future: {text[:40]}")
    return parsed


def link_schemes() -> tuple[str, ...]:
    """URL schemes a provider's link may have: ``https``; ``http`` too with the sandbox on."""
    return ("https", "http") if getattr(settings, "PROVIDER_SANDBOX", False) else ("https",)


def is_safe_url(value: Any) -> bool:
    """True for an absolute ``https`` URL (``http`` in the sandbox) with a host and no spaces or
    control characters: never ``javascript:``, ``data:`` or a relative path."""
    if not isinstance(value, str) or not value or len(value) > 2000:
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in link_schemes() and bool(parts.hostname)


def as_url(value: Any, limit: int = 500) -> str:
    """A recording or call link from a webhook: the URL when it is safe to render, else ``""``.

    The one gate for links from providers: anything else (``javascript:…``) stays only in the raw
    webhook body, as text, and never reaches a link or a media ``src``.
    """
    text = as_str(value)
    return text if len(text) <= limit and is_safe_url(text) else ""


def digits(value: Any) -> str:
    return re.sub(r"\D", "", as_str(value))


def stable_key(prefix: str, *parts: Any) -> str:
    """A short de-duplication key from normalised fields, identical for byte-different copies."""
    blob = json.dumps([as_str(p) if not isinstance(p, int | None) else p for p in parts], separators=(",", ":"))
    return f"{prefix}:{hashlib.sha256(blob.encode()).hexdigest()[:40]}"
