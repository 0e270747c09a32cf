"""A hold or a waiting-list entry may send its code again: how many went, and when the last did

A requester whose e-mail did not arrive asks for a new code; these two columns bound how
often (BOOKING_CODE_RESENDS, BOOKING_CODE_RESEND_SECONDS). Holds and entries made before
this revision count as having sent none: at most fifteen minutes old, they lose nothing.

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

TABLES = ("booking", "waitlist_entry")


def upgrade():
    # Not batch_alter_table: on SQLite that would copy the table, and the copy of booking
    # loses the expression indexes (lower(lawyer_email)) that reflection cannot read.
    for table in TABLES:
        op.add_column(table, sa.Column("codes_sent", sa.Integer(), server_default="0",
                                       nullable=False))
        op.add_column(table, sa.Column("code_sent_at",
                                       booking.database.UTCDateTime(timezone=True),
                                       nullable=True))


def downgrade():
    for table in TABLES:
        op.drop_column(table, "code_sent_at")
        op.drop_column(table, "codes_sent")
