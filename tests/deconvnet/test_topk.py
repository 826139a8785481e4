"""Dataset-wide top-k activations against brute force, across two processes, and resumed; the scan keeps
its running top-k on the activations' device and returns CPU tensors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers.nets import random_batch_norm, small_chain
from tests.helpers.shared_data import real_images
from zfcuda import DeconvNet
from zfcuda.deconvnet import TopK, load_state, top_activations
from zfcuda.deconvnet import topk as topk_module
from zfcuda.deconvnet.histogram import UnitHistograms
from zfcuda.models.resnet_shaped import resnet18


def _brute_force(chain, images, layer_index, k):
    x = images
    with torch.no_grad():
        for module in list(chain)[: layer_index + 1]:
            x = module(x)
    return _ranked(x, k)


def _ranked(x, k):
    n, c, h, w = x.shape
    values, flat = x.flatten(2).max(2)  # every activation stored; each image's max per map
    out = []
    for ch in range(c):
        ranked = sorted(range(n), key=lambda i: (-values[i, ch].item(), i))[:k]
        out.append([(values[i, ch].item(), i, divmod(flat[i, ch].item(), w)) for i in ranked])
    return out


def _as_lists(topk):
    return [
        [(v, i, tuple(p)) for v, i, p in zip(vals.tolist(), ids.tolist(), pos.tolist())]
        for vals, ids, pos in zip(topk.values, topk.image_ids, topk.positions)
    ]


def test_equals_brute_force_on_real_images():
    chain, images = small_chain(), real_images()
    batches = [(images[i : i + 7], torch.arange(i, min(i + 7, len(images)))) for i in range(0, len(images), 7)]
    result = top_activations(DeconvNet(chain), batches, ["2", 5], k=9, progress=False)
    for name, index in (("2", 2), ("5", 5)):
        _check(result[name], _brute_force(chain, images, index, 9))


def _check(result, expected):
    for e, g in zip(expected, _as_lists(result)):
        assert [i for _, i, _ in g] == [i for _, i, _ in e]
        assert [p for _, _, p in g] == [tuple(p) for _, _, p in e]
        np.testing.assert_allclose([v for v, _, _ in g], [v for v, _, _ in e], rtol=1e-6)


def test_equals_brute_force_on_a_residual_network():
    torch.manual_seed(0)
    model, images = random_batch_norm(resnet18(10, width=8)).eval(), real_images()
    captured = {}
    for name in ("layer1.1", "layer3"):  # the module outputs, read by forward hooks on the model itself
        dict(model.named_modules())[name].register_forward_hook(lambda m, i, o, name=name: captured.__setitem__(name, o.clone()))
    with torch.no_grad():
        model(images)
    batches = [(images[i : i + 7], torch.arange(i, min(i + 7, len(images)))) for i in range(0, len(images), 7)]
    result = top_activations(DeconvNet(model), batches, ["layer3", "layer1.1"], k=5, progress=False)
    assert list(result) == ["layer1.1", "layer3"]
    for name in result:
        _check(result[name], _ranked(captured[name], 5))


def test_fewer_images_than_k_leaves_empty_slots():
    result = top_activations(DeconvNet(small_chain()), [(torch.rand(2, 3, 16, 16), torch.tensor([0, 1]))], [5], k=4, progress=False)
    assert (result["5"].image_ids[:, 2:] == -1).all() and torch.isinf(result["5"].values[:, 2:]).all()


def test_resume_from_a_partial_scan(tmp_path):
    deconv, images = DeconvNet(small_chain()), real_images()
    batches = [(images[i : i + 5], torch.arange(i, i + 5)) for i in range(0, len(images), 5)]
    full = top_activations(deconv, batches, ["2"], k=5, progress=False)
    top_activations(deconv, batches[:3], ["2"], k=5, checkpoint=tmp_path / "scan.pt", checkpoint_every=1, progress=False)
    state = load_state(tmp_path / "scan.pt")
    assert state["batches"] == 3
    resumed = top_activations(deconv, batches, ["2"], k=5, state=state, progress=False)
    assert _as_lists(resumed["2"]) == _as_lists(full["2"])


def test_two_process_torchrun_equals_one_process(tmp_path):
    root = Path(__file__).resolve().parents[2]  # the worker imports tests.helpers
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(root)}
    results = {}
    for procs in (1, 2):
        out = tmp_path / f"p{procs}.pt"
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}",
                   str(root / "tests" / "helpers" / "topk_worker.py"), str(out)]  # fmt: skip
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-4000:]
        saved = torch.load(out, weights_only=False)
        results[procs] = saved["scan"]
        for name in ("2", "5"):  # resuming a finished scan (per-rank checkpoints) changes nothing
            assert torch.equal(saved["resumed"][name].image_ids, saved["scan"][name].image_ids)
            assert torch.equal(saved["resumed"][name].values, saved["scan"][name].values)
    for name in ("2", "5"):
        assert torch.equal(results[1][name].image_ids, results[2][name].image_ids)
        assert torch.equal(results[1][name].positions, results[2][name].positions)
        assert torch.equal(results[1][name].values, results[2][name].values)


def test_bad_k():
    with pytest.raises(ValueError, match="k must be >= 1"):
        top_activations(DeconvNet(small_chain()), [], ["2"], k=0)


def test_checkpoints_of_two_ranks_use_separate_temporary_files(tmp_path, monkeypatch):
    """scan.rank0 and scan.rank1, written at once by two ranks, must not share a temporary file."""
    from zfcuda._utils import checkpoint as checkpoint_io

    written = []
    real_save = torch.save
    monkeypatch.setattr(checkpoint_io.torch, "save", lambda obj, f: (written.append(Path(f).name), real_save(obj, f)))
    for rank in (0, 1):
        checkpoint_io.save_atomically({"rank": rank}, tmp_path / f"scan.rank{rank}")
    assert written == ["scan.rank0.tmp", "scan.rank1.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.rank0", "scan.rank1"]
    assert [load_state(tmp_path / f"scan.rank{r}")["rank"] for r in (0, 1)] == [0, 1]


def _tensors(topk):
    return [topk.values, topk.image_ids, topk.positions, topk.histogram.counts, topk.histogram.silent, topk.histogram.top]


def test_returns_cpu_tensors_also_when_resumed(tmp_path):
    deconv, images = DeconvNet(small_chain()), real_images()
    batches = [(images[i : i + 5], torch.arange(i, i + 5)) for i in range(0, len(images), 5)]
    full = top_activations(deconv, batches, ["2", "5"], k=3, progress=False, histograms=True,
                           checkpoint=tmp_path / "scan.pt", checkpoint_every=2)  # fmt: skip
    state = load_state(tmp_path / "scan.pt")
    resumed = top_activations(deconv, batches, ["2", "5"], k=3, progress=False, histograms=True, state=state)
    for result in (full, state["topk"], resumed):
        for topk in result.values():
            assert all(t.device.type == "cpu" for t in _tensors(topk))
    for name in full:
        assert all(torch.equal(a, b) for a, b in zip(_tensors(full[name]), _tensors(resumed[name])))


def test_ties_break_by_image_id_and_histograms_equal_one_pass():
    """Every image twice (equal values, so every rank is a tie), batches cutting through the pairs."""
    chain, images = small_chain(), real_images()[:10]
    images = torch.cat([images, images])
    batches = [(images[i : i + 3], torch.arange(i, min(i + 3, len(images)))) for i in range(0, len(images), 3)]
    result = top_activations(DeconvNet(chain), batches, [5], k=6, progress=False, histograms=True)
    expected = _brute_force(chain, images, 5, 6)
    assert _as_lists(result["5"]) == [[(v, i, tuple(p)) for v, i, p in e] for e in expected]
    with torch.no_grad():
        per_image = chain(images).flatten(2).amax(2)
    one_pass = UnitHistograms.empty(per_image.shape[1]).added(per_image)
    histogram = result["5"].histogram
    assert torch.equal(histogram.counts, one_pass.counts) and torch.equal(histogram.top, one_pass.top)
    assert torch.equal(histogram.silent, one_pass.silent) and histogram.images == len(images)


@pytest.mark.parametrize("rank", ["max", "sum"])
def test_candidates_and_merge_stay_on_the_activation_device(rank):
    activation = torch.empty(4, 3, 5, 6, device="meta")
    candidates = topk_module._candidates(activation, torch.arange(4), rank)
    assert [c.device for c in candidates] == [activation.device] * 3
    assert [tuple(c.shape) for c in candidates] == [(3, 4), (3, 4), (3, 4, 2)]
    merged = TopK.empty(3, 2, device="meta").merged(*candidates)
    assert all(t.device == activation.device for t in (merged.values, merged.image_ids, merged.positions))
    histogram = UnitHistograms.empty(3, device="meta").added(candidates[0].T)
    assert all(t.device == activation.device for t in (histogram.counts, histogram.silent, histogram.top))


def test_scan_reads_no_value_on_the_host(monkeypatch):
    """On the meta device any .item(), .tolist(), .cpu() or branch on a value raises: the whole scan
    (but its final copy to the CPU) runs there, so it queues device work only and never waits for it."""
    monkeypatch.setattr(topk_module, "_on_cpu", lambda result: result)
    deconv = DeconvNet(small_chain().to("meta"))
    batches = [(torch.empty(4, 3, 16, 16, device="meta"), torch.arange(i, i + 4)) for i in range(0, 12, 4)]
    result = top_activations(deconv, batches, ["2", "5"], k=3, progress=False, histograms=True)
    assert all(t.device.type == "meta" for topk in result.values() for t in _tensors(topk))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU visible")
def test_cuda_scan_does_not_synchronise_per_batch(monkeypatch):
    """torch's sync debug mode raises on any device-to-host wait during the scan loop (the final copy
    to the CPU is let through); the result equals, bit for bit, merging the same GPU activations on the CPU."""
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    images, names = real_images(), ["2", "5"]
    gpu = DeconvNet(small_chain().cuda())
    batches = [(images[i : i + 5].cuda(), torch.arange(i, i + 5)) for i in range(0, len(images), 5)]
    expected = {}
    for x, ids in batches:  # the CPU merge the scan did before it kept its top-k on the device
        for name, activation in gpu.activations(x, names).items():
            candidates = [c.cpu() for c in topk_module._candidates(activation, ids)]
            current = expected.get(name) or TopK.empty(activation.shape[1], 4)
            expected[name] = current.merged(*candidates)
            expected[name].histogram = (current.histogram or UnitHistograms.empty(activation.shape[1])).added(candidates[0].T)
    real_on_cpu = topk_module._on_cpu

    def allowed(result):
        torch.cuda.set_sync_debug_mode(0)
        return real_on_cpu(result)

    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    monkeypatch.setattr(topk_module, "_on_cpu", allowed)
    try:
        on_gpu = top_activations(gpu, batches, names, k=4, progress=False, histograms=True)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    for name in names:
        assert all(t.device.type == "cpu" for t in _tensors(on_gpu[name]))
        assert all(torch.equal(a, b) for a, b in zip(_tensors(on_gpu[name]), _tensors(expected[name])))
        assert on_gpu[name].histogram.images == expected[name].histogram.images == len(images)
