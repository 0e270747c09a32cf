"""`flask --app wsgi backup FILE`: a consistent copy of the database while the service runs.

SQLite: SQLite's online backup (page by page, readers and writers go on), checked with
`PRAGMA integrity_check` before it takes FILE's name. PostgreSQL: `pg_dump` in its custom
format (one consistent snapshot; restore with `pg_restore`, README "Backups"). The password
goes to pg_dump in its environment, never on a command line that `ps` shows.

The complaints' files, when kept in a folder (COMPLAINT_FILES_DIR), are copied after the
database to FILE.anexos: a file is written whole before its row commits and never changes,
so every file a row of the copy names is in the folder by then.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupFailed(Exception):
    """Why no backup was written, in Portuguese for the operator."""


def back_up(database_url: str, target: Path, files: Path | None = None) -> str:
    """Write a backup of the database to target, and of the complaints' files folder
    (`files`) to target.anexos; returns what was done, in Portuguese."""
    files_target = files_copy_of(target) if files is not None else None
    for taken in (target, files_target):
        if taken is not None and taken.exists():
            raise BackupFailed(f"{taken} já existe: escolha outro nome (nada foi sobrescrito).")
    if not target.parent.is_dir():
        raise BackupFailed(f"A pasta {target.parent} não existe.")
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        done = _sqlite(Path(url.database or ""), target)
    elif backend == "postgresql":
        done = _postgresql(url, target)
    else:
        raise BackupFailed(f"Banco {backend} não suportado: use as ferramentas dele.")
    if files_target is not None:
        done += " " + _files(files, files_target)
    return done


def files_copy_of(target: Path) -> Path:
    """Where a backup's copy of the complaints' files goes: beside it, as NAME.anexos."""
    return target.with_name(f"{target.name}.anexos")


def _files(source: Path, target: Path) -> str:
    """Copy the folder whole under a temporary name, then give it its name; files still
    being written (*.part) are left out: their rows are not in the copy either."""
    partial = target.with_name(f".{target.name}.parcial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        if source.is_dir():
            shutil.copytree(source, partial, ignore=shutil.ignore_patterns("*.part"))
        else:  # no complaint has had a file yet
            partial.mkdir()
        count = sum(1 for path in partial.rglob("*") if path.is_file())
        os.replace(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return f"Anexos das reclamações ({count} arquivo(s)) copiados para {target}."


def _sqlite(source: Path, target: Path) -> str:
    if not source.is_file():
        raise BackupFailed(f"O banco SQLite {source} não existe.")
    partial = target.with_name(f".{target.name}.parcial")
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as origin, \
                closing(sqlite3.connect(partial)) as copy:
            origin.backup(copy, pages=1024)  # in steps: writers are never held for long
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupFailed(f"A cópia não passou na verificação de integridade: {verdict}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return f"Cópia do SQLite gravada em {target} ({target.stat().st_size} bytes)."


def pg_dump_binary() -> str:
    """pg_dump on PATH, else the newest of Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("pg_dump")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"),
                        key=lambda path: int(Path(path).parts[-3]))
    if not candidates:
        raise BackupFailed("pg_dump não encontrado: instale o cliente do PostgreSQL "
                           "(apt-get install postgresql-client).")
    return candidates[-1]


def _postgresql(url, target: Path) -> str:
    environment = {**os.environ, "PGPASSWORD": url.password or "",
                   "PGHOST": url.host or "", "PGPORT": str(url.port or ""),
                   "PGUSER": url.username or "", "PGDATABASE": url.database or ""}
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD"):
        if not environment[name]:
            environment.pop(name)  # libpq's own defaults (socket, 5432, the OS user)
    partial = target.with_name(f".{target.name}.parcial")
    try:
        result = subprocess.run([pg_dump_binary(), "--format=custom", "--no-owner",
                                 "--file", str(partial)],
                                env=environment, capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupFailed(f"pg_dump falhou: {result.stderr.strip()}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return (f"Cópia do PostgreSQL (pg_dump, formato custom) gravada em {target} "
            f"({target.stat().st_size} bytes). Restaure com pg_restore.")
