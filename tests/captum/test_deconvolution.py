"""zfcuda.captum's deconvolution family against captum's own classes on the same calls: batches,
targets as int / list / tensor, neuron selectors as int / tuple / tuple with slices / callable.

On nets with F.relu or other activations than nn.ReLU the two differ, and ours equals the slow
reference deconvnet (tests.helpers.deconv_reference); the test asserts captum's differs.
(On nets with LocalResponseNorm, as ZF-Net, the two differ by design: the deconvnet passes the
signal through LRN unchanged, captum backpropagates LRN's gradient.)"""

from __future__ import annotations

import warnings

import pytest
import torch

captum_attr = pytest.importorskip("captum.attr")

import zfcuda.captum as zc  # noqa: E402
from tests.helpers.deconv_reference import slow_projection  # noqa: E402
from tests.helpers.nets import ActivationZoo, DenseNetShaped, random_batch_norm  # noqa: E402
from zfcuda.models.resnet_shaped import resnet18  # noqa: E402
from zfcuda.models.torchvision_shaped import vgg16  # noqa: E402


def _nets():
    torch.manual_seed(0)
    return {
        "resnet18": (random_batch_norm(resnet18(6, width=8)).double().eval(), (3, 3, 45, 51), "layer2"),
        "vgg16": (vgg16(5).double().eval(), (2, 3, 64, 64), "features.15"),
        "densenet": (random_batch_norm(DenseNetShaped(4)).double().eval(), (3, 3, 40, 44), "block.1"),
    }


def _close(ours, theirs) -> bool:
    """Equal to float64 rounding; whether the attribution was non-zero (a unit the guided rule silences gives zeros)."""
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    scale = float(theirs.abs().max())
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-9 * scale)
    return scale > 0


def _theirs(cls, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # captum warns that it sets backward hooks on ReLUs
        return cls(*args[:-1]).attribute(*args[-1], **kwargs)


@pytest.mark.parametrize("name", ["resnet18", "vgg16", "densenet"])
@pytest.mark.parametrize("ours, theirs", [(zc.Deconvolution, captum_attr.Deconvolution), (zc.GuidedBackprop, captum_attr.GuidedBackprop)])
def test_target_attributions_equal_captum(name, ours, theirs):
    model, shape, _ = _nets()[name]
    inputs = torch.randn(*shape, dtype=torch.float64)
    for target in (1, [0, 2, 1][: shape[0]], torch.tensor([3, 1, 0][: shape[0]])):
        assert _close(ours(model).attribute(inputs, target=target), _theirs(theirs, model, (inputs,), target=target))


@pytest.mark.parametrize("name", ["resnet18", "vgg16", "densenet"])
@pytest.mark.parametrize("ours, theirs", [(zc.NeuronDeconvolution, captum_attr.NeuronDeconvolution),
                                          (zc.NeuronGuidedBackprop, captum_attr.NeuronGuidedBackprop)])
def test_neuron_attributions_equal_captum(name, ours, theirs):
    model, shape, layer_name = _nets()[name]
    layer = dict(model.named_modules())[layer_name]
    inputs = torch.randn(*shape, dtype=torch.float64)
    selectors = [(2, 1, 3), (1, slice(0, 3), slice(1, 4)), lambda out: out[:, 3, 2:4, 1:3].sum((1, 2)) * 2,
                 lambda out: out.flatten(1).sum(1)]
    nonzero = [_close(ours(model, layer).attribute(inputs, s), _theirs(theirs, model, layer, (inputs, s))) for s in selectors]
    assert nonzero[-1]  # the whole layer's sum reaches the input under either rule


def test_a_linear_layer_neuron_and_isinstance():
    model, shape, _ = _nets()["resnet18"]
    inputs = torch.randn(*shape, dtype=torch.float64)
    ours = zc.NeuronDeconvolution(model, model.fc)
    assert isinstance(ours, captum_attr.NeuronDeconvolution) and isinstance(zc.GuidedBackprop(model), captum_attr.GuidedBackprop)
    assert _close(ours.attribute(inputs, 4), _theirs(captum_attr.NeuronDeconvolution, model, model.fc, (inputs, 4)))


def test_what_is_not_supported_says_so():
    model, shape, layer_name = _nets()["resnet18"]
    inputs = torch.randn(*shape, dtype=torch.float64)
    layer = dict(model.named_modules())[layer_name]
    with pytest.raises(NotImplementedError, match="additional_forward_args"):
        zc.Deconvolution(model).attribute(inputs, target=1, additional_forward_args=(1,))
    with pytest.raises(NotImplementedError, match="attribute_to_neuron_input"):
        zc.NeuronDeconvolution(model, layer).attribute(inputs, (1, 0, 0), attribute_to_neuron_input=True)
    with pytest.raises(NotImplementedError, match="tuple of several"):
        zc.Deconvolution(model).attribute((inputs, inputs), target=1)
    with pytest.raises(ValueError, match="target is needed"):
        zc.Deconvolution(model).attribute(inputs)
    with pytest.raises(ValueError, match="target must be in"):
        zc.Deconvolution(model).attribute(inputs, target=6)
    with pytest.raises(ValueError, match="layer must be a module of the model"):
        zc.NeuronDeconvolution(model, torch.nn.ReLU())


@pytest.mark.parametrize("ours", [zc.NeuronDeconvolution, zc.NeuronGuidedBackprop])
def test_many_neurons_in_one_call_equal_one_call_each(ours):
    model, shape, layer_name = _nets()["resnet18"]
    inputs = torch.randn(*shape, dtype=torch.float64)
    attribution = ours(model, dict(model.named_modules())[layer_name])
    selectors = [(c, 2, 3) for c in range(16)] + [(1, slice(0, 3), slice(1, 4)), lambda out: out[:, 5].sum((1, 2))]
    many = attribution.attribute_many(inputs, selectors, chunk_size=7)
    assert many.shape == (len(selectors), *shape)
    one_by_one = torch.stack([attribution.attribute(inputs, s) for s in selectors])
    assert one_by_one.abs().amax((1, 2, 3, 4)).gt(0).sum() >= len(selectors) // 2
    # Batched transposed convolutions may add in another order: equal to float64 rounding.
    assert torch.allclose(many, one_by_one, rtol=0, atol=1e-12 * float(one_by_one.abs().max()))
    with pytest.raises(ValueError, match="at least one neuron"):
        attribution.attribute_many(inputs, [])
    with pytest.raises(ValueError, match="chunk_size must be a positive int"):
        attribution.attribute_many(inputs, selectors, chunk_size=0)


def test_functional_relu_and_relu6_nets_follow_the_deconvnet_where_captum_gives_a_gradient():
    # captum hooks nn.ReLU modules only. On F.relu (a ResNet written functionally) and on ReLU6, SiLU,
    # GELU ... its "deconvolution" is the plain gradient there; ours applies the rule at every activation.
    torch.manual_seed(1)
    functional = random_batch_norm(resnet18(6, width=8, functional_relu=True)).double().eval()
    modules = random_batch_norm(resnet18(6, width=8)).double().eval()
    modules.load_state_dict(functional.state_dict())
    image = torch.randn(3, 45, 51, dtype=torch.float64)
    unit = (2, 1, 2)
    ours = zc.NeuronDeconvolution(functional, functional.layer3).attribute(image[None], unit)[0]
    reference = slow_projection(modules, image, "layer3", unit)
    assert torch.allclose(ours, reference, rtol=0, atol=1e-12 * float(reference.abs().max()))
    theirs = _theirs(captum_attr.NeuronDeconvolution, functional, functional.layer3, (image[None], unit))[0]
    assert not torch.allclose(theirs, reference, atol=1e-6 * float(reference.abs().max()))

    zoo = random_batch_norm(ActivationZoo()).double().eval()
    image = torch.randn(3, 37, 41, dtype=torch.float64)
    ours = zc.Deconvolution(zoo).attribute(image[None], target=2)[0]
    reference = slow_projection(zoo, image, "head", (2,))
    assert torch.allclose(ours, reference, rtol=0, atol=1e-12 * float(reference.abs().max()))
    theirs = _theirs(captum_attr.Deconvolution, zoo, (image[None],), target=2)[0]
    assert not torch.allclose(theirs, reference, atol=1e-6 * float(reference.abs().max()))
