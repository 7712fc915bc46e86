from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from telephony import dial_checks

        from . import checks  # noqa: F401 - registers the system checks
        from .dnc import do_not_call_check
        from .roles import sync_role_groups_after_migrate

        dial_checks.register(do_not_call_check)

        # Permissions exist only after migrate, so the role groups are synced then.
        post_migrate.connect(sync_role_groups_after_migrate, sender=self)
