"""Webhook delivery attempts are purged after WEBHOOK_DELIVERY_RETENTION_DAYS

The daily purge deletes by the attempt's time; indexed, it reads only the old rows.

Revision ID: 0037
Revises: 0036
"""
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_webhook_delivery_attempted_at", "webhook_delivery", ["attempted_at"])


def downgrade():
    op.drop_index("ix_webhook_delivery_attempted_at", table_name="webhook_delivery")
