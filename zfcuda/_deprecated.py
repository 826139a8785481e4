"""The module paths of zfcuda 0.1's flat layout, kept working for one release with a warning.

``import zfcuda.topk`` or ``from zfcuda.viz import projection_to_rgb`` still work: an import hook
answers each old path with a stand-in module that finds every name at its new home and warns
once per module with a ``DeprecationWarning`` that names the new path. Nothing here is imported by
the rest of the package; ``zfcuda/__init__`` installs the hook.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

# Old module -> its new home. A module whose names went to several places lists them in MOVED_NAMES.
NEW_HOME = {
    "checkpoint_io": "zfcuda._utils.checkpoint",
    "cli": "zfcuda.app.cli",
    "convert": "zfcuda.nn",
    "correspondence": "zfcuda.analysis.correspondence",
    "deconv": "zfcuda.deconvnet.projection",
    "deconv_crop": "zfcuda.deconvnet.crop",
    "demo": "zfcuda.app.demo",
    "demo_page": "zfcuda.app.demo_page",
    "distributed": "zfcuda._utils.distributed",
    "feature_evolution": "zfcuda.analysis.feature_evolution",
    "geometry": "zfcuda._utils.geometry",
    "grids": "zfcuda.sensitivity.grids",
    "invariance": "zfcuda.analysis.invariance",
    "invariance_figure": "zfcuda.figures.invariance",
    "layer_outputs": "zfcuda._utils.hooks",
    "occlusion": "zfcuda.sensitivity.engine",
    "occlusion_drill": "zfcuda.sensitivity.drill",
    "occlusion_figure": "zfcuda.figures.occlusion",
    "occlusion_incremental": "zfcuda.sensitivity.incremental",
    "occlusion_stages": "zfcuda.stages",
    "plotting": "zfcuda.figures._mpl",
    "pretrained": "zfcuda.models.pretrained",
    "topk": "zfcuda.deconvnet.topk",
    "train": "zfcuda.training.trainer",
    "transfer": "zfcuda.analysis.transfer",
    "viz": "zfcuda.figures.projections",
}

# Names that left their old module for somewhere other than its NEW_HOME: "old.name" -> "new.module".
MOVED_NAMES = {
    "data.progress": "zfcuda._utils.progress",
    "deconv.feature_chain": "zfcuda.stages",
    "deconv.HEAD": "zfcuda.stages",
    "geometry.window_geometry": "zfcuda.stages.geometry",
    "feature_evolution.evolution_grid": "zfcuda.figures.evolution",
    "figures.CENTRE": "zfcuda.data.preprocess",
    "figures.centre_mean": "zfcuda.data.preprocess",
    "figures.deconv_figure": "zfcuda.app.deconv_figures",
    "figures.layer_name": "zfcuda.deconvnet.projection",
    "figures.model_input": "zfcuda.data.preprocess",
    "figures.photo_input": "zfcuda.data.preprocess",
    "figures.top9_figures": "zfcuda.app.deconv_figures",
    "occlusion.OcclusionResult": "zfcuda.sensitivity.result",
    "viz.image_to_rgb": "zfcuda.data.preprocess",
}


def moved_attribute(old_module: str, name: str):
    """``name`` of the old ``zfcuda.<old_module>``, found at its new home, with a DeprecationWarning.

    Raises:
        AttributeError: ``name`` was never there.
    """
    new = MOVED_NAMES.get(f"{old_module}.{name}") or NEW_HOME.get(old_module)
    if new is None:
        raise AttributeError(f"module 'zfcuda.{old_module}' has no attribute {name!r}")
    value = getattr(importlib.import_module(new), name)  # AttributeError: it was never there either
    warnings.warn(f"zfcuda.{old_module}.{name} moved to {new}.{name}; the old path goes in the next release",
                  DeprecationWarning, stacklevel=3)
    return value


class _OldModule(ModuleType):
    """Stands in for an old flat module: every attribute comes from its new home.

    ``zfcuda.occlusion`` and ``zfcuda.convert`` were functions as well as modules; importing the
    old module path rebinds those attributes of ``zfcuda`` to the stand-in, so it stays callable.
    """

    def __init__(self, old: str) -> None:
        super().__init__(f"zfcuda.{old}", f"Deprecated: moved to {NEW_HOME[old]}.")
        self._old = old

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return moved_attribute(self._old, name)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(importlib.import_module(NEW_HOME[self._old]))))

    def __call__(self, *args, **kwargs):
        function = getattr(importlib.import_module(NEW_HOME[self._old]), self._old, None)
        if not callable(function):
            raise TypeError(f"'module' object zfcuda.{self._old} is not callable")
        return function(*args, **kwargs)


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers ``import zfcuda.<old>`` for every old flat module."""

    def find_spec(self, fullname: str, path=None, target=None):
        prefix, _, old = fullname.partition(".")
        if prefix != "zfcuda" or old not in NEW_HOME:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec) -> ModuleType:
        old = spec.name.partition(".")[2]
        warnings.warn(f"zfcuda.{old} moved to {NEW_HOME[old]}; the old path goes in the next release",
                      DeprecationWarning, stacklevel=2)
        return _OldModule(old)

    def exec_module(self, module: ModuleType) -> None:
        pass


def install() -> None:
    """Puts the finder on ``sys.meta_path`` once."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())
