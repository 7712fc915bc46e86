"""Call Karo URLs. docs/architecture.md fixes the top-level paths; each area keeps its own module."""

from . import urls_calls, urls_campaigns, urls_config, urls_dashboard, urls_webhooks

app_name = "callkaro"

urlpatterns = [
    *urls_config.urlpatterns,
    *urls_calls.urlpatterns,
    *urls_campaigns.urlpatterns,
    *urls_dashboard.urlpatterns,
    *urls_webhooks.urlpatterns,
]
