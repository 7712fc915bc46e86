"""The provider interface that Call Karo and Acefone both implement, and its value types."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from django.apps import apps

from .errors import ProviderUnsupported


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
    #: False for an event that only informs (Call Karo's call_started, message_*, anything new): it is
    #: stored and answered 200, and changes no call or lead.
    changes_call: bool = True


class TelephonyProvider(ABC):
    """A calling provider: the base class of each provider app's ``provider.py``.

    The class is the only extension point of telephony (docs/architecture.md, "Extension points"):
    dialling, webhook parsing, stuck-call reconciliation, its call-log model, its labels and the
    provider a rep falls back to are all members here, found through ``TELEPHONY_PROVIDERS``.
    """

    #: The short name: keys ``TELEPHONY_PROVIDERS``, the URL namespace and stored rows.
    name: ClassVar[str]
    #: What a user reads, e.g. "Call Karo AI", "Acefone (human)".
    label: ClassVar[str]
    #: The label without its kind, e.g. "Call Karo AI", "Acefone" ("Call with Acefone instead").
    short_label: ClassVar[str]
    #: The kind of call, e.g. "AI" or "Human": a label, never a key.
    kind_label: ClassVar[str]
    #: ``app_label.Model`` of its call log, a subclass of ``telephony.models.BaseCallLog``.
    call_log_model: ClassVar[str]
    #: The provider's fragment on the calling settings page (``/callkaro-config/``); "" shows none.
    config_template: ClassVar[str] = ""
    #: The provider a rep is offered when this one is unavailable ("" for none).
    fallback_provider: ClassVar[str] = ""
    #: Whether a rep wraps up its calls (disposition, note, next step): true for calls a person makes.
    asks_wrap_up: ClassVar[bool] = False
    #: What the rep reads once the provider took the call, in place of the provider's own wording
    #: ("Originate successfully queued"); "" shows "<label>: <provider message>".
    started_message: ClassVar[str] = ""
    #: Automated (AI) calls obey the calling policy strictly: legal hours, countries, the gap between calls.
    places_ai_calls: ClassVar[bool] = False
    #: Relations ``request_for`` reads, joined when the dispatch loads the claimed row (one query).
    dial_related: ClassVar[tuple[str, ...]] = ("lead",)

    def call_log_class(self) -> type[Any]:
        """The call-log model class (``call_log_model`` resolved)."""
        return apps.get_model(self.call_log_model)

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
    def parse_webhook(self, payload: Any) -> list[CallEvent]:
        """Turn a webhook body (already JSON-decoded) into events; raises ``WebhookPayloadError``.

        Called once when the webhook arrives, and again only by ``reprocess_webhooks --reparse``.
        """

    @abstractmethod
    def webhook_secrets(self) -> list[str]:
        """Every webhook secret accepted now (several while one is being rotated)."""

    @abstractmethod
    def credentials_missing(self) -> str:
        """Why this provider cannot place a call as configured, or "" (a system check shows it)."""

    def reconcile_stuck_calls(self, *, call_logs: list[Any]) -> int:
        """Settle calls stuck without a final webhook from the provider's own records; returns how many changed.

        The default has no records to ask (Call Karo has no such endpoint): the caller marks them ``unknown``.
        """
        return 0

    def sandbox_webhook_url(self) -> str:
        """Where this provider's sandbox posts its webhooks, secret included; built in the worker, so the
        secret never travels in a Celery message. Only providers with a sandbox have one."""
        raise ProviderUnsupported("This provider has no sandbox", provider=self.name)

    def cancel_call(self, *, call_log: Any) -> None:  # noqa: B027 - optional hook
        """Withdraw a call already handed to the provider (a scheduled one). Optional."""
        raise ProviderUnsupported(f"{self.label} cannot cancel a call", provider=self.name)
