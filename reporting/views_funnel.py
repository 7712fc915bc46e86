"""The funnel and leaderboard page and their CSV exports (managers and admins, like the dashboard)."""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .export import csv_safe_row
from .funnel import funnel_report, leaderboard
from .periods import PERIODS
from .views import PERMISSION, DashboardFilterForm

FUNNEL_COLUMNS = (
    ("meta_form_name", "Meta form"),
    ("meta_campaign_name", "Meta campaign"),
    ("meta_ad_name", "Ad"),
    ("leads", "Leads in"),
    ("called", "Called"),
    ("connected", "Connected"),
    ("interested", "Interested"),
    ("converted", "Converted"),
    ("to_first_call", "Median seconds to first call"),
    ("to_human", "Median seconds to first human call"),
)
LEADERBOARD_COLUMNS = (
    ("name", "Team member"),
    ("calls", "Calls"),
    ("connects", "Connects"),
    ("conversions", "Conversions"),
    ("talk_seconds", "Talk seconds"),
    ("overdue", "Follow-ups overdue"),
)


def _csv(rows: list[dict], columns: tuple, filename: str) -> HttpResponse:
    """A small CSV (a row per group or member): every text cell neutralised against formulas."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in columns])
    for row in rows:
        writer.writerow(csv_safe_row("" if row.get(key) is None else row.get(key) for key, _ in columns))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def funnel_page(request: HttpRequest) -> HttpResponse:
    form = DashboardFilterForm(request.GET or None)
    period, _ = form.resolve()
    return render(
        request,
        "reporting/funnel.html",
        {
            "period": period,
            "periods": PERIODS,
            "funnel": funnel_report(period),
            "board": leaderboard(period),
            "querystring": request.GET.urlencode(),
        },
    )


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def funnel_export(request: HttpRequest) -> HttpResponse:
    period, _ = DashboardFilterForm(request.GET or None).resolve()
    return _csv(funnel_report(period), FUNNEL_COLUMNS, f"funnel-{period.last_day.isoformat()}.csv")


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def leaderboard_export(request: HttpRequest) -> HttpResponse:
    period, _ = DashboardFilterForm(request.GET or None).resolve()
    return _csv(leaderboard(period), LEADERBOARD_COLUMNS, f"leaderboard-{period.last_day.isoformat()}.csv")
