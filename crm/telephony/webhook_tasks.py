"""Celery tasks of the webhook pipeline. Thin: each calls one service in ``crm.telephony.events``."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from . import events


@shared_task(name="telephony.call_final_followup", autoretry_for=(DatabaseError,), max_retries=3, retry_backoff=True)
def call_final_followup(provider: str, call_log_id: int) -> None:
    """Lead update and final-call hooks, off the webhook's answer path. Both are idempotent, so a retry is safe."""
    events.call_final_process(provider=provider, call_log_id=call_log_id)


@shared_task(name="telephony.webhook_event_apply", autoretry_for=(DatabaseError,), max_retries=3, retry_backoff=True)
def webhook_event_apply(webhook_event_id: int) -> str:
    """Apply a stored webhook event after the 200; a no-op unless it is still pending, so a retry is safe."""
    return events.webhook_event_apply_pending(webhook_event_id=webhook_event_id)


@shared_task(name="telephony.webhook_events_rematch")
def webhook_events_rematch() -> dict[str, int]:
    """Periodic: unmatched events whose call log has appeared since, and rows a crash left pending."""
    return events.webhook_events_rematch()


@shared_task(name="telephony.calls_stuck_settle")
def calls_stuck_settle() -> dict[str, int]:
    """Periodic: calls long past their expected end are reconciled or marked ``unknown`` for a person."""
    return events.calls_stuck_settle()
