"""A magistrate's own questions on the booking form, and each booking's answers

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("availability_rule") as batch:
        batch.add_column(sa.Column("questions", sa.JSON(), nullable=True))
    with op.batch_alter_table("booking") as batch:
        batch.add_column(sa.Column("answers", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("booking") as batch:
        batch.drop_column("answers")
    with op.batch_alter_table("availability_rule") as batch:
        batch.drop_column("questions")
