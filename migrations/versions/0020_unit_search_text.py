"""Units are found the way people type: a normalised search text per unit

Its name, comarca and magistrates' names without accents or capitals (booking/courts/
search.py), filled here for the units that exist and kept current by the service.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

from booking.courts.search import search_text

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("search_text", sa.String(length=4000), nullable=True))
    connection = op.get_bind()
    unit, comarca, magistrate = (sa.table(name, *(sa.column(c) for c in columns)) for name, columns in (
        ("unit", ("id", "name", "comarca_id", "search_text")), ("comarca", ("id", "name")),
        ("magistrate", ("unit_id", "name", "is_active"))))
    people: dict = {}
    for unit_id, name in connection.execute(sa.select(magistrate.c.unit_id, magistrate.c.name)
                                            .where(magistrate.c.is_active.is_(True))):
        people.setdefault(unit_id, []).append(name)
    rows = [{"unit_id": row.id, "text": search_text(row.name, row.comarca, people.get(row.id, []))}
            for row in connection.execute(sa.select(unit.c.id, unit.c.name,
                                                    comarca.c.name.label("comarca"))
                                          .join(comarca, comarca.c.id == unit.c.comarca_id))]
    if rows:
        connection.execute(sa.update(unit).where(unit.c.id == sa.bindparam("unit_id"))
                           .values(search_text=sa.bindparam("text")), rows)


def downgrade():
    with op.batch_alter_table("unit") as batch:
        batch.drop_column("search_text")
