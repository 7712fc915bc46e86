"""Applying a normalised provider event to its call log: matched, locked, and forward only.

A duplicate, late or out-of-order event never moves a call back; it may still fill in what the
log lacks (a transcript that came later). A newer provider try (``try_count``) is a new attempt
of the same call and supersedes the older try's outcome.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import attempts, calls
from .base import CallEvent
from .event_json import event_from_json, event_to_json
from .models import BaseCallLog, ProviderWebhookEvent
from .payload import MAX_ID, WebhookPayloadError
from .registry import call_log_model, get_provider, providers
from .status import FINAL_STATUSES, CallStatus, can_transition

logger = logging.getLogger(__name__)
Outcome = ProviderWebhookEvent.Outcome

#: Fields an event's extras may never write through the generic path.
_PROTECTED = {
    "id",
    "lead",
    "team_member",
    "to_number",
    "status",
    "raw_status",
    "provider_call_id",
    "duration_seconds",
    "error_message",
    "metadata_sent",
    "dispatch_attempts",
    "scheduled_at",
    "created_at",
    "dispatched_at",
    "initiated_at",
    "answered_at",
    "ended_at",
    "updated_at",
    "try_count",
    "attempt",
    "retry_of",
    "campaign",
    "agent",
    "tries",
}
#: How far before a provider's start time our log may have been created (matching by number).
MATCH_WINDOW_BEFORE = timedelta(minutes=30)
MATCH_WINDOW_AFTER = timedelta(minutes=5)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _match(model: type[BaseCallLog], event: CallEvent) -> int | None:
    """Our id from the metadata, else the provider's call id, else the number and time."""
    if event.call_log_id is not None and 0 < event.call_log_id <= MAX_ID:
        if model.objects.filter(pk=event.call_log_id).exists():
            return event.call_log_id
    if event.provider_call_id:
        pk = model.objects.filter(provider_call_id=event.provider_call_id).values_list("pk", flat=True).first()
        if pk is not None:
            return pk
    number, when = event.extras.get("match_number") or "", event.extras.get("match_time")
    if len(number) >= 8 and when is not None:
        candidates = model.objects.filter(
            Q(provider_call_id__isnull=True) | Q(provider_call_id=""),
            to_number__endswith=number[-10:],
            created_at__gte=when - MATCH_WINDOW_BEFORE,
            created_at__lte=when + MATCH_WINDOW_AFTER,
        )
        agent = event.extras.get("match_agent_number") or ""
        if agent and any(f.name == "agent_number" for f in model._meta.fields):
            preferred = candidates.filter(agent_number__endswith=agent[-10:])
            if preferred.exists():
                candidates = preferred
        return candidates.order_by("-created_at").values_list("pk", flat=True).first()
    return None


def _fit(log: BaseCallLog, name: str, value: Any) -> Any:
    field = log._meta.get_field(name)
    if isinstance(value, str) and getattr(field, "max_length", None):
        return value[: field.max_length]
    return value


def _apply_to_log(log: BaseCallLog, event: CallEvent) -> tuple[bool, list[str]]:
    """Mutate ``log`` for ``event``; returns (advanced, changed field names)."""
    try:
        status = CallStatus(event.status)
    except ValueError:
        status = CallStatus.UNKNOWN
    # Every try's report is kept first (telephony.attempts): nothing below overwrites without a trace.
    changed: list[str] = ["tries"] if attempts.attempt_record(log, event) else []
    new_try = hasattr(log, "try_count") and event.try_count is not None and event.try_count != log.try_count
    if new_try and not attempts.try_takes_over(log, event.try_count, status):
        return False, changed  # another try that is not the call's outcome: kept as an attempt only
    advance = new_try or can_transition(log.status, status)
    field_names = {f.name for f in log._meta.concrete_fields}

    def put(name: str, value: Any, *, overwrite: bool) -> None:
        if name not in field_names or _is_empty(value):
            return
        if not overwrite and not _is_empty(getattr(log, name)):
            return
        value = _fit(log, name, value)
        if getattr(log, name) != value:
            setattr(log, name, value)
            changed.append(name)

    if advance:
        log.status = status
        changed.append("status")
        put("raw_status", event.raw_status, overwrite=True)
        if new_try:
            log.try_count = event.try_count
            changed.append("try_count")
    else:
        put("raw_status", event.raw_status, overwrite=False)
    for name, value in event.extras.items():
        if name not in _PROTECTED:
            put(name, value, overwrite=advance)
    if event.duration is not None and event.duration >= 0:
        put("duration_seconds", event.duration, overwrite=advance)
    if status == CallStatus.COMPLETED or status == CallStatus.IN_PROGRESS:
        answered = event.extras.get("answered_at") or (event.occurred_at if status == CallStatus.IN_PROGRESS else None)
        put("answered_at", answered, overwrite=new_try)
    if status in FINAL_STATUSES:
        ended = event.extras.get("ended_at") or event.occurred_at or (timezone.now() if advance else None)
        put("ended_at", ended, overwrite=advance)
    if not log.provider_call_id and event.provider_call_id:
        taken = type(log).objects.filter(provider_call_id=event.provider_call_id).exclude(pk=log.pk).exists()
        if not taken:
            put("provider_call_id", event.provider_call_id, overwrite=True)
    return advance, changed


@dataclass
class ApplyBatch:
    """What the events of one drain batch (``telephony.drain``) share inside its transaction."""

    #: Applied rows: their outcome is set here, and the batch writes them all in one round trip.
    records: list[ProviderWebhookEvent] = field(default_factory=list)
    #: Call logs the batch has locked and read already, by ``(provider, pk)``.
    locked: dict[tuple[str, int], BaseCallLog] = field(default_factory=dict)
    #: ``(provider, pk)`` of the calls that turned final: followed up together after the commit.
    finals: list[tuple[str, int]] = field(default_factory=list)


_BATCH: ContextVar[ApplyBatch | None] = ContextVar("webhook_apply_batch", default=None)


@contextmanager
def apply_batch() -> Iterator[ApplyBatch]:
    """Within this block ``call_event_apply`` takes locked logs from the batch, only sets the rows' fields,
    and leaves the follow-up of calls that turned final to the caller (one per batch, after commit)."""
    batch = ApplyBatch()
    token = _BATCH.set(batch)
    try:
        yield batch
    finally:
        _BATCH.reset(token)


def _record(webhook_event: ProviderWebhookEvent | None, outcome: str, pk: int | None, error: str = "") -> None:
    if webhook_event is None or webhook_event.pk is None:
        return
    webhook_event.outcome = outcome
    webhook_event.call_log_id = pk if pk is not None else webhook_event.call_log_id
    webhook_event.processed_at = timezone.now()
    webhook_event.attempts = min(webhook_event.attempts + 1, 32767)
    webhook_event.error = error
    batch = _BATCH.get()
    if batch is not None:
        batch.records.append(webhook_event)
        return
    webhook_event.save(update_fields=["outcome", "call_log_id", "processed_at", "attempts", "error"])


def _locked_log(model: type[BaseCallLog], provider: str, event: CallEvent, batch: ApplyBatch | None):
    """The event's call log, locked: from the batch when it holds it (taken out: an apply that fails
    leaves it out, since its savepoint undid what the instance says), else read under a row lock."""
    log = None
    if event.call_log_id is not None and 0 < event.call_log_id <= MAX_ID:
        if batch is not None:
            log = batch.locked.pop((provider, event.call_log_id), None)
        if log is None:
            # The usual case (our id came back in the metadata): match and lock in one query.
            log = model.objects.select_for_update().filter(pk=event.call_log_id).first()
    if log is None:
        pk = _match(model, event)
        if pk is not None:
            log = (batch.locked.pop((provider, pk), None) if batch else None) or (
                model.objects.select_for_update().get(pk=pk)
            )
    return log


def call_event_apply(*, provider: str, event: CallEvent, webhook_event: ProviderWebhookEvent | None = None) -> str:
    """Apply one event to its call log under a row lock; returns an ``Outcome`` value.

    The stored webhook row (if any) is updated in the same transaction, so an event is never
    marked applied without its effect, nor the other way round.
    """
    if not event.changes_call:
        # Stored and answered already; an informational event (call_started, message_*) changes nothing.
        _record(webhook_event, Outcome.STALE, None)
        return Outcome.STALE
    model = call_log_model(provider)
    batch = _BATCH.get()
    with transaction.atomic():
        log = _locked_log(model, provider, event, batch)
        if log is None:
            _record(webhook_event, Outcome.UNMATCHED, None)
            return Outcome.UNMATCHED
        pk = log.pk
        was_final = log.is_final
        advanced, changed = _apply_to_log(log, event)
        if changed:
            log.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
        outcome = Outcome.APPLIED if changed else Outcome.STALE
        _record(webhook_event, outcome, pk)
        if advanced and log.is_final and (not was_final or "try_count" in changed):
            if batch is not None:
                batch.finals.append((provider, pk))  # followed up with the batch's other calls
            else:  # in the same process, once the apply has committed: no second queue message
                transaction.on_commit(partial(call_final_process, provider=provider, call_log_id=pk), robust=True)
    if batch is not None:
        batch.locked[(provider, pk)] = log  # applied and saved: the next event of this call reuses it
    return outcome


def call_final_process(*, provider: str, call_log_id: int) -> None:
    """After a call turns final: update the lead from its outcome and its call timeline, then send
    ``call_became_final``.

    Receivers may run more than once for a call (once per provider try that ends it), so they must
    be idempotent; one failing receiver is logged and does not stop the others.
    """
    from .final_calls import calls_timeline_note, final_receivers_run
    from .outcomes import call_outcome_apply

    log = call_log_model(provider).objects.select_related("lead").filter(pk=call_log_id).first()
    if log is None or not log.is_final:
        return
    try:
        call_outcome_apply(call_log=log, provider=provider)
    except Exception:  # noqa: BLE001
        logger.exception("Lead update from %s call %s failed", provider, call_log_id)
    calls_timeline_note([(provider, log)])
    final_receivers_run(provider=provider, call_log=log)


def webhook_event_fail(*, webhook_event: ProviderWebhookEvent, error: BaseException | str) -> None:
    """Record a failed apply on the stored row; the raw event stays for ``reprocess_webhooks``."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    ProviderWebhookEvent.objects.filter(pk=webhook_event.pk).update(
        outcome=Outcome.FAILED,
        error=text.replace("\x00", "")[:2000],
        processed_at=timezone.now(),
        attempts=min(webhook_event.attempts + 1, 32767),
    )
    webhook_event.outcome = Outcome.FAILED


def _reparse(webhook_event: ProviderWebhookEvent) -> CallEvent:
    """Parse the stored raw body again (a parser fix), and keep the new event on the row."""
    events = get_provider(webhook_event.provider).parse_webhook(json.loads(webhook_event.body))
    if len(events) == 1:
        event = events[0]
    else:
        event = next(e for e in events if e.dedup_key and e.dedup_key[:200] == webhook_event.dedup_key)
    webhook_event.event = event_to_json(event)
    ProviderWebhookEvent.objects.filter(pk=webhook_event.pk).update(event=webhook_event.event)
    return event


def webhook_event_reprocess(*, webhook_event: ProviderWebhookEvent, reparse: bool = False) -> str:
    """Re-apply a stored, authenticated event: safe to repeat (forward only).

    The event parsed when the webhook arrived is applied; ``reparse`` parses the raw body again
    first (and so does a row stored before events were kept).
    """
    if not webhook_event.is_authenticated or webhook_event.outcome in (Outcome.REJECTED, Outcome.DUPLICATE):
        return webhook_event.outcome
    try:
        if reparse or webhook_event.event is None:
            event = _reparse(webhook_event)
        else:
            event = event_from_json(webhook_event.event)
        return call_event_apply(provider=webhook_event.provider, event=event, webhook_event=webhook_event)
    except (ValueError, StopIteration, WebhookPayloadError) as exc:
        webhook_event_fail(webhook_event=webhook_event, error=f"Cannot parse the stored body: {exc}")
    except Exception as exc:  # noqa: BLE001 - recorded on the row, never lost
        logger.exception("Reprocessing webhook event %s failed", webhook_event.pk)
        webhook_event_fail(webhook_event=webhook_event, error=exc)
    return Outcome.FAILED


#: A stored event still ``pending`` this long after it arrived lost its apply task: the periodic task applies it.
PENDING_GRACE = timedelta(minutes=1)


def webhook_event_apply_pending(*, webhook_event_id: int) -> str:
    """Apply a stored event that is still ``pending``: the webhook's deferred apply, and the periodic catch-up.

    The row is locked (SKIP LOCKED) and re-checked first, so the task and the catch-up never both apply
    it, and a redelivered task is a no-op. Returns the outcome, or ``pending`` if another process holds it.
    """
    with transaction.atomic():
        row = (
            ProviderWebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=webhook_event_id, is_authenticated=True)
            .first()
        )
        if row is None:
            exists = ProviderWebhookEvent.objects.filter(pk=webhook_event_id).values_list("outcome", flat=True)
            return exists.first() or Outcome.FAILED
        if row.outcome != Outcome.PENDING:
            return row.outcome
        return webhook_event_reprocess(webhook_event=row)


def webhook_events_rematch(*, limit: int = 500, max_age: timedelta = timedelta(days=7)) -> dict[str, int]:
    """Pending events whose apply task was lost first, on their own; then unmatched events (their call
    log may exist now). Each has its own ``limit``: a backlog of unmatched events never starves a pending one.
    """
    now = timezone.now()
    authentic = ProviderWebhookEvent.objects.filter(is_authenticated=True)
    pending = authentic.filter(outcome=Outcome.PENDING, received_at__lte=now - PENDING_GRACE)
    unmatched = authentic.filter(outcome=Outcome.UNMATCHED, received_at__gte=now - max_age)
    counts: dict[str, int] = {}
    for pk in pending.order_by("received_at", "id").values_list("pk", flat=True)[:limit]:
        outcome = webhook_event_apply_pending(webhook_event_id=pk)
        counts[outcome] = counts.get(outcome, 0) + 1
    for row in unmatched.order_by("received_at", "id")[:limit]:
        outcome = webhook_event_reprocess(webhook_event=row)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def calls_stuck_settle(*, now=None) -> dict[str, int]:
    """Find calls not final long after they should have ended; reconcile or mark them ``unknown``.

    The provider's ``reconcile_stuck_calls`` is asked first; what is still stuck is marked
    ``unknown`` with a message, so a person sees it and checks it.
    """
    from .status import LIVE_STATUSES

    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.TELEPHONY_STUCK_CALL_MINUTES)
    counts = {"reconciled": 0, "marked_unknown": 0}
    stuck = calls.calls_stuck(cutoff=cutoff)
    for backend in providers():
        model, provider = backend.call_log_class(), backend.name
        logs = stuck.get(provider, [])
        if logs:
            try:
                counts["reconciled"] += backend.reconcile_stuck_calls(call_logs=logs)
            except Exception:  # noqa: BLE001 - fall through to marking them for a person
                logger.exception("Reconciling stuck %s calls failed", provider)
        message = (
            f"No final outcome from the provider {settings.TELEPHONY_STUCK_CALL_MINUTES} minutes after the call "
            "should have ended: a person should check it."
        )
        for log in logs:
            counts["marked_unknown"] += model.objects.filter(pk=log.pk, status__in=list(LIVE_STATUSES)).update(
                status=CallStatus.UNKNOWN, error_message=message, updated_at=now
            )
    return counts
