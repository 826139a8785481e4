"""Streaming per-unit histograms: equal to numpy's over the final range, whatever the batching or sharding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zfcuda.deconvnet.histogram import UnitHistograms, power_of_two_above


def _values() -> torch.Tensor:
    torch.manual_seed(0)
    values = torch.randn(700, 6, dtype=torch.float64) * torch.tensor([1.0, 10.0, 0.01, 300.0, 1.0, 1.0], dtype=torch.float64)
    values[:, 4] = -1.0  # a unit that never fires
    values[::7, 5] = float("nan")  # NaN counts as silent, never as a bin
    values[0, 0] = 2.0  # exactly a power of two: must fall inside the range, not on its edge
    return values


@pytest.mark.parametrize("batch", [1, 37, 700])
def test_equals_numpy_over_the_final_range(batch):
    values = _values()
    histograms = UnitHistograms.empty(6, bins=16)
    for part in values.split(batch):
        histograms = histograms.added(part)
    assert histograms.images == 700
    for unit in range(6):
        column = values[:, unit]
        positive = column[column > 0].numpy()
        if len(positive):
            assert histograms.top[unit] == power_of_two_above(torch.tensor(positive.max()))
            assert positive.max() < histograms.top[unit] <= 2 * positive.max()
        expected, _ = np.histogram(positive, bins=16, range=(0, float(histograms.top[unit]) or 1.0))
        assert histograms.counts[unit].tolist() == expected.tolist(), unit
        assert histograms.silent[unit] == 700 - len(positive)


def test_shards_merge_to_the_whole():
    values = _values()
    whole = UnitHistograms.empty(6, bins=8).added(values)
    a = UnitHistograms.empty(6, bins=8).added(values[:100])  # narrower ranges than the rest
    b = UnitHistograms.empty(6, bins=8)
    for part in values[100:].split(60):
        b = b.added(part)
    for merged in (a.merged(b), b.merged(a)):
        assert torch.equal(merged.counts, whole.counts) and torch.equal(merged.top, whole.top)
        assert torch.equal(merged.silent, whole.silent) and merged.images == 700


def test_bins_must_be_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        UnitHistograms.empty(3, bins=10)
