"""Indexes for a closure's path: booking.slot_id, and the outbox's topic with its status

Deleting open slots checks the foreign key from booking per slot: without an index on
booking.slot_id every deleted slot (a republish, a closure) scanned the booking table
(the partial unique index of active bookings cannot serve that check). Superseding a
topic's older messages looks for the topic's pending ones: with the topic alone indexed,
SQLite preferred the status index and read every pending message, which a closure's
thousands made slow for each booking it cancelled.

Revision ID: 0019
Revises: 0018
"""
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_booking_slot", "booking", ["slot_id"])
    op.drop_index("ix_outbox_message_topic", table_name="outbox_message")
    op.create_index("ix_outbox_topic_status", "outbox_message", ["topic", "status"])


def downgrade():
    op.drop_index("ix_outbox_topic_status", table_name="outbox_message")
    op.create_index("ix_outbox_message_topic", "outbox_message", ["topic"])
    op.drop_index("ix_booking_slot", table_name="booking")
