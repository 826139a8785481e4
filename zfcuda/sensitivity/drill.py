"""Adaptive drill-down for occlusion maps: a coarse grid everywhere, the fine grid only where the
coarse grid finds the largest drops (the idea of Krypton's adaptive drill-down).

The coarse grid takes every ``factor``-th row and column of the fine grid (its last row and column
always included, so every fine position lies between coarse nodes). The ``fraction`` of coarse
nodes with the lowest p(target) are chosen, and every fine position in a coarse cell touching a
chosen node is computed; the others are interpolated bilinearly between the coarse nodes (the
most probable class: from the nearest node).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

Evaluate = Callable[[Tensor], dict[str, Tensor]]


def drill_down(evaluate: Evaluate, positions: Tensor, grid_shape: tuple[int, int], factor: int,
               fraction: float) -> tuple[dict[str, Tensor], Tensor]:
    """The occlusion outputs on the fine grid, computed coarse-then-fine.

    Args:
        evaluate: maps occluder corners Tensor[N, 2] to a dict of per-position outputs
            (Tensor[N] each; "prob" is p(target); an int64 entry is treated as a class label).
        positions (Tensor[R * C, 2]): the fine grid's corners, row-major.
        grid_shape: (R, C) of the fine grid.
        factor: coarse step in fine-grid cells (>= 2).
        fraction: share of coarse nodes, lowest p(target) first, around which the fine grid is computed.

    Returns:
        (outputs on the fine grid, Tensor[R * C] each; computed Tensor[R, C] bool: True where the
        value was computed rather than interpolated).
    """
    if not isinstance(factor, int) or isinstance(factor, bool) or factor < 2:
        raise ValueError(f"drill-down factor must be an int >= 2, got {factor!r}")
    if not 0 < fraction <= 1:
        raise ValueError(f"drill_down must be a fraction in (0, 1], got {fraction!r}")
    rows, cols = grid_shape
    coarse_rows, coarse_cols = _coarse_lines(rows, factor), _coarse_lines(cols, factor)
    coarse_index = (coarse_rows[:, None] * cols + coarse_cols[None, :]).reshape(-1)
    coarse = evaluate(positions[coarse_index.to(positions.device)])

    chosen = torch.zeros(len(coarse_rows) * len(coarse_cols), dtype=torch.bool)
    chosen[coarse["prob"].topk(math.ceil(fraction * len(coarse_index)), largest=False).indices.cpu()] = True
    chosen = chosen.view(len(coarse_rows), len(coarse_cols))
    r0, r1, wr = _bracket(rows, coarse_rows)
    c0, c1, wc = _bracket(cols, coarse_cols)
    near = torch.zeros(rows, cols, dtype=torch.bool)
    for r in _touching(r0, r1, wr):  # every cell that touches a chosen node (both sides of a coarse line)
        for c in _touching(c0, c1, wc):
            near |= chosen[r][:, c]
    is_coarse = torch.zeros(rows * cols, dtype=torch.bool)
    is_coarse[coarse_index] = True
    computed = near | is_coarse.view(rows, cols)
    fine_index = (near.view(-1) & ~is_coarse).nonzero().view(-1)
    fine = evaluate(positions[fine_index.to(positions.device)]) if len(fine_index) else None

    outputs = {}
    for name, values in coarse.items():
        grid = values.view(len(coarse_rows), len(coarse_cols))
        if values.dtype in (torch.int64, torch.int32, torch.bool):
            nearest_r = torch.where(wr < 0.5, r0, r1)
            nearest_c = torch.where(wc < 0.5, c0, c1)
            full = grid[nearest_r][:, nearest_c].reshape(-1).clone()
        else:
            wr_, wc_ = wr.to(values)[:, None], wc.to(values)[None, :]
            full = ((1 - wr_) * (1 - wc_) * grid[r0][:, c0] + (1 - wr_) * wc_ * grid[r0][:, c1]
                    + wr_ * (1 - wc_) * grid[r1][:, c0] + wr_ * wc_ * grid[r1][:, c1]).reshape(-1)
        full[coarse_index] = values  # the nodes themselves are exact
        if fine is not None:
            full[fine_index] = fine[name]
        outputs[name] = full
    return outputs, computed


def _coarse_lines(length: int, factor: int) -> Tensor:
    """Every ``factor``-th index of ``range(length)``, and the last one."""
    lines = torch.arange(0, length, factor)
    return lines if lines[-1] == length - 1 else torch.cat([lines, torch.tensor([length - 1])])


def _bracket(length: int, lines: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """For each fine index: the coarse lines before and after it (their positions in ``lines``)
    and its fractional distance from the first, in [0, 1]."""
    index = torch.arange(length)
    before = (torch.searchsorted(lines, index, right=True) - 1).clamp(0, len(lines) - 1)
    after = (before + 1).clamp_max(len(lines) - 1)
    span = (lines[after] - lines[before]).clamp_min(1)
    return before, after, (index - lines[before]).double() / span.double()


def _touching(before: Tensor, after: Tensor, weight: Tensor) -> list[Tensor]:
    """The coarse lines whose cells contain each fine index: the two around it, and for an index on a
    line (weight 0) the line before that one too (the index is shared by the cells on both sides)."""
    previous = torch.where(weight == 0, (before - 1).clamp_min(0), before)
    return [previous, before, after]

