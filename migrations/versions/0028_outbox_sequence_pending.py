"""A sequence's pending messages are found from a partial index, not from every message

Each claim of the outbox asks, for each due webhook event, whether an earlier event of the
same subscriber is still pending; the index of all sequence keys made that read every event
the subscriber was ever sent (1.3 s a claim at 200,000 sent events, under SQLite's lock).

Revision ID: 0028
Revises: 0027
"""
import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade():
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index("ix_outbox_message_sequence_key")
        batch.create_index("ix_outbox_sequence_pending", ["sequence_key", "id"],
                           sqlite_where=PENDING, postgresql_where=PENDING)


def downgrade():
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index("ix_outbox_sequence_pending")
        batch.create_index("ix_outbox_message_sequence_key", ["sequence_key"], unique=False)
