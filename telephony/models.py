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
    skip_reason = models.CharField(max_length=200, blank=True, help_text="Why a pre-dial check cancelled it.")
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
    event = models.JSONField(
        null=True, blank=True, help_text="The event parsed from the body on arrival; the worker applies it."
    )
    is_authenticated = models.BooleanField(default=False)
    dedup_key = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    call_log_id = models.BigIntegerField(null=True, blank=True)
    provider_call_id = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "crm_providerwebhookevent"  # created by crm's first migration; moved, never renamed
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


class SandboxRequest(models.Model):
    """Every request a provider sandbox received, so a test or a person can see what was sent."""

    provider = models.CharField(max_length=20)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    headers = models.JSONField(default=dict, blank=True, help_text="Secrets masked.")
    body = models.JSONField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "crm_sandboxrequest"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.provider} {self.method} {self.path} -> {self.response_status}"


def _lead_stage_choices() -> list[tuple[str, str]]:
    from crm.models import LeadStage  # late: the model class is built before the apps are ready

    return LeadStage.choices


class CallOutcomeRule(models.Model):
    """One row of the table that turns a finished call into a lead change; admins edit it.

    Every active rule whose conditions all hold applies. Of the stages they name, the furthest
    along wins, and a lead never moves backwards (see ``telephony.outcomes.STAGE_RANK``).
    """

    class Flag(models.TextChoices):
        DO_NOT_CALL = "do_not_call", "Do not call"
        PHONE_INVALID = "phone_invalid", "Phone number invalid"

    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=100, help_text="Display order only.")
    provider = models.CharField(max_length=20, blank=True, help_text="callkaro or acefone; blank means any.")
    call_status = models.CharField(
        max_length=20, choices=CallStatus.choices, blank=True, help_text="Blank means any final status."
    )
    hangup_reason = models.CharField(
        max_length=200,
        blank=True,
        help_text="Call Karo hangup_reason or Acefone hangup_cause; several separated by |. Blank means any.",
    )
    converted = models.BooleanField(
        null=True, blank=True, help_text="Yes: only calls the provider marked converted. Blank means either."
    )
    post_call_key = models.CharField(
        max_length=80, blank=True, help_text="A key of the post-call data, e.g. lead_status. Blank means none needed."
    )
    post_call_values = models.CharField(
        max_length=200,
        blank=True,
        help_text="Values of that key that match, separated by |, any case. Blank means any true value.",
    )
    disposition = models.CharField(
        max_length=200,
        blank=True,
        help_text="Call Karo disposition values that match, separated by |, any case. Blank means any.",
    )
    set_stage = models.CharField(
        max_length=20, choices=_lead_stage_choices, blank=True, help_text="Blank leaves the stage as it is."
    )
    set_flag = models.CharField(max_length=20, choices=Flag.choices, blank=True)
    follow_up = models.BooleanField(
        default=False,
        help_text="Create a follow-up for the lead's rep at the time in the post-call key (a callback asked for).",
    )
    schedule_ai_call = models.BooleanField(
        default=False, help_text="Also schedule an AI call at that time, moved inside calling hours."
    )

    class Meta:
        db_table = "crm_calloutcomerule"
        ordering = ["order", "id"]
        verbose_name = "call outcome rule"

    def __str__(self) -> str:
        return self.name


class Disposition(models.Model):
    """A code a rep picks when wrapping up a human call ("interested", "wrong number"); admins edit the
    list. ``code`` feeds the outcome rules as the call's ``lead_status``, so one rule table serves both."""

    code = models.SlugField(max_length=40, unique=True, help_text="Matched by the outcome rules as lead_status.")
    label = models.CharField(max_length=80)
    is_conversion = models.BooleanField(default=False, help_text="Counts as a conversion on the dashboard.")
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.label


class CallWrapUp(models.Model):
    """What the rep said after a human call: the disposition, a note and the next step. One per call."""

    provider = models.CharField(max_length=20)
    call_log_id = models.BigIntegerField()
    lead = models.ForeignKey("crm.Lead", on_delete=models.CASCADE, related_name="wrap_ups")
    disposition = models.ForeignKey(Disposition, on_delete=models.PROTECT, related_name="wrap_ups")
    note = models.CharField(max_length=300, blank=True)
    follow_up_at = models.DateTimeField(null=True, blank=True)
    stage = models.CharField(max_length=20, blank=True)
    by = models.ForeignKey("crm.TeamMember", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["provider", "call_log_id"], name="wrap_up_one_per_call")]

    def __str__(self) -> str:
        return f"Wrap-up of {self.provider}:{self.call_log_id}"


class CallingPolicy(models.Model):
    """The admin's narrowing of the calling policy (one row; blank values mean the settings' defaults).

    Stored in telephony, not in a provider app, because every provider's calls obey it.
    """

    calling_hours = models.CharField(
        max_length=11, blank=True, help_text="HH:MM-HH:MM inside 09:00-21:00; blank means the CALLING_HOURS setting."
    )
    min_gap_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Least hours between two AI calls to one lead; blank means the setting."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "calling policy"

    def __str__(self) -> str:
        return "Calling policy"
