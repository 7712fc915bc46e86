from django.apps import AppConfig


class ReportingConfig(AppConfig):
    """The manager's dashboard, its daily roll-up and the CSV export, read through ``telephony.calls``."""

    name = "reporting"
    verbose_name = "Reporting"

    def ready(self) -> None:
        """A call of a closed day that turns final marks its day for a rebuild: connected here."""
        from telephony.signals import call_became_final

        from .services import rollup_call_final

        call_became_final.connect(rollup_call_final, dispatch_uid="reporting.rollup_call_final")
