"""The dashboard's daily roll-up: one row per closed local day and group, and each day's build state.

Both tables were created by ``callkaro`` (migration 0002) and keep their names (``db_table``).
"""

from __future__ import annotations

from django.db import models


class CallDailyRollup(models.Model):
    """The dashboard's figures of one closed local day (``settings.TIME_ZONE``), one row per group.

    Every column is a count or a sum, so any set of days adds up exactly to what the live grouped queries
    give for those days (``reporting.services``). Rebuilt per day, never edited row by row.
    """

    class Outcome(models.TextChoices):
        COMPLETED = "completed", "Completed"
        NO_ANSWER = "no_answer", "No answer or busy"
        FAILED = "failed", "Failed"
        CLOSED = "closed", "Other settled (cancelled, unknown)"
        OPEN = "open", "Not settled yet"

    day = models.DateField()
    provider = models.CharField(max_length=20, help_text="The provider key (callkaro, acefone).")
    # Same on_delete as the call logs', so that a deletion changes both sides alike.
    agent = models.ForeignKey(
        "callkaro.CallKaroAgent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team_member = models.ForeignKey(
        "crm.TeamMember", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.ForeignKey(
        "callkaro.CallKaroCampaign", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    hangup_reason = models.CharField(max_length=40, blank=True)
    calls = models.PositiveIntegerField(default=0)
    connected = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    talk_seconds = models.BigIntegerField(default=0)

    class Meta:
        db_table = "callkaro_calldailyrollup"
        verbose_name = "call daily roll-up row"
        indexes = [models.Index(fields=["day", "provider"], name="ck_rollup_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.provider} {self.outcome}: {self.calls}"


class CallRollupDay(models.Model):
    """Which local days the roll-up holds, and which a late change has made stale.

    A day counts as rolled up only when ``built_at`` is set and ``dirty_at`` is empty; any other day in a
    period is counted live, so the dashboard never shows a stale figure. The row is also the per-day lock
    that keeps two rebuilds of one day from inserting twice.
    """

    day = models.DateField(unique=True)
    built_at = models.DateTimeField(null=True, blank=True)
    dirty_at = models.DateTimeField(null=True, blank=True, help_text="A call of this day changed after the build.")

    class Meta:
        db_table = "callkaro_callrollupday"
        verbose_name = "call roll-up day"

    def __str__(self) -> str:
        return f"{self.day} ({'dirty' if self.dirty_at else 'built' if self.built_at else 'not built'})"
