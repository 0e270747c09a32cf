"""The waitlist: people told of times that open with a magistrate between two days

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

import booking.database

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("magistrate_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("manage_token_hash", sa.String(length=64), nullable=False),
        sa.Column("confirm_code_hash", sa.String(length=64), nullable=True),
        sa.Column("confirm_attempts", sa.Integer(), nullable=False),
        sa.Column("hold_expires_at", booking.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", booking.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", booking.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("offered", sa.JSON(), nullable=True),
        sa.Column("told_gone", sa.JSON(), nullable=True),
        sa.Column("anonymized_at", booking.database.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('held', 'waiting', 'booked', 'left', 'expired')",
                           name=op.f("ck_waitlist_entry_status")),
        sa.ForeignKeyConstraint(["magistrate_id"], ["magistrate.id"],
                                name=op.f("fk_waitlist_entry_magistrate_id_magistrate")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entry")),
        sa.UniqueConstraint("manage_token_hash", name=op.f("uq_waitlist_entry_manage_token_hash")),
    )
    op.create_index(op.f("ix_waitlist_entry_magistrate_id"), "waitlist_entry", ["magistrate_id"])
    op.create_index(op.f("ix_waitlist_entry_confirmed_at"), "waitlist_entry", ["confirmed_at"])


def downgrade():
    op.drop_index(op.f("ix_waitlist_entry_confirmed_at"), table_name="waitlist_entry")
    op.drop_index(op.f("ix_waitlist_entry_magistrate_id"), table_name="waitlist_entry")
    op.drop_table("waitlist_entry")
