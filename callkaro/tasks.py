"""Call Karo's Celery tasks. Thin: each calls one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="callkaro.scheduler_tick", ignore_result=True)
def scheduler_tick_task() -> dict:
    """The beat task (every few seconds): claim due scheduled and campaign calls, recover stuck ones."""
    from .campaigns.scheduler import scheduler_tick

    result = scheduler_tick()
    return {"claimed": len(result.claimed), "requeued": len(result.requeued), "unknown": result.marked_unknown}


@shared_task(name="callkaro.campaign_audience_parse", acks_late=True)
def campaign_audience_parse_task(campaign_id: int, token: str) -> str:
    """Read a large campaign upload in the worker (the preview page shows its progress)."""
    from .campaigns.uploads import audience_parse_run

    return audience_parse_run(campaign_id=campaign_id, token=token)
