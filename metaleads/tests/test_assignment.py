"""Round-robin per form: fair, weighted, skipping away reps, and fair under concurrency."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from crm.models import Lead, Role
from crm.tests.factories import make_member
from metaleads.intake import lead_intake
from metaleads.mapping import MappedLead
from metaleads.models import MetaForm
from metaleads.services_config import form_rota_set, team_member_set_away


def mapped(n: int) -> MappedLead:
    return MappedLead(name=f"Lead {n}", phone=f"+91981{n:07d}", phone_valid=True, meta_lead_id=f"L{n}")


def take(form: MetaForm, count: int, start: int = 0) -> list[str]:
    return [lead_intake(mapped=mapped(start + n), form=form).lead.assigned_to.name for n in range(count)]


@pytest.fixture
def reps(db):
    return [make_member(Role.REP, name=name) for name in ("Anil", "Bina", "Chetan")]


@pytest.fixture
def form(db):
    return MetaForm.objects.create(form_id="F1", name="Form one")


def test_without_a_rota_every_active_rep_takes_a_turn_in_order(reps, form):
    assert take(form, 6) == ["Anil", "Bina", "Chetan", "Anil", "Bina", "Chetan"]


def test_weights_give_more_turns_and_weight_zero_none(reps, form):
    anil, bina, chetan = reps
    form_rota_set(form=form, weights={anil.pk: 2, bina.pk: 1, chetan.pk: 0})
    assert Counter(take(form, 9)) == {"Anil": 6, "Bina": 3}


def test_away_and_inactive_reps_are_skipped_and_the_turn_moves_on(reps, form):
    anil, bina, chetan = reps
    team_member_set_away(member=bina, is_away=True)
    assert take(form, 4) == ["Anil", "Chetan", "Anil", "Chetan"]
    team_member_set_away(member=bina, is_away=False)
    chetan.is_active = False
    chetan.save()
    assert Counter(take(form, 4, start=10)) == {"Anil": 2, "Bina": 2}


def test_when_every_rep_is_away_the_lead_is_unassigned(reps, form):
    for rep in reps:
        team_member_set_away(member=rep, is_away=True)
    assert lead_intake(mapped=mapped(1), form=form).lead.assigned_to is None


def test_each_form_keeps_its_own_turn(reps, db):
    one = MetaForm.objects.create(form_id="F1")
    two = MetaForm.objects.create(form_id="F2")
    assert take(one, 2) == ["Anil", "Bina"]
    assert take(two, 1, start=5) == ["Anil"]
    assert take(one, 1, start=9) == ["Chetan"]


def test_managers_are_not_in_the_default_rota(reps, form):
    make_member(Role.MANAGER, name="Manager")
    assert "Manager" not in take(form, 6)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_leads_never_take_the_same_turn_on_postgresql():
    """Many threads create leads on one form at once: the form's row lock keeps the rota exact."""
    reps = [make_member(Role.REP, name=f"Rep {i}") for i in range(4)]
    form = MetaForm.objects.create(form_id="F-concurrent")
    threads_count, per_thread = 8, 5
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            barrier.wait(timeout=30)
            for n in range(per_thread):
                lead_intake(mapped=mapped(t * 100 + n), form=form)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    total = threads_count * per_thread
    counts = Counter(Lead.objects.values_list("assigned_to__name", flat=True))
    assert sum(counts.values()) == total
    assert counts == {rep.name: total // len(reps) for rep in reps}
    form.refresh_from_db()
    assert form.rr_turn == total % len(reps)
