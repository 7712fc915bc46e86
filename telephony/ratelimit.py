"""How often one user may start calls: a fixed window per user in the shared cache (every worker sees it).

With the cache down the count falls back to this process under ``CALL_START_FALLBACK_LIMIT`` (smaller:
each web process counts on its own), so calling goes on through the database path, never a 500.
"""

from __future__ import annotations

from django.conf import settings

from crm.rate_limit import window_hit


def call_start_rate_limited(user_id: int) -> int | None:
    """Count one call start; returns the seconds to wait when the user is over the limit, else None."""
    limit, window = settings.CALL_START_RATE_LIMIT, settings.CALL_START_RATE_WINDOW
    fallback = getattr(settings, "CALL_START_FALLBACK_LIMIT", max(1, limit // 3))
    return window_hit(
        f"callstart:{user_id}", limit=limit, window=window, fallback_limit=fallback, feature="call starts"
    )
