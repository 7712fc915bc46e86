"""My day: a rep's work queue (``crm.my_day``); the list part refreshes itself through htmx."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import selectors
from .my_day import MyDay, my_day_for

REFRESH_SECONDS = 30


@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    member = selectors.team_member_for(request.user)
    day = my_day_for(member) if member is not None else MyDay()
    context = {
        "day": day,
        "member": member,
        "now": timezone.now(),
        "refresh_seconds": getattr(settings, "MY_DAY_REFRESH_SECONDS", REFRESH_SECONDS),
    }
    template = "crm/_my_day.html" if request.htmx else "crm/my_day.html"
    return render(request, template, context)
