"""Complaints with evidence and a conversation: files kept per step, questions and replies

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

from booking.database import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("complaint_event") as batch:
        batch.add_column(sa.Column("question", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reporter_message", sa.Text(), nullable=True))
    op.create_table(
        "complaint_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("storage_key", name=op.f("uq_complaint_attachment_storage_key")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_attachment")),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"], ondelete="CASCADE",
                                name=op.f("fk_complaint_attachment_complaint_id_complaint")),
        sa.ForeignKeyConstraint(["event_id"], ["complaint_event.id"], ondelete="CASCADE",
                                name=op.f("fk_complaint_attachment_event_id_complaint_event")),
    )
    op.create_index("ix_complaint_attachment_complaint_id", "complaint_attachment",
                    ["complaint_id"])
    op.create_index("ix_complaint_attachment_event_id", "complaint_attachment", ["event_id"])


def downgrade():
    op.drop_table("complaint_attachment")
    with op.batch_alter_table("complaint_event") as batch:
        batch.drop_column("reporter_message")
        batch.drop_column("question")
