"""Acefone's call-answered and hang-up webhooks: the shared pipeline, secret from the settings."""

from __future__ import annotations

from django.conf import settings

from telephony.webhooks import ProviderWebhookView


class AcefoneWebhookView(ProviderWebhookView):
    provider = "acefone"

    def get_secrets(self) -> list[str]:
        # Comma-separated, so a new secret can be added before the old one is removed.
        return [s.strip() for s in settings.ACEFONE_WEBHOOK_SECRET.split(",") if s.strip()]
