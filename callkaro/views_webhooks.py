"""Call Karo's status webhook: the shared pipeline, with the secrets saved on the config page."""

from __future__ import annotations

from crm.telephony.webhooks import ProviderWebhookView

from .config import get_effective_config


class CallKaroWebhookView(ProviderWebhookView):
    provider = "callkaro"

    def get_secrets(self) -> list[str]:
        return get_effective_config().webhook_secrets
