"""The index of bookings by registration number goes: nothing reads it any more

The limit of future bookings is kept per e-mail address (ix_booking_email_magistrate_start
since 0027); the index by OAB number only cost every booking one more write.

Revision ID: 0031
Revises: 0030
"""
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("booking") as batch:
        batch.drop_index("ix_booking_lawyer_oab")


def downgrade():
    with op.batch_alter_table("booking") as batch:
        batch.create_index("ix_booking_lawyer_oab", ["lawyer_oab", "magistrate_id", "status"],
                           unique=False)
