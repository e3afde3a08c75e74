"""job ids read <domain>.<name>: rename the old ids in job_runs

Revision ID: 0008_job_ids
Revises: 0007_kiosk_health
Create Date: 2026-12-02 13:10:00

The run history keeps its meaning across the rename: `scheduler list`, the housekeeping
retention and anyone reading job_runs see one id per job, before and after.
"""

from alembic import op
import sqlalchemy as sa

revision = "0008_job_ids"
down_revision = "0007_kiosk_health"
branch_labels = None
depends_on = None

RENAMED = {
    "housekeeping": "core.housekeeping",
    "mail-outbox": "mail.outbox",
    "content-boundaries": "content.boundaries",
    "media-orphans": "media.orphans",
    "feedback-retention": "feedback.retention",
}

job_runs = sa.table("job_runs", sa.column("job_id", sa.String(80)))


def _rename(pairs):
    for old, new in pairs:
        op.execute(job_runs.update().where(job_runs.c.job_id == old).values(job_id=new))


def upgrade():
    _rename(RENAMED.items())


def downgrade():
    _rename((new, old) for old, new in RENAMED.items())
