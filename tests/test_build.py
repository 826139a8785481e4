"""The compiled kernels are the ones under test, the build reports itself, and a torch mismatch is explained."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import zfcuda
from zfcuda import _loader
from zfcuda.app.cli import main as cli_main

OPS = ("max_pool2d_switches", "unpool2d_switches", "gather2d_switches", "occlusion_batch")


@pytest.mark.parametrize("op", OPS)
def test_dispatcher_holds_compiled_cpu_kernel(op):
    assert torch._C._dispatch_has_kernel_for_dispatch_key(f"zfcuda::{op}", "CPU")


@pytest.mark.parametrize("op", OPS)
def test_dispatcher_holds_cuda_kernel_when_built_with_cuda(op):
    if not zfcuda.build_info()["cuda"]:
        pytest.skip("built without CUDA kernels")
    assert torch._C._dispatch_has_kernel_for_dispatch_key(f"zfcuda::{op}", "CUDA")


def test_build_info_matches_running_torch():
    info = zfcuda.build_info()
    assert info["torch_version"] == torch.__version__
    assert info["cuda"] == (torch.version.cuda is not None and info["cuda"])
    if info["cuda"]:
        assert info["cuda_version"] == torch.version.cuda
        assert info["cuda_architectures"]


def test_info_command(capsys):
    assert cli_main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"built against torch {torch.__version__}" in out and "CUDA kernels:" in out


def test_version_mismatch_message():
    with pytest.raises(ImportError, match="--no-build-isolation"):
        _loader.check_torch_version("2.0.0", "2.13.0")
    _loader.check_torch_version(torch.__version__, torch.__version__)


def test_import_under_another_torch_fails_clearly():
    code = "import torch; torch.__version__ = '0.0.1-other'\ntry:\n import zfcuda\nexcept ImportError as e:\n print(e)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "compiled against torch" in out and "0.0.1-other" in out and "--no-build-isolation" in out


def test_cpu_fast_paths_can_be_switched_off_for_testing():
    # The "cpu-body" test device relies on this switch to run the CUDA kernels' per-element bodies on the CPU.
    from zfcuda import _C

    assert _C._cpu_fast_paths()
    _C._set_cpu_fast_paths(False)
    try:
        assert not _C._cpu_fast_paths()
    finally:
        _C._set_cpu_fast_paths(True)
