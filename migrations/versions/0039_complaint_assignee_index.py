"""The Corregedoria's desk finds a reviewer's complaints by an index, not by reading them all

Revision ID: 0039
Revises: 0038
"""
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_complaint_assigned_created", "complaint",
                    ["assigned_to_id", "created_at"])


def downgrade():
    op.drop_index("ix_complaint_assigned_created", table_name="complaint")
