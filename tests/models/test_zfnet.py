"""ZF-Net's geometry, filter renormalisation, and convert() on ZF-Net and torchvision-shaped nets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import zfcuda
from zfcuda.models import ZFNet, renormalize_filters
from zfcuda.models.torchvision_shaped import alexnet, vgg16
from zfcuda.nn import SwitchMaxPool2d

# The paper's Fig. 3: the output of every named layer for a 224x224 input, at width 1.0.
PAPER_SHAPES = {
    "conv1": (96, 110, 110),
    "pool1": (96, 55, 55),
    "conv2": (256, 26, 26),
    "pool2": (256, 13, 13),
    "conv3": (384, 13, 13),
    "conv4": (384, 13, 13),
    "conv5": (256, 13, 13),
    "pool5": (256, 6, 6),
    "fc6": (4096,),
    "fc7": (4096,),
    "fc8": (1000,),
}


def test_layer_shapes_match_the_paper():
    model = ZFNet().eval()
    maps = model.features(torch.randn(1, 3, 224, 224), upto="fc8")
    for name, shape in PAPER_SHAPES.items():
        assert tuple(maps[name].shape[1:]) == shape, name
    assert list(maps)[-1] == "fc8"


def test_parameter_count_width_one():
    convs = [(3, 96, 7), (96, 256, 5), (256, 384, 3), (384, 384, 3), (384, 256, 3)]
    expected = sum(o * i * k * k + o for i, o, k in convs) + (256 * 36 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)
    count = sum(p.numel() for p in ZFNet().parameters())
    print(f"ZF-Net parameters at width 1.0: {count:,}")
    assert count == expected == 62_357_608


def test_width_scales_channels_and_features_stop_at_upto():
    model = ZFNet(num_classes=10, width=0.25)
    maps = model.features(torch.randn(2, 3, 224, 224), upto="conv3")
    assert list(maps)[-1] == "conv3" and maps["conv1"].shape == (2, 24, 110, 110) and maps["conv3"].shape == (2, 96, 13, 13)
    assert model(torch.randn(2, 3, 224, 224)).shape == (2, 10)


def test_pools_record_switches():
    model = ZFNet(width=0.25)
    model(torch.randn(1, 3, 224, 224))
    for name in ("pool1", "pool2", "pool5"):
        pool = model.layer(name)
        assert isinstance(pool, SwitchMaxPool2d) and pool.switches is not None and pool.switches.dtype == torch.uint8


def test_initialisations():
    paper = ZFNet(width=0.25, init="paper")
    weights = torch.cat([m.weight.flatten() for m in paper.modules() if isinstance(m, (nn.Conv2d, nn.Linear))])
    assert abs(weights.std().item() - 1e-2) < 5e-4 and all(m.bias.abs().max() == 0 for m in paper.modules() if isinstance(m, nn.Conv2d))
    kaiming = ZFNet(width=0.25, init="kaiming")
    conv1 = kaiming.layer("conv1").weight
    assert abs(conv1.std().item() - (2 / (3 * 49)) ** 0.5) < 0.02


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ZFNet(width=0), "width must be > 0"),
        (lambda: ZFNet(width=-1.0), "width must be > 0"),
        (lambda: ZFNet(num_classes=0), "num_classes"),
        (lambda: ZFNet(init="xavier"), "init must be"),
        (lambda: ZFNet(width=0.25).features(torch.zeros(1, 3, 224, 224), upto="conv9"), "no layer 'conv9'"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises((ValueError, KeyError), match=message):
        make()


def test_renormalize_filters_against_numpy():
    model = ZFNet(width=0.25, init="kaiming")
    before = {name: m.weight.detach().numpy().copy() for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    rescaled = renormalize_filters(model, radius=0.1)
    expected_count = 0
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            w = before[name]
            rms = np.sqrt((w.reshape(w.shape[0], -1) ** 2).mean(axis=1))
            expected_count += int((rms > 0.1).sum())
            scale = np.where(rms > 0.1, 0.1 / rms, 1.0).reshape(-1, 1, 1, 1)
            np.testing.assert_allclose(m.weight.detach().numpy(), w * scale, rtol=1e-6)
            after = np.sqrt((m.weight.detach().numpy().reshape(w.shape[0], -1) ** 2).mean(axis=1))
            assert (after <= 0.1 * (1 + 1e-5)).all()
    assert rescaled == expected_count > 0
    with pytest.raises(ValueError, match="radius"):
        renormalize_filters(model, radius=0)


@pytest.mark.parametrize("make, size", [(lambda: zfcuda.convert(ZFNet(width=0.25), switches=False), 224), (alexnet, 224), (vgg16, 64)])
def test_convert_is_bit_identical_and_leaves_the_original(make, size):
    torch.manual_seed(0)
    model = make().eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    converted = zfcuda.convert(model).eval()
    x = torch.randn(2, 3, size, size)
    assert torch.equal(converted(x), model(x))
    pools = [m for m in converted.modules() if isinstance(m, nn.MaxPool2d)]
    assert pools and all(isinstance(m, SwitchMaxPool2d) for m in pools)
    assert not any(isinstance(m, SwitchMaxPool2d) for m in model.modules())
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert all(p.data_ptr() != q.data_ptr() for p, q in zip(model.parameters(), converted.parameters()))


def test_convert_user_sequential_with_ceil_mode_and_indices():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(3, 2, 1, ceil_mode=True), nn.Conv2d(4, 2, 1))
    converted = zfcuda.convert(model)
    x = torch.randn(2, 3, 17, 17)
    assert torch.equal(converted(x), model(x))
    assert converted[2].ceil_mode and converted[2].switches is not None


def test_convert_back_to_torch_pools():
    model = ZFNet(width=0.25).eval()
    plain = zfcuda.convert(model, switches=False)
    assert not any(isinstance(m, SwitchMaxPool2d) for m in plain.modules())
    assert sum(isinstance(m, nn.MaxPool2d) for m in plain.modules()) == 3
    x = torch.randn(1, 3, 224, 224)
    assert torch.equal(plain(x), model(x))
