"""Provider errors. Each tells the caller what it may do next: retry, show, or fix settings."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class TelephonyError(Exception):
    """Base of the errors a provider call can raise (configuration errors excepted)."""

    def __init__(self, message: str, *, provider: str = "", status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code


class ProviderUnavailable(TelephonyError):
    """The provider provably did not take the request (refused, 5xx, 429, breaker open).

    Safe to retry later, and the trigger for offering the other provider.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ProviderOutcomeUnknown(TelephonyError):
    """The request was sent but no answer came back (read timeout).

    The provider may be dialling. Mark the call ``unknown`` and never re-dial it.
    """


class ProviderRejected(TelephonyError):
    """The provider refused the request (4xx): bad key, unknown agent, bad number. Never retried."""

    def __init__(self, message: str, *, field: str = "", **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.field = field


class ProviderUnsupported(TelephonyError):
    """The provider cannot do what was asked (for example, schedule a call)."""


class ProviderConfigError(ImproperlyConfigured):
    """A key or setting is missing. Not a provider error, so a caught one cannot hide it."""
