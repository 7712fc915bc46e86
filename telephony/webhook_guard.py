"""What a rejected webhook request may cost us: a per-client-IP limit and a small, truncated record.

Anyone on the internet can post to a webhook URL. A request with a wrong or missing secret keeps
only ``REJECTED_BODY_LIMIT`` bytes of body and a few harmless headers; once one client IP has been
rejected ``WEBHOOK_REJECTED_RATE_LIMIT`` times in ``WEBHOOK_REJECTED_RATE_WINDOW`` seconds, its
requests are answered 429 before the body is read or anything is written. The count lives in the
shared cache and degrades to this process when the cache is down (``crm.rate_limit``).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from crm.client_ip import client_ip
from crm.rate_limit import window_full, window_hit

#: A rejected request's body is kept only up to this many characters: enough to see what it was.
REJECTED_BODY_LIMIT = 256
#: The only headers a rejected request keeps (never a credential), each cut to 200 characters.
REJECTED_HEADERS = ("User-Agent", "Content-Type", "Content-Length")
FEATURE = "webhook rate limit"


def request_ip(request: HttpRequest) -> str | None:
    """The client's address (``crm.client_ip``, proxies accounted for), when it is one."""
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


def _key(scope: str, ip: str | None) -> str:
    return f"webhook-rejected:{scope}:{ip or 'unknown'}"


def _limits() -> dict[str, int]:
    return {
        "limit": getattr(settings, "WEBHOOK_REJECTED_RATE_LIMIT", 30),
        "window": getattr(settings, "WEBHOOK_REJECTED_RATE_WINDOW", 60),
    }


def rejected_wait(scope: str, ip: str | None) -> int | None:
    """Seconds this client must wait before it may be heard again (it was rejected too often), else None."""
    return window_full(_key(scope, ip), feature=FEATURE, **_limits())


def rejected_count(scope: str, ip: str | None) -> None:
    """Count one rejection of this client (all webhooks of ``scope`` share the count)."""
    limits = _limits()
    window_hit(_key(scope, ip), fallback_limit=limits["limit"], feature=FEATURE, **limits)


def rejected_headers(request: HttpRequest) -> dict[str, str]:
    """The few headers a rejected request keeps."""
    kept = {name: str(request.headers.get(name, ""))[:200] for name in REJECTED_HEADERS}
    return {name: value.replace("\x00", "") for name, value in kept.items() if value}


def retry_after(response: Any, wait: int) -> Any:
    response["Retry-After"] = str(wait)
    return response
