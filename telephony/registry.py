"""Maps a provider's short name to its class, from ``settings.TELEPHONY_PROVIDERS`` (like CACHES).

This is the one registry: everything a provider does is a member of its class (``telephony.base``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from .base import TelephonyProvider
from .errors import ProviderConfigError


def provider_names() -> list[str]:
    return list(settings.TELEPHONY_PROVIDERS)


@cache
def _provider_class(name: str) -> type[TelephonyProvider]:
    try:
        entry = settings.TELEPHONY_PROVIDERS[name]
    except KeyError:
        raise ProviderConfigError(f"No calling provider named {name!r} in TELEPHONY_PROVIDERS") from None
    return import_string(entry["BACKEND"])


def get_provider(name: str) -> TelephonyProvider:
    """A fresh provider instance; it reads its credentials when it is used, not at import."""
    return _provider_class(name)()


def providers() -> list[TelephonyProvider]:
    """Every configured provider, in settings order."""
    return [get_provider(name) for name in provider_names()]


def call_log_model(name: str) -> type[Any]:
    """The call-log model of a provider (raises ProviderConfigError for an unknown name)."""
    return get_provider(name).call_log_class()


def provider_choices() -> list[tuple[str, str]]:
    return [(name, _provider_class(name).label) for name in provider_names()]
