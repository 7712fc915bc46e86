"""Operational tasks of the CRM core."""

from celery import shared_task
from django.db import connection


@shared_task(name="crm.health_check")
def health_check() -> dict:
    """Proves a worker is alive and reaches the database; used by monitoring and the smoke test."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        db_ok = cursor.fetchone()[0] == 1
    return {"worker": "ok", "database": db_ok}
