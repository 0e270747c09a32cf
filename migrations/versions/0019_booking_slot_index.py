"""An index on booking.slot_id: deleting open slots checks the foreign key per slot

Without it every deleted slot (a republish, a closure) scans the booking table on SQLite
and PostgreSQL alike; the partial unique index of active bookings cannot serve that check.

Revision ID: 0019
Revises: 0018
"""
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_booking_slot", "booking", ["slot_id"])


def downgrade():
    op.drop_index("ix_booking_slot", table_name="booking")
