"""A session version per staff account: logout ends every copy of a session

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), server_default="0",
                                   nullable=False))


def downgrade():
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("session_version")
