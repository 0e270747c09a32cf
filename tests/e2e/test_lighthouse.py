"""Google's Lighthouse (npm, pinned in tests/lighthouse) on the public pages, as a phone
sees them, with Debian's Chromium: accessibility, best practices and SEO score 100 (the
reports are kept in test-artifacts/e2e/lighthouse/). Performance is left out: its score
depends on the machine's load, and speed is measured by make bench, not asserted."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

LIGHTHOUSE = Path(__file__).resolve().parents[1] / "lighthouse" / "node_modules" / \
    "lighthouse" / "cli" / "index.js"
PAGES = {"portal": "/", "agenda": "/magistrados/1/agenda", "unidade": "/unidades/1",
         "reclamacao": "/reclamacoes/nova", "acompanhar": "/reclamacoes/acompanhar",
         "transparencia": "/transparencia"}
ASSERTED = ("accessibility", "best-practices", "seo")


def lighthouse(url: str, report: Path) -> dict:
    if not LIGHTHOUSE.exists():
        raise RuntimeError("Lighthouse is not installed: make test runs npm ci in tests/lighthouse.")
    flags = " ".join(["--headless=new", *CHROMIUM_ARGS])
    subprocess.run(
        ["node", str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
         f"--chrome-flags={flags}", "--only-categories=" + ",".join(ASSERTED)],
        env={**os.environ, "CHROME_PATH": CHROMIUM}, check=True, capture_output=True,
        timeout=240)
    return json.loads(report.read_text())


def test_the_public_pages_score_100_where_it_does_not_depend_on_the_machine(site):
    folder = ARTIFACTS / "lighthouse"
    folder.mkdir(parents=True, exist_ok=True)
    below = {}
    for name, path in PAGES.items():
        result = lighthouse(site.url + path, folder / f"{name}.json")
        for category in ASSERTED:
            score = round(result["categories"][category]["score"] * 100)
            if score < 100:
                below[f"{path} {category}"] = [
                    audit["id"] for audit in result["audits"].values()
                    if audit.get("score") is not None and audit["score"] < 1
                    and audit.get("scoreDisplayMode") in ("binary", "numeric")]
    assert below == {}, below
