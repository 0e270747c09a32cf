"""The CLI: creating staff accounts and loading the demo court."""

from sqlalchemy import func, select

from booking.accounts.models import User
from booking.availability.models import AvailabilityRule, WeeklyWindow
from booking.courts.models import Channel, Comarca, Magistrate, Unit
from booking.extensions import db
from booking.security import verify_password
from tests.support.factories import make_magistrate


def test_users_create(app):
    with app.app_context():
        magistrate_id = make_magistrate().id
        db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--email", "Juiza@Example.jus.br",
                                 "--password", "a long enough password", "--role", "magistrate",
                                 "--magistrate-id", str(magistrate_id)])
    assert result.exit_code == 0, result.output
    assert "juiza@example.jus.br" in result.output
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert user.role == "magistrate" and user.magistrate_id == magistrate_id
        assert user.name == "Ana Souza"
        assert verify_password(user.password_hash, "a long enough password")
        assert "a long enough password" not in user.password_hash


def test_users_create_refuses_bad_input_with_a_clear_message(app):
    runner = app.test_cli_runner()
    base = ["users", "create", "--email", "x@example.jus.br"]
    short = runner.invoke(args=[*base, "--password", "short", "--role", "admin"])
    assert short.exit_code != 0 and "pelo menos 10 caracteres" in short.output
    orphan = runner.invoke(args=[*base, "--password", "long enough pw", "--role", "magistrate"])
    assert orphan.exit_code != 0 and "--magistrate-id" in orphan.output
    missing = runner.invoke(args=[*base, "--password", "long enough pw", "--role", "magistrate",
                                  "--magistrate-id", "999"])
    assert missing.exit_code != 0 and "não existe" in missing.output
    role = runner.invoke(args=[*base, "--password", "long enough pw", "--role", "judge"])
    assert role.exit_code != 0
    ok = runner.invoke(args=[*base, "--password", "long enough pw", "--role", "admin"])
    assert ok.exit_code == 0
    again = runner.invoke(args=[*base, "--password", "long enough pw", "--role", "admin"])
    assert again.exit_code != 0 and "Já existe" in again.output


def _row_counts():
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Comarca, Unit, Channel, Magistrate, User, AvailabilityRule, WeeklyWindow)}


def test_demo_loads_a_believable_court_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    for role in ("admin", "corregedoria", "magistrate", "assistant"):
        assert role in first.output
    with app.app_context():
        counts = _row_counts()
        assert counts["Comarca"] >= 10
        assert counts["Unit"] >= 30
        assert counts["Magistrate"] >= 40
        assert counts["User"] == 4
        assert counts["AvailabilityRule"] == counts["Magistrate"]
        instances = set(db.session.scalars(select(Unit.instance)))
        assert instances == {1, 2}
        names = set(db.session.scalars(select(Comarca.name)))
        assert {"Cuiabá", "Várzea Grande", "Rondonópolis", "Sinop", "Cáceres"} <= names
        magistrate_names = list(db.session.scalars(select(Magistrate.name)))
        assert len(set(magistrate_names)) == len(magistrate_names)
        for unit in db.session.scalars(select(Unit)):
            kinds = {channel.kind for channel in unit.channels}
            assert {"phone", "email"} <= kinds, unit.name
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert "nada mudou" in second.output
    with app.app_context():
        assert _row_counts() == counts


def test_demo_if_empty_leaves_a_real_court_alone(app):
    with app.app_context():
        make_magistrate()
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 1


def test_demo_refuses_to_run_in_production(database_url):
    from tests.conftest import make_app

    app = make_app(database_url, ENV="production")
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "production" in result.output
