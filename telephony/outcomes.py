"""What a finished call does to its lead: one rule table (``CallOutcomeRule``), editable in the admin.

When the table has no rows, ``DEFAULT_RULES`` below apply (and the admin loads them on first view).
Stage changes go through ``lead_stage_set`` and opt-outs through ``crm.opt_out.opt_out_record`` (the
list and the flag together), so the lead's history names the call. A requested callback becomes a
follow-up for the lead's rep (``telephony.callbacks``).

Rules that read what the provider reported after the call (``uses_post_call``) are applied in one
place, ``_post_call_matches``: a guard on whether that report is evidence sits at its top.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import transaction

from crm.models import DoNotCallEntry, Lead, LeadStage
from crm.opt_out import opt_out_record
from crm.services import lead_flag_set, lead_stage_set

from .models import CallOutcomeRule
from .status import CallStatus

#: How far along a lead is. A call may only move a lead to a higher rank. Stages a person
#: closed (converted, not interested, dead) are absent: a call outcome never reopens them.
STAGE_RANK: dict[str, int] = {
    LeadStage.NEW: 0,
    LeadStage.CONTACTED: 1,
    LeadStage.FOLLOW_UP: 2,
    LeadStage.INTERESTED: 3,
    LeadStage.SITE_VISIT: 4,
    LeadStage.NEGOTIATION: 5,
}
#: Where a call may close an open lead: the AI heard "not interested", or the provider marked it converted.
#: A conversion wins over a refusal heard on the same call; neither is ever left by a call.
CLOSING_RANK: dict[str, int] = {LeadStage.NOT_INTERESTED: 90, LeadStage.CONVERTED: 100}
TARGET_RANK: dict[str, int] = {**STAGE_RANK, **CLOSING_RANK}
ACTOR_LABELS = {"callkaro": "Call Karo webhook", "acefone": "Acefone webhook"}

#: The defaults, as CallOutcomeRule field values. Used while the table is empty.
DEFAULT_RULES: list[dict[str, Any]] = [
    {"order": 10, "name": "Completed call → contacted", "call_status": CallStatus.COMPLETED, "set_stage": "contacted"},
    {"order": 20, "name": "Converted by the AI agent → converted", "converted": True, "set_stage": "converted"},
    {
        "order": 30,
        "name": "Post-call: interested → interested",
        "post_call_key": "lead_status",
        "post_call_values": "interested|hot|warm|site_visit",
        "set_stage": "interested",
    },
    {
        "order": 35,
        "name": "Post-call: not interested → not interested",
        "post_call_key": "lead_status",
        "post_call_values": "not_interested|not interested|no_interest|cold",
        "set_stage": "not_interested",
    },
    {
        "order": 36,
        "name": "Post-call: callback asked for → follow-up for the rep",
        "post_call_key": "callback_time",
        "follow_up": True,
    },
    {
        "order": 40,
        "name": "Post-call: asked not to be called → do not call",
        "post_call_key": "do_not_call",
        "set_flag": "do_not_call",
    },
    {
        "order": 41,
        "name": "Post-call: lead status do-not-call → do not call",
        "post_call_key": "lead_status",
        "post_call_values": "do_not_call|dnd|dnc|do not call",
        "set_flag": "do_not_call",
    },
    {
        "order": 42,
        "name": "Disposition: opt-out → do not call",
        "disposition": "do_not_call|do not call|dnd|opt_out|opt out|opted_out|unsubscribe",
        "set_flag": "do_not_call",
    },
    {
        "order": 43,
        "name": "Provider DND refusal → do not call",
        "hangup_reason": "DND|NCPR|DND_REGISTERED|CALLEE_DND",
        "set_flag": "do_not_call",
    },
    {
        "order": 50,
        "name": "Invalid number → flag the phone",
        "hangup_reason": "INVALID_PHONE_NUMBER|UNALLOCATED_NUMBER|INVALID_NUMBER_FORMAT",
        "set_flag": "phone_invalid",
    },
    {
        "order": 60,
        "name": "No answer → stage unchanged (the retry policy decides)",
        "call_status": CallStatus.NO_ANSWER,
    },
]


def outcome_rules() -> list[CallOutcomeRule]:
    """The active rules; the defaults (unsaved) while the table is empty."""
    rows = list(CallOutcomeRule.objects.all())
    if not rows:
        return [CallOutcomeRule(**values) for values in DEFAULT_RULES]
    return [rule for rule in rows if rule.is_active]


@transaction.atomic
def outcome_rules_seed() -> int:
    """Write the default rules into an empty table, so an admin can edit them; returns rows added."""
    if CallOutcomeRule.objects.select_for_update().exists():
        return 0
    CallOutcomeRule.objects.bulk_create([CallOutcomeRule(**values) for values in DEFAULT_RULES])
    return len(DEFAULT_RULES)


def _split(values: str) -> set[str]:
    return {v.strip().lower() for v in values.split("|") if v.strip()}


def _post_call_value(call_log: Any, key: str) -> Any:
    post_call = getattr(call_log, "post_call", None) or {}
    if isinstance(post_call, dict) and key in post_call:
        return post_call[key]
    detail = (
        (getattr(call_log, "post_call_detail", None) or {}).get(key)
        if isinstance(getattr(call_log, "post_call_detail", None), dict)
        else None
    )
    return detail.get("value") if isinstance(detail, dict) else detail


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "y"}
    return bool(value) and not isinstance(value, dict | list)


def rule_matches(rule: CallOutcomeRule, *, call_log: Any, provider: str) -> bool:
    """True when every condition the rule sets holds for this call."""
    if rule.provider and rule.provider != provider:
        return False
    if rule.call_status and rule.call_status != call_log.status:
        return False
    if rule.hangup_reason:
        reason = getattr(call_log, "hangup_reason", "") or getattr(call_log, "hangup_cause", "") or ""
        if reason.strip().lower() not in _split(rule.hangup_reason):
            return False
    if rule.converted is not None and getattr(call_log, "converted", None) is not rule.converted:
        return False
    if rule.disposition:
        if (getattr(call_log, "disposition", "") or "").strip().lower() not in _split(rule.disposition):
            return False
    if rule.post_call_key:
        value = _post_call_value(call_log, rule.post_call_key)
        if rule.post_call_values:
            if isinstance(value, dict | list) or str(value).strip().lower() not in _split(rule.post_call_values):
                return False
        elif rule.follow_up:
            if not isinstance(value, str) or not value.strip():  # a time, read by ``callbacks``
                return False
        elif not _truthy(value):
            return False
    return True


def post_call_is_evidence(call_log: Any) -> bool:
    """False for a call of ``TELEPHONY_SHORT_CALL_SECONDS`` (10) seconds or less: Call Karo then fills
    ``post_call`` (and ``conversion_status``) with the agent's defaults, so they are stored, not acted on.
    A person's wrap-up is always evidence, however short the call."""
    if getattr(call_log, "post_call_by_person", False):
        return True
    return (getattr(call_log, "duration_seconds", None) or 0) > settings.TELEPHONY_SHORT_CALL_SECONDS


def stage_is_forward(current: str, new: str) -> bool:
    """A call moves a lead only forward, and never out of a stage a person closed."""
    if current not in STAGE_RANK or new not in TARGET_RANK:
        return False
    return TARGET_RANK[new] > STAGE_RANK[current]


def uses_post_call(rule: CallOutcomeRule) -> bool:
    """Whether the rule reads the provider's after-call report (post-call data, disposition, conversion)."""
    return bool(rule.post_call_key or rule.disposition or rule.converted is not None)


def _post_call_matches(rules: list[CallOutcomeRule], *, call_log: Any, provider: str) -> list[CallOutcomeRule]:
    """The matching rules that read the after-call report: the one place to judge that report (a short
    call's report holds the agent's defaults, not evidence)."""
    if not post_call_is_evidence(call_log):
        return []
    return [rule for rule in rules if uses_post_call(rule) and rule_matches(rule, call_log=call_log, provider=provider)]


def matching_rules(
    *, call_log: Any, provider: str, rules: list[CallOutcomeRule] | None = None
) -> list[CallOutcomeRule]:
    """The rules that apply to this call, from ``rules`` (a batch reads the table once) or the table."""
    rules = outcome_rules() if rules is None else rules
    plain = [r for r in rules if not uses_post_call(r) and rule_matches(r, call_log=call_log, provider=provider)]
    return plain + _post_call_matches(rules, call_log=call_log, provider=provider)


def call_outcome_apply(*, call_log: Any, provider: str, actor_label: str = "") -> list[str]:
    """Apply the matching rules to the call's lead; returns what changed. Safe to run twice."""
    matched = matching_rules(call_log=call_log, provider=provider)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=call_log.lead_id)
        return lead_outcome_apply(
            lead=lead, matched=matched, call_log=call_log, provider=provider, actor_label=actor_label
        )


def lead_outcome_apply(
    *,
    lead: Lead,
    matched: list[CallOutcomeRule],
    call_log: Any,
    provider: str,
    actor_label: str = "",
    stage_set: Callable[..., bool] = lead_stage_set,
) -> list[str]:
    """The matched rules' changes to a lead the caller holds locked; returns what changed.

    ``stage_set`` writes a stage change (``lead_stage_set``'s signature): a batch passes one that
    collects the change and its activity row and writes the whole batch's at once."""
    from .callbacks import callback_apply

    label = actor_label or ACTOR_LABELS.get(provider, f"{provider} webhook")
    call_ref = f"{provider}:{call_log.pk}"
    changes: list[str] = []
    stages = [rule.set_stage for rule in matched if rule.set_stage in TARGET_RANK]
    if stages:
        target = max(stages, key=TARGET_RANK.__getitem__)
        if stage_is_forward(lead.stage, target) and stage_set(
            lead=lead, stage=target, actor_label=label, call_ref=call_ref
        ):
            changes.append(f"stage={target}")
    for rule in matched:
        if rule.set_flag and _flag_apply(rule, lead=lead, label=label, call_ref=call_ref):
            changes.append(f"{rule.set_flag}=True")
    for rule in matched:
        if rule.follow_up:
            changes += callback_apply(rule=rule, call_log=call_log, provider=provider, lead=lead)
    return changes


def wrap_up_outcome_apply(*, call_log: Any, provider: str, disposition_code: str, converted: bool, actor_label: str):
    """A rep's wrap-up through the same rules as a provider's report: the disposition code reads as the
    call's post-call ``lead_status`` and ``converted`` as its conversion flag. Returns what changed."""
    view = SimpleNamespace(
        pk=call_log.pk,
        lead_id=call_log.lead_id,
        status=call_log.status,
        hangup_reason="",
        hangup_cause=getattr(call_log, "hangup_cause", ""),
        converted=converted,
        post_call={"lead_status": disposition_code},
        post_call_detail={},
        post_call_by_person=True,
    )
    return call_outcome_apply(call_log=view, provider=provider, actor_label=actor_label)


def _flag_apply(rule: CallOutcomeRule, *, lead: Lead, label: str, call_ref: str) -> bool:
    if rule.set_flag == CallOutcomeRule.Flag.DO_NOT_CALL:
        # The list and the flag together: an opt-out stops every provider's calls, not only this lead's.
        source = DoNotCallEntry.Source.PROVIDER_DND if rule.hangup_reason else DoNotCallEntry.Source.CALL_OPT_OUT
        return opt_out_record(
            lead=lead, reason=f"Rule: {rule.name}", source=source, call_ref=call_ref, actor_label=label
        )
    return lead_flag_set(
        lead=lead, flag=rule.set_flag, value=True, actor_label=label, call_ref=call_ref, message=f"Rule: {rule.name}"
    )


_DND_REFUSAL = re.compile(r"\b(?:DND|NCPR|do[\s-]not[\s-]disturb)\b", re.IGNORECASE)


def provider_dnd_refusal(*, call_log: Any, provider: str, message: str) -> bool:
    """The provider refused the dial because the number is on DND (the national registry): list it at once."""
    if not _DND_REFUSAL.search(message or ""):
        return False
    lead = Lead.objects.get(pk=call_log.lead_id)
    return opt_out_record(
        lead=lead,
        reason=f"{ACTOR_LABELS.get(provider, provider)}: refused as DND ({message[:120]})",
        source=DoNotCallEntry.Source.PROVIDER_DND,
        call_ref=f"{provider}:{call_log.pk}",
        actor_label=ACTOR_LABELS.get(provider, provider),
    )
