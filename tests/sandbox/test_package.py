"""The sandbox package's boundaries: no Django, nothing of the app but the pure date helpers."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import wizard.sandbox

PACKAGE = Path(wizard.sandbox.__file__).resolve().parent
# What the emulator may import beyond the standard library: the HTTP library it adapts, and
# the pure date helpers it shares with the client (one reading of Autotask's dates).
ALLOWED_THIRD_PARTY = {"requests"}
ALLOWED_APP_MODULES = {"wizard.autotask.dates"}
STDLIB = frozenset(sys.stdlib_module_names)


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_sandbox_imports_no_django_and_nothing_else_of_the_app() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) > 5
    for path in modules:
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top == "wizard":
                assert name.startswith("wizard.sandbox") or name in ALLOWED_APP_MODULES, (
                    f"{path.name} imports {name}"
                )
            else:
                assert top != "django", f"{path.name} imports {name}"
                assert top in ALLOWED_THIRD_PARTY or top in STDLIB, f"{path.name} imports {name}"
