"""Call Karo's URLs: its settings page and agents, a rep's AI call, campaigns and the status webhook.
The top-level paths are the product's public interface (docs/architecture.md); names are ``callkaro:*``."""

from django.urls import path

from . import views_calls, views_config
from .campaigns import api as campaigns_api
from .campaigns import views as campaigns
from .views_webhooks import CallKaroWebhookView

app_name = "callkaro"

urlpatterns = [
    # Settings and agents (admins).
    path("callkaro-config/", views_config.config, name="config"),
    path("save-callkaro-config/", views_config.save_config, name="save_config"),
    path("callkaro-config/webhook-secret/", views_config.generate_webhook_secret, name="generate_webhook_secret"),
    path("callkaro-config/webhook-secret/retire/", views_config.retire_webhook_secrets, name="retire_webhook_secrets"),
    path("callkaro-config/test-connection/", views_config.test_connection, name="test_connection"),
    path("add-callkaro-agent/", views_config.add_agent, name="add_agent"),
    path("callkaro-agents/<int:pk>/edit/", views_config.edit_agent, name="edit_agent"),
    path("callkaro-agents/<int:pk>/active/", views_config.set_agent_active, name="set_agent_active"),
    path("callkaro-agents/<int:pk>/assign/", views_config.assign_agent, name="assign_agent"),
    path("callkaro-agents-api/", views_config.agents_api, name="agents_api"),
    # A rep's AI call from the call panel.
    path("initiate-callkaro-call/", views_calls.initiate_call, name="initiate_call"),
    path("callkaro-call-options/", views_calls.call_options, name="call_options"),
    # Campaigns: the pages, then the two JSON endpoints. The named actions come before the generic
    # "<pk>/<action>/" pattern, which would take these words for actions.
    path("campaigns/", campaigns.campaign_list, name="campaign_list"),
    path("campaigns/new/", campaigns.campaign_new, name="campaign_new"),
    path("campaigns/paused/", campaigns.campaigns_paused, name="campaigns_paused"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/preview/", campaigns.campaign_preview, name="campaign_preview"),
    path("campaigns/<int:pk>/delete/", campaigns.campaign_delete, name="campaign_delete"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/<str:action>/", campaigns.campaign_action, name="campaign_action"),
    path("create-callkaro-campaign/", campaigns_api.create_campaign, name="create_campaign"),
    path("schedule-campaign-call/", campaigns_api.schedule_campaign_call, name="schedule_campaign_call"),
    # Call Karo's status webhook (no login, no CSRF: authenticated by its secret).
    path("callkaro-webhook/", CallKaroWebhookView.as_view(), name="webhook"),
]
