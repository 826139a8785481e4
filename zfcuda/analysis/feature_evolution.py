"""Feature evolution during training (Zeiler & Fergus 2014, section 4.1 and Fig. 4).

For chosen feature maps of a layer, at each saved training snapshot: the strongest activation
of the map over a set of images, projected back to pixels by the deconvnet. Read along a row, a
map's feature can be seen forming over the epochs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ..data.preprocess import model_input
from ..deconvnet import DeconvNet, layer_name
from ..models.pretrained import load_checkpoint


@dataclass
class EvolutionResult:
    """Each chosen map's strongest activation at each snapshot.

    Attributes:
        epochs: the snapshots' epochs, ascending (the columns of the figure).
        layer: the layer of ``maps``.
        maps: the feature maps followed (the rows).
        projections (Tensor[S, M, 3, H, W]): the deconvnet projection of each strongest activation.
        values (Tensor[S, M]): the activation's value.
        image_ids (Tensor[S, M]): which image it was found in.
    """

    epochs: list[int]
    layer: str
    maps: list[int]
    projections: Tensor
    values: Tensor
    image_ids: Tensor


@torch.no_grad()
def feature_evolution(snapshots: Sequence[str | Path], images: Tensor, layer: str = "conv5", maps: Sequence[int] | None = None,
                      count: int = 6, device: str | torch.device = "cpu") -> EvolutionResult:
    """Projects each map's strongest activation over ``images`` at every snapshot.

    Args:
        snapshots: training snapshots (``zfcuda train --snapshots``) of one run, any order.
        images (Tensor[N, 3, 256, 256], uint8): canonical images (``data.canonical_image``); each
            snapshot's own mean image is subtracted.
        layer: the layer to follow ("conv1".."conv5" or an index).
        maps: feature maps to follow; default the ``count`` maps strongest in the last snapshot.
        count: how many maps when ``maps`` is None.
        device: where to compute.

    Raises:
        ValueError: no snapshots, no images, or a map index the layer does not have.
    """
    if not snapshots:
        raise ValueError("snapshots is empty: train with --snapshots to save some")
    if images.dim() != 4 or images.shape[0] == 0:
        raise ValueError(f"images must be a non-empty Tensor[N, 3, 256, 256] of canonical images, got shape {tuple(images.shape)}")
    nets = sorted((load_checkpoint(path, device) for path in snapshots), key=lambda net: net.training["epochs_done"])
    projections, values, image_ids = [], [], []
    for net in reversed(nets):  # the last snapshot first: it chooses the maps
        deconv = DeconvNet(net.model)
        name = layer_name(deconv, layer)
        x = model_input(images.to(device), net.mean.to(device))
        activation, _ = deconv.forward(x, name)
        if maps is None:
            maps = activation.amax(dim=(0, 2, 3)).argsort(descending=True)[:count].tolist()
        maps = list(maps)
        if any(not 0 <= m < activation.shape[1] for m in maps):
            raise ValueError(f"maps must be channels of {name} (0..{activation.shape[1] - 1}), got {maps}")
        row_p, row_v, row_i = [], [], []
        for m in maps:
            flat = activation[:, m].flatten()
            best = int(flat.argmax())
            n, rest = divmod(best, activation.shape[2] * activation.shape[3])
            y, x_pos = divmod(rest, activation.shape[3])
            row_p.append(deconv.project(x[n : n + 1], name, channel=m, position=(y, x_pos))[0].cpu())
            row_v.append(float(flat[best]))
            row_i.append(n)
        projections.insert(0, torch.stack(row_p))
        values.insert(0, row_v)
        image_ids.insert(0, row_i)
    return EvolutionResult([net.training["epochs_done"] for net in nets], name, maps, torch.stack(projections),
                           torch.tensor(values), torch.tensor(image_ids))
