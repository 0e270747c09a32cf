"""A complaint remembers whether its reporter gave the hour of the failure

The form's hour is optional; a report without it was stored at the day's midnight and shown
to the Corregedoria as "00:00". Reports filed before this revision count as having an hour:
nothing tells a real midnight from a missing hour in them.

Revision ID: 0034
Revises: 0033
"""
import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("complaint") as batch:
        batch.add_column(sa.Column("occurred_time_known", sa.Boolean(), server_default=sa.true(),
                                   nullable=False))


def downgrade():
    with op.batch_alter_table("complaint") as batch:
        batch.drop_column("occurred_time_known")
