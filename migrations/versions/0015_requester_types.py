"""Who asked: the requester's type and institution, and the types each agenda accepts

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("booking") as batch:
        batch.add_column(sa.Column("requester_type", sa.String(length=20), nullable=False,
                                   server_default="lawyer"))
        batch.add_column(sa.Column("requester_institution", sa.String(length=200),
                                   nullable=True))
    with op.batch_alter_table("availability_rule") as batch:
        batch.add_column(sa.Column("accepted_requesters", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("availability_rule") as batch:
        batch.drop_column("accepted_requesters")
    with op.batch_alter_table("booking") as batch:
        batch.drop_column("requester_institution")
        batch.drop_column("requester_type")
