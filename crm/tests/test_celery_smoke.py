import pytest

from crm.tasks import health_check
from tests.workers import start_worker, stop


def test_health_check_runs_eagerly_in_unit_tests(db):
    assert health_check.delay().get() == {"worker": "ok", "database": True}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_task_round_trips_through_a_real_worker_and_redis(settings):
    from crm.celery import app

    app.conf.task_always_eager = False
    proc = start_worker(concurrency=1)
    try:
        result = health_check.apply_async()
        assert result.get(timeout=60) == {"worker": "ok", "database": True}
    finally:
        app.conf.task_always_eager = True
        stop(proc)
