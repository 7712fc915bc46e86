"""Meta lead ads' Celery tasks. Thin: each takes an id (or nothing) and calls one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="metaleads.delivery_fetch", ignore_result=True, acks_late=True, bind=True)
def delivery_fetch_task(self, delivery_id: int) -> str:
    """Fetch one stored lead id from Graph and apply it. A failure is kept on the row for a retry.

    The first retries are scheduled here, seconds later (beat's sweep stays the safety net); run
    inline (eager, tests) a countdown means nothing, so the sweep does them.
    """
    from .services import delivery_fetch, delivery_retry_due_in

    status = delivery_fetch(delivery_id=delivery_id)
    due_in = delivery_retry_due_in(delivery_id) if status == "failed" and not self.request.is_eager else None
    if due_in is not None:
        delivery_fetch_task.apply_async((delivery_id,), countdown=due_in + 0.2)
    return status


@shared_task(name="metaleads.backfill_due", ignore_result=True)
def backfill_due_task() -> dict:
    """The beat task: retry due fetches, then back-fill every form whose interval has passed."""
    from .backfill import backfill_forms
    from .services import deliveries_due, delivery_fetch

    retried = [delivery_fetch(delivery_id=pk) for pk in deliveries_due()]
    results = backfill_forms(due_only=True)
    return {"retried": len(retried), "forms": len(results), "created": sum(r.created for r in results)}


@shared_task(name="metaleads.backfill_all", ignore_result=True)
def backfill_all_task() -> dict:
    """ "Sync now": back-fill every form at once, whatever its interval."""
    from .backfill import backfill_forms

    results = backfill_forms(due_only=False)
    return {"forms": len(results), "created": sum(r.created for r in results)}


@shared_task(name="metaleads.sandbox_simulate", ignore_result=True)
def sandbox_simulate_task(count: int) -> dict:
    """The config page's simulate button (sandbox only): post signed deliveries to our webhook."""
    from .simulate import simulate_leads

    return simulate_leads(count=count).as_dict()


@shared_task(name="metaleads.webhook_records_purge", ignore_result=True)
def webhook_records_purge_task() -> dict:
    """Periodic: rejected deliveries and raw copies past their retention (``WEBHOOK_RETENTION_DAYS``)."""
    from .retention import meta_webhook_purge

    return meta_webhook_purge()
