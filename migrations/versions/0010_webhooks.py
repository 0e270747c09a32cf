"""Signed webhooks: subscribers, their delivery log, and ordered outbox messages

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

import booking.database

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "webhook_subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=1000), nullable=False),
        sa.Column("share_sealed_cases", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", booking.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriber")),
    )
    op.create_index(op.f("ix_webhook_subscriber_is_active"), "webhook_subscriber",
                    ["is_active"], unique=False)
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("outbox_message_id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.String(length=60), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("attempted_at", booking.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["webhook_subscriber.id"],
                                name=op.f("fk_webhook_delivery_subscriber_id_webhook_subscriber"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index(op.f("ix_webhook_delivery_subscriber_id"), "webhook_delivery",
                    ["subscriber_id"], unique=False)
    op.create_index(op.f("ix_webhook_delivery_outbox_message_id"), "webhook_delivery",
                    ["outbox_message_id"], unique=False)
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("sequence_key", sa.String(length=80), nullable=True))
        batch.create_index(batch.f("ix_outbox_message_sequence_key"), ["sequence_key"],
                           unique=False)


def downgrade():
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index(batch.f("ix_outbox_message_sequence_key"))
        batch.drop_column("sequence_key")
    op.drop_index(op.f("ix_webhook_delivery_outbox_message_id"), table_name="webhook_delivery")
    op.drop_index(op.f("ix_webhook_delivery_subscriber_id"), table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index(op.f("ix_webhook_subscriber_is_active"), table_name="webhook_subscriber")
    op.drop_table("webhook_subscriber")
