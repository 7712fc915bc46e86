"""Call Karo's status webhook: the shared pipeline; secrets and parsing come from the provider class."""

from __future__ import annotations

from telephony.webhooks import ProviderWebhookView


class CallKaroWebhookView(ProviderWebhookView):
    provider = "callkaro"
