"""What follows a call turning final, for a whole drain batch at once: lead updates, then the signal.

A batch of webhook events ends many calls. After the batch commits, their follow-up reads the calls
in one query per provider and the outcome rules once, locks every lead in id order with one
``select_for_update`` (no deadlock with another batch), applies the rules, and writes the stage
changes with one UPDATE per target stage and the activity rows with one ``bulk_create``, all in
one transaction. Then the leads' call timelines are moved earlier where the calls prove it (one UPDATE
at most, ``telephony.lead_timeline``), and ``call_became_final`` is sent once per call, as for a single call.

A call whose rules do more than move the stage (an opt-out, a flag, a callback) goes through the
same per-call code as before, inside the batch's transaction. If the batched transaction fails,
it is rolled back and every call is followed up on its own (``call_outcome_apply``), so one bad
call still fails alone.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from crm.models import Lead
from crm.services import LeadStageWrites, lead_stage_set

from .lead_timeline import leads_timeline_note
from .models import BaseCallLog
from .outcomes import call_outcome_apply, lead_outcome_apply, matching_rules, outcome_rules
from .registry import call_log_model, get_provider
from .signals import call_became_final

logger = logging.getLogger("telephony.events")


def final_receivers_run(*, provider: str, call_log: Any) -> None:
    """Send ``call_became_final`` for one call; a failing receiver is logged with the call it failed for."""
    sender = type(get_provider(provider))
    for receiver, result in call_became_final.send_robust(sender=sender, provider=provider, call_log=call_log):
        if isinstance(result, Exception):
            # send_robust has logged the traceback; this names the call it failed for.
            logger.error(
                "Final-call receiver %s failed for %s call %s: %s",
                getattr(receiver, "__qualname__", receiver),
                provider,
                call_log.pk,
                result,
            )


def _final_logs(calls: list[tuple[str, int]]) -> list[tuple[str, BaseCallLog]]:
    """The calls that are final, one read per provider, in the order they turned final."""
    by_provider: dict[str, list[int]] = {}
    for provider, pk in dict.fromkeys(calls):
        by_provider.setdefault(provider, []).append(pk)
    found: dict[tuple[str, int], BaseCallLog] = {}
    for provider, ids in by_provider.items():
        for log in call_log_model(provider).objects.filter(pk__in=ids):
            found[(provider, log.pk)] = log
    return [(key[0], found[key]) for key in dict.fromkeys(calls) if key in found and found[key].is_final]


def _leads_update(logs: list[tuple[str, BaseCallLog]]) -> None:
    """Every call's outcome rules applied to its lead, in one transaction with the leads locked in id order."""
    rules = outcome_rules()
    writes = LeadStageWrites()
    with transaction.atomic():
        lead_ids = sorted({log.lead_id for _, log in logs})
        leads = {lead.pk: lead for lead in Lead.objects.select_for_update().filter(pk__in=lead_ids).order_by("pk")}
        for provider, log in logs:
            lead = leads.get(log.lead_id)
            if lead is None:
                continue
            matched = matching_rules(call_log=log, provider=provider, rules=rules)
            # More than a stage (an opt-out, a flag, a callback): written as it happens, after what
            # the batch holds, so the lead's history keeps its order.
            rare = any(rule.set_flag or rule.follow_up for rule in matched)
            if rare:
                writes.flush()
            stage_set = lead_stage_set if rare else writes.stage_set
            lead_outcome_apply(lead=lead, matched=matched, call_log=log, provider=provider, stage_set=stage_set)
        writes.flush()
    for _, log in logs:  # the receivers see the lead as updated, with no query of their own
        if log.lead_id in leads:
            log.lead = leads[log.lead_id]


def calls_final_process(*, calls: list[tuple[str, int]]) -> None:
    """After a batch commits: update the leads of the calls that turned final, then send the signal per call.

    ``calls`` holds ``(provider, call_log_id)`` pairs; a call listed twice is followed up once.
    Receivers must be idempotent (a newer provider try ends a call again); one failing is logged and the
    others still run.
    """
    logs = _final_logs(calls)
    if not logs:
        return
    try:
        _leads_update(logs)
    except Exception:  # noqa: BLE001 - rolled back: each call on its own, so one bad call fails alone
        logger.exception("Batched lead update of %d calls failed; updating call by call", len(logs))
        for provider, log in logs:
            try:
                call_outcome_apply(call_log=log, provider=provider)
            except Exception:  # noqa: BLE001
                logger.exception("Lead update from %s call %s failed", provider, log.pk)
    calls_timeline_note(logs)
    for provider, log in logs:
        final_receivers_run(provider=provider, call_log=log)


def calls_timeline_note(logs: list[tuple[str, BaseCallLog]]) -> None:
    """The ended calls' leads' timelines (first call, first human call, first connect): at most one UPDATE,
    none for leads loaded with the calls that already show them as early (``telephony.lead_timeline``)."""
    try:
        leads_timeline_note(logs)
    except Exception:  # noqa: BLE001 - a report's column must not stop the receivers; a backfill repairs it
        logger.exception("Lead timeline update of %d calls failed", len(logs))
