"""The outbox keeps the latest truth: a topic and version per message, and superseded

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("topic", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_outbox_message_topic"), ["topic"])
        batch.drop_constraint(op.f("ck_outbox_message_status"), type_="check")
        batch.create_check_constraint(
            "status", "status IN ('pending', 'sent', 'dead', 'superseded')")


def downgrade():
    op.execute("UPDATE outbox_message SET status = 'dead' WHERE status = 'superseded'")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_constraint(op.f("ck_outbox_message_status"), type_="check")
        batch.create_check_constraint("status", "status IN ('pending', 'sent', 'dead')")
        batch.drop_index(batch.f("ix_outbox_message_topic"))
        batch.drop_column("version")
        batch.drop_column("topic")
