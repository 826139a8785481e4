"""Per-unit histograms of a statistic over a data set, streamed in O(units x bins) memory.

Each unit's bins split [0, top) evenly, ``top`` a power of two; when a value reaches ``top``, ``top``
doubles (as often as needed) and neighbouring bins merge pairwise, so no range has to be known
before the scan and two scans (torchrun ranks) merge exactly. Values <= 0 are counted apart as "silent": for a unit after
a ReLU, the images where it never fires.

The histograms live on their counts' device and ``added`` runs there with tensor operations only
(no copy to the host, no branch on a value), so a GPU scan never waits for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

SMALLEST_TOP = 1e-6


@dataclass
class UnitHistograms:
    """Histograms of one value per image for each of C units.

    Attributes:
        counts (Tensor[C, bins], int64): images per bin; bin b of unit c holds values in
            [b, b + 1) * top[c] / bins.
        silent (Tensor[C], int64): images whose value was <= 0 (or NaN).
        top (Tensor[C], float64): upper edge of each unit's range, a power of two (0: nothing positive yet).
        images: images counted.
    """

    counts: Tensor
    silent: Tensor
    top: Tensor
    images: int = 0

    @classmethod
    def empty(cls, units: int, bins: int = 32, device: torch.device | str | None = None) -> UnitHistograms:
        if bins < 2 or bins & (bins - 1):
            raise ValueError(f"bins must be a power of two >= 2 (bins merge pairwise), got {bins}")
        return cls(torch.zeros(units, bins, dtype=torch.long, device=device), torch.zeros(units, dtype=torch.long, device=device),
                   torch.zeros(units, dtype=torch.float64, device=device))

    def to(self, device: torch.device | str) -> UnitHistograms:
        return UnitHistograms(self.counts.to(device), self.silent.to(device), self.top.to(device), self.images)

    @property
    def bins(self) -> int:
        return self.counts.shape[1]

    def widened(self, top: Tensor) -> UnitHistograms:
        """The same counts over ranges at least ``top`` (Tensor[C]: powers of two, or 0) wide: a
        range doubles until it is, its bins merging pairwise each time."""
        wider = torch.maximum(self.top, top.to(self.top.device, torch.float64))
        doublings = torch.where(self.top > 0, torch.log2(wider / self.top.clamp_min(SMALLEST_TOP)).round(), torch.zeros_like(wider)).long()
        # d doublings merge each run of 2**d neighbouring bins into one (bin b goes to b >> d); `bins`
        # times wider or more puts all in bin 0. One masked step per possible d: no value reaches the host.
        counts = self.counts
        units = counts.shape[0]
        for shift in range(1, self.bins.bit_length()):
            rows = (doublings == shift) if shift < self.bins.bit_length() - 1 else (doublings >= shift)
            merged = self.counts.reshape(units, self.bins >> shift, 1 << shift).sum(2)
            merged = torch.cat([merged, merged.new_zeros(units, self.bins - merged.shape[1])], 1)
            counts = torch.where(rows[:, None], merged, counts)
        return UnitHistograms(counts, self.silent.clone(), wider, self.images)

    def added(self, values: Tensor) -> UnitHistograms:
        """These histograms with one more value per unit for each of N images (Tensor[N, C])."""
        values = values.detach().to(self.counts.device, torch.float64)
        positive = values > 0  # NaN is not: counted silent
        fired = torch.where(positive, values, torch.zeros_like(values))
        grown = self.widened(power_of_two_above(fired.amax(0)))
        bins = (fired / grown.top.clamp_min(SMALLEST_TOP) * self.bins).floor().clamp(0, self.bins - 1).long()
        counts = grown.counts.clone()
        rows = torch.arange(values.shape[1], device=values.device).expand_as(bins)
        counts.index_put_((rows, bins), positive.long(), accumulate=True)  # silent values add 0 (to bin 0)
        return UnitHistograms(counts, grown.silent + (~positive).sum(0), grown.top, self.images + values.shape[0])

    def merged(self, other: UnitHistograms) -> UnitHistograms:
        """Both scans' counts, over the wider of each unit's two ranges."""
        top = torch.maximum(self.top, other.top)
        a, b = self.widened(top), other.widened(top)
        return UnitHistograms(a.counts + b.counts, a.silent + b.silent, top, self.images + other.images)


def power_of_two_above(values: Tensor) -> Tensor:
    """The smallest power of two strictly above each positive value (0 where the value is <= 0)."""
    exponent = torch.floor(torch.log2(values.double().clamp_min(SMALLEST_TOP))) + 1
    return torch.where(values > 0, 2.0**exponent, torch.zeros_like(exponent))
