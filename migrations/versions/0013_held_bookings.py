"""Held bookings confirmed by an e-mail code, and integration keys that book directly

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

import booking.database

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('confirmed', 'cancelled', 'attended', 'no_show')"
NEW_STATUSES = "status IN ('held', 'confirmed', 'cancelled', 'attended', 'no_show')"


def upgrade():
    with op.batch_alter_table("booking") as batch:
        batch.drop_constraint(batch.f("ck_booking_status"), type_="check")
        batch.create_check_constraint(batch.f("ck_booking_status"), NEW_STATUSES)
        batch.add_column(sa.Column("hold_expires_at", booking.database.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("confirm_code_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("confirm_attempts", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("confirmed_at", booking.database.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("hold_client", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_booking_hold_expires_at"), ["hold_expires_at"])
        batch.create_index(batch.f("ix_booking_hold_client"), ["hold_client"])
    op.create_table(
        "integration_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", booking.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", booking.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_user.id"],
                                name=op.f("fk_integration_key_created_by_id_staff_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_integration_key_key_hash")),
    )


def downgrade():
    op.drop_table("integration_key")
    op.execute("DELETE FROM booking WHERE status = 'held'")
    with op.batch_alter_table("booking") as batch:
        batch.drop_index(batch.f("ix_booking_hold_client"))
        batch.drop_index(batch.f("ix_booking_hold_expires_at"))
        batch.drop_column("hold_client")
        batch.drop_column("confirmed_at")
        batch.drop_column("confirm_attempts")
        batch.drop_column("confirm_code_hash")
        batch.drop_column("hold_expires_at")
        batch.drop_constraint(batch.f("ck_booking_status"), type_="check")
        batch.create_check_constraint(batch.f("ck_booking_status"), OLD_STATUSES)
