"""The exact incremental engine (and its approximate mode) against full re-inference, on ZF-Net,
torchvision-shaped nets, residual networks with batch norm, and layers it must run on full maps."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zfcuda
from tests.helpers.nets import small_classifier
from zfcuda.models import ZFNet


def _nets():
    from zfcuda.models.torchvision_shaped import alexnet, vgg16

    torch.manual_seed(0)
    return {
        "zfnet": (ZFNet(6, width=0.1, init="kaiming").eval(), 224, "relu5"),
        "alexnet": (alexnet(num_classes=7).eval(), 131, "10"),
        "vgg16": (vgg16(num_classes=5).eval(), 45, "22"),
    }


@pytest.mark.parametrize("net", ["zfnet", "alexnet", "vgg16"])
@pytest.mark.parametrize("patch, stride, grid, batch", [(16, 29, "paper", 7), ((9, 14), (13, 21), "captum", "auto")])
def test_incremental_equals_full(net, patch, stride, grid, batch):
    model, size, layer = _nets()[net]
    model = model.double()
    image = torch.randn(3, size, size + 3, dtype=torch.float64)  # odd, non-square sizes
    kwargs = dict(patch=patch, stride=stride, grid=grid, layer=layer, batch_size=batch, show_progress=False)
    full = zfcuda.occlusion(model, image, **kwargs)
    incremental = zfcuda.occlusion(model, image, method="incremental", **kwargs)
    torch.testing.assert_close(incremental.prob, full.prob, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(incremental.top_prob, full.top_prob, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(incremental.activation, full.activation, rtol=1e-9, atol=1e-9)
    assert torch.equal(incremental.top_class, full.top_class)
    assert full.prob.std() > 0  # the occluder does change the output


def test_incremental_handles_sequential_models_with_a_head():
    model = small_classifier().float()
    image = torch.randn(3, 29, 31)
    full = zfcuda.occlusion(model, image, patch=6, stride=4, show_progress=False)
    incremental = zfcuda.occlusion(model, image, patch=6, stride=4, method="incremental", show_progress=False)
    torch.testing.assert_close(incremental.prob, full.prob, rtol=1e-5, atol=1e-7)


def _mobile_cnn() -> nn.Sequential:
    """MobileNet-style: asymmetric "same" zero padding, depthwise stride-2 convs, batch norm with
    non-trivial running statistics, ReLU6 and SiLU, residual blocks, an in-place ReLU on a block's output."""
    from zfcuda.stages import Residual

    def block(channels, kernel, act):
        pad = kernel // 2
        return Residual(nn.Sequential(act, nn.Conv2d(channels, 2 * channels, 1), nn.BatchNorm2d(2 * channels), nn.ReLU6(),
                                      nn.Conv2d(2 * channels, 2 * channels, kernel, padding=pad, groups=2 * channels),
                                      nn.BatchNorm2d(2 * channels), nn.SiLU(), nn.Conv2d(2 * channels, channels, 1)))

    torch.manual_seed(3)
    model = nn.Sequential(
        nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU6(),
        block(8, 3, nn.Identity()), nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(8, 8, 5, stride=2, groups=8), nn.BatchNorm2d(8),
        block(8, 5, nn.ReLU()), nn.ReLU(inplace=True), block(8, 3, nn.Identity()), nn.Conv2d(8, 16, 1), nn.ReLU6(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 6),
    ).double()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5), module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5), module.bias.data.uniform_(-0.3, 0.3)
    return model.eval()


@pytest.mark.parametrize("patch, stride", [(5, 3), ((11, 7), (9, 13)), (30, 40)])
def test_incremental_equals_full_through_residual_blocks_and_batch_norm(patch, stride):
    model = _mobile_cnn()
    image = torch.randn(3, 45, 52, dtype=torch.float64)
    kwargs = dict(patch=patch, stride=stride, batch_size=5, show_progress=False)
    full = zfcuda.occlusion(model, image, **kwargs)
    incremental = zfcuda.occlusion(model, image, method="incremental", **kwargs)
    torch.testing.assert_close(incremental.prob, full.prob, rtol=1e-9, atol=1e-12)
    assert torch.equal(incremental.top_class, full.top_class) and full.prob.std() > 0
    rough = zfcuda.occlusion(model, image, method="approximate", tau=0.3, **kwargs)
    assert torch.isfinite(rough.prob).all() and (rough.prob - full.prob).abs().max() < 0.5


def test_incremental_keeps_region_through_residual_blocks():
    """A small occluder stays a region through the blocks (no silent full recomputation)."""
    from zfcuda.sensitivity.incremental import IncrementalOcclusion

    model, image = _mobile_cnn(), torch.randn(3, 45, 52, dtype=torch.float64)
    engine = IncrementalOcclusion(model, image, (3, 3), torch.tensor(0.0))
    kinds = []
    advance = engine._advance
    engine._advance = lambda chain, index, region: kinds.append(type(chain.stages[index]).__name__) or advance(chain, index, region)
    out, _ = engine(torch.tensor([[20, 20]]))
    assert kinds.count("Residual") == 3
    torch.testing.assert_close(out, model(zfcuda.ops.occlusion_batch(image, torch.tensor([[20, 20]]), (3, 3), torch.tensor(0.0, dtype=torch.float64))))


def test_approximate_is_exact_at_tau_one_and_close_below():
    model, size, layer = _nets()["zfnet"]
    image = torch.randn(3, size, size)
    exact = zfcuda.occlusion(model, image, patch=24, stride=32, method="incremental", show_progress=False)
    same = zfcuda.occlusion(model, image, patch=24, stride=32, method="approximate", tau=1.0, show_progress=False)
    torch.testing.assert_close(same.prob, exact.prob, rtol=1e-5, atol=1e-7)
    rough = zfcuda.occlusion(model, image, patch=24, stride=32, method="approximate", tau=0.4, show_progress=False)
    assert rough.prob.shape == exact.prob.shape and torch.isfinite(rough.prob).all()
    assert (rough.prob - exact.prob).abs().max() < 0.5


def test_incremental_rejects_models_it_cannot_split():
    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = small_classifier()

        def forward(self, x):
            return self.net(x)

    with pytest.raises(TypeError, match="use method='full'"):
        zfcuda.occlusion(Wrapped(), torch.randn(3, 16, 16, dtype=torch.float64), patch=4, method="incremental")


def test_incremental_edge_geometries():
    # Reported by review: a change no output reads (stride > kernel), reflect and "same" padding,
    # an in-place ReLU after the watched conv.
    torch.manual_seed(0)
    cases = [
        nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.LazyLinear(3)),
        nn.Sequential(nn.Conv2d(3, 4, 1, stride=3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(3)),
        nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), nn.ReLU(), nn.Flatten(), nn.LazyLinear(3)),
        nn.Sequential(nn.Conv2d(3, 4, 3, padding="same"), nn.ReLU(), nn.Flatten(), nn.LazyLinear(3)),
    ]
    for model in cases:
        image = torch.randn(3, 8, 8, dtype=torch.float64)
        model = model.double().eval()
        model(image[None])  # materialise the lazy layer
        kwargs = dict(patch=1, stride=1, show_progress=False)
        full = zfcuda.occlusion(model, image, **kwargs)
        incremental = zfcuda.occlusion(model, image, method="incremental", **kwargs)
        torch.testing.assert_close(incremental.prob, full.prob, rtol=1e-9, atol=1e-12)


def test_watched_map_before_an_in_place_relu():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3))
    model = model.double().eval()
    image = torch.randn(3, 8, 8, dtype=torch.float64)
    full = zfcuda.occlusion(model, image, patch=3, stride=2, layer="0", show_progress=False)
    incremental = zfcuda.occlusion(model, image, patch=3, stride=2, layer="0", method="incremental", show_progress=False)
    deconv = zfcuda.DeconvNet(model)
    clean, _ = deconv.forward(image[None], "0")
    assert clean[0, full.feature_map].sum() < 0 or (clean < 0).any()  # the conv output has negatives: the ReLU matters
    first = image.clone()
    top, left = full.grid.positions[0].tolist()
    first[:, max(top, 0) : top + 3, max(left, 0) : left + 3] = image.mean((1, 2)).view(3, 1, 1)
    expected = deconv.forward(first[None], "0")[0][0, full.feature_map].sum()
    torch.testing.assert_close(full.activation.reshape(-1)[0], expected)
    torch.testing.assert_close(incremental.activation, full.activation)


class _PaddingConv(nn.Conv2d):
    """A conv subclass with its own forward (TF "same"-style padding first): not a plain conv."""

    def forward(self, x):
        return super().forward(torch.nn.functional.pad(x, (0, 1, 0, 1)))


@pytest.mark.parametrize("odd_layer", [lambda: _PaddingConv(4, 4, 3), lambda: nn.BatchNorm2d(4, track_running_stats=False)],
                         ids=["conv-subclass-with-own-forward", "batch-norm-without-running-stats"])
def test_incremental_runs_layers_it_cannot_localise_on_full_maps(odd_layer):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), odd_layer(), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5)).double().eval()
    image = torch.randn(3, 32, 30, dtype=torch.float64)
    full = zfcuda.occlusion(model, image, patch=5, stride=6, show_progress=False)
    incremental = zfcuda.occlusion(model, image, patch=5, stride=6, method="incremental", show_progress=False)
    torch.testing.assert_close(incremental.prob, full.prob, rtol=1e-9, atol=1e-12)
