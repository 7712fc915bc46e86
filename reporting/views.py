"""The manager's dashboard: the page, its live htmx fragment and the streamed CSV export.

Managers and admins only (``crm.view_dashboard``): a rep gets a 403 on every dashboard URL, since
campaign and team figures would show other reps' work.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django import forms
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors
from .export import export_rows
from .periods import PERIODS, DashboardFilters, Period, period_resolve, provider_choices

PERMISSION = "crm.view_dashboard"


class DashboardFilterForm(forms.Form):
    """The period and filters, read from the query string; anything invalid falls back to the default."""

    period = forms.ChoiceField(choices=list(PERIODS.items()), required=False)
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    provider = forms.ChoiceField(choices=lambda: list(provider_choices().items()), required=False)
    agent = forms.IntegerField(required=False, min_value=1)
    team_member = forms.IntegerField(required=False, min_value=1)
    campaign = forms.IntegerField(required=False, min_value=1)

    def resolve(self) -> tuple[Period, DashboardFilters]:
        data = self.cleaned_data if self.is_valid() else {}
        period = period_resolve(data.get("period") or "today", start=data.get("start"), end=data.get("end"))
        filters = DashboardFilters(
            agent_id=data.get("agent"),
            team_member_id=data.get("team_member"),
            campaign_id=data.get("campaign"),
            provider=data.get("provider") or "",
        )
        return period, filters


def _context(request: HttpRequest) -> dict:
    form = DashboardFilterForm(request.GET or None)
    period, filters = form.resolve()
    return {
        "form": form,
        "period": period,
        "filters": filters,
        "figures": selectors.dashboard_figures_cached(period, filters),
        "querystring": request.GET.urlencode(),
    }


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def dashboard_page(request: HttpRequest) -> HttpResponse:
    ctx = _context(request)
    ctx["choices"] = selectors.filter_choices()
    ctx["periods"] = PERIODS
    ctx["providers"] = provider_choices()
    return render(request, "reporting/dashboard.html", ctx)


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def dashboard_live(request: HttpRequest) -> HttpResponse:
    """The figures only, polled by htmx every 5 s and swapped into the page."""
    return render(request, "reporting/_dashboard_figures.html", _context(request))


#: Rows joined into one streamed chunk: few enough to keep memory flat, enough to keep per-chunk overhead low.
EXPORT_BATCH_ROWS = 500


class _Echo:
    """A write-only file for ``csv.writer``: hands each line back instead of buffering it."""

    def write(self, value: str) -> str:
        return value


def _csv_chunks(rows: Iterable[tuple]) -> Iterator[str]:
    """CSV text in batches of ``EXPORT_BATCH_ROWS`` lines; nothing more is ever held in memory."""
    writer = csv.writer(_Echo())
    batch: list[str] = []
    for row in rows:
        batch.append(writer.writerow(row))
        if len(batch) >= EXPORT_BATCH_ROWS:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def dashboard_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered call logs as CSV, streamed row by row; phone numbers masked, no transcripts."""
    period, filters = DashboardFilterForm(request.GET or None).resolve()
    first = period.first_day.isoformat() if period.first_day else "all"
    response = StreamingHttpResponse(_csv_chunks(export_rows(period, filters)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="calls-{first}-{period.last_day.isoformat()}.csv"'
    response["Cache-Control"] = "no-store"
    return response
