"""PostgreSQL exclusion constraints: no overlapping slots or active bookings per magistrate

SQLite has no exclusion constraints; there the slot arithmetic and the
serialised writers (BEGIN IMMEDIATE) keep the same promise.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        "ALTER TABLE slot ADD CONSTRAINT ex_slot_no_overlap EXCLUDE USING gist "
        "(magistrate_id WITH =, tstzrange(start_at, end_at) WITH &&)"
    )
    op.execute(
        "ALTER TABLE booking ADD CONSTRAINT ex_booking_no_overlap EXCLUDE USING gist "
        "(magistrate_id WITH =, tstzrange(start_at, end_at) WITH &&) "
        "WHERE (status <> 'cancelled')"
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE booking DROP CONSTRAINT IF EXISTS ex_booking_no_overlap")
    op.execute("ALTER TABLE slot DROP CONSTRAINT IF EXISTS ex_slot_no_overlap")
