"""The admin's Meta lead-ads page: settings, forms and rotas, sync now, and (sandbox) simulate.

Thin: forms validate, services write. Secrets go back to the browser only as masks.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from crm.models import TeamMember
from crm.selectors import team_member_for

from . import selectors, services_config
from .forms import ConfigForm, FormAddForm
from .models import MetaForm
from .tasks import backfill_all_task, sandbox_simulate_task

configure_required = permission_required("crm.configure_calling", raise_exception=True)
SIMULATE_MAX = 50


def _config_initial() -> dict:
    summary = selectors.config_summary()
    return {
        "graph_base_url": summary.graph_base_url,
        "backfill_interval": summary.backfill_interval,
        "speed_to_lead_agent_id": summary.speed_to_lead_agent_id,
        "metadata_answer_keys": ", ".join(summary.metadata_answer_keys),
    }


def _render(request: HttpRequest, *, config_form: ConfigForm | None = None, status: int = 200) -> HttpResponse:
    forms = list(selectors.form_list())
    weights = {form.pk: {a.team_member_id: a.weight for a in form.assignees.all()} for form in forms}
    reps = list(selectors.reps_for_rota())
    context = {
        "summary": selectors.config_summary(),
        "config_form": config_form or ConfigForm(initial=_config_initial()),
        "form_add_form": FormAddForm(),
        "forms": [(form, [(rep, weights[form.pk].get(rep.pk, 0)) for rep in reps]) for form in forms],
        "reps": reps,
        "counts": selectors.delivery_counts(),
        "deliveries": selectors.deliveries_recent(),
        "rejections": selectors.rejections_recent(),
    }
    response = render(request, "metaleads/config.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@configure_required
@require_GET
def config(request: HttpRequest) -> HttpResponse:
    return _render(request)


@configure_required
@require_POST
def save_config(request: HttpRequest) -> HttpResponse:
    form = ConfigForm(request.POST)
    if not form.is_valid():
        return _render(request, config_form=form, status=400)
    services_config.config_save(actor=team_member_for(request.user), **form.cleaned_data)
    messages.success(request, "Meta lead-ads settings saved.")
    return redirect("metaleads:config")


@configure_required
@require_POST
def add_form(request: HttpRequest) -> HttpResponse:
    form = FormAddForm(request.POST)
    if form.is_valid():
        meta_form = services_config.form_add(**form.cleaned_data)
        messages.success(request, f"Form {meta_form} is watched; the next backfill reads it.")
    else:
        messages.error(request, f"Form id: {form.errors.get('form_id', ['invalid'])[0]}")
    return redirect("metaleads:config")


@configure_required
@require_POST
def set_rota(request: HttpRequest, pk: int) -> HttpResponse:
    meta_form = get_object_or_404(MetaForm, pk=pk)
    weights: dict[int, int] = {}
    for rep in selectors.reps_for_rota():
        raw = request.POST.get(f"weight_{rep.pk}", "0").strip() or "0"
        if not raw.isdigit() or int(raw) > 100:
            messages.error(request, f"{rep.name}: a weight is a whole number from 0 to 100.")
            return redirect("metaleads:config")
        weights[rep.pk] = int(raw)
    services_config.form_rota_set(form=meta_form, weights=weights)
    messages.success(request, f"Rota for {meta_form} saved.")
    return redirect("metaleads:config")


@configure_required
@require_POST
def set_form_active(request: HttpRequest, pk: int) -> HttpResponse:
    meta_form = get_object_or_404(MetaForm, pk=pk)
    services_config.form_set_active(form=meta_form, is_active=request.POST.get("is_active") == "1")
    return redirect("metaleads:config")


@configure_required
@require_POST
def set_away(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(TeamMember, pk=member_id)
    away = request.POST.get("is_away") == "1"
    services_config.team_member_set_away(member=member, is_away=away)
    messages.success(request, f"{member.name} is {'away: no new leads' if away else 'back in the rota'}.")
    return redirect("metaleads:config")


@configure_required
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    backfill_all_task.delay()
    messages.success(request, "Sync started: every watched form is read from Meta now.")
    return redirect("metaleads:config")


@configure_required
@require_POST
def simulate(request: HttpRequest) -> HttpResponse:
    if not settings.PROVIDER_SANDBOX:
        raise Http404("The Meta sandbox is off")
    raw = request.POST.get("count", "5")
    count = min(max(int(raw), 1), SIMULATE_MAX) if raw.isdigit() else 5
    sandbox_simulate_task.delay(count)
    messages.success(request, f"{count} simulated Meta lead(s) on their way (some twice, some only via backfill).")
    return redirect("metaleads:config")
