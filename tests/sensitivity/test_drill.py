"""Adaptive drill-down: coarse grid everywhere, fine grid where p(target) drops most."""

from __future__ import annotations

import pytest
import torch

import zfcuda
from zfcuda.sensitivity.drill import drill_down
from zfcuda.sensitivity.grids import paper_grid


def _linear_evaluate(calls: list[int]):
    def evaluate(corners: torch.Tensor) -> dict[str, torch.Tensor]:
        calls.append(len(corners))
        top, left = corners[:, 0].double(), corners[:, 1].double()
        return {"prob": 0.5 + 0.01 * top - 0.002 * left, "top_class": (top > 40).long()}

    return evaluate


@pytest.mark.parametrize("shape, factor", [((23, 17), 4), ((9, 30), 3), ((5, 5), 2)])
def test_interpolation_is_exact_for_a_linear_map_and_computes_fewer_positions(shape, factor):
    grid = paper_grid((shape[0] * 4, shape[1] * 4), 6, 4)
    assert grid.grid_shape == shape
    calls = []
    outputs, computed = drill_down(_linear_evaluate(calls), grid.positions, grid.grid_shape, factor, 0.2)
    exact = _linear_evaluate([])(grid.positions)
    torch.testing.assert_close(outputs["prob"], exact["prob"])
    assert sum(calls) == int(computed.sum()) < grid.positions.shape[0]
    # The lowest coarse node (top row, right column) and its cell are refined exactly.
    assert computed[0, -1] and computed[1, -2]


def test_everything_computed_at_fraction_one():
    grid = paper_grid((40, 44), 6, 4)
    calls = []
    outputs, computed = drill_down(_linear_evaluate(calls), grid.positions, grid.grid_shape, 3, 1.0)
    assert computed.all() and sum(calls) == grid.positions.shape[0]
    assert torch.equal(outputs["top_class"], _linear_evaluate([])(grid.positions)["top_class"])


def test_occlusion_drill_down_matches_exact_where_computed():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 5, stride=2), torch.nn.ReLU(), torch.nn.Conv2d(4, 6, 3),
                                torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten(), torch.nn.Linear(6, 5)).double()
    image = torch.randn(3, 48, 40, dtype=torch.float64)
    exact = zfcuda.occlusion(model, image, patch=8, stride=2, show_progress=False)
    rough = zfcuda.occlusion(model, image, patch=8, stride=2, method="incremental", drill_down=0.25, drill_factor=3, show_progress=False)
    assert rough.computed.shape == exact.prob.shape and 0 < rough.computed.sum() < rough.computed.numel()
    torch.testing.assert_close(rough.prob[rough.computed], exact.prob[rough.computed])
    assert torch.equal(rough.top_class[rough.computed], exact.top_class[rough.computed])
    assert rough.computed.view(-1)[exact.prob.view(-1).argmin()]  # the strongest drop is found
    assert exact.computed is None


@pytest.mark.parametrize("factor, fraction, message", [(1, 0.5, "factor must be an int >= 2"), (3, 0.0, r"fraction in \(0, 1\]"),
                                                       (3, 1.5, r"fraction in \(0, 1\]")])
def test_bad_drill_down(factor, fraction, message):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 3))
    with pytest.raises(ValueError, match=message):
        zfcuda.occlusion(model, torch.randn(3, 16, 16), patch=4, stride=2, drill_down=fraction, drill_factor=factor, show_progress=False)


def test_positions_on_a_coarse_line_belong_to_the_cells_on_both_sides():
    """9x9 grid, factor 4 (coarse lines 0, 4, 8): with only node (4, 4) chosen, every fine position
    of the four cells around it is computed, rows 0-8 and columns 0-8."""
    grid = paper_grid((36, 36), 4, 4)
    assert grid.grid_shape == (9, 9)

    def evaluate(corners):
        centre = ((corners // 4) == 4).all(1)
        return {"prob": torch.where(centre, 0.0, 1.0).double()}

    _, computed = drill_down(evaluate, grid.positions, grid.grid_shape, 4, 1 / 9)
    assert computed.all()
