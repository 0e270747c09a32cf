"""A closure remembers what the admin decided for its bookings and how far that went

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

import booking.database

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("court_closure") as batch:
        batch.add_column(sa.Column("on_bookings", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("bookings_reason", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("decided_by_user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("bookings_total", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("bookings_done", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("bookings_finished_at",
                                   booking.database.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("court_closure") as batch:
        for name in ("bookings_finished_at", "bookings_done", "bookings_total",
                     "decided_by_user_id", "bookings_reason", "on_bookings"):
            batch.drop_column(name)
