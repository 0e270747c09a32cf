"""Debian's nginx on loopback, serving the README's site (`<!-- nginx-example -->`) with a
throwaway certificate, in front of a gunicorn the test started. Only the addresses and the
certificate's files are swapped; every proxy_* line is the README's."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path

from tests.support.postgres import free_port
from tests.support.processes import stop_process, wait_until_answers

REPO = Path(__file__).resolve().parents[2]
SITE = re.compile(r"<!-- nginx-example -->\s*```nginx\n(.*?)```", re.S)
SERVER_NAME = "agendamento.tjmt.jus.br"


def readme_site() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return "\n".join(line[2:] if line.startswith("  ") else line
                     for line in SITE.search(text).group(1).splitlines())


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for SERVER_NAME and 127.0.0.1, valid for a day."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName(SERVER_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "site.pem", folder / "site.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Nginx:
    """The README's site on https://127.0.0.1:<port>, proxying to `upstream` (host:port)."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None

    def config(self, cert: Path, key: Path) -> str:
        site = readme_site()
        site = site.replace("127.0.0.1:8000", self.upstream)
        site = re.sub(r"listen 443 ssl;", f"listen 127.0.0.1:{self.port} ssl;", site)
        site = re.sub(r"ssl_certificate \S+;", f"ssl_certificate {cert};", site)
        site = re.sub(r"ssl_certificate_key \S+;", f"ssl_certificate_key {key};", site)
        folder = self.folder
        temp_paths = "\n".join(f"    {kind}_temp_path {folder / kind};"
                               for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        return (f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
                f"error_log {folder / 'error.log'} info;\nevents {{ worker_connections 256; }}\n"
                f"http {{\n    access_log {folder / 'access.log'};\n{temp_paths}\n{site}\n}}\n")

    def start(self) -> None:
        # Under root nginx's workers run as nobody: the folder must be theirs to use.
        self.folder = Path(tempfile.mkdtemp(prefix="booking-nginx-"))
        os.chmod(self.folder, 0o755)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.folder / kind).mkdir(mode=0o777)
            os.chmod(self.folder / kind, 0o777)
        self.certificate, key = self_signed_certificate(self.folder)
        (self.folder / "nginx.conf").write_text(self.config(self.certificate, key))
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen(
            [binary, "-c", str(self.folder / "nginx.conf"), "-p", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not wait_until_answers(f"{self.url}/healthz", self.process,
                                  verify=str(self.certificate)):
            errors = self.error_log()
            self.stop()
            raise RuntimeError(f"nginx did not start:\n{errors}")

    def ssl_context(self) -> ssl.SSLContext:
        """Trusts this server's certificate (it names 127.0.0.1) and nothing else."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def error_log(self) -> str:
        path = self.folder / "error.log" if self.folder else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

