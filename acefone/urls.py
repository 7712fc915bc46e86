"""Acefone URLs: starting a click-to-call, its webhook, and the rep's number on the settings page."""

from django.urls import path

from . import views, views_config
from .views_webhooks import AcefoneWebhookView

app_name = "acefone"

urlpatterns = [
    path("initiate-acefone-call/", views.initiate_call, name="initiate_call"),
    path("acefone-call-options/", views.call_options, name="call_options"),
    path("acefone-webhook/", AcefoneWebhookView.as_view(), name="webhook"),
    path("callkaro-config/acefone/", views_config.save_settings, name="save_settings"),
    path(
        "callkaro-config/acefone-number/<int:member_id>/",
        views_config.set_agent_number,
        name="set_agent_number",
    ),
]
