"""Celery entry points for calling. Thin: take ids, call one service."""

from __future__ import annotations

import logging

from celery import shared_task

from .errors import ProviderUnavailable

logger = logging.getLogger("crm.telephony.tasks")


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
def sandbox_webhook_send_task(url: str, payloads: list[dict]) -> list[int | None]:
    """The provider sandbox's webhook delivery after a simulated call (only with PROVIDER_SANDBOX)."""
    from .sandbox import sandbox_webhooks_post

    return sandbox_webhooks_post(url, payloads)
