"""The outbox's index of claim ids goes: a sender reads its claim back by primary key

Every message written (three to seven a booking) added a NULL to it, and every claim and
every mark as sent changed it; the only reader, a sender reading back the batch it just
claimed, knows the batch's ids.

Revision ID: 0032
Revises: 0031
"""
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index("ix_outbox_message_claim_id")


def downgrade():
    with op.batch_alter_table("outbox_message") as batch:
        batch.create_index("ix_outbox_message_claim_id", ["claim_id"], unique=False)
