from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from telephony.signals import call_became_final

        from . import checks  # noqa: F401 - registers the system checks
        from .opt_out import on_call_final
        from .roles import sync_role_groups_after_migrate

        # Opt-outs heard in a transcript are proposed for review (crm.opt_out), never listed at once.
        call_became_final.connect(on_call_final, dispatch_uid="crm.opt_out_on_call_final")

        # Permissions exist only after migrate, so the role groups are synced then.
        post_migrate.connect(sync_role_groups_after_migrate, sender=self)
