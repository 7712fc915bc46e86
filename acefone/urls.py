"""Acefone URLs: starting a click-to-call and its webhook."""

from . import urls_calls, urls_webhooks

app_name = "acefone"

urlpatterns = [*urls_calls.urlpatterns, *urls_webhooks.urlpatterns]
