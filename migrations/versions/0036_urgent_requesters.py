"""Urgent requests say who asked, as bookings do

Public defenders, prosecutors and public attorneys (and parties, where the agenda accepts
them) file urgent requests too, identified by institution and registration (or CPF) as on
a booking. Requests filed before this revision were all lawyers'.

Revision ID: 0036
Revises: 0035
"""
import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("urgent_request", sa.Column("requester_type", sa.String(length=20),
                                              server_default="lawyer", nullable=False))
    op.add_column("urgent_request", sa.Column("requester_institution", sa.String(length=200),
                                              nullable=True))


def downgrade():
    op.drop_column("urgent_request", "requester_institution")
    op.drop_column("urgent_request", "requester_type")
