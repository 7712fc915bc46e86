"""Call Karo AI: configuration, AI agents, campaigns and call logs."""

from __future__ import annotations

import datetime as dt

from django.db import models

from telephony.models import BaseCallLog


class CallKaroConfig(models.Model):
    """The one configuration row. Secrets are stored encrypted (see ``callkaro.config``)."""

    api_key_encrypted = models.TextField(blank=True)
    api_key_last4 = models.CharField(max_length=4, blank=True)
    default_agent_id = models.CharField(max_length=100, blank=True)
    webhook_secrets_encrypted = models.TextField(blank=True, help_text="Encrypted JSON list, newest first.")
    time_zone = models.CharField(max_length=40, default="Asia/Kolkata")
    is_enabled = models.BooleanField(default=True)
    metadata_fields = models.JSONField(
        null=True, blank=True, help_text="Lead fields sent as call metadata; empty means the defaults."
    )
    campaign_api_version = models.CharField(
        max_length=2, blank=True, help_text="v1 or v2 campaign creation; blank means CALLKARO_CAMPAIGN_API_VERSION."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey("crm.TeamMember", null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = "Call Karo configuration"
        verbose_name_plural = "Call Karo configuration"

    def __str__(self) -> str:
        return "Call Karo configuration"


class CallKaroAgent(models.Model):
    class Language(models.TextChoices):
        HINDI = "hi", "Hindi"
        ENGLISH = "en", "English"
        KANNADA = "kn", "Kannada"
        MARATHI = "mr", "Marathi"
        TAMIL = "ta", "Tamil"
        TELUGU = "te", "Telugu"
        BENGALI = "bn", "Bengali"
        GUJARATI = "gu", "Gujarati"
        MALAYALAM = "ml", "Malayalam"

    agent_id = models.CharField("Call Karo agent id", max_length=100, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    is_active = models.BooleanField(default=True)
    team_members = models.ManyToManyField("crm.TeamMember", blank=True, related_name="callkaro_agents")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CallKaroCampaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class RetryOwner(models.TextChoices):
        SCHEDULER = "scheduler", "Our scheduler (checks the lead before every attempt)"
        CALLKARO = "callkaro", "Call Karo"

    name = models.CharField(max_length=160)
    batch_id = models.CharField(max_length=100, blank=True, db_index=True)
    agent = models.ForeignKey(CallKaroAgent, on_delete=models.PROTECT, related_name="campaigns")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    status_reason = models.CharField(max_length=300, blank=True)
    start_at = models.DateTimeField(null=True, blank=True)
    calling_hours_start = models.TimeField(default=dt.time(9, 0))
    calling_hours_end = models.TimeField(default=dt.time(21, 0))
    days_of_week = models.JSONField(default=list, blank=True, help_text="0=Monday … 6=Sunday; empty means every day.")
    time_zone = models.CharField(max_length=40, blank=True, help_text="Blank means the project's time zone.")
    retry_owner = models.CharField(max_length=10, choices=RetryOwner.choices, default=RetryOwner.SCHEDULER)
    max_retries = models.PositiveSmallIntegerField(default=0)
    retry_gaps_minutes = models.JSONField(default=list, blank=True)
    priority = models.SmallIntegerField(default=0)
    pace_per_minute = models.PositiveSmallIntegerField(default=10)
    max_concurrent = models.PositiveSmallIntegerField(default=5)
    audience = models.JSONField(default=dict, blank=True, help_text="The filter or upload it was built from.")
    audience_file = models.FileField(
        upload_to="campaign_uploads/", blank=True, help_text="A draft's uploaded CSV (removed once launched)."
    )
    total_leads = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey("crm.TeamMember", null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "priority"], name="campaign_status_priority_idx")]

    def __str__(self) -> str:
        return self.name


class CallKaroCallLog(BaseCallLog):
    agent = models.ForeignKey(CallKaroAgent, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    campaign = models.ForeignKey(
        CallKaroCampaign, null=True, blank=True, on_delete=models.CASCADE, related_name="calls"
    )
    language = models.CharField(max_length=2, blank=True)
    number_of_retries = models.PositiveSmallIntegerField(null=True, blank=True)
    gap_between_retries = models.JSONField(null=True, blank=True)
    priority = models.SmallIntegerField(null=True, blank=True)
    min_trigger_time = models.CharField(max_length=5, blank=True)
    max_trigger_time = models.CharField(max_length=5, blank=True)
    carry_over = models.BooleanField(null=True, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1, help_text="Our scheduler's attempt number.")
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    try_count = models.PositiveSmallIntegerField(default=0, help_text="Call Karo's own tries (0 = first).")
    tries = models.JSONField(
        default=list, blank=True, help_text="Every try Call Karo reported (telephony.attempts): its outcome kept."
    )
    spoken_agent_id = models.CharField(
        max_length=100, blank=True, help_text="The agent Call Karo reports spoke (may differ from the one asked)."
    )
    next_call_scheduled = models.BooleanField(null=True, blank=True, help_text="Call Karo will try again itself.")
    hangup_reason = models.CharField(max_length=40, blank=True)
    transcript = models.TextField(blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    call_link = models.URLField(max_length=500, blank=True)
    disposition = models.CharField(max_length=300, blank=True)
    converted = models.BooleanField(null=True, blank=True)
    post_call = models.JSONField(default=dict, blank=True)
    post_call_detail = models.JSONField(default=dict, blank=True)

    class Meta(BaseCallLog.Meta):
        verbose_name = "Call Karo call"
        indexes = [
            models.Index(fields=["status", "scheduled_at"], name="ck_call_due_idx"),
            models.Index(fields=["created_at"], name="ck_call_created_idx"),
            models.Index(fields=["lead", "-created_at"], name="ck_call_lead_idx"),
            models.Index(fields=["team_member", "created_at"], name="ck_call_member_idx"),
            models.Index(fields=["campaign", "status"], name="ck_call_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"AI call {self.pk} to {self.to_number} ({self.status})"
