"""`flask --app wsgi backup FILE`: a consistent copy of the database while the service runs.

SQLite: SQLite's online backup (page by page, readers and writers go on), checked with
`PRAGMA integrity_check` before it takes FILE's name. PostgreSQL: `pg_dump` in its custom
format (one consistent snapshot; restore with `pg_restore`, README "Backups"). The password
goes to pg_dump in its environment, never on a command line that `ps` shows.
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


def back_up(database_url: str, target: Path) -> str:
    """Write a backup of the database to target; returns what was done, in Portuguese."""
    if target.exists():
        raise BackupFailed(f"{target} já existe: escolha outro nome (nada foi sobrescrito).")
    if not target.parent.is_dir():
        raise BackupFailed(f"A pasta {target.parent} não existe.")
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite(Path(url.database or ""), target)
    if backend == "postgresql":
        return _postgresql(url, target)
    raise BackupFailed(f"Banco {backend} não suportado: use as ferramentas dele.")


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
