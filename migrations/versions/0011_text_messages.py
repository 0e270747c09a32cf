"""WhatsApp and SMS: the channel a lawyer opted into on the booking

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("booking") as batch:
        batch.add_column(sa.Column("notify_by", sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table("booking") as batch:
        batch.drop_column("notify_by")
