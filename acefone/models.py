"""Acefone click-to-call logs."""

from __future__ import annotations

from django.db import models

from telephony.models import BaseCallLog


class AcefoneCallLog(BaseCallLog):
    agent_number = models.CharField(max_length=20, help_text="The rep's number or extension, rung first.")
    caller_id = models.CharField(max_length=20, blank=True)
    call_uuid = models.CharField(max_length=64, blank=True)
    hangup_cause = models.CharField(max_length=60, blank=True)
    billsec = models.PositiveIntegerField(null=True, blank=True)
    agent_answered = models.BooleanField(null=True, blank=True)
    customer_answered = models.BooleanField(null=True, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    converted = models.BooleanField(null=True, blank=True, help_text="Set by the rep's wrap-up disposition.")

    class Meta(BaseCallLog.Meta):
        verbose_name = "Acefone call"
        indexes = [
            models.Index(fields=["status", "scheduled_at"], name="af_call_due_idx"),
            models.Index(fields=["created_at"], name="af_call_created_idx"),
            models.Index(fields=["lead", "-created_at"], name="af_call_lead_idx"),
            models.Index(fields=["team_member", "created_at"], name="af_call_member_idx"),
            models.Index(fields=["to_number", "created_at"], name="af_call_number_idx"),
        ]

    def __str__(self) -> str:
        return f"Acefone call {self.pk} to {self.to_number} ({self.status})"


class AcefoneConfig(models.Model):
    """The one Acefone settings row from ``/callkaro-config/``; the environment gives the initial values."""

    api_token_encrypted = models.TextField(blank=True)
    api_token_last4 = models.CharField(max_length=4, blank=True)
    max_call_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Sent as call_timeout, which disconnects the call; empty sends none."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey("crm.TeamMember", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "Acefone configuration"
        verbose_name_plural = "Acefone configuration"

    def __str__(self) -> str:
        return "Acefone configuration"
