"""revoked_sessions: logout ends one browser session, every copy of its cookie

Revision ID: 0009_revoked_sessions
Revises: 0008_job_ids
Create Date: 2026-12-02 14:10:00

Session cookies carry a random id from now on; logout lists it here until the session lifetime
has passed. Cookies issued before the upgrade have no id and are refused: staff log in once
more after the upgrade.
"""

from alembic import op
import sqlalchemy as sa

revision = "0009_revoked_sessions"
down_revision = "0008_job_ids"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "revoked_sessions",
        sa.Column("sid_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sid_hash", name=op.f("pk_revoked_sessions")),
    )
    with op.batch_alter_table("revoked_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revoked_sessions_expires_at"), ["expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("revoked_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_sessions_expires_at"))
    op.drop_table("revoked_sessions")
