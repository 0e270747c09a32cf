"""A hold may send its code again: how many codes went, and when the last one did

A requester whose e-mail did not arrive asks for a new code; these two columns bound how
often (BOOKING_CODE_RESENDS, BOOKING_CODE_RESEND_SECONDS). Holds made before this revision
count as having sent none: at most fifteen minutes old, they lose nothing by it.

Revision ID: 0035
Revises: 0034
"""
import sqlalchemy as sa
from alembic import op

import booking.database

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade():
    # Not batch_alter_table: on SQLite that would copy the table, and the copy loses the
    # expression indexes (lower(lawyer_email)) that reflection cannot read.
    op.add_column("booking", sa.Column("codes_sent", sa.Integer(), server_default="0",
                                       nullable=False))
    op.add_column("booking", sa.Column("code_sent_at",
                                       booking.database.UTCDateTime(timezone=True),
                                       nullable=True))


def downgrade():
    op.drop_column("booking", "code_sent_at")
    op.drop_column("booking", "codes_sent")
