"""The import contracts of docs/architecture.md ("Layers"), as `make lint` runs them.

Each test copies the project's Python packages to a temporary directory, plants one import
and runs `lint-imports` there with the project's own pyproject.toml: the contracts hold on the
code as it is, and break on a deliberate upward import (also one inside a function) or a cycle.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _copy_packages(target: Path) -> None:
    for package in CONFIG["root_packages"]:
        shutil.copytree(ROOT / package, target / package,
                        ignore=lambda _dir, names: [n for n in names
                                                    if n == "__pycache__" or (Path(_dir, n).is_file()
                                                                              and not n.endswith(".py"))])
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")


def _plant(target: Path, module: str, line: str) -> None:
    path = target / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = target / module.replace(".", "/") / "__init__.py"
    path.write_text(path.read_text() + "\n\n" + line + "\n")


def _lint(target: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT_IMPORTS, "--no-cache", "--no-logo"], cwd=target, capture_output=True, text=True,  # noqa: S603
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("contracts") / "clean"
    target.mkdir()
    _copy_packages(target)
    return target


def test_the_contracts_hold_on_the_code(project):
    result = _lint(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "contract", "names"), [
    # the audit core reaching up into the domain, at module level
    ("audit.canonical", "from trading.models import Tender  # noqa", "Layers,",
     "audit.canonical -> trading.models"),
    # the same inside a function: import-linter counts function-level imports
    ("audit.services", "def _late():\n    from supervision.live import supervision_overview  # noqa\n",
     "The audit core, accounts, realtime, sbe1 and config never import",
     "audit.services -> supervision.live"),
    # accounts below realtime and trading
    ("accounts.roles", "def _late():\n    from realtime.streams import stream_publish  # noqa\n", "Layers,",
     "accounts.roles -> realtime.streams"),
    # trading core below experts (draws) and trading.evaluation
    ("trading.services.tenders", "def _late():\n    from experts.models import Draw  # noqa\n", "Layers,",
     "trading.services.tenders -> experts.models"),
    # realtime (the persisted stream) never reaches the UI that renders it
    ("realtime.streams", "from bidding_ui import views  # noqa", "Layers,",
     "realtime.streams -> bidding_ui.views"),
    # sbe1 is stand-alone: no Django
    ("sbe1.envelope", "import django.db  # noqa", "sbe1 and the witness are stand-alone", "sbe1.envelope -> django"),
    # a cycle inside an app: the canonical JSON below the log's services
    ("audit.canonical", "def _late():\n    from audit.services import audit_record  # noqa\n",
     "No import cycle between the sub-packages", "audit"),
])
def test_a_deliberate_violation_breaks_the_contracts(tmp_path, module, line, contract, names):
    _copy_packages(tmp_path)
    _plant(tmp_path, module, line)
    result = _lint(tmp_path)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken and names in broken, result.stdout


def _layer_modules() -> dict[str, int]:
    """{module: layer index} of the layers contract (optional modules without their parentheses)."""
    [contract] = [c for c in CONFIG["contracts"] if c["type"] == "layers"]
    found: dict[str, int] = {}
    for index, layer in enumerate(contract["layers"]):
        for name in layer.replace("|", ":").split(":"):
            name = name.strip().strip("()")
            assert name not in found, f"{name} is in two layers"
            found[name] = index
    return found


@pytest.mark.parametrize("app", ["audit", "trading", "config"])
def test_every_module_of_a_split_app_is_in_one_layer(app):
    """audit, trading and config are split across layers module by module: a new module must be
    placed in the contract (docs/architecture.md says where), or it would go unchecked."""
    layers = _layer_modules()
    children = sorted(
        p.stem if p.is_file() else p.name for p in (ROOT / app).iterdir()
        if (p.is_file() and p.suffix == ".py" and p.name != "__init__.py")
        or (p.is_dir() and (p / "__init__.py").exists()))
    missing = [f"{app}.{child}" for child in children if f"{app}.{child}" not in layers]
    assert not missing, f"not in any layer of pyproject.toml [tool.importlinter]: {missing}"


def test_the_layers_run_bottom_to_top_as_documented():
    layers = _layer_modules()  # index 0 is the top layer
    order = ["config.errors", "audit.services", "accounts", "audit.api", "realtime", "trading.models",
             "experts", "trading.evaluation", "supervision", "bidding_ui", "config.urls"]
    assert [layers[m] for m in order] == sorted((layers[m] for m in order), reverse=True)
    assert layers["supervision"] == layers["trading.ocds"]
    assert layers["trading.models"] < layers["credit"] < layers["realtime"]
    assert layers["auctions"] == layers["smallworks"] < layers["supervision"]
    assert layers["demo"] < layers["bidding_ui"]
