"""Migrations are the only way a schema is made; the models must agree with them."""

from datetime import UTC

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from booking.database import include_in_autogenerate
from booking.extensions import db


# SQLite's reflection skips an index on an expression, saying so; it is left out of the
# comparison by name (include_in_autogenerate) on both sides.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_in_autogenerate})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models and migrations differ: {differences}"


def test_migrations_go_down_and_up_again(app):
    with app.app_context():
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
    assert {"booking", "slot", "staff_user", "outbox_message", "complaint", "audit_entry"} <= tables


def test_postgresql_refuses_overlapping_slots(postgresql_url):
    """The exclusion constraint of migration 0002 is really there."""
    from datetime import datetime

    import pytest
    from sqlalchemy.exc import IntegrityError

    from booking.availability.models import Slot
    from tests.conftest import make_app
    from tests.support.factories import make_magistrate

    app = make_app(postgresql_url)
    with app.app_context():
        magistrate = make_magistrate()
        start = datetime(2027, 3, 2, 18, 0, tzinfo=UTC)
        db.session.add(Slot(magistrate_id=magistrate.id, start_at=start,
                            end_at=start.replace(minute=30)))
        db.session.add(Slot(magistrate_id=magistrate.id, start_at=start.replace(minute=15),
                            end_at=start.replace(minute=45)))
        with pytest.raises(IntegrityError, match="ex_slot_no_overlap"):
            db.session.commit()
        db.session.rollback()


def test_readiness_knows_the_newest_migration():
    """/readyz compares the database with booking.health.SCHEMA_REVISION: a new migration
    moves it too, or nodes would be ready (or not) against the wrong schema."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from booking import _migrations_dir
    from booking.health import SCHEMA_REVISION

    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    assert heads == {SCHEMA_REVISION}, (
        f"the newest migration is {heads}: set SCHEMA_REVISION in booking/health.py to it")
