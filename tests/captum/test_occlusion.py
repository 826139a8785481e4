"""zfcuda.captum.Occlusion against captum.attr.Occlusion on the same calls: batches of 1 and 3,
targets as int / list / tensor, baselines as number / per channel / per example, strides as int /
tuple, windows hanging over the border, several perturbations per pass, logits and probabilities,
on chains (incremental engine) and residual networks (full engine)."""

from __future__ import annotations

import itertools

import pytest
import torch

captum_attr = pytest.importorskip("captum.attr")

import zfcuda.captum as zc  # noqa: E402
from tests.helpers.nets import random_batch_norm, small_classifier  # noqa: E402
from zfcuda.models import ZFNet  # noqa: E402
from zfcuda.models.resnet_shaped import resnet18  # noqa: E402


def _models():
    torch.manual_seed(0)
    classifier = small_classifier()
    return {
        "logits": (classifier, (3, 30, 26)),
        "probabilities": (lambda x: torch.softmax(classifier(x), 1), (3, 30, 26)),
        "resnet": (random_batch_norm(resnet18(5, width=4)).double().eval(), (3, 33, 29)),
    }


CALLS = [  # (batch, window, strides, baselines, target, perturbations per pass)
    (1, (3, 6, 6), 3, 0.5, 2, 1),
    (3, (3, 5, 7), (3, 2, 4), None, [0, 3, 1], 16),
    (3, (3, 7, 5), (3, 4, 3), "per channel", torch.tensor([4, 4, 2]), 1),
    (2, (3, 8, 8), None, "per example", 1, 16),
]


def _baselines(kind, shape):
    if kind == "per channel":
        return torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64).view(3, 1, 1)
    if kind == "per example":
        return torch.randn(shape, dtype=torch.float64)
    return kind


@pytest.mark.parametrize("model_name, call", list(itertools.product(["logits", "probabilities", "resnet"], range(len(CALLS)))))
def test_equals_captum_occlusion(model_name, call):
    model, image_shape = _models()[model_name]
    batch, window, strides, baselines, target, per_pass = CALLS[call]
    if model_name == "resnet" and strides is None:
        strides = 4  # stride 1 on a residual net: correct but slow for the test suite
    torch.manual_seed(call)
    inputs = torch.randn(batch, *image_shape, dtype=torch.float64)
    baselines = _baselines(baselines, inputs.shape)
    kwargs = dict(sliding_window_shapes=window, strides=strides, baselines=baselines, target=target, perturbations_per_eval=per_pass)
    ours = zc.Occlusion(model).attribute(inputs, **kwargs)
    theirs = captum_attr.Occlusion(model).attribute(inputs, **kwargs)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert theirs.abs().max() > 0
    torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-8)  # captum's result is float32


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
    model, shape = _models()["logits"]
    inputs = torch.randn(2, *shape, dtype=torch.float64)
    occlusion = zc.Occlusion(model)
    with pytest.raises(NotImplementedError, match="windows over 1 of the 3 channels"):
        occlusion.attribute(inputs, (1, 5, 5), target=0)
    with pytest.raises(NotImplementedError, match="additional_forward_args"):
        occlusion.attribute(inputs, (3, 5, 5), target=0, additional_forward_args=(1,))
    with pytest.raises(ValueError, match="target must be an int or one per example"):
        occlusion.attribute(inputs, (3, 5, 5), target=[0, 1, 2])
    with pytest.raises(ValueError, match="do not broadcast"):
        occlusion.attribute(inputs, (3, 5, 5), target=0, baselines=torch.zeros(4, 1, 1))
    with pytest.raises(ValueError, match="method must be one of"):
        occlusion.attribute(inputs, (3, 5, 5), target=0, method="fast")
