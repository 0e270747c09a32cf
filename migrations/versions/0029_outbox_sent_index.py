"""The sends of the last minute are counted from a partial index of the sent messages

Every scrape of /metrics counts the messages sent in the last minute; the outbox keeps
every message (their bodies are erased), so that count read all of them ever sent.

Revision ID: 0029
Revises: 0028
"""
import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

SENT = sa.text("status = 'sent'")


def upgrade():
    with op.batch_alter_table("outbox_message") as batch:
        batch.create_index("ix_outbox_sent_at", ["sent_at"], sqlite_where=SENT,
                           postgresql_where=SENT)


def downgrade():
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index("ix_outbox_sent_at")
