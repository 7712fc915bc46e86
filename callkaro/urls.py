"""Call Karo URLs. The design fixes the top-level paths; each area keeps its own module."""

from . import urls_calls, urls_config, urls_dashboard, urls_webhooks
from .campaigns import urls as urls_campaigns

app_name = "callkaro"

urlpatterns = [
    *urls_config.urlpatterns,
    *urls_calls.urlpatterns,
    *urls_campaigns.urlpatterns,
    *urls_dashboard.urlpatterns,
    *urls_webhooks.urlpatterns,
]
