"""What a finished call does to its lead: one rule table (``CallOutcomeRule``), editable in the admin.

When the table has no rows, ``DEFAULT_RULES`` below apply (and the admin loads them on first view).
Changes go through ``lead_stage_set``/``lead_flag_set``, so the lead's history names the call.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import transaction

from crm.models import Lead, LeadStage
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
ACTOR_LABELS = {"callkaro": "Call Karo webhook", "acefone": "Acefone webhook"}

#: The defaults, as CallOutcomeRule field values. Used while the table is empty.
DEFAULT_RULES: list[dict[str, Any]] = [
    {"order": 10, "name": "Completed call → contacted", "call_status": CallStatus.COMPLETED, "set_stage": "contacted"},
    {"order": 20, "name": "Converted by the AI agent → interested", "converted": True, "set_stage": "interested"},
    {
        "order": 30,
        "name": "Post-call: interested → interested",
        "post_call_key": "lead_status",
        "post_call_values": "interested|hot|warm|site_visit",
        "set_stage": "interested",
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
    if rule.post_call_key:
        value = _post_call_value(call_log, rule.post_call_key)
        if rule.post_call_values:
            if isinstance(value, dict | list) or str(value).strip().lower() not in _split(rule.post_call_values):
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


def rule_reads_post_call(rule: CallOutcomeRule) -> bool:
    """The rule's condition is post-call analysis (post-call data or conversion), not the call itself."""
    return bool(rule.post_call_key) or rule.converted is not None


def stage_is_forward(current: str, new: str) -> bool:
    """A call moves a lead only forward, and never out of a stage a person closed."""
    if current not in STAGE_RANK or new not in STAGE_RANK:
        return False
    return STAGE_RANK[new] > STAGE_RANK[current]


def call_outcome_apply(*, call_log: Any, provider: str, actor_label: str = "") -> list[str]:
    """Apply the matching rules to the call's lead; returns what changed. Safe to run twice."""
    evidence = post_call_is_evidence(call_log)
    matched = [
        rule
        for rule in outcome_rules()
        if rule_matches(rule, call_log=call_log, provider=provider) and (evidence or not rule_reads_post_call(rule))
    ]
    label = actor_label or ACTOR_LABELS.get(provider, f"{provider} webhook")
    call_ref = f"{provider}:{call_log.pk}"
    changes: list[str] = []
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=call_log.lead_id)
        stages = [rule.set_stage for rule in matched if rule.set_stage in STAGE_RANK]
        if stages:
            target = max(stages, key=STAGE_RANK.__getitem__)
            if stage_is_forward(lead.stage, target) and lead_stage_set(
                lead=lead, stage=target, actor_label=label, call_ref=call_ref
            ):
                changes.append(f"stage={target}")
        for rule in matched:
            if rule.set_flag and lead_flag_set(
                lead=lead,
                flag=rule.set_flag,
                value=True,
                actor_label=label,
                call_ref=call_ref,
                message=f"Rule: {rule.name}",
            ):
                changes.append(f"{rule.set_flag}=True")
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
