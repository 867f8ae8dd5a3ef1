"""Unit checks of sbe1.js itself (tests/sbe1/js/selftest.mjs), and that the Python package is Django-free."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def test_js_selftest(node):
    proc = subprocess.run([node.node, str(Path(__file__).parent / "js" / "selftest.mjs")],  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["failures"] == []
    assert result["checks"] >= 40


def test_package_imports_only_stdlib_and_cryptography():
    allowed = set(sys.stdlib_module_names) | {"cryptography"}
    for path in (ROOT / "sbe1").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


@pytest.mark.parametrize("module", ["sbe1", "sbe1.cli"])
def test_importing_does_not_load_django(module):
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'audit')))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,  # noqa: S603
                          env={"PATH": "/usr/bin:/bin"}, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
