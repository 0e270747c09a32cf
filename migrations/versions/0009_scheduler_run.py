"""What the scheduler last did, per job: its heartbeat for /readyz

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

import booking.database

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scheduler_run",
        sa.Column("job", sa.String(length=60), nullable=False),
        sa.Column("last_finished_at", booking.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_succeeded_at", booking.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_duration_ms", sa.Integer(), nullable=False),
        sa.Column("failures_in_a_row", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_scheduler_run")),
    )


def downgrade():
    op.drop_table("scheduler_run")
