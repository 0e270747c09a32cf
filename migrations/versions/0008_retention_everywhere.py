"""Retention reaches the audit log: when an entry's actor and free text were pseudonymised

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

import booking.database

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(sa.Column("pseudonymized_at",
                                   booking.database.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("pseudonymized_at")
