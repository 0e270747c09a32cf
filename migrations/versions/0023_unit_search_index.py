"""PostgreSQL finds units through a trigram index on their search text

`LIKE '% civel%'` on unit.search_text (booking/courts/service.py) is served by a GIN
index of pg_trgm, a trusted extension since PostgreSQL 13 (the database's owner may
create it). Where it cannot be created the search still works, by a scan of the units;
SQLite always scans them (a court's directory is a few hundred units).

Revision ID: 0023
Revises: 0022
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    try:
        with connection.begin_nested():
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        log.warning("pg_trgm could not be created (%s): unit search will scan the units.",
                    error.orig)
        return
    op.execute("CREATE INDEX IF NOT EXISTS ix_unit_search_trgm ON unit "
               "USING gin (search_text gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_unit_search_trgm")
