from django.apps import AppConfig


class ReportingConfig(AppConfig):
    """The manager's dashboard, its daily roll-up and the CSV export, read through ``telephony.calls``."""

    name = "reporting"
    verbose_name = "Reporting"
