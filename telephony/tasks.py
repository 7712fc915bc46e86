"""Celery entry points for calling. Thin: take ids, call one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError

from . import events
from .errors import ProviderUnavailable

logger = logging.getLogger("telephony.tasks")


@shared_task(name="telephony.call_dispatch", acks_late=True)
def call_dispatch_task(provider: str, call_log_id: int) -> str:
    """Dial one queued call. On ProviderUnavailable the service has already rescheduled it."""
    from .services import call_dispatch

    try:
        return call_dispatch(provider=provider, call_log_id=call_log_id)
    except ProviderUnavailable as exc:
        logger.warning("%s call %s rescheduled: %s", provider, call_log_id, exc)
        return "scheduled"


@shared_task(name="telephony.sandbox_webhook_send")
def sandbox_webhook_send_task(provider: str, payloads: list[dict]) -> list[int | None]:
    """The provider sandbox's webhook delivery after a simulated call (only with PROVIDER_SANDBOX).

    Takes the provider's name: the worker builds the URL, so the webhook secret is never in the message.
    """
    from .sandbox import sandbox_webhooks_deliver

    return sandbox_webhooks_deliver(provider, payloads)


@shared_task(name="telephony.webhook_event_apply", autoretry_for=(DatabaseError,), max_retries=3, retry_backoff=True)
def webhook_event_apply(webhook_event_id: int) -> str:
    """Apply one stored webhook event, then (after commit) its lead follow-up and ``call_became_final``.

    The webhook now kicks the batch drain instead; this stays for messages queued before that change.
    A no-op unless the row is still pending, so a retry is safe.
    """
    return events.webhook_event_apply_pending(webhook_event_id=webhook_event_id)


@shared_task(name="telephony.webhook_events_drain", autoretry_for=(DatabaseError,), max_retries=3, retry_backoff=True)
def webhook_events_drain_task() -> dict[str, int]:
    """Apply pending webhook events in batches until none is left (kicked by the webhook, at most one queued)."""
    from .drain import webhook_events_drain

    return webhook_events_drain()


@shared_task(name="telephony.webhook_events_rematch")
def webhook_events_rematch() -> dict[str, int]:
    """Periodic: unmatched events whose call log has appeared since, and rows a crash left pending."""
    return events.webhook_events_rematch()


@shared_task(name="telephony.calls_stuck_settle")
def calls_stuck_settle() -> dict[str, int]:
    """Periodic: calls long past their expected end are reconciled or marked ``unknown`` for a person."""
    return events.calls_stuck_settle()


@shared_task(name="telephony.webhook_events_purge")
def webhook_events_purge() -> dict[str, int]:
    """Periodic: raw webhook events past their retention (``WEBHOOK_RETENTION_DAYS``) are deleted."""
    from .retention import webhook_events_purge as purge

    return purge()
