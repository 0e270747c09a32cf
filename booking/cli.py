"""Command-line entry points: `flask --app wsgi users|demo|scheduler|mailcatcher`."""

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .extensions import db

users_cli = AppGroup("users", help="Contas da equipe.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, help="Pelo menos 10 caracteres.")
@click.option("--role", required=True,
              type=click.Choice(["magistrate", "assistant", "corregedoria", "admin"]))
@click.option("--magistrate-id", type=int, default=None,
              help="O magistrado da conta (papel magistrate) ou a quem o assessor serve.")
@click.option("--name", default=None)
def create_user_command(email, password, role, magistrate_id, name):
    """Create a staff account."""
    from .accounts.service import create_user
    from .domain import InvalidField

    try:
        user = create_user(email=email, password=password, role=role, name=name,
                           magistrate_id=magistrate_id)
        db.session.commit()
    except InvalidField as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(f"Conta criada: {user.email} ({user.role}), id {user.id}.")


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Só carrega se não houver nenhuma unidade.")
def demo_command(if_empty):
    """Load a believable court of Mato Grosso (development only)."""
    from .demo import DemoRefused, load_demo

    if current_app.config["ENV"] == "production":
        raise click.ClickException(
            "O comando demo cria contas com senhas conhecidas e não roda com "
            "BOOKING_ENV=production."
        )
    try:
        report = load_demo(only_if_empty=if_empty)
    except DemoRefused as refused:
        click.echo(str(refused))
        return
    click.echo(report)


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the job scheduler in the foreground (one per deployment)."""
    from .scheduler import run_scheduler

    run_scheduler(current_app._get_current_object())


@click.command("mailcatcher")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=None, type=int, help="Padrão: MAIL_PORT.")
@click.option("--directory", default=None, help="Padrão: MAIL_CATCHER_DIR.")
def mailcatcher_command(host, port, directory):
    """Development SMTP server that keeps every message as an .eml file."""
    from .devmail import serve_forever

    serve_forever(host, port or current_app.config["MAIL_PORT"],
                  directory or current_app.config["MAIL_CATCHER_DIR"])


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(mailcatcher_command)
