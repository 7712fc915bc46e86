"""Call Karo's Celery tasks. Thin: each calls one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="callkaro.scheduler_tick", ignore_result=True)
def scheduler_tick_task() -> dict:
    """The beat task (every few seconds): claim due scheduled and campaign calls, recover stuck ones."""
    from .campaigns.scheduler import scheduler_tick

    result = scheduler_tick()
    return {"claimed": len(result.claimed), "requeued": len(result.requeued), "unknown": result.marked_unknown}


@shared_task(name="callkaro.dashboard_rollup_refresh", ignore_result=True)
def dashboard_rollup_refresh_task() -> dict:
    """The beat task: rebuild the roll-up's dirty days, yesterday and days changed without a hook."""
    from .dashboard_rollup import rollup_refresh

    return rollup_refresh()
