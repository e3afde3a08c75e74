"""mail_messages: keep the Message-ID across attempts, count ambiguous failures

Revision ID: 0010_mail_message_id
Revises: 0009_revoked_sessions
Create Date: 2026-12-02 14:20:00

A retry after a timeout that followed DATA reuses the first attempt's Message-ID, so receivers
can deduplicate; such a message gets one retry, not eight.
"""

from alembic import op
import sqlalchemy as sa

revision = "0010_mail_message_id"
down_revision = "0009_revoked_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.String(length=250), nullable=True))
        batch_op.add_column(
            sa.Column("ambiguous_failures", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.drop_column("ambiguous_failures")
        batch_op.drop_column("message_id")
