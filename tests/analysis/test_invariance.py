"""Feature invariance (Fig. 5): transforms, distances against direct computation, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from zfcuda._utils.hooks import find_module
from zfcuda.analysis.invariance import invariance, transform_images


def _model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
                         nn.Linear(64, 10), nn.ReLU(), nn.Linear(10, 5)).double()


def test_translation_by_whole_pixels_shifts_rows_and_fills_zeros():
    x = torch.randn(2, 3, 12, 10, dtype=torch.float64)
    down = transform_images(x, "translate", 3.0)
    torch.testing.assert_close(down[:, :, 3:], x[:, :, :-3])
    assert (down[:, :, :3] == 0).all()
    torch.testing.assert_close(transform_images(x, "translate", -2.0)[:, :, :-2], x[:, :, 2:])


def test_rotation_by_90_is_rot90_and_identity_amounts_change_nothing():
    x = torch.randn(1, 3, 9, 9, dtype=torch.float64)
    torch.testing.assert_close(transform_images(x, "rotate", 90.0), torch.rot90(x, 1, (2, 3)), atol=1e-12, rtol=0)
    for kind, identity in (("translate", 0.0), ("scale", 1.0), ("rotate", 0.0), ("rotate", 360.0)):
        torch.testing.assert_close(transform_images(x, kind, identity), x, atol=1e-12, rtol=0)


def test_scale_two_zooms_into_the_centre():
    x = torch.arange(16, dtype=torch.float64).view(1, 1, 4, 4)  # value 4 * row + col: bilinear sampling is exact
    zoomed = transform_images(x, "scale", 2.0)
    source = 1.5 + (torch.arange(4, dtype=torch.float64) - 1.5) / 2  # output pixel i reads input 1.5 + (i - 1.5) / 2
    torch.testing.assert_close(zoomed[0, 0], 4 * source[:, None] + source[None, :])


@pytest.mark.parametrize("transform, amounts", [("translate", [0.0, -4.0, 7.0]), ("scale", [1.0, 1.3]), ("rotate", [0.0, 30.0, 200.0])])
@torch.no_grad()
def test_distances_and_probabilities_equal_a_direct_computation(transform, amounts):
    model, images = _model(), torch.randn(3, 3, 16, 16, dtype=torch.float64)
    result = invariance(model, images, transform, amounts, layers=("0", "5"), labels=[0, 3, 4], show_progress=False)
    conv, hidden = nn.Sequential(*model[:1]), nn.Sequential(*model[:6])
    for i in range(3):
        for j, amount in enumerate(amounts):
            moved = transform_images(images[i : i + 1], transform, amount)
            expected = (conv(moved) - conv(images[i : i + 1])).norm()
            assert result.distances["0"][i, j] == pytest.approx(float(expected), rel=1e-9, abs=1e-12)
            expected = (hidden(moved) - hidden(images[i : i + 1])).norm()
            assert result.distances["5"][i, j] == pytest.approx(float(expected), rel=1e-9, abs=1e-12)
            assert result.prob[i, j] == pytest.approx(float(torch.softmax(model(moved), 1)[0, [0, 3, 4][i]]), rel=1e-9)
    if amounts[0] in (0.0, 1.0):
        assert (result.distances["0"][:, 0] == 0).all()
    assert result.amounts.tolist() == amounts and result.labels.tolist() == [0, 3, 4]


def test_default_labels_are_the_predictions_and_layer_names_resolve_by_suffix():
    from zfcuda.models import ZFNet

    model = ZFNet(4, width=0.1).double().train()
    images = torch.randn(2, 3, 224, 224, dtype=torch.float64)
    result = invariance(model, images, "rotate", [0.0, 90.0], layers=("conv1", "fc7"), show_progress=False)
    assert model.training  # the mode is restored
    model.eval()
    assert result.labels.tolist() == model(images).argmax(1).tolist()
    assert set(result.distances) == {"conv1", "fc7"} and result.distances["fc7"].shape == (2, 2)
    assert find_module(model, "conv1") is model.conv_layers.conv1


@pytest.mark.parametrize("kwargs, message", [
    (dict(images=torch.empty(0, 3, 8, 8)), "images is empty"),
    (dict(images=torch.randn(3, 8, 8)), r"Tensor\[N, C, H, W\]"),
    (dict(transform="shear"), "transform must be one of translate, scale, rotate"),
    (dict(layers=("nope",)), "no layer 'nope'"),
    (dict(labels=[1]), "one class per image"),
    (dict(amounts=[]), "amounts is empty"),
    (dict(transform="scale", amounts=[0.0]), "scale amounts must be > 0"),
])
def test_bad_input(kwargs, message):
    arguments = dict(model=_model().float(), images=torch.randn(2, 3, 8, 8), transform="translate", layers=("0",), show_progress=False)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        invariance(**arguments)
