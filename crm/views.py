"""CRM core pages: lead list, detail, create and edit. Thin: forms validate, services write."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from telephony.selectors import call_history_for_lead

from . import selectors, services
from .forms import LeadFilterForm, LeadForm, LeadNoteForm

LEADS_PER_PAGE = 25


def lead_filters_from(request: HttpRequest) -> tuple[LeadFilterForm, selectors.LeadFilters]:
    can_all = request.user.has_perm("crm.view_all_leads")
    form = LeadFilterForm(request.GET or None, can_filter_assignee=can_all)
    if form.is_valid():
        data = form.cleaned_data
        assignee = data.get("assignee")
        return form, selectors.LeadFilters(
            q=data.get("q") or "",
            stage=data.get("stage") or "",
            source=data.get("source") or "",
            assignee=assignee.pk if assignee else None,
        )
    return form, selectors.LeadFilters()


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """A rep starts at their work queue; managers and admins at the lead list."""
    if selectors.team_member_for(request.user) is not None and not request.user.has_perm("crm.view_all_leads"):
        return redirect("crm:my_day")
    return redirect("crm:lead_list")


@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    form, filters = lead_filters_from(request)
    page = Paginator(selectors.lead_search(request.user, filters), LEADS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "crm/_lead_table.html" if request.htmx else "crm/lead_list.html"
    return render(request, template, {"form": form, "page": page, "query": query.urlencode()})


@require_GET
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = selectors.lead_get_for_user(request.user, lead_id)
    return render(
        request,
        "crm/lead_detail.html",
        {
            "lead": lead,
            "notes": selectors.lead_notes(lead),
            "activities": selectors.lead_activities(lead),
            "note_form": LeadNoteForm(),
            "first_call_age": selectors.lead_first_call_age(lead, call_history_for_lead(lead)),
        },
    )


@permission_required("crm.add_lead", raise_exception=True)
@require_http_methods(["GET", "POST"])
def lead_create(request: HttpRequest) -> HttpResponse:
    can_assign = request.user.has_perm("crm.view_all_leads")
    member = selectors.team_member_for(request.user)
    form = LeadForm(request.POST or None, can_assign=can_assign)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        if not can_assign:
            fields["assigned_to"] = member
        lead = services.lead_create(actor=member, **fields)
        messages.success(request, f"Lead {lead.name} created.")
        return redirect("crm:lead_detail", lead_id=lead.pk)
    return render(request, "crm/lead_form.html", {"form": form, "lead": None})


@permission_required("crm.change_lead", raise_exception=True)
@require_http_methods(["GET", "POST"])
def lead_edit(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = selectors.lead_get_for_user(request.user, lead_id)
    can_assign = request.user.has_perm("crm.view_all_leads")
    # The form edits a copy, so the service can still see what changed.
    form = LeadForm(request.POST or None, instance=copy.copy(lead), can_assign=can_assign)
    if request.method == "POST" and form.is_valid():
        services.lead_update(lead=lead, actor=selectors.team_member_for(request.user), **form.cleaned_data)
        messages.success(request, "Lead saved.")
        return redirect("crm:lead_detail", lead_id=lead.pk)
    return render(request, "crm/lead_form.html", {"form": form, "lead": lead})


@permission_required("crm.add_leadnote", raise_exception=True)
@require_POST
def lead_note_add(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = selectors.lead_get_for_user(request.user, lead_id)
    form = LeadNoteForm(request.POST)
    if form.is_valid():
        services.lead_note_add(
            lead=lead, author=selectors.team_member_for(request.user), body=form.cleaned_data["body"]
        )
        messages.success(request, "Note added.")
    else:
        messages.error(request, "A note cannot be empty.")
    return redirect("crm:lead_detail", lead_id=lead.pk)
