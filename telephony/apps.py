from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    """The provider interface, the registry, the one place a call is placed and the webhook inbox."""

    name = "telephony"
    verbose_name = "Telephony"
