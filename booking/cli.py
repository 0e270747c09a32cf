"""Command-line entry points: `flask --app wsgi users|directory|demo|scheduler|
outbox-sender|mailcatcher|check|backup`."""

import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext

from .extensions import db

users_cli = AppGroup("users", help="Contas da equipe.")
directory_cli = AppGroup("directory", help="Diretório do tribunal: importar e exportar planilhas.")


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


@users_cli.command("integration-key")
@click.option("--name", required=True, help="O sistema do tribunal que vai usar a chave.")
@click.option("--by", "admin_email", required=True, help="E-mail do administrador que emite.")
def integration_key_command(name, admin_email):
    """Issue a key with which one of the court's systems books directly (printed once)."""
    from .accounts.models import User
    from .accounts.service import issue_integration_key, normalize_email

    admin = db.session.scalar(db.select(User).where(User.email == normalize_email(admin_email),
                                                    User.role == "admin"))
    if admin is None:
        raise click.ClickException("Nenhum administrador com este e-mail.")
    plain, key = issue_integration_key(name, admin)
    db.session.commit()
    click.echo(f"Chave {key.id} para {key.name} (mostrada só agora): {plain}")


@users_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
def create_admin_command(email, name):
    """The first administrator of a new installation: prints the link to set the password."""
    from .accounts.service import create_user
    from .accounts.staff import send_link
    from .domain import InvalidField

    try:
        user = create_user(email=email, password=None, role="admin", name=name)
        url = send_link(user, "set_password")
        db.session.commit()
    except InvalidField as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    hours = current_app.config["ACCOUNT_LINK_TTL_HOURS"]
    click.echo(f"Conta de administração criada: {user.email}.\n"
               f"Abra este link em até {hours} horas para escolher a senha (ele também foi "
               f"posto na fila de e-mails):\n\n  {url}\n\n"
               "Depois de escolher a senha, entre em /entrar e ative a verificação em duas "
               "etapas com um aplicativo autenticador.")


def _files_of(paths) -> list[tuple[str, bytes]]:
    files = []
    for given in paths:
        path = Path(given)
        found = sorted(path.glob("*.csv")) + sorted(path.glob("*.xlsx")) if path.is_dir() \
            else [path]
        files.extend((item.name, item.read_bytes()) for item in found)
    if not files:
        raise click.ClickException("Nenhum arquivo CSV ou XLSX encontrado.")
    return files


@directory_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--dry-run", is_flag=True, help="Só mostra o que mudaria; não grava nada.")
def import_directory_command(paths, dry_run):
    """Import comarcas, units, channels and magistrates from CSV files or an XLSX workbook."""
    from .courts import directory

    started = time.perf_counter()
    plan = directory.read_and_plan(_files_of(paths))
    if plan.errors:
        db.session.rollback()
        for error in plan.errors:
            click.echo(error, err=True)
        raise click.ClickException(f"{len(plan.errors)} erro(s); nada foi importado.")
    for change in plan.changes:
        if change.action != "unchanged":
            click.echo(f"{change.action:10} {change.kind:12} {change.key} "
                       f"({change.source}, linha {change.line})")
    summary = plan.summary()
    if dry_run:
        db.session.rollback()
    else:
        directory.apply_import(plan, None)
        db.session.commit()
    click.echo(("Simulação: " if dry_run else "Importado: ") +
               f"{summary['create']} a criar, {summary['update']} a alterar, "
               f"{summary['deactivate']} a desativar, {summary['unchanged']} sem mudança "
               f"({time.perf_counter() - started:.1f} s).")


@directory_cli.command("export")
@click.argument("destination", type=click.Path())
def export_directory_command(destination):
    """Write the directory as the import reads it: FILE.xlsx, or a folder of CSV files."""
    from .courts import directory, directory_file

    tables = directory.export_tables()
    path = Path(destination)
    if path.suffix.lower() == ".xlsx":
        path.write_bytes(directory_file.write_xlsx(tables))
    else:
        path.mkdir(parents=True, exist_ok=True)
        for kind, rows in tables.items():
            (path / f"{kind}.csv").write_bytes(directory_file.write_csv(kind, rows))
    click.echo(f"Diretório exportado em {path}.")


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
    """Run the job scheduler in the foreground (one per deployment), with its senders."""
    from .notifications.senders import sender_command_line
    from .scheduler import run_scheduler

    script = click.get_current_context().find_object(ScriptInfo)
    run_scheduler(current_app._get_current_object(),
                  sender_command_line(script.app_import_path if script else None))


@click.command("outbox-sender")
@with_appcontext
@click.option("--parent", type=int, default=None, hidden=True,
              help="The scheduler that started this sender: stop when it is gone.")
def outbox_sender_command(parent):
    """Send what waits in the outbox until TERM (the scheduler starts these; any number
    may run)."""
    import signal

    from .notifications.senders import run_sender
    from .stopping import request_stop

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: request_stop())
    run_sender(parent)


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


@click.command("check")
@with_appcontext
@click.option("--workers", type=click.IntRange(1, 512), envvar="WEB_CONCURRENCY", default=1,
              show_default=True, help="Quantos workers do gunicorn cada máquina vai rodar.")
def check_command(workers):
    """Say what is wrong or risky in the settings; exit 1 on an error (run before a start)."""
    from .settings_check import findings

    found = findings(current_app.config, workers)
    for finding in found:
        label = "ERRO" if finding.level == "error" else "AVISO"
        click.echo(f"{label}: {finding.portuguese}\n  ({finding.english})")
    if any(finding.level == "error" for finding in found):
        raise SystemExit(1)
    click.echo("Configuração sem erros. / Settings have no errors.")


@click.command("backup")
@with_appcontext
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(destination):
    """Copy the database to DESTINATION while the service runs (SQLite's online backup, or
    pg_dump's custom format for PostgreSQL), and the complaints' files kept in a folder to
    DESTINATION.anexos."""
    from .backup import BackupFailed, back_up

    config = current_app.config
    in_folder = config["COMPLAINT_FILES_STORE"] == "local"
    try:
        click.echo(back_up(config["SQLALCHEMY_DATABASE_URI"], destination,
                           files=Path(config["COMPLAINT_FILES_DIR"]) if in_folder else None))
    except BackupFailed as error:
        raise click.ClickException(str(error)) from None
    if not in_folder:
        click.echo("Os anexos das reclamações estão no bucket S3 (COMPLAINT_S3_BUCKET): "
                   "guarde-os com o versionamento ou a replicação do próprio bucket.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(check_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(directory_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(outbox_sender_command)
    app.cli.add_command(mailcatcher_command)
