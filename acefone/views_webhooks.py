"""Acefone's call-answered and hang-up webhooks: the shared pipeline; secrets and parsing are the provider's."""

from __future__ import annotations

from telephony.webhooks import ProviderWebhookView


class AcefoneWebhookView(ProviderWebhookView):
    provider = "acefone"
