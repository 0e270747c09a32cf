"""Live holds are counted from a partial index of the held bookings, not the whole table

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("booking") as batch:
        batch.create_index("ix_booking_held", ["hold_expires_at"],
                           sqlite_where=sa.text("status = 'held'"),
                           postgresql_where=sa.text("status = 'held'"))


def downgrade():
    with op.batch_alter_table("booking") as batch:
        batch.drop_index("ix_booking_held")
