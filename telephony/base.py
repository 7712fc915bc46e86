"""The provider interface that Call Karo and Acefone both implement, and its value types."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from django.http import HttpRequest


@dataclass(frozen=True)
class CallOptions:
    """What a caller may ask of a call. A provider raises ProviderUnsupported for what it can't do."""

    agent_id: str = ""
    schedule_at: datetime | None = None
    language: str = ""
    number_of_retries: int | None = None
    gap_between_retries: int | list[int] | None = None
    priority: int | None = None
    min_trigger_time: str = ""
    max_trigger_time: str = ""
    carry_over: bool | None = None
    batch_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlaceCallRequest:
    call_log_id: int
    lead_id: int
    to_number: str  # E.164 with '+'; each provider formats it at its edge
    team_member_id: int | None = None
    agent_number: str = ""  # the rep's own number or extension (Acefone rings it first)
    caller_id: str = ""
    options: CallOptions = field(default_factory=CallOptions)


@dataclass(frozen=True)
class PlaceCallResult:
    """The provider accepted the call. ``provider_call_id`` is empty when it gives none (Acefone)."""

    provider_call_id: str = ""
    message: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class CallEvent:
    """One normalised provider event. ``raw`` keeps everything the provider sent."""

    provider: str
    status: str
    raw_status: str = ""
    call_log_id: int | None = None
    provider_call_id: str = ""
    duration: int | None = None
    occurred_at: datetime | None = None
    try_count: int | None = None
    dedup_key: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


class TelephonyProvider(ABC):
    """A calling provider. The base class of each provider app's ``provider.py``.

    ``name`` keys its settings and its registry entry; ``call_log_model`` is the
    ``app_label.Model`` of its call log, a subclass of ``telephony.models.BaseCallLog``.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    call_log_model: ClassVar[str]
    supports_scheduling: ClassVar[bool] = False
    #: The provider's fragment on the calling settings page (``/callkaro-config/``); "" shows none.
    config_template: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        self.options = options

    def config_context(self) -> dict[str, Any]:
        """What ``config_template`` shows. The page asks every registered provider, so no app imports another."""
        return {}

    @abstractmethod
    def call_log_defaults(self, *, lead: Any, team_member: Any, options: CallOptions) -> dict[str, Any]:
        """Provider-specific fields of a new call log (agent, agent number …); may raise CallNotAllowed."""

    @abstractmethod
    def request_for(self, call_log: Any) -> PlaceCallRequest:
        """Rebuild the request from the stored row, so a dispatch in any process sends the same call."""

    @abstractmethod
    def place_call(self, request: PlaceCallRequest) -> PlaceCallResult:
        """Ask the provider to dial. Raises the errors in ``telephony.errors``."""

    @abstractmethod
    def parse_webhook(self, request: HttpRequest, payload: Any) -> list[CallEvent]:
        """Turn a provider webhook (already JSON-decoded into ``payload``) into events."""

    def cancel_call(self, *, call_log: Any) -> None:  # noqa: B027 - optional hook
        """Withdraw a call already handed to the provider (a scheduled one). Optional."""
        from .errors import ProviderUnsupported

        raise ProviderUnsupported(f"{self.label} cannot cancel a call", provider=self.name)
