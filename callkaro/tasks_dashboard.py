"""The dashboard's Celery task (listed in ``CELERY_IMPORTS``). Thin: it calls one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="callkaro.dashboard_rollup_refresh", ignore_result=True)
def dashboard_rollup_refresh_task() -> dict:
    """The beat task: rebuild the roll-up's dirty days, yesterday and days changed without a hook."""
    from .dashboard_rollup import rollup_refresh

    return rollup_refresh()
