"""Who may import whom, checked by reading the source with `ast` (nothing is imported).

The domain packages stand in a line, from the bottom (the audit log, the court's
directory, staff accounts) up to bookings, complaints and retention. A package
imports only packages below it, so no import loop can join two of them; what must
flow back up is registered by the upper package (see `_connect_domains` in
booking/__init__.py). Only a `service.py` may import another domain's `models`:
views, API routes, schemas, forms and models ask the other domain's service.
Which package writes which table is in the README's ownership table.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOOKING = Path(__file__).resolve().parent.parent / "booking"

# Bottom first. A package may import those before it in this list, never after.
LAYERS = ["calendars", "audit", "courts", "accounts", "notifications", "webhooks", "directory",
          "availability", "bookings", "complaints", "transparency", "privacy"]


def imported_modules(path: Path, package: str) -> set[str]:
    """Absolute names of every module the file imports, at its top or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            # `from ..courts import models` names a module, not a symbol
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def domain_of(module: str, root: str, domains: set[str]) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == root and parts[1] in domains:
        return parts[1]
    return None


def check(tree_root: Path, layers: list[str]) -> list[str]:
    """Every breach of the rules in a package tree, as sentences; empty when clean."""
    root = tree_root.name
    domains = {p.name for p in tree_root.iterdir() if (p / "__init__.py").exists()}
    unknown = domains - set(layers)
    problems = [f"package {name} has no place in LAYERS" for name in sorted(unknown)]
    rank = {name: index for index, name in enumerate(layers)}
    for path in sorted(tree_root.rglob("*.py")):
        relative = path.relative_to(tree_root.parent).with_suffix("")
        module = ".".join(relative.parts)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        if path.name == "__init__.py":
            module = package
        own = domain_of(module, root, domains)
        if own is None or own in unknown:
            continue  # top-level modules (app factory, CLI, jobs, pages) compose the domains
        for target in imported_modules(path, package):
            other = domain_of(target, root, domains)
            if other is None or other == own or other in unknown:
                continue
            where = path.relative_to(tree_root.parent)
            if rank[other] > rank[own]:
                problems.append(f"{where}: {own} imports {other}, which stands above it")
            if target.split(".")[2:3] == ["models"] and path.name != "service.py":
                models = ".".join(target.split(".")[:3])
                problems.append(f"{where}: imports {models}; only a service.py may read "
                                f"another domain's models")
    return sorted(set(problems))


def test_domains_import_only_downwards_and_models_only_from_services():
    assert check(BOOKING, LAYERS) == []


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def toy(tmp_path) -> Path:
    """A tiny application with two domains, `low` below `high`, that follows the rules."""
    root = tmp_path / "app"
    for name in ("__init__.py", "low/__init__.py", "high/__init__.py", "low/models.py",
                 "high/models.py"):
        write(root, name, "")
    write(root, "low/service.py", "from .models import *\n")
    write(root, "high/service.py", "from ..low.models import *\nfrom ..low import service\n")
    write(root, "top.py", "from .high import views\nfrom .low.models import *\n")
    return root


def test_the_check_accepts_a_tree_that_follows_the_rules(toy):
    assert check(toy, ["low", "high"]) == []


def test_the_check_finds_a_view_reading_another_domains_models(toy):
    write(toy, "high/views.py", "def page():\n    from ..low.models import Thing\n")
    write(toy, "high/api.py", "from app.low import models\n")
    assert check(toy, ["low", "high"]) == [
        "app/high/api.py: imports app.low.models; only a service.py may read another "
        "domain's models",
        "app/high/views.py: imports app.low.models; only a service.py may read another "
        "domain's models",
    ]


def test_the_check_finds_an_upward_import_that_would_close_a_loop(toy):
    write(toy, "low/service.py", "from ..high import service\n")
    assert check(toy, ["low", "high"]) == ["app/low/service.py: low imports high, which "
                                           "stands above it"]


def test_the_check_wants_every_package_placed(toy):
    write(toy, "stray/__init__.py", "")
    assert check(toy, ["low", "high"]) == ["package stray has no place in LAYERS"]
