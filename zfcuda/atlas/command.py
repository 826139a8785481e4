"""The ``zfcuda atlas`` command line."""

from __future__ import annotations

import argparse

from ..deconvnet.projection import RULES
from ..deconvnet.topk import RANKS
from .sprites import FORMATS

MODEL_HELP = ("the shipped ZF-Net (default), efficientnet-lite0 (ImageNet weights), an exported ZF-Net, a whole model saved "
              "with torch.save(model), or package.module:function returning your model")


def _run(args: argparse.Namespace) -> int:
    from .._utils.distributed import teardown
    from .pipeline import build

    try:
        summary = build(args.data_dir, args.out, model=args.model, layers=args.layers, k=args.k, rank=args.rank,
                        batch_size=args.batch_size, device=args.device, cell=args.cell, image_format=args.format,
                        per_folder=args.per_folder, resume=args.resume, rule=args.rule, input_size=args.input_size)
    finally:
        teardown()
    if summary is not None:
        skipped = f" ({summary.unreadable} unreadable files skipped)" if summary.unreadable else ""
        print(f"atlas of {summary.units} units over {summary.images} images{skipped}: {summary.bytes / 2**20:.1f} MB, "
              f"{summary.seconds['total']:.0f} s (scan {summary.seconds['scan']:.0f} s, sprites {summary.seconds['sprites']:.0f} s)")
        print(f"open {summary.index.resolve().as_uri()}")
    return 0


def add_atlas_command(commands) -> None:
    """Adds ``atlas`` to the ``zfcuda`` command's subcommands."""
    p = commands.add_parser("atlas", help="a browsable site of every unit of a model's layers over your images (Fig. 2 for a whole network)",
                            description="Scan DATA_DIR (any folder of images) once, then write a static site (open OUT/index.html "
                                        "from disk): per layer a grid of its units, per unit its k strongest activations as "
                                        "receptive-field patches beside their deconvnet projections, and its response histogram.")
    p.set_defaults(run=_run)
    p.add_argument("data_dir", metavar="DATA_DIR", help="a folder of images, searched recursively")
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.add_argument("--layers", nargs="+", default=None, help="layer names (default: four depths of the model)")
    p.add_argument("--k", type=int, default=9, help="top activations per unit, from k distinct images (default 9)")
    p.add_argument("--rank", choices=RANKS, default="max", help="rank images by a map's strongest position (max) or its sum")
    p.add_argument("--out", default="atlas", help="the site's folder (default: atlas)")
    p.add_argument("--batch-size", dest="batch_size", type=int, default=32)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (under torchrun: each rank its local GPU)")
    p.add_argument("--cell", type=int, default=72, help="side of one patch in the sprites, pixels")
    p.add_argument("--format", choices=list(FORMATS), default="jpeg", help="sprite format")
    p.add_argument("--per-folder", dest="per_folder", type=int, default=None, help="scan the first N images of each folder")
    p.add_argument("--resume", action="store_true", help="continue a stopped build in OUT")
    p.add_argument("--rule", choices=("auto", *RULES), default="auto",
                   help="deconvnet (the paper), guided, or auto: deconvnet where the model has max pooling, else guided")
    p.add_argument("--input-size", dest="input_size", type=int, default=224,
                   help="your model's input side (images are resized to it and ImageNet-normalised)")
