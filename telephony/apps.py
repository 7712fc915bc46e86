from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    """The provider interface, the registry, the one place a call is placed and the webhook inbox."""

    name = "telephony"
    verbose_name = "Telephony"

    def ready(self) -> None:
        from . import checks, dial_checks  # noqa: F401 - checks registers the system checks on import
        from .dial_facts import eligibility_needs
        from .eligibility import dial_check

        # The one eligibility rule, re-asked before every dial (it covers the lead's flags too); its
        # facts are loaded with the dialled row.
        dial_checks.register(dial_check, needs=eligibility_needs)
