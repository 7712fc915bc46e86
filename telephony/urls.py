"""Telephony's own pages: a lead's scheduled calls (the call panel and the lead page include them)."""

from django.urls import path

from . import views_scheduled

app_name = "telephony"

urlpatterns = [
    path("leads/<int:lead_id>/scheduled-calls/", views_scheduled.scheduled_calls, name="scheduled_calls"),
    path(
        "leads/<int:lead_id>/scheduled-calls/<str:action>/",
        views_scheduled.scheduled_call_change,
        name="scheduled_call_change",
    ),
]
