"""Demo data for Musterstadt: idempotent, German, realistic. Each domain adds its part."""

from __future__ import annotations

from cityapp.auth.models import Role
from cityapp.auth.service.actors import CLI
from cityapp.auth.service.staff import create_staff_user, find_staff_by_email, update_staff_user
from cityapp.content.demo import seed_content
from cityapp.feedback.demo import seed_feedback
from cityapp.kiosks.demo import seed_kiosks
from cityapp.places.demo import seed_districts
from cityapp.surveys.demo import seed_demo_surveys

DEMO_PASSWORD = "musterstadt-demo"

DEMO_STAFF = [
    ("admin@musterstadt.example", "Anna Admin", Role.ADMIN),
    ("redaktion@musterstadt.example", "Erik Redaktion", Role.EDITOR),
    ("moderation@musterstadt.example", "Mona Moderation", Role.MODERATOR),
]


def seed_demo(password: str = DEMO_PASSWORD) -> dict[str, int]:
    """Create (or refresh) the demo data. Running it twice changes nothing the second time."""
    staff = 0
    for email, name, role in DEMO_STAFF:
        user = find_staff_by_email(email)
        if user is None:
            create_staff_user(CLI, email=email, display_name=name, role=role, password=password)
            staff += 1
        elif not user.is_active:
            update_staff_user(CLI, user, is_active=True)
    district_ids = seed_districts(CLI)
    content = seed_content(CLI)
    surveys = seed_demo_surveys(district_ids)
    feedback = seed_feedback(CLI)
    # After content: the steles' districts and stele-channel items exist by now.
    kiosks = seed_kiosks(CLI)
    return {
        "staff_created": staff,
        "districts": len(district_ids),
        **content,
        **surveys,
        **feedback,
        **kiosks,
    }
