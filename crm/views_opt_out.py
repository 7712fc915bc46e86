"""Do-not-call by people: a manager or admin takes a number off the list (with a reason) and reviews
the opt-outs heard in transcripts (the dashboard's review list). Writes are ``crm.opt_out``'s."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import selectors
from .models import OptOutProposal
from .opt_out import OptOutRefused, do_not_call_clear, opt_out_proposals_decide

REVIEW_LIST_SIZE = 50


@require_POST
@permission_required("crm.clear_do_not_call", raise_exception=True)
def lead_dnc_clear(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = selectors.lead_get_for_user(request.user, lead_id)
    try:
        do_not_call_clear(
            lead=lead, reason=request.POST.get("reason", ""), actor=selectors.team_member_for(request.user)
        )
        messages.success(request, "The number is off the do-not-call list.")
    except OptOutRefused as exc:
        messages.error(request, str(exc))
    return redirect("crm:lead_detail", lead_id=lead.pk)


def _review_list(request: HttpRequest, message: str = "") -> HttpResponse:
    pending = OptOutProposal.objects.filter(status=OptOutProposal.Status.PENDING).select_related("lead")
    context = {"proposals": pending[:REVIEW_LIST_SIZE], "message": message}
    return render(request, "crm/_opt_out_review.html", context)


@require_GET
@permission_required("crm.clear_do_not_call", raise_exception=True)
def opt_out_reviews(request: HttpRequest) -> HttpResponse:
    return _review_list(request)


@require_POST
@permission_required("crm.clear_do_not_call", raise_exception=True)
def opt_out_review(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Confirm (the number joins the list) or dismiss the lead's proposed opt-out."""
    lead = selectors.lead_get_for_user(request.user, lead_id)
    confirm = request.POST.get("decision") == "confirm"
    opt_out_proposals_decide(lead=lead, confirm=confirm, actor=selectors.team_member_for(request.user))
    done = f"{lead.name}: {'added to the do-not-call list' if confirm else 'opt-out dismissed'}."
    if request.htmx:
        return _review_list(request, message=done)
    messages.success(request, done)
    return redirect("crm:lead_detail", lead_id=lead.pk)
