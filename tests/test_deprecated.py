"""zfcuda 0.1's flat module paths keep working for one release, each with a DeprecationWarning that
names the new path, and answer with the very objects of the new layout."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from zfcuda._deprecated import MOVED_NAMES, NEW_HOME

# One name of each old module, as a user of 0.1 imported it.
OLD_IMPORTS = {
    "checkpoint_io": "save_atomically", "cli": "main", "convert": "convert", "correspondence": "correspondence",
    "deconv": "DeconvNet", "deconv_crop": "crop_down", "demo": "run_demo", "demo_page": "write_page",
    "distributed": "setup", "feature_evolution": "feature_evolution", "geometry": "pair", "grids": "paper_grid",
    "invariance": "invariance", "invariance_figure": "invariance_figure", "layer_outputs": "layer_outputs",
    "occlusion": "occlusion", "occlusion_drill": "drill_down", "occlusion_figure": "fig7",
    "occlusion_incremental": "IncrementalOcclusion", "occlusion_stages": "model_stages", "plotting": "save_figure",
    "pretrained": "load", "topk": "top_activations", "train": "TrainConfig", "transfer": "transfer_splits",
    "viz": "projection_to_rgb",
}


def _run_python(code: str, *flags: str) -> None:
    """Runs ``code`` in a fresh interpreter (old modules warn when first imported) and fails with its stderr."""
    run = subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]


def test_every_old_module_is_listed():
    assert set(OLD_IMPORTS) == set(NEW_HOME)


def test_old_paths_give_the_new_objects_with_a_warning():
    """In one fresh interpreter (an old module warns when it is first imported), every old import."""
    code = ("import importlib, sys, warnings\nfrom zfcuda._deprecated import NEW_HOME\nwarnings.simplefilter('always')\n"
            f"failures = []\nfor old, name in {sorted(OLD_IMPORTS.items())!r}:\n"
            "    with warnings.catch_warnings(record=True) as caught:\n"
            "        value = getattr(importlib.import_module('zfcuda.' + old), name)\n"
            "    new = getattr(importlib.import_module(NEW_HOME[old]), name)\n"
            "    messages = [str(w.message) for w in caught if w.category is DeprecationWarning]\n"
            "    if value is not new or not any(NEW_HOME[old] in m for m in messages):\n"
            "        failures.append((old, name, value, new, messages))\n"
            "sys.exit(repr(failures) if failures else 0)\n")
    _run_python(code)


@pytest.mark.parametrize("old_name, new_module", sorted(MOVED_NAMES.items()))
def test_names_that_moved_elsewhere(old_name, new_module):
    old, name = old_name.rsplit(".", 1)
    with pytest.warns(DeprecationWarning) as caught:  # importing the old module warns too, where it is one
        value = getattr(importlib.import_module(f"zfcuda.{old}"), name)
    assert any(f"{new_module}.{name}" in str(w.message) for w in caught), [str(w.message) for w in caught]
    assert value is getattr(importlib.import_module(new_module), name)


def test_functions_that_were_also_modules_stay_callable():
    """``zfcuda.occlusion`` and ``zfcuda.convert`` were both functions and modules in 0.1."""
    code = ("import warnings\nwarnings.simplefilter('ignore')\nimport torch, zfcuda\n"
            "from zfcuda.occlusion import OcclusionResult\nfrom zfcuda.convert import convert\n"
            "model = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(2 * 3 * 3, 4))\n"
            "result = zfcuda.occlusion(model, torch.rand(3, 8, 8), patch=4, stride=4, show_progress=False)\n"
            "assert isinstance(result, OcclusionResult)\n"
            "assert type(zfcuda.convert(model)[1]).__name__ == 'SwitchMaxPool2d'\n")
    _run_python(code)


def test_unknown_names_are_still_attribute_errors():
    with pytest.raises(AttributeError, match="progres"):
        importlib.import_module("zfcuda.data").progres
    with pytest.raises(AttributeError):
        importlib.import_module("zfcuda.figures").no_such_figure


def test_the_new_layout_imports_without_warnings():
    _run_python("import zfcuda, zfcuda.app.cli, zfcuda.app.demo, zfcuda.figures, zfcuda.analysis", "-W", "error::DeprecationWarning")
