"""An address's future bookings with a magistrate are counted from their own index

Every booking checks the address's limit of future bookings with the magistrate; the
count read all of the magistrate's future bookings, a cost that grew with the agenda.

Revision ID: 0027
Revises: 0026
"""
import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("booking") as batch:
        batch.create_index("ix_booking_email_magistrate_start",
                           [sa.text("lower(lawyer_email)"), "magistrate_id", "start_at"])


def downgrade():
    with op.batch_alter_table("booking") as batch:
        batch.drop_index("ix_booking_email_magistrate_start")
