"""Applying stored webhook events in batches: one drain task, not one queue message per event.

The webhook stores its event (one durable INSERT) and answers; after that it only *kicks* the drain,
and only when none is running or queued: a cache flag taken with ``cache.add`` (one Redis round trip,
atomic) says one is. The drain claims pending rows in batches (``SKIP LOCKED``, so drains, the
periodic catch-up and a late per-event task never take the same row), applies each with the one-event
``webhook_event_reprocess`` inside one transaction per batch (the call logs locked and read in one
query), writes the rows' outcomes in one round trip, follows up the calls it ended together after
the commit (``telephony.final_calls``), and loops until nothing is pending.

Why nothing is lost: the row is committed before the kick; the drain clears its flag *before* its
last look for pending rows, so an event stored after that look finds no flag and kicks a new drain.
A worker that dies mid-batch rolls the batch back (rows stay ``pending``) and its flag expires after
``DRAIN_FLAG_SECONDS``; a lost kick, or a flag left behind, is covered by the next request's kick and
by beat's ``webhook_events_rematch`` (rows pending past ``PENDING_GRACE``). If the broker cannot take
the kick, the request applies its own event, as before the queue.
"""

from __future__ import annotations

import logging
import time
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q

from .events import ApplyBatch, apply_batch, webhook_event_apply_pending, webhook_event_reprocess
from .final_calls import calls_final_process
from .models import ProviderWebhookEvent
from .registry import call_log_model, provider_names

logger = logging.getLogger(__name__)
Outcome = ProviderWebhookEvent.Outcome

DRAIN_FLAG = "telephony:webhook-drain"
#: How long a kick or a running batch holds the flag: the longest a dead worker's flag delays the next drain.
DRAIN_FLAG_SECONDS = 10
RECORD_FIELDS = ["outcome", "call_log_id", "processed_at", "attempts", "error"]


def _write_records(rows: list[ProviderWebhookEvent]) -> None:
    """The batch's rows in one round trip: ``executemany`` (pipelined by psycopg 3). Django's
    ``bulk_update`` builds a CASE per column, which cost about 1 ms of CPU per row here."""
    qn, ops = connection.ops.quote_name, connection.ops
    sets = ", ".join(f"{qn(name)} = %s" for name in RECORD_FIELDS)
    sql = f"UPDATE {qn(ProviderWebhookEvent._meta.db_table)} SET {sets} WHERE {qn('id')} = %s"  # noqa: S608
    params = [
        (r.outcome, r.call_log_id, ops.adapt_datetimefield_value(r.processed_at), r.attempts, r.error, r.pk)
        for r in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _batch_size() -> int:
    return max(1, int(getattr(settings, "TELEPHONY_WEBHOOK_DRAIN_BATCH", 200)))


def webhook_drain_kick(*, webhook_event_id: int) -> None:
    """After the event's INSERT has committed: make sure a drain will see it.

    Publishes ``telephony.webhook_events_drain`` only when the flag was free. A cache that cannot be
    reached counts as free (one message too many is harmless); a broker that cannot take the message
    means the request applies its own event.
    """
    from .tasks import webhook_events_drain_task

    try:
        if not cache.add(DRAIN_FLAG, 1, DRAIN_FLAG_SECONDS):
            return  # a drain is queued or running; it will claim this row
    except Exception:  # noqa: BLE001 - no flag store: publish anyway
        logger.warning("Webhook drain flag unavailable; publishing a drain anyway", exc_info=True)
    try:
        webhook_events_drain_task.apply_async(ignore_result=True)
    except Exception:  # noqa: BLE001 - a broker outage: apply in the request, as before the queue
        logger.exception("Could not enqueue the webhook drain; applying event %s inline", webhook_event_id)
        _flag_clear()
        webhook_event_apply_pending(webhook_event_id=webhook_event_id)


def webhook_drain_kick_later(*, webhook_event: ProviderWebhookEvent) -> str:
    """Kick the drain once the stored row is committed; returns the row's outcome so far (``pending``)."""
    transaction.on_commit(partial(webhook_drain_kick, webhook_event_id=webhook_event.pk), robust=True)
    return Outcome.PENDING


def _flag_clear() -> None:
    try:
        cache.delete(DRAIN_FLAG)
    except Exception:  # noqa: BLE001 - expires by itself
        logger.warning("Could not clear the webhook drain flag", exc_info=True)


def _flag_hold() -> None:
    try:
        cache.set(DRAIN_FLAG, 1, DRAIN_FLAG_SECONDS)
    except Exception:  # noqa: BLE001 - without the flag a request publishes one drain too many
        logger.warning("Could not refresh the webhook drain flag", exc_info=True)


def _lock_call_logs(rows: list[ProviderWebhookEvent], batch: ApplyBatch) -> None:
    """Lock and read every call log the batch may touch, in id order: one query per provider, and no
    deadlock between two batches holding logs in different orders. The events take them from ``batch``."""
    for provider in {r.provider for r in rows}:
        mine = [r for r in rows if r.provider == provider]
        ids = {r.call_log_id for r in mine if r.call_log_id}
        call_ids = {r.provider_call_id for r in mine if r.provider_call_id}
        if ids or call_ids:
            model = call_log_model(provider)
            wanted = Q(pk__in=ids) | Q(provider_call_id__in=call_ids)
            for log in model.objects.select_for_update().filter(wanted).order_by("pk"):
                batch.locked[(provider, log.pk)] = log


def drain_batch(*, size: int | None = None) -> dict[str, int]:
    """Claim up to ``size`` pending authenticated events and apply them in one transaction; the calls
    they end are followed up together once it commits (``telephony.final_calls``)."""
    counts: dict[str, int] = {}
    with transaction.atomic():
        rows = list(
            ProviderWebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(provider__in=provider_names(), outcome=Outcome.PENDING, is_authenticated=True)
            .order_by("id")[: size or _batch_size()]
        )
        if not rows:
            return counts
        with apply_batch() as batch:
            _lock_call_logs(rows, batch)
            for row in rows:
                outcome = webhook_event_reprocess(webhook_event=row)
                counts[outcome] = counts.get(outcome, 0) + 1
        # A failed event wrote its own row (webhook_event_fail); the others are written here, at once.
        done = {r.pk: r for r in batch.records if r.outcome != Outcome.FAILED}
        if done:
            _write_records(list(done.values()))
        if batch.finals:
            transaction.on_commit(partial(calls_final_process, calls=batch.finals), robust=True)
    return counts


def _gather_seconds() -> float:
    """After a batch that was not full, the drain waits this long before its next claim, so batches
    grow under steady traffic: the per-batch work (claim, logs' read, records' write, the follow-up's
    queries, the commit) is shared by more events. An event waits at most this long more. 0 when tasks
    run eagerly (the drain then runs inside a request, which must not wait) or inside a transaction
    (whose locks nobody else should wait for)."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) or connection.in_atomic_block:
        return 0.0
    return max(0.0, float(getattr(settings, "TELEPHONY_WEBHOOK_DRAIN_GATHER", 0.05)))


def _linger_looks() -> int:
    """Looks of ``LINGER_STEP`` seconds a drain takes for new events before it frees its flag.

    While the flag is held, a request stores its event and publishes nothing: under steady traffic one
    drain keeps going instead of a task per handful of events. None when tasks run eagerly (the drain
    then runs inside a request, which must not wait) or inside a transaction."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) or connection.in_atomic_block:
        return 0
    seconds = float(getattr(settings, "TELEPHONY_WEBHOOK_DRAIN_LINGER", 0.1))
    return max(0, round(seconds / LINGER_STEP))


#: One linger look (seconds): a pending event waits at most this long for it.
LINGER_STEP = 0.02


def webhook_events_drain(*, size: int | None = None) -> dict[str, int]:
    """Apply pending events batch after batch until none is left (and none came during a short
    linger); returns the outcomes counted."""
    total: dict[str, int] = {}
    looks, gather, limit = _linger_looks(), _gather_seconds(), size or _batch_size()
    held_at = time.monotonic()  # the kick took the flag just now

    def add(counts: dict[str, int]) -> int:
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
        return sum(counts.values())

    def hold() -> None:  # refreshed a few times per DRAIN_FLAG_SECONDS, not once per batch
        nonlocal held_at
        if time.monotonic() - held_at > DRAIN_FLAG_SECONDS / 3:
            _flag_hold()
            held_at = time.monotonic()

    try:
        idle = 0
        while True:
            found = add(drain_batch(size=limit))
            if found:
                hold()
                idle = 0
                if found < limit and gather:
                    time.sleep(gather)  # not full: let the next batch gather
                continue
            if idle < looks:  # the flag is still held (DRAIN_FLAG_SECONDS): no request publishes meanwhile
                idle += 1
                time.sleep(LINGER_STEP)
                continue
            _flag_clear()  # before the last look: an event stored after it kicks a new drain
            if not add(drain_batch(size=limit)):
                return total
            _flag_hold()
            held_at = time.monotonic()
            idle = 0
    except BaseException:
        _flag_clear()
        raise
