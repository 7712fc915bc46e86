from django.apps import AppConfig


class AcefoneConfig(AppConfig):
    name = "acefone"
    verbose_name = "Acefone"

    def ready(self) -> None:
        from telephony.sandbox import sandbox_webhook_url_register

        # The sandbox's webhook task carries only the provider name; the worker builds the URL (and secret).
        sandbox_webhook_url_register("acefone", "acefone.sandbox.webhook_url")
