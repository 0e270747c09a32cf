"""Live holds are counted per address and per client from their own partial indexes

Revision ID: 0025
Revises: 0024
"""
import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

HELD = sa.text("status = 'held'")


def upgrade():
    with op.batch_alter_table("booking") as batch:
        batch.create_index("ix_booking_held_email", [sa.text("lower(lawyer_email)"), "hold_expires_at"],
                           sqlite_where=HELD, postgresql_where=HELD)
        batch.create_index("ix_booking_held_client", ["hold_client", "hold_expires_at"],
                           sqlite_where=HELD, postgresql_where=HELD)


def downgrade():
    with op.batch_alter_table("booking") as batch:
        batch.drop_index("ix_booking_held_client")
        batch.drop_index("ix_booking_held_email")
