"""Transfer to other image sets (Zeiler & Fergus 2014, section 5.2, Tables 4-5 protocol).

Layers 1-7 of a trained ZF-Net are kept fixed and a new softmax classifier is trained on their
features (fc7 after its ReLU) of N images per class of another labelled set, then tested on
the rest; this is repeated over several random splits and reported as mean ± std. For
comparison, the same splits train a ZF-Net from scratch, as the paper did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._utils.progress import progress
from ..data.preprocess import crop_offsets, ten_crops, train_crops
from ..models import ZFNet, renormalize_filters


@dataclass
class TransferResult:
    """Test accuracy per split.

    Attributes:
        per_class: training images per class.
        accuracies (Tensor[S]): test accuracy of each split.
        method: "fixed features + softmax" or "from scratch".
    """

    per_class: int
    accuracies: Tensor
    method: str

    @property
    def mean(self) -> float:
        return float(self.accuracies.mean())

    @property
    def std(self) -> float:
        return float(self.accuracies.std()) if len(self.accuracies) > 1 else 0.0


def transfer_splits(labels: Tensor, per_class: int, splits: int = 5, seed: int = 0) -> list[tuple[Tensor, Tensor]]:
    """``splits`` random (train, test) index splits with ``per_class`` training images per class;
    every other image is a test image. Split s is drawn from seed ``seed + s``.

    Raises:
        ValueError: per_class < 1, or not smaller than some class's image count (no test image left).
    """
    if per_class < 1 or splits < 1:
        raise ValueError(f"per_class and splits must be >= 1, got {per_class} and {splits}")
    classes, counts = labels.unique(return_counts=True)
    if per_class >= int(counts.min()):
        smallest = int(classes[counts.argmin()])
        raise ValueError(f"per_class={per_class} leaves no test image: class {smallest} has {int(counts.min())} images")
    result = []
    for s in range(splits):
        generator = torch.Generator().manual_seed(seed + s)
        train, test = [], []
        for c in classes.tolist():
            members = (labels == c).nonzero().view(-1)
            order = members[torch.randperm(len(members), generator=generator)]
            train.append(order[:per_class])
            test.append(order[per_class:])
        result.append((torch.cat(train).sort().values, torch.cat(test).sort().values))
    return result


@torch.no_grad()
def fc7_features(model: ZFNet, images: Tensor, mean: Tensor, batch_size: int = 64, device: str | torch.device = "cpu") -> Tensor:
    """Layer 7's output (after its ReLU) for the centre crops of canonical images (Tensor[N, 3, 256, 256]
    uint8); Tensor[N, D] on the CPU."""
    model = model.to(device).eval()
    out = []
    for batch in progress(images.split(batch_size), "fc7 features", leave=False):
        crops = ten_crops(batch.to(device), mean.to(device))[:, 4]
        out.append(model.features(crops, upto="relu7")["relu7"].cpu())
    return torch.cat(out)


def softmax_on_features(features: Tensor, labels: Tensor, splits: Sequence[tuple[Tensor, Tensor]], weight_decay: float = 1e-3,
                        iterations: int = 200) -> Tensor:
    """Test accuracy (Tensor[S]) of a softmax classifier trained, per split, on the training
    features; L2-regularised multinomial logistic regression fitted by L-BFGS (deterministic)."""
    classes = int(labels.max()) + 1
    scale = features.std().clamp_min(1e-12)  # one global scale: the optimiser converges on any feature size
    accuracies = []
    for train, test in splits:
        x, y = features[train].double() / scale, labels[train]
        layer = nn.Linear(x.shape[1], classes).double()
        nn.init.zeros_(layer.weight), nn.init.zeros_(layer.bias)
        optimiser = torch.optim.LBFGS(layer.parameters(), max_iter=iterations, line_search_fn="strong_wolfe")

        def closure():
            optimiser.zero_grad()
            loss = F.cross_entropy(layer(x), y) + weight_decay * layer.weight.pow(2).sum()
            loss.backward()
            return loss

        optimiser.step(closure)
        with torch.no_grad():
            predicted = layer(features[test].double() / scale).argmax(1)
        accuracies.append(float((predicted == labels[test]).double().mean()))
    return torch.tensor(accuracies, dtype=torch.float64)


def from_scratch(images: Tensor, labels: Tensor, splits: Sequence[tuple[Tensor, Tensor]], mean: Tensor, width: float = 0.25,
                 epochs: int = 10, batch_size: int = 32, lr: float = 0.01, seed: int = 0, device: str | torch.device = "cpu") -> Tensor:
    """Test accuracy (Tensor[S]) of a ZF-Net trained from scratch on each split's training images
    (random crops and flips, SGD with momentum, filter renormalisation), tested on centre crops."""
    classes = int(labels.max()) + 1
    accuracies = []
    for s, (train, test) in enumerate(splits):
        torch.manual_seed(seed + s)
        model = ZFNet(classes, width, init="kaiming").to(device)
        optimiser = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        for epoch in progress(range(epochs), f"from scratch, split {s + 1}/{len(splits)}", leave=False):
            model.train()
            order = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(seed * 1000 + s * 100 + epoch))]
            for batch in order.split(batch_size):
                crops = train_crops(images[batch].to(device), mean.to(device), crop_offsets(batch, seed + s, epoch))
                loss = F.cross_entropy(model(crops), labels[batch].to(device))
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                renormalize_filters(model)
        model.eval()
        with torch.no_grad():
            predicted = torch.cat([model(ten_crops(images[b].to(device), mean.to(device))[:, 4]).argmax(1).cpu() for b in test.split(64)])
        accuracies.append(float((predicted == labels[test]).double().mean()))
    return torch.tensor(accuracies, dtype=torch.float64)
