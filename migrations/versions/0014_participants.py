"""Co-counsel and others named on a booking, who receive its invites too

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("booking") as batch:
        batch.add_column(sa.Column("participants", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("booking") as batch:
        batch.drop_column("participants")
