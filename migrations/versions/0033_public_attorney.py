"""The public attorneys are one requester type, `public_attorney`, as the API contract has it

The first version split them into state and municipal attorneys; the institution kept with
every booking still says which body. Bookings and the types each agenda accepts are moved
to the one name. Going back cannot tell a state attorney from a municipal one: the
downgrade calls them all state attorneys.

Revision ID: 0033
Revises: 0032
"""
import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

FORMER = ("state_attorney", "municipal_attorney")


def _rename(former: tuple[str, ...], name: str) -> None:
    connection = op.get_bind()
    booking = sa.table("booking", sa.column("requester_type"))
    connection.execute(sa.update(booking).where(booking.c.requester_type.in_(former))
                       .values(requester_type=name))
    rule = sa.table("availability_rule", sa.column("magistrate_id"),
                    sa.column("accepted_requesters", sa.JSON))
    rows = []
    for magistrate_id, accepted in connection.execute(
            sa.select(rule.c.magistrate_id, rule.c.accepted_requesters)):
        if accepted and any(kind in former for kind in accepted):
            renamed = list(dict.fromkeys(name if kind in former else kind for kind in accepted))
            rows.append({"rule_id": magistrate_id, "accepted": renamed})
    if rows:
        connection.execute(sa.update(rule).where(rule.c.magistrate_id == sa.bindparam("rule_id"))
                           .values(accepted_requesters=sa.bindparam("accepted")), rows)


def upgrade():
    _rename(FORMER, "public_attorney")


def downgrade():
    _rename(("public_attorney",), "state_attorney")
