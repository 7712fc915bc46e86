"""The one way to place a call, through any provider: create the log, claim it, then dial.

Our call-log row is the guard against dialling a customer twice (neither provider has an
idempotency key), so every step that dials first wins a conditional UPDATE on that row.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.logging import redact
from crm.models import Lead, TeamMember

from .base import CallOptions
from .breaker import breaker_for
from .dial_checks import dial_row, dial_skip_reason
from .eligibility import API, REASONS, REP_CLICK, call_eligibility
from .errors import (
    ProviderConfigError,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    ProviderUnsupported,
)
from .lead_timeline import NOT_DIALLED, dialled_times, lead_timeline_note, loaded_lead
from .registry import get_provider
from .status import FINAL_STATUSES, PENDING_STATUSES, CallStatus

logger = logging.getLogger("telephony.services")

E164 = re.compile(r"^\+[1-9]\d{1,14}$")


class CallNotAllowed(Exception):
    """The call was refused before anything was stored or dialled; ``code`` says why."""

    CODES = frozenset({"do_not_call", "in_flight", "invalid_number", "not_configured", *REASONS})

    def __init__(
        self, message: str, *, code: str, next_allowed_at: Any = None, needs_confirmation: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.next_allowed_at = next_allowed_at
        self.needs_confirmation = needs_confirmation


@dataclass
class CallPlaceOutcome:
    """What happened to a call. ``unavailable``: the provider (or its breaker) did not take it, and
    ``fallback`` names the provider to offer instead (its ``fallback_provider``), if any."""

    call_log: Any
    provider: str
    ok: bool
    status: str
    message: str
    fallback: str | None = None
    unavailable: bool = False


@dataclass
class _DispatchResult:
    status: str
    message: str = ""
    unavailable: bool = False


#: Eligibility reason codes under the names callers of ``call_place`` already know.
LEGACY_CODES = {"no_number": "invalid_number"}


def _e164(lead: Lead) -> str:
    phone = lead.phone
    if not phone:
        return ""
    if hasattr(phone, "is_valid") and not phone.is_valid():
        return ""
    number = phone.as_e164 if hasattr(phone, "as_e164") else str(phone)
    return number if E164.match(number or "") else ""


def _require_eligible(lead: Lead, *, provider: str, user: Any, purpose: str, at: Any, confirmed: bool) -> None:
    """The shared eligibility rule, or CallNotAllowed; a rep's call then supersedes a pending one."""
    answer = call_eligibility(lead=lead, provider=provider, user=user, purpose=purpose, at=at, confirmed=confirmed)
    if not answer.allowed:
        raise CallNotAllowed(
            answer.message,
            code=LEGACY_CODES.get(answer.reason_code, answer.reason_code),
            next_allowed_at=answer.next_allowed_at,
            needs_confirmation=answer.needs_confirmation,
        )
    if purpose in (REP_CLICK, API):
        from .scheduled import lead_pending_calls_supersede

        lead_pending_calls_supersede(lead_id=lead.pk, reason="Superseded by a rep's call")


def call_place(
    *,
    provider: str,
    lead: Lead,
    team_member: TeamMember | None,
    options: CallOptions = CallOptions(),  # noqa: B008 - frozen dataclass, safe as a default
    log_fields: dict | None = None,
    dispatch: str = "sync",
    purpose: str = REP_CLICK,
    user: Any = None,
    confirmed: bool = False,
) -> CallPlaceOutcome:
    """Store the call, then dial it now (``sync``, a rep's click), later (``async``) or when due (scheduled).

    Raises CallNotAllowed before storing anything when the eligibility rule says no. A rep's call
    (``rep_click``/``api``) supersedes the lead's pending scheduled or campaign call.
    """
    if dispatch not in {"sync", "async"}:
        raise ValueError("dispatch must be 'sync' or 'async'")
    backend = get_provider(provider)
    model = backend.call_log_class()
    scheduled = options.schedule_at is not None and options.schedule_at > timezone.now()

    with transaction.atomic():
        # Locking the lead serialises concurrent clicks on the same lead (PostgreSQL; SQLite
        # serialises writers itself), so the in-flight check below cannot race.
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        _require_eligible(
            locked,
            provider=provider,
            user=user,
            purpose=purpose,
            at=options.schedule_at if scheduled else None,
            confirmed=confirmed,
        )
        to_number = _e164(locked)
        try:
            fields = dict(backend.call_log_defaults(lead=locked, team_member=team_member, options=options))
        except ProviderConfigError as exc:
            raise CallNotAllowed(str(exc), code="not_configured") from None
        metadata_extra = fields.pop("metadata_extra", {})
        fields.update(log_fields or {})
        call_log = model.objects.create(
            lead=locked,
            team_member=team_member,
            to_number=to_number,
            status=CallStatus.SCHEDULED if scheduled else CallStatus.QUEUED,
            scheduled_at=options.schedule_at if scheduled else None,
            **fields,
        )
        call_log.metadata_sent = {
            **options.metadata,
            **metadata_extra,
            "call_log_id": call_log.pk,
            "lead_id": locked.pk,
        }
        call_log.save(update_fields=["metadata_sent"])
        if not scheduled and dispatch == "async":
            from .tasks import call_dispatch_task

            transaction.on_commit(lambda: call_dispatch_task.delay(provider, call_log.pk))

    return _placed(
        backend, call_log, provider=provider, scheduled_at=options.schedule_at if scheduled else None, dispatch=dispatch
    )


def _placed(backend: Any, call_log: Any, *, provider: str, scheduled_at: Any, dispatch: str) -> CallPlaceOutcome:
    """Dial a stored call now (``sync``) or leave it queued or scheduled; the outcome as the caller sees it."""
    fallback, unavailable = None, False
    if scheduled_at is not None:
        message = f"Call scheduled for {timezone.localtime(scheduled_at):%d %b %H:%M}"
    elif dispatch == "async":
        message = "Call queued"
    else:
        # The row is committed (or we are inside the caller's transaction): dial now, so the
        # rep sees the answer to the click.
        result = _dispatch(provider=provider, call_log_id=call_log.pk, interactive=True)
        message, unavailable = result.message, result.unavailable
        if unavailable:
            fallback = backend.fallback_provider or None
    call_log.refresh_from_db()
    ok = call_log.status not in {CallStatus.FAILED, CallStatus.CANCELLED, CallStatus.UNKNOWN}
    return CallPlaceOutcome(
        call_log=call_log,
        provider=provider,
        ok=ok,
        status=call_log.status,
        message=message or call_log.get_status_display(),
        fallback=fallback,
        unavailable=unavailable,
    )


def call_dispatch(*, provider: str, call_log_id: int, interactive: bool = False) -> str:
    """Claim a queued call and dial it. Safe to run twice: the second run finds nothing to claim.

    Non-interactive (a worker): when the provider is unavailable the claim is undone and the
    call rescheduled, then ProviderUnavailable is raised so a campaign can pause.
    """
    return _dispatch(provider=provider, call_log_id=call_log_id, interactive=interactive).status


def _dispatch(*, provider: str, call_log_id: int, interactive: bool) -> _DispatchResult:
    """Claim (one UPDATE), load the row with what the checks and the request read (one SELECT), dial,
    then one UPDATE for the result: three queries for a dial that goes out, and a fourth when it is the
    lead's first (its call timeline, ``telephony.lead_timeline``; the claim's time is the dial time)."""
    backend = get_provider(provider)
    model = backend.call_log_class()
    now = timezone.now()
    claimed = model.objects.filter(pk=call_log_id, status=CallStatus.QUEUED).update(
        status=CallStatus.DISPATCHING, dispatched_at=now, updated_at=now
    )
    if not claimed:
        current = model.objects.filter(pk=call_log_id).values_list("status", flat=True).first()
        logger.info("%s call %s not claimed (status %s)", provider, call_log_id, current)
        return _DispatchResult(status=current or "")

    call_log = dial_row(model, call_log_id, related=backend.dial_related)
    if call_log is None:  # deleted (with its lead) since the claim
        return _DispatchResult(status="")
    result = _dial(provider, backend, model, call_log, interactive=interactive)
    if result.status and result.status not in NOT_DIALLED:
        # The lead's first dial (a 4th query, once per lead and provider kind); later dials see it on the row.
        times = dialled_times(provider=provider, at=now)
        lead_timeline_note(lead_id=call_log.lead_id, times=times, known=loaded_lead(call_log))
    return result


def _dial(provider: str, backend: Any, model: Any, call_log: Any, *, interactive: bool) -> _DispatchResult:
    """The pre-dial checks, the provider's request and the result's one UPDATE, for a claimed row."""
    call_log_id = call_log.pk
    reason = dial_skip_reason(call_log)
    if reason:
        _finish(model, call_log_id, status=CallStatus.CANCELLED, skip_reason=reason[:200])
        return _DispatchResult(status=CallStatus.CANCELLED, message=f"Not dialled: {reason}")

    breaker = breaker_for(provider)
    if not breaker.allow_request():
        exc = ProviderUnavailable(f"{backend.label} is unavailable (too many recent failures)", provider=provider)
        return _unavailable(model, call_log, backend.label, exc, interactive=interactive, cooldown=breaker.cooldown)
    try:
        result = backend.place_call(backend.request_for(call_log))
    except ProviderUnavailable as exc:
        breaker.record_failure()
        return _unavailable(model, call_log, backend.label, exc, interactive=interactive, cooldown=breaker.cooldown)
    except ProviderOutcomeUnknown as exc:
        message = redact(str(exc))
        _finish(model, call_log_id, status=CallStatus.UNKNOWN, error_message=message)
        logger.warning("%s call %s outcome unknown: %s", provider, call_log_id, message)
        return _DispatchResult(status=CallStatus.UNKNOWN, message=f"{message}. It will not be re-dialled.")
    except (ProviderRejected, ProviderUnsupported, ProviderConfigError) as exc:
        return _refused(model, call_log, provider, backend, breaker, exc, interactive=interactive)

    breaker.record_success()
    status = _started(model, call_log_id, result)
    started = backend.started_message or f"{backend.label}: {result.message or 'call started'}"
    return _DispatchResult(status=status, message=started)


def _refused(
    model: Any, call_log: Any, provider: str, backend: Any, breaker: Any, exc: Exception, *, interactive: bool
) -> _DispatchResult:
    """The provider (or our config) refused the call: held when blocked on our side, else failed."""
    if not interactive and _held_when_blocked(model, call_log, provider, exc):
        return _DispatchResult(status=CallStatus.SCHEDULED, message=f"Held: {exc}")
    if isinstance(exc, ProviderRejected):
        breaker.record_success()  # it answered: it is up
    message = redact(getattr(exc, "message", "") or str(exc))
    _finish(model, call_log.pk, status=CallStatus.FAILED, error_message=message)
    if isinstance(exc, ProviderRejected):
        from .outcomes import provider_dnd_refusal

        provider_dnd_refusal(call_log=call_log, provider=provider, message=message)
    return _DispatchResult(status=CallStatus.FAILED, message=f"{backend.label} refused the call: {message}")


def _started(model: Any, call_log_id: int, result: Any) -> str:
    """The provider took the call: one UPDATE moves it to ``initiated`` with the provider's id.

    When a fast webhook already moved the status on, the id is still saved (a second UPDATE, rare).
    """
    provider_call_id = result.provider_call_id or None
    fields: dict[str, Any] = {}
    if provider_call_id:
        fields["provider_call_id"] = Coalesce(F("provider_call_id"), Value(provider_call_id))
    moved = model.objects.filter(pk=call_log_id, status=CallStatus.DISPATCHING).update(
        status=CallStatus.INITIATED, initiated_at=timezone.now(), raw_status=(result.message or "")[:60], **fields
    )
    if moved:
        return CallStatus.INITIATED
    if provider_call_id:
        model.objects.filter(pk=call_log_id, provider_call_id__isnull=True).update(provider_call_id=provider_call_id)
    return model.objects.values_list("status", flat=True).get(pk=call_log_id)


def blocking_reason(provider_label: str, exc: Exception) -> str:
    """Why calls cannot go on until a person fixes our side (credentials, agent, switch), or ""."""
    if isinstance(exc, ProviderConfigError):
        return f"{provider_label}: {exc}"
    status = getattr(exc, "status_code", None)
    if isinstance(exc, ProviderRejected) and status in (401, 403):
        return f"{provider_label} refused our credentials (HTTP {status}): check the API key"
    if isinstance(exc, ProviderRejected) and status == 404 and "agent" in (exc.message or "").lower():
        return f"{provider_label}: the agent no longer exists ({exc.message})"
    return ""


def _held_when_blocked(model: Any, call_log: Any, provider: str, exc: Exception) -> bool:
    """A worker's dial blocked on our side: held for later (scheduled again) when a receiver takes it."""
    from .signals import call_blocked

    reason = blocking_reason(get_provider(provider).label, exc)
    if not reason:
        return False
    answers = call_blocked.send(
        sender=type(get_provider(provider)), provider=provider, call_log=call_log, reason=reason
    )
    if not any(held for _, held in answers):
        return False
    model.objects.filter(pk=call_log.pk, status=CallStatus.DISPATCHING).update(
        status=CallStatus.SCHEDULED, dispatched_at=None, error_message=redact(reason)[:500], updated_at=timezone.now()
    )
    return True


def _finish(model: Any, call_log_id: int, *, status: str, **fields: Any) -> None:
    """Leave ``dispatching`` for an outcome, unless a webhook already moved the call on."""
    model.objects.filter(pk=call_log_id, status=CallStatus.DISPATCHING).update(
        status=status, updated_at=timezone.now(), **fields
    )


def _unavailable(
    model: Any, call_log: Any, label: str, exc: ProviderUnavailable, *, interactive: bool, cooldown: float
) -> _DispatchResult:
    message = redact(exc.message or str(exc))
    if interactive:
        text = f"{message.rstrip('.') or label + ' is unavailable'}. No call was placed."
        _finish(model, call_log.pk, status=CallStatus.FAILED, error_message=text)
        return _DispatchResult(status=CallStatus.FAILED, message=text, unavailable=True)
    # A worker's call is never lost: put it back for the scheduler, later.
    delay = exc.retry_after if exc.retry_after is not None else min(cooldown * 2**call_log.dispatch_attempts, 3600)
    model.objects.filter(pk=call_log.pk, status=CallStatus.DISPATCHING).update(
        status=CallStatus.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(seconds=max(delay, 1)),
        dispatch_attempts=F("dispatch_attempts") + 1,
        dispatched_at=None,
        error_message=message,
        updated_at=timezone.now(),
    )
    raise ProviderUnavailable(message, provider=exc.provider, status_code=exc.status_code, retry_after=exc.retry_after)


def call_cancel(*, provider: str, call_log: Any) -> None:
    """Cancel a call not yet dialled; withdraw one already handed to the provider.

    A call handed over (with a schedule, or with the provider's own retries pending) is withdrawn
    at the provider (TelephonyError if it cannot be); a call only we know of that is being dialled
    right now cannot be stopped (CallNotAllowed, code ``in_flight``).
    """
    backend = get_provider(provider)
    model = backend.call_log_class()
    now = timezone.now()
    if model.objects.filter(pk=call_log.pk, status__in=PENDING_STATUSES).update(
        status=CallStatus.CANCELLED, ended_at=now, updated_at=now
    ):
        call_log.refresh_from_db()
        return
    call_log.refresh_from_db()
    if call_log.provider_call_id or call_log.status == CallStatus.INITIATED:
        backend.cancel_call(call_log=call_log)
        if call_log.scheduled_at and call_log.scheduled_at > now:
            model.objects.filter(pk=call_log.pk, status=CallStatus.INITIATED).update(
                status=CallStatus.CANCELLED, ended_at=now, updated_at=now
            )
            call_log.refresh_from_db()
        return
    if call_log.status in FINAL_STATUSES or call_log.status == CallStatus.UNKNOWN:
        return
    raise CallNotAllowed("The call is already being dialled and cannot be cancelled", code="in_flight")
