"""The atlas's static site: the pages (``static/``, copied as they are) and the data they draw from,
written as a script (``atlas-data.js`` sets ``window.ATLAS``) so that the site opens from disk:
browsers refuse ``fetch()`` of local JSON under ``file://``."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..deconvnet import TopK

STATIC = Path(__file__).resolve().parent / "static"
PAGES = ("index.html", "atlas.css", "atlas.js")


@dataclass
class LayerPage:
    """What the site shows of one layer.

    Attributes:
        name: the layer's module name (its pages are ``#name`` and ``#name/unit``).
        directory: the folder of its sprites below ``sprites/``.
        shape: its maps' (C, H, W).
        topk: the scan's result for it (with histograms).
    """

    name: str
    directory: str
    shape: tuple[int, int, int]
    topk: TopK


@dataclass
class SiteInfo:
    """The atlas as a whole: model and data set names, images scanned and skipped, k, ranking, sprite
    cell and format, and the projection rule."""

    model: str
    data: str
    images: int
    unreadable: int
    k: int
    rank: str
    cell: int
    image_format: str
    rule: str = "deconvnet"


def _unit_records(topk: TopK, file_index: dict[int, int]) -> list[dict]:
    hist = topk.histogram
    units = []
    for c in range(topk.values.shape[0]):
        valid = topk.image_ids[c] >= 0
        units.append({
            "v": [float(f"{v:.4g}") for v in topk.values[c][valid].tolist()],
            "f": [file_index[i] for i in topk.image_ids[c][valid].tolist()],
            "p": topk.positions[c][valid].tolist(),
            "h": hist.counts[c].tolist(),
            "s": int(hist.silent[c]),
            "t": float(hist.top[c]),
            "dead": bool(hist.silent[c] == hist.images),
        })
    return units


def write_site(out: Path, info: SiteInfo, layers: list[LayerPage], file_names) -> Path:
    """Writes index.html, its script and style, and atlas-data.js into ``out``; returns index.html.

    Args:
        file_names: maps a data-set index to the file's name as pages show it.
    """
    out.mkdir(parents=True, exist_ok=True)
    for page in PAGES:
        shutil.copyfile(STATIC / page, out / page)
    shown = sorted({i for layer in layers for i in layer.topk.image_ids[layer.topk.image_ids >= 0].tolist()})
    file_index = {image: position for position, image in enumerate(shown)}
    data = {
        "model": info.model, "data": info.data, "images": info.images, "unreadable": info.unreadable, "k": info.k,
        "rank": info.rank, "rule": info.rule, "cell": info.cell, "format": "jpg" if info.image_format == "jpeg" else info.image_format,
        "files": [file_names(i) for i in shown],
        "layers": [{"name": layer.name, "dir": layer.directory, "shape": list(layer.shape), "units": _unit_records(layer.topk, file_index)}
                   for layer in layers],
    }
    (out / "atlas-data.js").write_text("window.ATLAS = " + json.dumps(data, separators=(",", ":")) + ";\n")
    return out / "index.html"


def site_bytes(out: Path) -> int:
    """The size of everything under ``out``."""
    return sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
