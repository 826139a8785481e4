"""The deconvnet against a slow reference, captum's NeuronDeconvolution, and on torchvision-shaped nets."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zfcuda import DeconvNet, reference
from zfcuda.models import ZFNet
from zfcuda.models.torchvision_shaped import alexnet, vgg16
from zfcuda.nn import SwitchMaxPool2d


def _chain(norm: nn.Module | None = None) -> nn.Sequential:
    # Overlapping 3x3/2 pools (ZF-Net's), a strided conv, LRN and dropout, as in ZF-Net's first layers.
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 6, 5, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1), norm or nn.LocalResponseNorm(5),
        nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Dropout(0.5),
        nn.Conv2d(8, 5, 3, padding=1), nn.ReLU(),
    ).double().eval()  # fmt: skip


def _slow_projection(chain: nn.Sequential, image: torch.Tensor, upto: int, unit: tuple[int, int, int]) -> torch.Tensor:
    """One unit, the obvious way: reference pooling ops, F.conv_transpose2d with explicit output padding."""
    sizes, switches, x = [], [], image[None]
    for module in list(chain)[: upto + 1]:
        sizes.append(x.shape[-2:])
        if isinstance(module, nn.MaxPool2d):
            x, sw = reference.max_pool2d_switches(x, module.kernel_size, module.stride, module.padding)
            switches.append(sw)
        else:
            x = module(x)
            switches.append(None)
    c, y, xx = unit
    top = torch.zeros_like(x)
    top[0, c, y, xx] = x[0, c, y, xx]
    for i in range(upto, -1, -1):
        module = chain[i]
        if isinstance(module, nn.ReLU):
            top = F.relu(top)
        elif isinstance(module, nn.MaxPool2d):
            top = reference.unpool2d_switches(top, switches[i], sizes[i], module.kernel_size, module.stride, module.padding)
        elif isinstance(module, nn.Conv2d):
            full = (top.shape[-2] - 1) * module.stride[0] - 2 * module.padding[0] + module.kernel_size[0]
            extra = sizes[i][0] - full, sizes[i][1] - ((top.shape[-1] - 1) * module.stride[1] - 2 * module.padding[1] + module.kernel_size[1])
            top = F.conv_transpose2d(top, module.weight, None, module.stride, module.padding, extra)
    return top[0]


# 34 x 36: the stride-2 convolution's last window ends before the input's last row and column,
# which the transposed convolution must still reach (output_padding, not zero padding).
@pytest.mark.parametrize("size", [(33, 35), (34, 36)])
@pytest.mark.parametrize("layer", [1, 4, 5, 9])
def test_project_equals_slow_reference(layer, size):
    chain = _chain()
    images = torch.randn(3, 3, *size, dtype=torch.float64)
    deconv = DeconvNet(chain)
    projections = deconv.project(images, layer)
    activation, _ = deconv.forward(images, layer)
    for i, sel in enumerate(deconv.select(activation)):
        expected = _slow_projection(chain, images[i], layer, tuple(sel[1:].tolist()))
        torch.testing.assert_close(projections[i], expected)
    assert projections.shape == images.shape and projections.abs().sum() > 0


def test_project_equals_captum_neuron_deconvolution():
    captum_attr = pytest.importorskip("captum.attr")
    # Without LRN: captum back-propagates through it, the deconvnet passes it as identity (the paper's choice).
    chain = _chain(norm=nn.Identity())
    images = torch.randn(2, 3, 33, 35, dtype=torch.float64, requires_grad=True)
    deconv = DeconvNet(chain)
    for layer in (5, 9):
        activation, _ = deconv.forward(images.detach(), layer)
        for channel in range(activation.shape[1]):
            ours = deconv.project(images.detach(), layer, channel=channel, position=(2, 3), value="one")
            theirs = captum_attr.NeuronDeconvolution(chain, chain[layer]).attribute(images, neuron_selector=(channel, 2, 3))
            torch.testing.assert_close(ours, theirs)


def _every_unit(activation: torch.Tensor, step: int = 1) -> torch.Tensor:
    n, c, h, w = activation.shape
    grid = torch.meshgrid(torch.arange(n), torch.arange(c), torch.arange(0, h, step), torch.arange(0, w, step), indexing="ij")
    return torch.stack([g.flatten() for g in grid], dim=1)


@pytest.mark.parametrize("size", [(33, 35), (34, 36), (40, 29)])
@pytest.mark.parametrize("layer", [0, 2, 4, 6, 9])
def test_receptive_field_crops_equal_the_full_pass(layer, size):
    # Every unit, the borders included: crops reaching into padding, ceil-less pools, odd sizes.
    chain = _chain()
    deconv = DeconvNet(chain)
    images = torch.randn(2, 3, *size, dtype=torch.float64)
    activation, records = deconv.forward(images, layer)
    selections = _every_unit(activation)
    cropped = deconv.project_selections(activation, records, layer, selections, crop=True, chunk=50)
    full = deconv.project_selections(activation, records, layer, selections, crop=False)
    torch.testing.assert_close(cropped, full, rtol=1e-10, atol=1e-14)
    assert cropped.abs().sum() > 0


@pytest.mark.parametrize("make, size, layer", [(ZFNet, 224, "conv5"), (ZFNet, 197, "pool2"), (alexnet, 131, "10"), (vgg16, 56, "21")])
def test_receptive_field_crops_on_real_architectures(make, size, layer):
    torch.manual_seed(0)
    model = (make(width=0.1) if make is ZFNet else make()).double().eval()
    deconv = DeconvNet(model)
    images = torch.randn(1, 3, size, size, dtype=torch.float64)
    activation, records = deconv.forward(images, layer)
    selections = _every_unit(activation[:, :2], step=3)
    cropped = deconv.project_selections(activation, records, layer, selections, crop=True)
    full = deconv.project_selections(activation, records, layer, selections, crop=False)
    scale = full.abs().flatten(1).amax(1).clamp_min(1e-300)[:, None, None, None]
    torch.testing.assert_close(cropped / scale, full / scale, rtol=0, atol=1e-10)


def test_crops_wholly_in_the_padding():
    # A 1x1 convolution with padding 2: its border outputs see only padding; their projections are zero.
    torch.manual_seed(0)
    chain = nn.Sequential(nn.Conv2d(3, 4, 1, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 2, 3, padding=2)).double()
    deconv = DeconvNet(chain)
    images = torch.randn(1, 3, 9, 10, dtype=torch.float64)
    for layer in (0, 3):
        activation, records = deconv.forward(images, layer)
        selections = _every_unit(activation)
        cropped = deconv.project_selections(activation, records, layer, selections, crop=True)
        full = deconv.project_selections(activation, records, layer, selections, crop=False)
        torch.testing.assert_close(cropped, full, rtol=1e-10, atol=1e-14)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU visible")
def test_selections_on_another_device_than_the_activation():
    chain = _chain().cuda()
    deconv = DeconvNet(chain)
    images = torch.randn(2, 3, 33, 35, dtype=torch.float64, device="cuda")
    activation, records = deconv.forward(images, 9)
    selections = deconv.select(activation).cpu()
    projected = deconv.project_selections(activation, records, 9, selections)
    torch.testing.assert_close(projected, deconv.project_selections(activation, records, 9, selections.cuda()))


def test_batched_equals_one_at_a_time():
    chain = _chain()
    images = torch.randn(2, 3, 33, 35, dtype=torch.float64)
    deconv = DeconvNet(chain)
    batched = deconv.project(images, 5, channel=[0, 3, 7])
    assert batched.shape == (2, 3, 3, 33, 35)
    for i in range(2):
        for j, channel in enumerate([0, 3, 7]):
            single = deconv.project(images[i : i + 1], 5, channel=channel)[0]
            torch.testing.assert_close(batched[i, j], single, rtol=0, atol=0)


@pytest.mark.parametrize("make, size, layer", [(alexnet, 127, "10"), (vgg16, 64, "23")])
def test_torchvision_shaped_nets_untouched(make, size, layer):
    model = make().eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    kinds = [type(m) for m in model.modules()]
    projections = DeconvNet(model).project(torch.randn(2, 3, size, size), layer)
    assert projections.shape == (2, 3, size, size) and torch.isfinite(projections).all()
    assert [type(m) for m in model.modules()] == kinds and not any(isinstance(m, SwitchMaxPool2d) for m in model.modules())
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


def test_zfnet_layers_by_name():
    model = ZFNet(width=0.25).eval()
    projections = DeconvNet(model).project(torch.randn(1, 3, 224, 224), "conv5", channel=[1, 2])
    assert projections.shape == (1, 2, 3, 224, 224)


def test_bad_input():
    with pytest.raises(TypeError, match="cannot invert module '1' \\(Sigmoid\\)"):
        DeconvNet(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sigmoid()))
    deconv = DeconvNet(_chain())
    images = torch.randn(1, 3, 33, 35, dtype=torch.float64)
    with pytest.raises(KeyError, match="no layer 'conv9'"):
        deconv.project(images, "conv9")
    with pytest.raises(IndexError, match="channel"):
        deconv.project(images, 5, channel=8)
    with pytest.raises(IndexError, match="position"):
        deconv.project(images, 5, channel=1, position=(40, 0))
    with pytest.raises(ValueError, match="4-D"):
        deconv.project(images[0], 5)
    with pytest.raises(TypeError, match="found no layer in Linear"):
        DeconvNet(nn.Linear(3, 3))
    with pytest.raises(TypeError, match="padding='same'"):
        DeconvNet(nn.Sequential(nn.Conv2d(3, 4, 3, padding="same")))


def test_receptive_field_arithmetic_on_zfnet():
    deconv = DeconvNet(ZFNet(width=0.25))
    # conv1: 7x7 stride 2 padding 1 -> unit (0, 0) sees rows/cols -1..5; pool1 3x3/2 pad 1 on top of it.
    assert deconv.receptive_field("conv1", 0, 0) == (-1, -1, 6, 6)
    assert deconv.receptive_field("conv1", 3, 5) == (5, 9, 12, 16)
    # pool1 (0, 0) covers conv1 rows -1..1, i.e. input rows -3..7.
    assert deconv.receptive_field("pool1", 0, 0) == (-3, -3, 8, 8)
    assert deconv.receptive_field("pool1", 0, 0, (224, 224)) == (0, 0, 8, 8)
    # Sizes grow 7, 11, 27, 43, 75, 107, 139 with jumps 2, 4, 8, 16, 16, 16, 16.
    top, left, bottom, right = deconv.receptive_field("conv5", 6, 6)
    assert bottom - top == right - left == 139 and top == 6 * 16 - 59


@pytest.mark.parametrize("layer", [1, 4, 9])
def test_projection_lies_inside_the_receptive_field(layer):
    chain = _chain()
    images = torch.randn(4, 3, 33, 35, dtype=torch.float64)
    deconv = DeconvNet(chain)
    activation, records = deconv.forward(images, layer)
    selections = deconv.select(activation)
    projections = deconv.project_selections(activation, records, layer, selections)
    for projection, (_, _, y, x) in zip(projections, selections.tolist()):
        top, left, bottom, right = deconv.receptive_field(layer, y, x, images.shape[-2:])
        outside = projection.abs().sum(0)
        outside[top:bottom, left:right] = 0
        assert outside.max() == 0 and projection[:, top:bottom, left:right].abs().sum() > 0
