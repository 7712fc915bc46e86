"""System checks for settings that must never reach production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def bench_endpoints_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The benchmark endpoints check no secret and write to the call table: DEBUG only."""
    if getattr(settings, "BENCH_ENDPOINTS", False) and not settings.DEBUG:
        return [
            Error(
                "BENCH_ENDPOINTS is on while DEBUG is off.",
                hint="The /bench/ endpoints are unauthenticated and are not mounted with DEBUG off. "
                "Unset BENCH_ENDPOINTS; benchmarks run under bench.settings (make bench).",
                id="crm.E001",
            )
        ]
    return []
