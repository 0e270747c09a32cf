"""Urgent requests: an answer deadline, and when its passing was told

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

import booking.database

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("urgent_request") as batch:
        batch.add_column(sa.Column("answer_due_at", booking.database.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("overdue_notified_at",
                                   booking.database.UTCDateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_urgent_request_answer_due_at"), ["answer_due_at"],
                           unique=False)


def downgrade():
    with op.batch_alter_table("urgent_request") as batch:
        batch.drop_index(batch.f("ix_urgent_request_answer_due_at"))
        batch.drop_column("overdue_notified_at")
        batch.drop_column("answer_due_at")
