"""An S3-compatible object store on a free loopback port: s3rver (npm, tests/s3), which
checks each request's signature and keeps objects on disk; one bucket made at start.
Started and stopped by the test that uses it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.postgres import free_port
from tests.support.processes import stop_process

S3RVER = Path(__file__).resolve().parents[1] / "s3" / "node_modules" / "s3rver" / "bin" / "s3rver.js"
# s3rver's fixed credentials: requests signed with anything else are refused.
ACCESS_KEY = SECRET_KEY = "S3RVER"


class S3Server:
    def __init__(self, bucket: str = "anexos-teste"):
        self.port = free_port()
        self.bucket = bucket
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder: str | None = None
        self.process: subprocess.Popen | None = None

    def settings(self) -> dict:
        """The service's settings that point its complaint files at this store."""
        return {"COMPLAINT_FILES_STORE": "s3", "COMPLAINT_S3_ENDPOINT": self.url,
                "COMPLAINT_S3_BUCKET": self.bucket, "COMPLAINT_S3_REGION": "us-east-1",
                "COMPLAINT_S3_ACCESS_KEY": ACCESS_KEY, "COMPLAINT_S3_SECRET_KEY": SECRET_KEY}

    def start(self) -> None:
        if not S3RVER.exists():
            raise RuntimeError("s3rver is not installed: run make test (it runs npm ci in "
                               "tests/s3).")
        self.folder = tempfile.mkdtemp(prefix="s3rver-")
        node = shutil.which("node") or "/usr/bin/node"
        self.process = subprocess.Popen(
            [node, str(S3RVER), "-d", self.folder, "-a", "127.0.0.1", "-p", str(self.port),
             "--silent", "--no-vhost-buckets", "--configure-bucket", self.bucket],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("s3rver did not start")

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
