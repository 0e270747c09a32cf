"""A complaint's history says who was put in charge, at the step that did it

Revision ID: 0038
Revises: 0037
"""
import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("complaint_event") as batch:
        batch.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_complaint_event_assigned_to_id_staff_user"),
                                 "staff_user", ["assigned_to_id"], ["id"])


def downgrade():
    with op.batch_alter_table("complaint_event") as batch:
        batch.drop_constraint(op.f("fk_complaint_event_assigned_to_id_staff_user"),
                              type_="foreignkey")
        batch.drop_column("assigned_to_id")
