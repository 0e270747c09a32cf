"""A two-factor code works once: the time step of the last code accepted is kept

Revision ID: 0026
Revises: 0025
"""
import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("totp_last_step")
