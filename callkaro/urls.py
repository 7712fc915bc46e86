"""Call Karo URLs. docs/architecture.md fixes the top-level paths; each area keeps its own module."""

from django.urls import include, path

from . import urls_calls, urls_config, urls_webhooks
from .campaigns import urls as urls_campaigns

app_name = "callkaro"

urlpatterns = [
    *urls_config.urlpatterns,
    *urls_calls.urlpatterns,
    *urls_campaigns.urlpatterns,
    # The manager's dashboard belongs to ``reporting``; its URL names stay in this namespace.
    path("", include("reporting.urls")),
    *urls_webhooks.urlpatterns,
]
