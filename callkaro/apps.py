from django.apps import AppConfig


class CallKaroConfig(AppConfig):
    name = "callkaro"
    verbose_name = "Call Karo AI"

    def ready(self) -> None:
        from telephony.sandbox import sandbox_webhook_url_register

        # The sandbox's webhook task carries only the provider name; the worker builds the URL (and secret).
        sandbox_webhook_url_register("callkaro", "callkaro.sandbox.webhook_url")
