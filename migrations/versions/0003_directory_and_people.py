"""The court's directory and people, managed: codes, active flags, account links, two-factor

Comarcas get the CNJ foro code; units their own code; comarcas, units and
magistrates an active flag (nothing is deleted that bookings or complaints
refer to). Staff accounts may have no password yet (set from an e-mailed link),
a sealed TOTP secret, hashed recovery codes and an OpenID subject.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import booking.database

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("comarca") as batch:
        batch.add_column(sa.Column("foro_code", sa.String(length=4), nullable=True))
        batch.add_column(sa.Column("is_active", sa.Boolean(), server_default=sa.true(),
                                   nullable=False))
        batch.create_unique_constraint(batch.f("uq_comarca_foro_code"), ["foro_code"])
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("code", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("is_active", sa.Boolean(), server_default=sa.true(),
                                   nullable=False))
        batch.create_unique_constraint(batch.f("uq_unit_code"), ["code"])
    with op.batch_alter_table("magistrate") as batch:
        batch.add_column(sa.Column("is_active", sa.Boolean(), server_default=sa.true(),
                                   nullable=False))
        batch.create_index("uq_magistrate_email", ["email"], unique=True)
    with op.batch_alter_table("staff_user") as batch:
        batch.alter_column("password_hash", existing_type=sa.String(length=200), nullable=True)
        batch.add_column(sa.Column("updated_at", booking.database.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("totp_confirmed_at",
                                   booking.database.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("recovery_code_hashes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("oidc_subject", sa.String(length=255), nullable=True))
        batch.create_unique_constraint(batch.f("uq_staff_user_oidc_subject"), ["oidc_subject"])
    op.create_table(
        "account_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", booking.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", booking.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", booking.database.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("purpose IN ('set_password', 'reset_password')",
                           name=op.f("ck_account_link_purpose")),
        sa.ForeignKeyConstraint(["user_id"], ["staff_user.id"], ondelete="CASCADE",
                                name=op.f("fk_account_link_user_id_staff_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_link_token_hash")),
    )
    op.create_index(op.f("ix_account_link_user_id"), "account_link", ["user_id"])


def downgrade():
    op.drop_index(op.f("ix_account_link_user_id"), table_name="account_link")
    op.drop_table("account_link")
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_constraint(batch.f("uq_staff_user_oidc_subject"), type_="unique")
        batch.drop_column("oidc_subject")
        batch.drop_column("recovery_code_hashes")
        batch.drop_column("totp_confirmed_at")
        batch.drop_column("totp_secret")
        batch.drop_column("updated_at")
        batch.alter_column("password_hash", existing_type=sa.String(length=200), nullable=False)
    with op.batch_alter_table("magistrate") as batch:
        batch.drop_index("uq_magistrate_email")
        batch.drop_column("is_active")
    with op.batch_alter_table("unit") as batch:
        batch.drop_constraint(batch.f("uq_unit_code"), type_="unique")
        batch.drop_column("is_active")
        batch.drop_column("code")
    with op.batch_alter_table("comarca") as batch:
        batch.drop_constraint(batch.f("uq_comarca_foro_code"), type_="unique")
        batch.drop_column("is_active")
        batch.drop_column("foro_code")
