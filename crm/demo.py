"""Demo data for `make run`: four users, one per role plus a second rep, and ~200 leads."""

from __future__ import annotations

import random
from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from . import services
from .models import Lead, LeadSource, LeadStage, Role, TeamMember

DEMO_USERS = [
    # username, name, role, phone, acefone agent number
    ("admin", "Asha Admin", Role.ADMIN, "+919800000001", "0602000001"),
    ("manager", "Meera Manager", Role.MANAGER, "+919800000002", "0602000002"),
    ("rep", "Rohan Rep", Role.REP, "+919800000003", "0602000003"),
    ("rep2", "Riya Rep", Role.REP, "+919800000004", "0602000004"),
]
FIRST = [
    "Priya",
    "Rahul",
    "Ananya",
    "Vikram",
    "Sneha",
    "Arjun",
    "Kavya",
    "Aditya",
    "Pooja",
    "Karan",
    "Neha",
    "Siddharth",
    "Isha",
    "Rohit",
    "Divya",
    "Manish",
    "Aarti",
    "Nikhil",
    "Shreya",
    "Varun",
]
LAST = [
    "Sharma",
    "Verma",
    "Iyer",
    "Reddy",
    "Nair",
    "Patel",
    "Gupta",
    "Menon",
    "Rao",
    "Kulkarni",
    "Joshi",
    "Das",
    "Singh",
    "Bose",
    "Pillai",
]
CITIES = ["Bengaluru", "Mumbai", "Pune", "Hyderabad", "Chennai", "Delhi", "Kolkata", "Ahmedabad"]
DEMO_LEAD_COUNT = 200


def seed_users(password: str) -> list[TeamMember]:
    User = get_user_model()
    members = []
    manager = None
    for username, name, role, phone, agent_no in DEMO_USERS:
        user = User.objects.filter(username=username).select_related("team_member").first()
        if user is None:
            member = services.team_member_create(
                username=username,
                password=password,
                name=name,
                role=role,
                phone=phone,
                acefone_agent_number=agent_no,
                manager=manager if role == Role.REP else None,
            )
        else:
            member = getattr(user, "team_member", None) or TeamMember.objects.create(
                user=user, name=name, phone=phone, acefone_agent_number=agent_no, role=role
            )
            services.team_member_set_role(member=member, role=role)
        if role == Role.MANAGER:
            manager = member
        members.append(member)
    return members


def seed_leads(reps: list[TeamMember], count: int = DEMO_LEAD_COUNT) -> int:
    """Create the demo leads that are missing; keyed by a Meta lead id, so it is idempotent."""
    rng = random.Random(20261127)
    existing = set(Lead.objects.filter(meta_lead_id__startswith="demo-").values_list("meta_lead_id", flat=True))
    stages = [s for s, _ in LeadStage.choices]
    weights = [40, 15, 12, 8, 8, 5, 4, 5, 3]
    sources = [s for s, _ in LeadSource.choices]
    now = timezone.now()
    new = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        source = rng.choices(sources, weights=[45, 30, 8, 5, 4, 4, 4])[0]
        meta_id = f"demo-{i:04d}"
        mobile = _demo_mobile(rng)
        if meta_id in existing:
            continue
        is_meta = source.startswith("meta_")
        new.append(
            Lead(
                name=f"{first} {last}",
                phone=mobile,
                email=f"{first}.{last}{i}@example.com".lower(),
                city=rng.choice(CITIES),
                source=source,
                meta_lead_id=meta_id,
                meta_form_name="2BHK enquiry form" if is_meta else "",
                meta_campaign_name=rng.choice(["Whitefield launch", "Diwali offer", "Retargeting"]) if is_meta else "",
                meta_adset_name=rng.choice(["Bengaluru 25-45", "NRI Gulf", "Lookalike 1%"]) if is_meta else "",
                meta_ad_name=rng.choice(["Video A", "Carousel B", "Static C"]) if is_meta else "",
                stage=rng.choices(stages, weights=weights)[0],
                assigned_to=reps[i % len(reps)],
                do_not_call=(i % 37 == 0),
            )
        )
    Lead.objects.bulk_create(new, batch_size=500)
    # Spread creation times over the last 30 days so lists and charts look lived-in.
    for offset, lead in enumerate(Lead.objects.filter(meta_lead_id__in=[lead.meta_lead_id for lead in new])):
        Lead.objects.filter(pk=lead.pk).update(created_at=now - timedelta(hours=(offset * 7) % (24 * 30)))
    return len(new)


def seed(stdout) -> dict:
    password = settings.DEMO_PASSWORD
    members = seed_users(password)
    reps = [m for m in members if m.role == Role.REP]
    created = seed_leads(reps)
    stdout.write(f"Leads: {created} created, {Lead.objects.count()} in all.")
    return {"password": password, "users": [u for u, *_ in DEMO_USERS]}


def _demo_mobile(rng: random.Random) -> str:
    """A random Indian mobile number (some 6x/7x/8x ranges are landlines, which AI calls refuse)."""
    while True:
        number = f"+91{rng.choice('6789')}{rng.randrange(10**8, 10**9):09d}"
        if phonenumbers.number_type(phonenumbers.parse(number)) == phonenumbers.PhoneNumberType.MOBILE:
            return number
