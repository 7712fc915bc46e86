"""Shared call-log shape and the raw webhook store, used by every provider app."""

from __future__ import annotations

from django.db import models

from .status import CallStatus


class BaseCallLog(models.Model):
    """What every provider's call log has. Our row id is the correlation key sent to the provider,
    and the row itself is the guard against dialling a customer twice."""

    lead = models.ForeignKey("crm.Lead", on_delete=models.CASCADE, related_name="%(app_label)s_calls")
    team_member = models.ForeignKey(
        "crm.TeamMember", null=True, blank=True, on_delete=models.SET_NULL, related_name="%(app_label)s_calls"
    )
    to_number = models.CharField(max_length=20, help_text="E.164, as dialled.")
    status = models.CharField(max_length=20, choices=CallStatus.choices, default=CallStatus.QUEUED)
    raw_status = models.CharField(max_length=60, blank=True, help_text="The provider's own value, kept as sent.")
    provider_call_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    metadata_sent = models.JSONField(default=dict, blank=True)
    dispatch_attempts = models.PositiveSmallIntegerField(default=0)
    scheduled_at = models.DateTimeField(null=True, blank=True, help_text="When to dial; empty means now.")
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    initiated_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def is_final(self) -> bool:
        from .status import is_final

        return is_final(self.status)


class ProviderWebhookEvent(models.Model):
    """Every webhook request as received, stored before it is trusted or applied."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        APPLIED = "applied", "Applied"
        DUPLICATE = "duplicate", "Duplicate"
        STALE = "stale", "Stale (no change)"
        UNMATCHED = "unmatched", "Unmatched"
        REJECTED = "rejected", "Rejected (auth)"
        FAILED = "failed", "Failed"

    provider = models.CharField(max_length=20)
    received_at = models.DateTimeField(auto_now_add=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True, help_text="Secrets masked.")
    body = models.TextField(blank=True)
    is_authenticated = models.BooleanField(default=False)
    dedup_key = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    call_log_id = models.BigIntegerField(null=True, blank=True)
    provider_call_id = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "dedup_key"], condition=~models.Q(dedup_key=""), name="webhook_event_dedup"
            )
        ]
        indexes = [
            models.Index(fields=["provider", "outcome", "received_at"], name="webhook_outcome_idx"),
            models.Index(fields=["provider", "provider_call_id"], name="webhook_provider_call_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} event {self.pk} ({self.outcome})"
