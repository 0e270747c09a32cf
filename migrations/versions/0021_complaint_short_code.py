"""A short follow code per complaint, printed with its protocol (a keyed hash is kept)

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("complaint") as batch:
        batch.add_column(sa.Column("short_code_hash", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("complaint") as batch:
        batch.drop_column("short_code_hash")
