"""Opt-outs in one place: the do-not-call list and the lead's flag move together, here only.

Structured signals (a post-call do-not-call field, a disposition mapped to opt-out, the provider's
DND refusal) call ``opt_out_record`` at once. Free text heard in a transcript only proposes one
(``opt_out_propose``), for a manager to confirm or dismiss. Only a manager or admin takes a number off
the list (``do_not_call_clear``), with a reason kept in the lead's activity.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .dnc import dnc_add, dnc_remove
from .models import DoNotCallEntry, Lead, LeadActivity, OptOutProposal, TeamMember
from .opt_out_phrases import opt_out_phrase
from .services import lead_flag_set


class OptOutRefused(Exception):
    """The change is not allowed (no permission, no reason)."""


@transaction.atomic
def opt_out_record(
    *,
    lead: Lead,
    reason: str,
    source: str = DoNotCallEntry.Source.CALL_OPT_OUT,
    call_ref: str = "",
    actor: TeamMember | None = None,
    actor_label: str = "",
) -> bool:
    """Add the lead's number to the shared list and flag the lead; returns whether the lead changed."""
    try:
        dnc_add(number=lead.phone, reason=reason, source=source, created_by=actor)
    except ValueError:
        pass  # an unparseable number cannot be listed; the lead's flag still stops every call
    return lead_flag_set(
        lead=lead,
        flag="do_not_call",
        value=True,
        actor=actor,
        actor_label=actor_label,
        call_ref=call_ref,
        message=reason,
    )


def opt_out_propose(*, lead: Lead, phrase: str, call_ref: str) -> OptOutProposal | None:
    """Keep a heard opt-out for review (once per call); nothing when the lead is already do-not-call."""
    if lead.do_not_call or not phrase:
        return None
    try:
        with transaction.atomic():
            return OptOutProposal.objects.create(
                lead=lead, phone=str(lead.phone), phrase=phrase[:300], call_ref=call_ref[:80]
            )
    except IntegrityError:
        return OptOutProposal.objects.filter(call_ref=call_ref).first()


def _may_clear(actor: TeamMember | None) -> bool:
    return actor is not None and actor.user.has_perm("crm.clear_do_not_call")


@transaction.atomic
def opt_out_proposals_decide(*, lead: Lead, confirm: bool, actor: TeamMember | None) -> int:
    """Confirm (the number joins the list) or dismiss the lead's pending proposals; returns how many."""
    if not _may_clear(actor):
        raise OptOutRefused("Only a manager or admin reviews opt-outs.")
    pending = list(OptOutProposal.objects.select_for_update().filter(lead=lead, status=OptOutProposal.Status.PENDING))
    if not pending:
        return 0
    status = OptOutProposal.Status.CONFIRMED if confirm else OptOutProposal.Status.DISMISSED
    OptOutProposal.objects.filter(pk__in=[p.pk for p in pending]).update(
        status=status, decided_by=actor, decided_at=timezone.now()
    )
    if confirm:
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        opt_out_record(
            lead=locked,
            reason=f"Opt-out heard on a call, confirmed: “{pending[0].phrase}”"[:300],
            source=DoNotCallEntry.Source.CONFIRMED,
            call_ref=pending[0].call_ref,
            actor=actor,
        )
    else:
        LeadActivity.objects.create(
            lead=lead, kind=LeadActivity.Kind.DO_NOT_CALL, actor=actor, message="Proposed opt-out dismissed"
        )
    return len(pending)


@transaction.atomic
def do_not_call_clear(*, lead: Lead, reason: str, actor: TeamMember | None) -> bool:
    """Take the lead's number off the list and clear its flag: a manager or admin, with a reason."""
    if not _may_clear(actor):
        raise OptOutRefused("Only a manager or admin can take a number off the do-not-call list.")
    reason = reason.strip()
    if not reason:
        raise OptOutRefused("Give the reason for taking the number off the list.")
    listed = dnc_remove(number=lead.phone)
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    changed = lead_flag_set(
        lead=locked, flag="do_not_call", value=False, actor=actor, message=f"Taken off the list: {reason}"
    )
    if listed and not changed:
        LeadActivity.objects.create(
            lead=lead, kind=LeadActivity.Kind.DO_NOT_CALL, actor=actor, message=f"Number taken off the list: {reason}"
        )
    return listed or changed


def on_call_final(call_log: Any, provider: str, **_: Any) -> None:
    """A ``call_became_final`` receiver: an opt-out heard in the transcript becomes a proposal to review."""
    phrase = opt_out_phrase(getattr(call_log, "transcript", "") or "")
    if phrase:
        lead = Lead.objects.get(pk=call_log.lead_id)
        opt_out_propose(lead=lead, phrase=phrase, call_ref=f"{provider}:{call_log.pk}")
