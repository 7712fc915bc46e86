from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    """The provider interface, the registry, the one place a call is placed and the webhook inbox."""

    name = "telephony"
    verbose_name = "Telephony"

    def ready(self) -> None:
        from . import checks, dial_checks  # noqa: F401 - checks registers the system checks on import

        dial_checks.register(dial_checks.lead_still_callable)
