"""The magistrate's real calendar: busy-time sources and periods; conflicts and video rooms

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import booking.database

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INSTANT = booking.database.UTCDateTime(timezone=True)


def upgrade():
    op.create_table(
        "busy_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("magistrate_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=True),
        sa.Column("secret", sa.String(length=1000), nullable=True),
        sa.Column("write_back", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.String(length=300), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("checked_at", INSTANT, nullable=True),
        sa.Column("succeeded_at", INSTANT, nullable=True),
        sa.Column("next_check_at", INSTANT, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("failure_notified_at", INSTANT, nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.CheckConstraint("kind IN ('ics', 'caldav')", name=op.f("ck_busy_source_kind")),
        sa.ForeignKeyConstraint(["magistrate_id"], ["magistrate.id"], ondelete="CASCADE",
                                name=op.f("fk_busy_source_magistrate_id_magistrate")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_busy_source")),
    )
    op.create_index(op.f("ix_busy_source_magistrate_id"), "busy_source", ["magistrate_id"])
    op.create_table(
        "busy_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("magistrate_id", sa.Integer(), nullable=False),
        sa.Column("start_at", INSTANT, nullable=False),
        sa.Column("end_at", INSTANT, nullable=False),
        sa.CheckConstraint("start_at < end_at", name=op.f("ck_busy_period_start_before_end")),
        sa.ForeignKeyConstraint(["source_id"], ["busy_source.id"], ondelete="CASCADE",
                                name=op.f("fk_busy_period_source_id_busy_source")),
        sa.ForeignKeyConstraint(["magistrate_id"], ["magistrate.id"], ondelete="CASCADE",
                                name=op.f("fk_busy_period_magistrate_id_magistrate")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_busy_period")),
    )
    op.create_index(op.f("ix_busy_period_source_id"), "busy_period", ["source_id"])
    op.create_index("ix_busy_period_magistrate_start", "busy_period",
                    ["magistrate_id", "start_at"])
    with op.batch_alter_table("booking") as batch:
        batch.add_column(sa.Column("video_url", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("conflict_reason", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("conflict_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("conflict_kept_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("rebook_deadline", INSTANT, nullable=True))


def downgrade():
    with op.batch_alter_table("booking") as batch:
        for column in ("rebook_deadline", "conflict_kept_at", "conflict_at", "conflict_reason",
                       "video_url"):
            batch.drop_column(column)
    op.drop_index("ix_busy_period_magistrate_start", table_name="busy_period")
    op.drop_index(op.f("ix_busy_period_source_id"), table_name="busy_period")
    op.drop_table("busy_period")
    op.drop_index(op.f("ix_busy_source_magistrate_id"), table_name="busy_source")
    op.drop_table("busy_source")
