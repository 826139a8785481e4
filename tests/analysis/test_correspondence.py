"""Correspondence analysis (Table 1): Delta against a direct loop, its extremes, bad input."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from zfcuda.analysis.correspondence import correspondence, random_boxes, sign_disagreement


def _direct_delta(differences: torch.Tensor) -> tuple[float, float]:
    values = [float((torch.sign(a) != torch.sign(b)).double().mean()) for a, b in itertools.combinations(differences, 2)]
    values = torch.tensor(values, dtype=torch.float64)
    return float(values.mean()), float(values.std())


def test_delta_equals_a_direct_loop_over_pairs():
    torch.manual_seed(0)
    differences = torch.randn(5, 40) * (torch.rand(5, 40) > 0.3)  # zeros too: sign 0 is its own value
    mean, std = sign_disagreement(differences)
    expected = _direct_delta(differences)
    assert mean == pytest.approx(expected[0], rel=1e-12) and std == pytest.approx(expected[1], rel=1e-12)


def test_identical_differences_give_zero_and_opposite_ones_the_maximum():
    v = torch.randn(30).clamp(min=0.1) * torch.where(torch.arange(30) % 2 == 0, 1.0, -1.0)
    assert sign_disagreement(torch.stack([v, v, v])) == (0.0, 0.0)
    mean, std = sign_disagreement(torch.stack([v, -v]))
    assert mean == 1.0 and std == 0.0


def _model():
    torch.manual_seed(1)
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(8 * 8 * 8, 12), nn.ReLU(), nn.Linear(12, 4)).double()


def test_correspondence_equals_direct_computation_per_part_and_layer():
    model, images = _model(), torch.randn(4, 3, 16, 16, dtype=torch.float64)
    eye = torch.tensor([[2, 3, 4, 4], [2, 4, 4, 4], [3, 3, 4, 4], [2, 2, 4, 4]])
    result = correspondence(model, images, {"eye": eye}, layers=("4", "7"), fill=0.5, seed=3)
    assert set(result.delta) == {"eye", "random"} and result.layers == ("4", "7")
    torch.testing.assert_close(result.boxes["random"], random_boxes(eye[:, 2:], (16, 16), 3))
    for part, boxes in result.boxes.items():
        occluded = images.clone()
        for i, (t, l, h, w) in enumerate(boxes.tolist()):
            occluded[i, :, t : t + h, l : l + w] = 0.5
        for layer, head in (("4", model[:5]), ("7", model[:8])):
            expected = _direct_delta((head(images) - head(occluded)).flatten(1).detach())
            assert result.delta[part][layer][0] == pytest.approx(expected[0], rel=1e-12)
            assert result.delta[part][layer][1] == pytest.approx(expected[1], rel=1e-12)
    assert "| eye |" in result.table() and "Delta 7" in result.table()


def test_random_boxes_lie_inside_the_image_and_are_reproducible():
    sizes = torch.tensor([[5, 7]] * 50)
    boxes = random_boxes(sizes, (20, 24), seed=9)
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 0] + 5 <= 20).all() and (boxes[:, 1] + 7 <= 24).all()
    assert torch.equal(boxes, random_boxes(sizes, (20, 24), seed=9)) and boxes[:, 0].unique().numel() > 5


@pytest.mark.parametrize("images, regions, message", [
    (torch.randn(1, 3, 16, 16), {"eye": [[0, 0, 2, 2]]}, "at least 2 images"),
    (torch.randn(2, 3, 16, 16), {}, "regions is empty"),
    (torch.randn(2, 3, 16, 16), {"eye": [[0, 0, 2, 2]]}, r"must be Tensor\[2, 4\]"),
    (torch.randn(2, 3, 16, 16), {"eye": [[0, 0, 2, 2], [10, 10, 8, 2]]}, r"outside the 16x16 image"),
    (torch.randn(2, 3, 16, 16), {"eye": [[0, 0, 0, 2], [1, 1, 2, 2]]}, "empty or outside"),
    (torch.randn(2, 3, 16, 16), {"random": [[0, 0, 2, 2], [1, 1, 2, 2]]}, "the control's name"),
])
def test_bad_input(images, regions, message):
    with pytest.raises(ValueError, match=message):
        correspondence(_model().float(), images, regions, layers=("4",))


def test_bad_fill():
    with pytest.raises(ValueError, match="fill must be a number or 'mean'"):
        correspondence(_model().float(), torch.randn(2, 3, 16, 16), {"eye": [[0, 0, 2, 2]] * 2}, layers=("4",), fill="grey")
