from django.apps import AppConfig


class CallKaroConfig(AppConfig):
    name = "callkaro"
    verbose_name = "Call Karo AI"

    def ready(self) -> None:
        """Campaigns and the dashboard react to calls: connected here, where grep finds them."""
        from telephony import dial_checks
        from telephony.signals import call_became_final

        from . import campaign_hooks, dashboard_rollup

        dial_checks.register(campaign_hooks.campaign_lead_eligible)
        call_became_final.connect(campaign_hooks.on_call_final, dispatch_uid="callkaro.campaign_on_call_final")
        call_became_final.connect(dashboard_rollup.rollup_call_final, dispatch_uid="callkaro.rollup_call_final")
