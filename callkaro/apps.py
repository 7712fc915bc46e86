from django.apps import AppConfig


class CallKaroConfig(AppConfig):
    name = "callkaro"
    verbose_name = "Call Karo AI"

    def ready(self) -> None:
        """Campaigns react to calls: connected here, where grep finds them."""
        from telephony import dial_checks
        from telephony.signals import call_became_final, call_blocked

        from .campaigns import hooks

        dial_checks.register(hooks.campaign_lead_eligible, needs=hooks.campaign_dial_needs)
        call_became_final.connect(hooks.on_call_final, dispatch_uid="callkaro.campaign_on_call_final")
        call_blocked.connect(hooks.on_call_blocked, dispatch_uid="callkaro.campaign_on_call_blocked")
