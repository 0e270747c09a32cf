"""The bookings waiting for a lawyer's new choice are found from a partial index

Every ten minutes the scheduler looks for rebook requests past their deadline; without an
index that read the whole booking table (under SQLite's write lock).

Revision ID: 0030
Revises: 0029
"""
import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

WITH_DEADLINE = sa.text("rebook_deadline IS NOT NULL")


def upgrade():
    with op.batch_alter_table("booking") as batch:
        batch.create_index("ix_booking_rebook_deadline", ["rebook_deadline"],
                           sqlite_where=WITH_DEADLINE, postgresql_where=WITH_DEADLINE)


def downgrade():
    with op.batch_alter_table("booking") as batch:
        batch.drop_index("ix_booking_rebook_deadline")
