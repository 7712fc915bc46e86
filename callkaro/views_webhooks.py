"""Call Karo's status webhook: the shared pipeline, with the secrets saved on the config page."""

from __future__ import annotations

from telephony.webhooks import ProviderWebhookView

from .config import get_effective_config_cached


class CallKaroWebhookView(ProviderWebhookView):
    provider = "callkaro"

    def get_secrets(self) -> list[str]:
        # Cached for a few seconds in this process; a save here clears it at once.
        return get_effective_config_cached().webhook_secrets
