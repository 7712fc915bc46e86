from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from .roles import sync_role_groups_after_migrate

        # Permissions exist only after migrate, so the role groups are synced then.
        post_migrate.connect(sync_role_groups_after_migrate, sender=self)
