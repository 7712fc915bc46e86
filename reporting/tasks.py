"""Reporting's Celery tasks. Thin: each calls one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="reporting.rollup_refresh", ignore_result=True)
def rollup_refresh_task() -> dict:
    """The beat task: rebuild the roll-up's dirty days, yesterday and days changed without a hook."""
    from .services import rollup_refresh

    return rollup_refresh()
