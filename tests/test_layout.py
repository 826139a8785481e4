"""The package layout of docs/architecture.md: every subpackage imports on its own, no module imports
a higher layer, analyses never draw, and no package attribute hides the submodule of its name."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import zfcuda

PACKAGE = Path(zfcuda.__file__).resolve().parent

# docs/architecture.md, bottom layer first. A module may import its own layer and lower ones only.
LAYERS = [
    ("_utils", "_loader", "_deprecated", "_C", "_build_config"),
    ("ops", "reference"),
    ("nn",),
    ("data",),
    ("models",),
    ("stages",),
    ("deconvnet", "training"),
    ("sensitivity",),
    ("analysis", "captum"),
    ("figures",),
    ("app", "atlas"),
]
LEVEL = {top: level for level, tops in enumerate(LAYERS) for top in tops}
SUBPACKAGES = ["_utils", "analysis", "app", "atlas", "captum", "data", "deconvnet", "figures", "models", "sensitivity", "stages", "training"]


def _modules() -> list[tuple[str, Path]]:
    """(dotted name below zfcuda, path) of every module in the package but its root __init__ and __main__."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts in (("__init__",), ("__main__",)) or parts[-1] == "_build_config":
            continue
        found.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return found


def _imported(module: str, path: Path) -> set[str]:
    """The zfcuda modules ``module`` imports anywhere in its body (function-level imports too), as
    dotted names below zfcuda."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.removeprefix("zfcuda.") for a in node.names if a.name.startswith("zfcuda.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("zfcuda"):
                target = node.module.removeprefix("zfcuda").removeprefix(".")
            else:
                continue
            # `from . import ops` names a module; `from .ops import x` names its module.
            names |= {f"{target}.{a.name}".strip(".") for a in node.names} if not node.module else {target}
    return {n for n in names if n}


@pytest.mark.parametrize("module, path", _modules(), ids=[m for m, _ in _modules()])
def test_no_import_from_a_higher_layer(module, path):
    own = module.split(".")[0]
    for target in _imported(module, path):
        top = target.split(".")[0]
        assert top in LEVEL, f"zfcuda.{module} imports zfcuda.{target}, which has no layer in LAYERS"
        assert LEVEL[top] <= LEVEL[own], (
            f"zfcuda.{module} (layer {LEVEL[own]}) imports zfcuda.{target} (layer {LEVEL[top]}): "
            "a module may import its own layer and lower ones only (docs/architecture.md)")


def test_every_top_level_module_has_a_layer():
    tops = {m.split(".")[0] for m, _ in _modules()}
    assert tops <= set(LEVEL), f"not in LAYERS: {sorted(tops - set(LEVEL))}"


@pytest.mark.parametrize("module, path", [(m, p) for m, p in _modules() if m.startswith("analysis")])
def test_analyses_never_draw(module, path):
    drawing = {"matplotlib", "PIL.ImageDraw"}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            assert not any(n.split(".")[0] in drawing or n in drawing for n in names), f"zfcuda.{module} imports {names}"
    assert not any(t.startswith("figures") for t in _imported(module, path)), f"zfcuda.{module} imports zfcuda.figures"


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_each_subpackage_imports_in_a_fresh_interpreter(name):
    run = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", f"import zfcuda.{name}"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.mark.parametrize("name", ["zfcuda", *(f"zfcuda.{n}" for n in SUBPACKAGES)])
def test_no_attribute_hides_a_submodule(name):
    """``import zfcuda.x.y as m`` must give the module y, not a function that the package re-exports as y."""
    package = importlib.import_module(name)
    for info in pkgutil.iter_modules(package.__path__):
        if info.name == "__main__":  # importing it runs the command line
            continue
        submodule = importlib.import_module(f"{name}.{info.name}")
        attribute = getattr(package, info.name)
        assert attribute is submodule, f"{name}.{info.name} is {attribute!r}, not its submodule"
        assert isinstance(attribute, ModuleType)


def test_public_names_are_all_there():
    missing = [n for n in zfcuda.__all__ if not hasattr(zfcuda, n)]
    assert not missing
    for name in SUBPACKAGES:
        package = importlib.import_module(f"zfcuda.{name}")
        assert all(hasattr(package, n) for n in getattr(package, "__all__", [])), name
