"""Writes for Meta lead ads: store each lead id once, fetch it, make or merge the lead, call it.

Durable, then fast: the webhook only INSERTs one row per lead id (unique); a worker claims the
row (a conditional UPDATE), reads the lead from the Graph API and applies it. A failed read
leaves the row for a later retry with backoff; nothing is lost and nothing is made twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from crm.logging import redact
from crm.models import Lead
from telephony.errors import ProviderConfigError, TelephonyError

from .client import GraphClient
from .config import config_row_for_update, get_effective_config
from .intake import form_for, lead_intake
from .mapping import lead_from_graph
from .models import MetaForm, MetaLeadDelivery, SpeedToLeadCall
from .webhooks import LeadgenChange

logger = logging.getLogger("metaleads.services")
Status = MetaLeadDelivery.Status

#: A claimed fetch not finished by then (a killed worker) may be claimed again: reads are safe to repeat.
FETCH_LEASE = timedelta(minutes=5)
MAX_FETCH_ATTEMPTS = 12
#: The first retries of a failed fetch, in seconds: soon, so a Graph hiccup costs a new lead seconds, not
#: a beat tick; the worker schedules them itself (``quick_retry_delay``). Later ones back off to an hour.
QUICK_RETRY_SECONDS = (2, 6)
#: Commercial calls only between these hours in the callee's zone (TRAI, design 5b).


def graph_client() -> GraphClient:
    config = get_effective_config()
    if not config.page_access_token:
        raise ProviderConfigError("Meta has no page access token: set it on the Meta lead-ads page")
    return GraphClient(access_token=config.page_access_token, base_url=config.graph_base_url)


def graph_error_record(message: str, *, form: MetaForm | None = None) -> None:
    """Shown on the config page: the newest Graph error, with its time (secrets masked)."""
    message = redact(message)[:500]
    now = timezone.now()
    with transaction.atomic():
        row = config_row_for_update()
        row.last_error, row.last_error_at = message, now
        row.save(update_fields=["last_error", "last_error_at"])
    if form is not None:
        MetaForm.objects.filter(pk=form.pk).update(
            last_error=message, last_error_at=now, sync_attempts=F("sync_attempts") + 1
        )


# --- the webhook's part ------------------------------------------------------------------------
def _insert(change: LeadgenChange) -> MetaLeadDelivery:
    fields = {
        "leadgen_id": change.leadgen_id,
        "form_id": change.form_id,
        "page_id": change.page_id,
        "ad_id": change.ad_id,
        "raw": change.raw,
    }
    if connection.in_atomic_block:
        with transaction.atomic():
            return MetaLeadDelivery.objects.create(**fields)
    return MetaLeadDelivery.objects.create(**fields)


def deliveries_store(*, changes: list[LeadgenChange]) -> tuple[int, int]:
    """One INSERT per lead id; a redelivered id hits the unique index and is counted, not stored.

    Returns (stored, duplicates). Each stored row is handed to a worker after commit.
    """
    from .tasks import delivery_fetch_task

    stored = duplicates = 0
    for change in changes:
        try:
            row = _insert(change)
        except IntegrityError:
            duplicates += 1
            continue
        stored += 1
        transaction.on_commit(lambda pk=row.pk: _enqueue_fetch(delivery_fetch_task, pk))
    return stored, duplicates


def _enqueue_fetch(task: Any, delivery_id: int) -> None:
    """A broker hiccup must not fail the webhook: the stored row is swept up by the beat task."""
    try:
        task.delay(delivery_id)
    except Exception:  # noqa: BLE001 - the row is durable; deliveries_due() finds it within minutes
        logger.exception("Could not enqueue the fetch of Meta delivery %s; the sweep will", delivery_id)


# --- the worker's part -------------------------------------------------------------------------
def _claim(delivery_id: int, now: datetime) -> bool:
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return bool(
        MetaLeadDelivery.objects.filter(
            due, pk=delivery_id, status__in=[Status.PENDING, Status.FAILED, Status.FETCHING]
        ).update(status=Status.FETCHING, attempts=F("attempts") + 1, next_attempt_at=now + FETCH_LEASE)
    )


def _fetch_failed(delivery: MetaLeadDelivery, exc: Exception) -> str:
    """Keep the row for a retry with backoff (Retry-After when Graph gives one); give up after many."""
    message = redact(getattr(exc, "message", "") or str(exc))[:500]
    attempts = delivery.attempts
    delay = (
        getattr(exc, "retry_after", None) or quick_retry_delay(attempts) or min(30 * 2 ** max(attempts - 3, 0), 3600)
    )
    status = Status.GAVE_UP if attempts >= MAX_FETCH_ATTEMPTS else Status.FAILED
    MetaLeadDelivery.objects.filter(pk=delivery.pk, status=Status.FETCHING).update(
        status=status, error=message, next_attempt_at=timezone.now() + timedelta(seconds=delay)
    )
    graph_error_record(f"Lead {delivery.leadgen_id}: {message}")
    logger.warning("Meta lead %s not fetched (attempt %s): %s", delivery.leadgen_id, attempts, message)
    return status


def quick_retry_delay(attempts: int) -> int | None:
    """Seconds until the quick retry after ``attempts`` failed fetches; None once those are used up."""
    return QUICK_RETRY_SECONDS[attempts - 1] if 0 < attempts <= len(QUICK_RETRY_SECONDS) else None


def delivery_retry_due_in(delivery_id: int) -> float | None:
    """Seconds until a failed fetch is due again, if the worker should schedule it itself (a quick retry)."""
    row = MetaLeadDelivery.objects.filter(pk=delivery_id, status=Status.FAILED).values("attempts", "next_attempt_at")
    row = row.first()
    if row is None or row["next_attempt_at"] is None or quick_retry_delay(row["attempts"]) is None:
        return None
    return max((row["next_attempt_at"] - timezone.now()).total_seconds(), 0.0)


def delivery_fetch(*, delivery_id: int) -> str:
    """Claim a stored lead id, read it from Graph and apply it. Safe to run twice."""
    if not _claim(delivery_id, timezone.now()):
        return MetaLeadDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first() or ""
    delivery = MetaLeadDelivery.objects.get(pk=delivery_id)
    if delivery.form_id:
        form_for(delivery.form_id)  # known to the backfill even if this read fails
    try:
        with graph_client() as client:
            data = client.lead(delivery.leadgen_id)
            form = form_for(str(data.get("form_id") or delivery.form_id))
            form_name_fill(form=form, client=client)
    except (TelephonyError, ProviderConfigError) as exc:
        return _fetch_failed(delivery, exc)
    return delivery_apply(delivery=delivery, data=data, form=form)


def form_name_fill(*, form: MetaForm, client: GraphClient) -> None:
    """Learn a form's name once (for the lead page); a failure leaves it blank, it is only a label."""
    if form.name or not form.backfill:
        return
    try:
        body = client.form(form.form_id)
    except TelephonyError:
        return
    name = str((body or {}).get("name", ""))[:160]
    if name:
        MetaForm.objects.filter(pk=form.pk).update(name=name, page_id=str(body.get("page_id", ""))[:64])
        form.name = name


def delivery_apply(*, delivery: MetaLeadDelivery, data: dict[str, Any], form: MetaForm) -> str:
    """Make or merge the lead for a fetched lead id, then start speed-to-lead for a new one."""
    mapped = lead_from_graph({**data, "id": data.get("id") or delivery.leadgen_id})
    with transaction.atomic():
        already = Lead.objects.filter(meta_lead_id=mapped.meta_lead_id).first()
        if already is not None:
            lead, status, created = already, Status.CREATED, False
        else:
            result = lead_intake(mapped=mapped, form=form)
            lead, created = result.lead, result.created
            status = Status.CREATED if created else Status.MERGED
        MetaLeadDelivery.objects.filter(pk=delivery.pk).update(
            status=status,
            lead=lead,
            raw=data,
            error="",
            form_id=form.form_id,
            next_attempt_at=None,
            processed_at=timezone.now(),
        )
        if created:
            _speed_to_lead_safely(lead)
    return status


def _speed_to_lead_safely(lead: Lead) -> None:
    """A failure to start the call must never cost the lead itself: it is logged, the lead stays."""
    try:
        with transaction.atomic():
            speed_to_lead_start(lead=lead, now=timezone.now())
    except Exception:  # noqa: BLE001
        logger.exception("Speed-to-lead could not start for lead %s", lead.pk)


def deliveries_due(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Lead ids whose fetch failed and is due again, or whose worker vanished (lease expired)."""
    now = now or timezone.now()
    due = MetaLeadDelivery.objects.filter(
        Q(status__in=[Status.FAILED, Status.FETCHING], next_attempt_at__lte=now)
        | Q(status=Status.PENDING, received_at__lte=now - timedelta(minutes=2))
    )
    return list(due.order_by("received_at").values_list("pk", flat=True)[:limit])


# --- speed-to-lead ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SpeedToLeadDecision:
    """May the lead be called, and when: now, or held for ``window_opening`` (in its own zone)."""

    allowed: bool
    dial_now: bool = False
    window_opening: datetime | None = None
    reason: str = ""


def speed_to_lead_decide(lead: Lead, now: datetime) -> SpeedToLeadDecision:
    """Whether and when a new lead may be dialled: the shared eligibility rule (``telephony.eligibility``),
    read for an auto-call. Outside calling hours the call is held for the window's opening."""
    from telephony.eligibility import AUTO_CALL, call_eligibility

    answer = call_eligibility(lead=lead, provider="callkaro", purpose=AUTO_CALL, at=now)
    if answer.allowed:
        return SpeedToLeadDecision(allowed=True, dial_now=True)
    if answer.reason_code == "outside_hours" and answer.next_allowed_at is not None:
        return SpeedToLeadDecision(allowed=True, window_opening=answer.next_allowed_at, reason="outside calling hours")
    return SpeedToLeadDecision(allowed=False, reason=answer.message.rstrip("."))


@transaction.atomic
def speed_to_lead_start(*, lead: Lead, now: datetime) -> SpeedToLeadCall | None:
    """Call a new lead with the configured AI agent, at once or at the window's opening.

    One row per lead (unique) guards against a second dial, whatever redelivers the lead.
    """
    from telephony.base import CallOptions
    from telephony.services import CallNotAllowed, call_place

    config = get_effective_config()
    if not config.speed_to_lead_on:
        return None
    decision = speed_to_lead_decide(lead, now)
    held = decision.allowed and not decision.dial_now
    if held:
        # Held until the caller's transaction ends: calls held for the opening take their slots one
        # at a time, in arrival order, and every earlier holder's row is committed and counted.
        config_row_for_update()
    try:
        with transaction.atomic():
            row = SpeedToLeadCall.objects.create(lead=lead, window_opening=decision.window_opening)
    except IntegrityError:
        return None
    if not decision.allowed:
        SpeedToLeadCall.objects.filter(pk=row.pk).update(outcome=f"Not called: {decision.reason}"[:200])
        return row
    dial_at = None
    if held:
        earlier = SpeedToLeadCall.objects.filter(window_opening=decision.window_opening).exclude(pk=row.pk).count()
        dial_at = decision.window_opening + timedelta(seconds=settings.SPEED_TO_LEAD_PACE_SECONDS * earlier)
    answers = lead.form_answers or {}
    metadata = {key: answers.get(key, "") for key in config.metadata_answer_keys}
    options = CallOptions(
        agent_id=config.speed_to_lead_agent_id, schedule_at=dial_at, metadata={**metadata, "trigger": "speed_to_lead"}
    )
    try:
        outcome = call_place(
            provider="callkaro",
            lead=lead,
            team_member=lead.assigned_to,
            options=options,
            dispatch="async",
            purpose="auto_call",
        )
    except CallNotAllowed as exc:
        SpeedToLeadCall.objects.filter(pk=row.pk).update(outcome=f"Not called: {exc.message}"[:200])
        return row
    SpeedToLeadCall.objects.filter(pk=row.pk).update(
        call_log_id=outcome.call_log.pk, dial_at=dial_at or now, outcome=outcome.message[:200]
    )
    return row
